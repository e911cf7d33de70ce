//! The Yaddash testimony model.
//!
//! Pure data and rules, no I/O: records ([`Person`], [`Case`], [`Interview`]),
//! partial dates, and the folding of names across Azerbaijani Latin, Cyrillic
//! and Russian/English transliterations ([`fold`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod date;
pub mod fold;
pub mod record;

pub use date::PartialDate;
pub use record::{
    Case, Confidentiality, Consent, Event, EventDetail, Interview, InvalidRecord, Person, Record,
    RecordKind, ReleaseKind, Reliability, Role,
};
