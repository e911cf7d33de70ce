//! One module per subcommand, each an `Args` (or `Command`) with a `run`.

pub mod attach;
pub mod attachment;
pub mod bundle;
pub mod case;
pub mod device;
pub mod duress;
pub mod edit;
pub mod evidence;
pub mod history;
pub mod hq;
pub mod init;
pub mod interview;
pub mod list;
pub mod outbox;
pub mod passphrase;
pub mod person;
pub mod policy;
pub mod receipt;
pub mod record;
pub mod register;
pub mod search;
pub mod show;
pub mod sync;
pub mod travel;
pub mod trust;
pub mod vault;
