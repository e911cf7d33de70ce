//! One module per endpoint family.

pub(crate) mod bundles;
pub(crate) mod devices;
pub(crate) mod enroll;
pub(crate) mod info;
pub(crate) mod receipts;
pub(crate) mod trust;
pub(crate) mod uploads;
