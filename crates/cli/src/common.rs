//! What every subcommand shares: unlocking, reading input, printing, progress.

use std::fmt;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use yaddash_model::{Record, RecordKind};
use yaddash_vault::{RecoveryCode, Unlock, Unlocked, Vault, VaultError};
use zeroize::Zeroizing;

/// A CLI error: a message for the user.
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl CliError {
    /// The library's message, then what to type next (if the CLI knows).
    pub fn with_hint(message: String, hint: Option<&str>) -> CliError {
        match hint {
            Some(h) => CliError(format!("{message}\nhint: {h}")),
            None => CliError(message),
        }
    }
}

// The libraries' errors carry no command-line advice (the app shows its own
// sentences); the CLI adds its hints here, matched on the error's kind.

/// What to type next after a vault error.
pub fn vault_hint(e: &VaultError) -> Option<&'static str> {
    match e {
        VaultError::NotAVault(_) => Some("check the --vault path (or YADDASH_VAULT)"),
        VaultError::Corrupt(_) => {
            Some("run `yaddash vault check`, or restore vault.db from a backup")
        }
        _ => None,
    }
}

/// What to type next after an exchange error.
pub fn exchange_hint(e: &yaddash_exchange::ExchangeError) -> Option<&'static str> {
    use yaddash_exchange::ExchangeError as E;
    match e {
        E::Vault(v) => vault_hint(v),
        E::NoTrust => Some("import the coordinators' trust file: `yaddash trust import FILE`"),
        E::DeviceNotEnrolled(_) => Some("enroll it first: `yaddash device enroll FILE`"),
        _ => None,
    }
}

/// What to type next after an outbox (sync, enrollment, travel) error.
pub fn outbox_hint(e: &yaddash_outbox::OutboxError) -> Option<&'static str> {
    use yaddash_outbox::{OutboxError as O, Refusal};
    match e {
        O::Refused(Refusal::NetworkOff) => {
            Some("turn the network back on with `yaddash policy set --network on`")
        }
        O::Refused(Refusal::NotEnabled) => Some("enable sync with `yaddash policy set --sync on`"),
        O::Refused(Refusal::ProxyRequired) => {
            Some("set a proxy with `yaddash policy set --proxy socks5h://127.0.0.1:9050`")
        }
        O::Refused(Refusal::ManualMode) => Some("send now with `yaddash sync`"),
        O::NotEnrolled => Some("enroll first: `yaddash hq enroll CODE --url URL`"),
        O::NoServerUrl => Some("pass --url URL (it is remembered in the vault)"),
        O::NoTrust => Some("import the coordinators' trust file: `yaddash trust import FILE`"),
        O::NotInOutbox { .. } => Some("see `yaddash outbox list`"),
        O::WrongRole {
            needed: yaddash_vault::VaultRole::Field,
            ..
        } => Some("a coordinator pulls with `yaddash hq pull`"),
        O::Exchange(x) => exchange_hint(x),
        O::Vault(v) => vault_hint(v),
        _ => None,
    }
}

impl From<yaddash_audio::AudioError> for CliError {
    fn from(e: yaddash_audio::AudioError) -> Self {
        use yaddash_audio::AudioError as A;
        let hint = match e {
            A::NoInput => Some("connect one, then `yaddash inputs` lists the inputs"),
            A::UnknownInput(_) => Some("`yaddash inputs` lists them"),
            _ => None,
        };
        CliError::with_hint(e.to_string(), hint)
    }
}

impl From<yaddash_evidence::EvidenceError> for CliError {
    fn from(e: yaddash_evidence::EvidenceError) -> Self {
        use yaddash_evidence::EvidenceError as E;
        let hint = match &e {
            E::Damaged(_) => Some("run `yaddash vault check`"),
            E::Vault(v) => vault_hint(v),
            E::Exchange(x) => exchange_hint(x),
            _ => None,
        };
        CliError::with_hint(e.to_string(), hint)
    }
}

impl From<yaddash_exchange::ExchangeError> for CliError {
    fn from(e: yaddash_exchange::ExchangeError) -> Self {
        CliError::with_hint(e.to_string(), exchange_hint(&e))
    }
}

