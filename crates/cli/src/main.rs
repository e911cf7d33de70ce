//! `yaddash`: the command-line tool over the Yaddash core.
//!
//! Everything the desktop app does, scriptable. Exit status: 0 on success,
//! 1 on any error (the message says what is wrong and what to try), 2 on a
//! usage error.
#![forbid(unsafe_code)]

mod cmd;
mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Yaddash: an encrypted vault for the testimony of families of political prisoners.
///
/// Every command except `init` opens the vault given by --vault (or
/// $YADDASH_VAULT) with the passphrase, read from --passphrase-file or asked
/// for without echo, or with the recovery code from --recovery-code-file.
#[derive(Parser)]
#[command(
    name = "yaddash",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The vault directory.
    #[arg(long, global = true, env = "YADDASH_VAULT", value_name = "DIR")]
    vault: Option<PathBuf>,
    /// Read the passphrase from the first line of this file instead of asking.
    #[arg(long, global = true, env = "YADDASH_PASSPHRASE_FILE", value_name = "F")]
    passphrase_file: Option<PathBuf>,
    /// Unlock with the recovery code in this file instead of the passphrase.
    #[arg(
        long,
        global = true,
        value_name = "F",
        conflicts_with = "passphrase_file"
    )]
    recovery_code_file: Option<PathBuf>,
    /// Print machine-readable JSON on standard output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new vault.
    Init(cmd::init::Args),
    /// Persons: add, edit.
    #[command(subcommand)]
    Person(cmd::person::Command),
    /// Interviews: add from a JSON file.
    #[command(subcommand)]
    Interview(cmd::interview::Command),
    /// Cases: add from a JSON file.
    #[command(subcommand, name = "case")]
    Case(cmd::case::Command),
    /// Replace a record's body with a new revision (history is kept).
    Edit(cmd::edit::Args),
    /// Attach a file (audio, photo, scan) to a record; prints its id and SHA-256.
    Attach(cmd::attach::Args),
    /// Attachments: export (decrypt) one.
    #[command(subcommand)]
    Attachment(cmd::attachment::Command),
    /// Record audio into an interview, encrypted while it is recorded; Ctrl-C stops and saves.
    Record(cmd::record::Args),
    /// List the audio inputs `record --input` takes.
    Inputs(cmd::record::InputsArgs),
    /// Search names and text, across scripts and spelling variants.
    Search(cmd::search::Args),
    /// List records of one kind.
    List(cmd::list::Args),
    /// Show a record (or attachment) with its custody metadata.
    Show(cmd::show::Args),
    /// Show every revision of a record.
    History(cmd::history::Args),
    /// Vault maintenance: check; destroy (quick delete).
    #[command(subcommand)]
    Vault(cmd::vault::Command),
    /// The duress passphrase: typed at unlock, it erases the vault and opens a decoy.
    #[command(subcommand)]
    Duress(cmd::duress::Command),
    /// Erase the vault after a number of failed unlocks (off by default).
    #[command(subcommand)]
    UnlockLimit(cmd::duress::LimitCommand),
    /// Change the passphrase.
    #[command(subcommand)]
    Passphrase(cmd::passphrase::Command),
    /// This device's identity; enrollment and revocation of devices.
    #[command(subcommand)]
    Device(cmd::device::Command),
    /// The trust file: coordinators' keys for field vaults.
    #[command(subcommand)]
    Trust(cmd::trust::Command),
    /// Signed, encrypted bundles: export (field), import (coordinator).
    #[command(subcommand)]
    Bundle(cmd::bundle::Command),
    /// Import receipts: export (coordinator), import (field).
    #[command(subcommand)]
    Receipt(cmd::receipt::Command),
    /// The register of political prisoners: list, duplicates, merge, export.
    #[command(subcommand)]
    Register(cmd::register::Command),
    /// Evidence packs for litigation: export (coordinator).
    #[command(subcommand)]
    Evidence(cmd::evidence::Command),
    /// HQ server: invite, enroll, pull (coordinator), revoke.
    #[command(subcommand)]
    Hq(cmd::hq::Command),
    /// Field: export what is new, upload the outbox to the HQ server, fetch receipts.
    Sync(cmd::sync::Args),
    /// The safety policy: whether, when and how this device talks to headquarters.
    #[command(subcommand)]
    Policy(cmd::policy::Command),
    /// Field: the bundles made and where each stands.
    #[command(subcommand)]
    Outbox(cmd::outbox::Command),
    /// Field: before a border — send, wait for receipts, remove what headquarters holds.
    #[command(subcommand)]
    Travel(cmd::travel::Command),
}

fn main() -> ExitCode {
    // No core dumps, no ptrace by the same user, private files (umask 077).
    yaddash_os::harden_process();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> common::CliResult {
    let ctx = common::Context {
        vault: cli.vault,
        passphrase_file: cli.passphrase_file,
        recovery_code_file: cli.recovery_code_file,
        json: cli.json,
    };
    match cli.command {
        Command::Init(a) => a.run(&ctx),
        Command::Person(c) => c.run(&ctx),
        Command::Interview(c) => c.run(&ctx),
        Command::Case(c) => c.run(&ctx),
        Command::Edit(a) => a.run(&ctx),
        Command::Attach(a) => a.run(&ctx),
        Command::Attachment(c) => c.run(&ctx),
        Command::Record(a) => a.run(&ctx),
        Command::Inputs(a) => a.run(&ctx),
        Command::Search(a) => a.run(&ctx),
        Command::List(a) => a.run(&ctx),
        Command::Show(a) => a.run(&ctx),
        Command::History(a) => a.run(&ctx),
        Command::Vault(c) => c.run(&ctx),
        Command::Duress(c) => c.run(&ctx),
        Command::UnlockLimit(c) => c.run(&ctx),
        Command::Passphrase(c) => c.run(&ctx),
        Command::Device(c) => c.run(&ctx),
        Command::Trust(c) => c.run(&ctx),
        Command::Bundle(c) => c.run(&ctx),
        Command::Receipt(c) => c.run(&ctx),
        Command::Register(c) => c.run(&ctx),
        Command::Evidence(c) => c.run(&ctx),
        Command::Hq(c) => c.run(&ctx),
        Command::Sync(a) => a.run(&ctx),
        Command::Policy(c) => c.run(&ctx),
        Command::Outbox(c) => c.run(&ctx),
        Command::Travel(c) => c.run(&ctx),
    }
}
