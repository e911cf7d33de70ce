//! Operating-system primitives shared by every Yaddash binary and library:
//!
//! * [`harden_process`]: no core dumps, no ptrace by the same user, private
//!   files (umask 077). The CLI, the HQ server and the desktop app call it
//!   first thing in `main`.
//! * [`write_atomic`]: write a small file so that a crash leaves either the
//!   old or the new content whole, never a mix, and the rename survives
//!   power loss (the directory is synced too).
//! * [`parse_duration`]: one reading of `30s`, `10m`, `24h`, `7d` for every
//!   command (a bare number is refused: its unit would be a guess).
//! * [`padme`]: the Padmé padding rule used for attachments and bundles.
//! * [`exec_with_scrubbing_malloc`]: start the program again with glibc
//!   filling freed memory, so that copies of secrets made by libraries do
//!   not outlive the lock (the desktop app calls it first in `main`).
//! * [`overwrite_and_remove`]: overwrite a file, then remove it (with what
//!   that cannot guarantee).
//! * [`available_space`]: free bytes on a file system (recordings refuse to
//!   start below a minimum).
//!
//! It depends on nothing else of Yaddash: every crate may use it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod durable;
mod duration;
mod hardening;
mod pad;
mod scrub;
mod shred;
mod space;
mod write_behind;

pub use durable::{random_name, sync_dir, write_atomic};
pub use duration::{DurationError, parse_duration};
pub use hardening::{Hardening, harden_process, hardening_state};
pub use pad::padme;
pub use scrub::{
    SCRUB_MARK, SCRUB_TUNABLES, exec_with_scrubbing_malloc, freed_memory_scrubbed,
    scrub_environment,
};
pub use shred::overwrite_and_remove;
pub use space::available_space;
pub use write_behind::WriteBehind;
