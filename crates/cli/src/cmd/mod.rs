//! One module per subcommand, each an `Args` (or `Command`) with a `run`.

pub mod attach;
pub mod attachment;
pub mod case;
pub mod edit;
pub mod history;
pub mod init;
pub mod interview;
pub mod list;
pub mod passphrase;
pub mod person;
pub mod search;
pub mod show;
pub mod vault;