impl From<VaultError> for CliError {
    fn from(e: VaultError) -> Self {
        CliError::with_hint(e.to_string(), vault_hint(&e))
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

pub fn fail<T>(msg: impl Into<String>) -> CliResult<T> {
    Err(CliError(msg.into()))
}

/// Global options.
pub struct Context {
    pub vault: Option<PathBuf>,
    pub passphrase_file: Option<PathBuf>,
    pub recovery_code_file: Option<PathBuf>,
    pub json: bool,
}

impl Context {
    pub fn vault_dir(&self) -> CliResult<&Path> {
        self.vault
            .as_deref()
            .ok_or_else(|| CliError("no vault given: pass --vault DIR or set YADDASH_VAULT".into()))
    }

    /// Opens the vault, asking for the passphrase if no file was given.
    pub fn open(&self) -> CliResult<Vault> {
        let dir = self.vault_dir()?;
        let guard = yaddash_vault::guard_state(dir);
        if let Some(n) = guard.remaining().filter(|&n| n <= 3) {
            eprintln!("{}", attempts_warning(n));
        }
        let unlock = if let Some(f) = &self.recovery_code_file {
            Unlock::Recovery(RecoveryCode::parse(read_secret_file(f)?.expose_secret())?)
        } else {
            Unlock::Passphrase(self.passphrase("Passphrase: ")?)
        };
        match yaddash_vault::unlock(dir, &unlock)? {
            Unlocked::Open(v) => Ok(*v),
            Unlocked::Refused(r) if r.wiped => fail(
                "wrong passphrase or recovery code: that was the last attempt allowed, and the vault was erased as its owner had chosen",
            ),
            Unlocked::Refused(r) => {
                let mut msg = VaultError::WrongPassphrase.to_string();
                if let Some(n) = r.remaining.filter(|&n| n <= 3) {
                    msg.push_str(&format!(". {}", attempts_warning(n)));
                }
                fail(msg)
            }
        }
    }

    /// The passphrase from --passphrase-file, or asked for without echo.
    pub fn passphrase(&self, prompt: &str) -> CliResult<SecretString> {
        match &self.passphrase_file {
            Some(f) => read_secret_file(f),
            None => prompt_secret(prompt),
        }
    }

    /// Prints a value as JSON, or the human text.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) -> CliResult {
        let mut out = io::stdout().lock();
        let text = if self.json {
            serde_json::to_string_pretty(value).map_err(|e| CliError(e.to_string()))?
        } else {
            human()
        };
        writeln!(out, "{text}").map_err(|e| CliError(format!("writing output: {e}")))
    }
}

/// The warning shown when a limit on failed unlocks is set.
pub fn attempts_warning(remaining: u32) -> String {
    match remaining {
        1 => "warning: 1 failed attempt left; after it this vault is erased".into(),
        n => format!("warning: {n} failed attempts left; after them this vault is erased"),
    }
}

/// Reads the first line of a secret file (without its line ending).
pub fn read_secret_file(path: &Path) -> CliResult<SecretString> {
    let mut s = Zeroizing::new(String::new());
    File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_string(&mut s))
        .map_err(|e| CliError(format!("reading {}: {e}", path.display())))?;
    let line = s.lines().next().unwrap_or("");
    Ok(SecretString::from(line.to_string()))
}

/// Asks for a secret on the terminal without echo.
pub fn prompt_secret(prompt: &str) -> CliResult<SecretString> {
    if !io::stdin().is_terminal() {
        return fail(
            "no passphrase: not running in a terminal, so give --passphrase-file F (or --recovery-code-file F)",
        );
    }
    rpassword::prompt_password(prompt)
        .map(SecretString::from)
        .map_err(|e| CliError(format!("reading the passphrase: {e}")))
}

/// Asks for a new passphrase twice (or reads it from a file).
pub fn new_passphrase(file: Option<&Path>) -> CliResult<SecretString> {
    if let Some(f) = file {
        return read_secret_file(f);
    }
    let a = prompt_secret("New passphrase: ")?;
    let b = prompt_secret("Repeat the new passphrase: ")?;
    if a.expose_secret() != b.expose_secret() {
        return fail("the two passphrases differ; nothing was changed");
    }
    Ok(a)
}

/// Reads a JSON input file (or `-` for standard input), at most 16 MiB.
pub fn read_input(path: &Path) -> CliResult<String> {
    let mut s = String::new();
    let limit = 16 * 1024 * 1024;
    let res = if path == Path::new("-") {
        io::stdin().take(limit + 1).read_to_string(&mut s)
    } else {
        File::open(path).and_then(|f| f.take(limit + 1).read_to_string(&mut s))
    };
    res.map_err(|e| CliError(format!("reading {}: {e}", path.display())))?;
    if s.len() as u64 > limit {
        return fail(format!("{} is larger than 16 MiB", path.display()));
    }
    Ok(s)
}

/// Parses a record of a kind from JSON. The error names the place and the
/// problem but never echoes the input's text (it may be testimony).
pub fn parse_record(kind: RecordKind, json: &str, source: &Path) -> CliResult<Record> {
    Record::from_json(kind, json).map_err(|e| {
        CliError(format!(
            "{}: not a valid {kind} (line {}, column {}): {}. See docs/records.md",
            source.display(),
            e.line(),
            e.column(),
            redact(&e.to_string())
        ))
    })
}

/// Removes quoted values from a serde message, keeping field names.
pub fn redact(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    let mut out = String::new();
    let mut in_quote = false;
    for c in msg.chars() {
        if c == '"' {
            if !in_quote {
                out.push_str("\"…\"");
            }
            in_quote = !in_quote;
        } else if !in_quote {
            out.push(c);
        }
    }
    out
}

/// Parses a record id.
pub fn parse_id(s: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(s).map_err(|_| format!("{s:?} is not a record id (a UUID)"))
}

/// Parses an ISO 8601 date (midnight UTC) or an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<time::OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let d: yaddash_model::PartialDate = s
        .parse()
        .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD) or a time (RFC 3339)"))?;
    let month = time::Month::try_from(d.month.unwrap_or(1)).map_err(|e| e.to_string())?;
    time::Date::from_calendar_date(d.year, month, d.day.unwrap_or(1))
        .map(|date| date.midnight().assume_utc())
        .map_err(|e| e.to_string())
}

/// The process-wide Ctrl-C flag (one handler per process; every long
/// operation watches the same flag).
pub fn cancel_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&flag);
        // If a handler cannot be installed, Ctrl-C just ends the process,
        // which is safe too (partial files are encrypted and cleaned on next open).
        let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
        flag
    }))
}

/// Progress on standard error when it is a terminal; Ctrl-C cancels.
pub struct Progress {
    total: Option<u64>,
    show: bool,
    cancelled: Arc<AtomicBool>,
    last: u64,
    shown_at: Option<std::time::Instant>,
    started: std::time::Instant,
}

impl Progress {
    pub fn new(total: Option<u64>) -> Progress {
        Progress {
            total,
            show: io::stderr().is_terminal(),
            cancelled: cancel_flag(),
            last: 0,
            shown_at: None,
            started: std::time::Instant::now(),
        }
    }

    /// The callback for the core: returns false once Ctrl-C was pressed.
    pub fn tick(&mut self, done: u64) -> bool {
        let due = self
            .shown_at
            .is_none_or(|t| t.elapsed() >= std::time::Duration::from_millis(200));
        if self.show && done > self.last && (due || Some(done) == self.total) {
            self.last = done;
            self.shown_at = Some(std::time::Instant::now());
            let mib = |b: u64| b as f64 / 1048576.0;
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            let rate = mib(done) / secs;
            match self.total {
                Some(t) if t > 0 => {
                    let frac = (done as f64 / t as f64).clamp(0.0, 1.0);
                    let filled = (frac * 24.0).round() as usize;
                    eprint!(
                        "\r[{}{}] {:5.1}%  {:.1} / {:.1} MiB  {rate:.1} MiB/s ",
                        "#".repeat(filled),
                        "-".repeat(24 - filled),
                        frac * 100.0,
                        mib(done),
                        mib(t)
                    );
                }
                _ => eprint!("\r{:.1} MiB  {rate:.1} MiB/s ", mib(done)),
            }
        }
        !self.cancelled.load(Ordering::SeqCst)
    }

    pub fn finish(&self) {
        if self.show && self.last > 0 {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_values_keeps_fields() {
        let m = redact("invalid type: string \"Məmmədov secret\", expected u16 at line 3 column 9");
        assert!(!m.contains("secret"));
        assert!(m.contains("expected u16"));
        assert_eq!(redact("missing field `date`"), "missing field `date`");
    }
}
