//! Keyslots: the vault's random 256-bit key, wrapped once per secret.
//!
//! Each keyslot is a standard age file encrypted with age's scrypt passphrase
//! recipient (memory-hard: N = 2^18, r = 8 by default, i.e. 256 MiB and about
//! a second per attempt). Its plaintext is one line naming the format and the
//! key in hex, so `age -d keyslots/passphrase.age` recovers the key with stock
//! tools. Changing a passphrase rewrites that one small file, never the database.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::error::{IoContext, Result, VaultError};
use crate::fsutil::{sync_dir, write_atomic};

/// Default scrypt work factor (log2 N) for new keyslots.
pub const DEFAULT_WORK_FACTOR: u8 = 18;
/// Lowest work factor accepted (used only to make test vaults fast).
pub const MIN_WORK_FACTOR: u8 = 10;
/// Highest work factor a keyslot may demand when opened (bounds an attacker's
/// ability to make opening a planted keyslot hang).
pub const MAX_WORK_FACTOR: u8 = 22;

const HEADER: &str = "yaddash-vault-key-v1 ";

/// The vault's master key. On the heap, so that moving the `Vault` that
/// holds it moves a pointer, not copies of the key left behind on stacks
/// and in the session's slot; wiped when dropped.
pub struct MasterKey(pub(crate) Box<Zeroizing<[u8; 32]>>);

impl MasterKey {
    pub(crate) fn generate() -> MasterKey {
        let mut k = Box::new(Zeroizing::new([0u8; 32]));
        rand::rngs::OsRng.fill_bytes(&mut k[..]);
        MasterKey(k)
    }

    /// The SQLCipher raw-key pragma for this key.
    pub(crate) fn sqlcipher_pragma(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", hex::encode(&self.0[..])))
    }
}

/// Which secret a keyslot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// The user's passphrase.
    Passphrase,
    /// The recovery code shown once at creation.
    Recovery,
}

impl SlotKind {
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            SlotKind::Passphrase => "passphrase.age",
            SlotKind::Recovery => "recovery.age",
        }
    }
}

pub(crate) fn slot_path(dir: &Path, kind: SlotKind) -> PathBuf {
    dir.join("keyslots").join(kind.file_name())
}

/// Writes (or atomically replaces) a keyslot.
pub(crate) fn write_slot(
    dir: &Path,
    kind: SlotKind,
    secret: &SecretString,
    key: &MasterKey,
    work_factor: u8,
) -> Result<()> {
    let mut recipient = age::scrypt::Recipient::new(secret.clone());
    recipient.set_work_factor(work_factor.clamp(MIN_WORK_FACTOR, MAX_WORK_FACTOR));
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| VaultError::Corrupt(format!("cannot create keyslot: {e}")))?;
    let plaintext = Zeroizing::new(format!("{HEADER}{}\n", hex::encode(&key.0[..])));
    let mut ciphertext = Vec::new();
    let mut w = encryptor
        .wrap_output(&mut ciphertext)
        .ctx(|| "encrypting keyslot".into())?;
    w.write_all(plaintext.as_bytes())
        .ctx(|| "encrypting keyslot".into())?;
    w.finish().ctx(|| "encrypting keyslot".into())?;
    let path = slot_path(dir, kind);
    write_atomic(&path, &ciphertext)?;
    Ok(())
}

/// Opens a keyslot with a secret. `Ok(None)` means the secret does not fit.
pub(crate) fn open_slot(
    dir: &Path,
    kind: SlotKind,
    secret: &SecretString,
) -> Result<Option<MasterKey>> {
    match read_slot_file(&slot_path(dir, kind))? {
        Some(bytes) => open_slot_bytes(&bytes, kind.file_name(), secret),
        None => Ok(None),
    }
}

/// Reads a keyslot file (at most 64 KiB: a keyslot is tiny). `Ok(None)`
/// when it does not exist.
pub(crate) fn read_slot_file(path: &Path) -> Result<Option<Vec<u8>>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).ctx(|| format!("reading keyslot {}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(64 * 1024)
        .read_to_end(&mut bytes)
        .ctx(|| format!("reading keyslot {}", path.display()))?;
    Ok(Some(bytes))
}

/// Opens a keyslot's bytes with a secret. `Ok(None)` means the secret does
/// not fit.
pub(crate) fn open_slot_bytes(
    bytes: &[u8],
    name: &str,
    secret: &SecretString,
) -> Result<Option<MasterKey>> {
    let damaged = || VaultError::Corrupt(format!("keyslot {name} is not a valid age file"));
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(|_| damaged())?;
    let mut identity = age::scrypt::Identity::new(secret.clone());
    identity.set_max_work_factor(MAX_WORK_FACTOR);
    let mut reader = match decryptor.decrypt(std::iter::once(&identity as _)) {
        Ok(r) => r,
        Err(age::DecryptError::DecryptionFailed) | Err(age::DecryptError::NoMatchingKeys) => {
            return Ok(None);
        }
        Err(age::DecryptError::ExcessiveWork { .. }) => {
            return Err(VaultError::Corrupt(format!(
                "keyslot {name} demands an excessive scrypt work factor"
            )));
        }
        Err(_) => return Err(damaged()),
    };
    let mut plaintext = Zeroizing::new(String::new());
    reader
        .read_to_string(&mut plaintext)
        .map_err(|_| damaged())?;
    let hex_key = plaintext
        .strip_prefix(HEADER)
        .map(str::trim_end)
        .ok_or_else(damaged)?;
    let mut key = Box::new(Zeroizing::new([0u8; 32]));
    hex::decode_to_slice(hex_key, &mut key[..]).map_err(|_| damaged())?;
    Ok(Some(MasterKey(key)))
}

/// The scrypt work factor (log2 N) a keyslot's header names, if it is one.
pub(crate) fn slot_work_factor(bytes: &[u8]) -> Option<u8> {
    const TAG: &[u8] = b"\n-> scrypt ";
    let start = bytes.windows(TAG.len()).position(|w| w == TAG)? + TAG.len();
    let rest = bytes.get(start..)?;
    let end = rest.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&rest[..end]).ok()?;
    line.rsplit(' ').next()?.parse().ok()
}

/// A keyslot-shaped file that no secret opens: a real age scrypt file (made
/// at the lowest work factor, with a random throwaway passphrase, over a
/// random key in the keyslot's plaintext format) whose header then names
/// `work_factor`. Same size and same structure as a keyslot made with that
/// work factor; its header MAC can verify for no one, so `age -d` fails
/// after the same scrypt work as with any wrong passphrase.
pub(crate) fn filler_slot(work_factor: u8) -> Result<Vec<u8>> {
    let mut throwaway = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(&mut throwaway[..]);
    let secret = SecretString::from(hex::encode(&throwaway[..]));
    let mut recipient = age::scrypt::Recipient::new(secret);
    recipient.set_work_factor(MIN_WORK_FACTOR);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| VaultError::Corrupt(format!("cannot create keyslot: {e}")))?;
    let key = MasterKey::generate();
    let plaintext = Zeroizing::new(format!("{HEADER}{}\n", hex::encode(&key.0[..])));
    let mut out = Vec::new();
    let mut w = encryptor
        .wrap_output(&mut out)
        .ctx(|| "encrypting keyslot".into())?;
    w.write_all(plaintext.as_bytes())
        .ctx(|| "encrypting keyslot".into())?;
    w.finish().ctx(|| "encrypting keyslot".into())?;
    let wf = work_factor.clamp(MIN_WORK_FACTOR, MAX_WORK_FACTOR);
    // Both numbers have two digits (10..=22), so the size does not change.
    let from = format!(" {MIN_WORK_FACTOR}\n");
    let to = format!(" {wf}\n");
    let header_end = out
        .windows(4)
        .position(|w| w == b"\n---")
        .ok_or_else(|| VaultError::Corrupt("unexpected age header".into()))?;
    let at = out[..header_end]
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .ok_or_else(|| VaultError::Corrupt("unexpected age header".into()))?;
    out[at..at + to.len()].copy_from_slice(to.as_bytes());
    Ok(out)
}

/// A recovery code: 160 random bits as 32 base32 characters in groups of four.
pub struct RecoveryCode(SecretString);

impl RecoveryCode {
    pub(crate) fn generate() -> RecoveryCode {
        let mut bytes = Zeroizing::new([0u8; 20]);
        rand::rngs::OsRng.fill_bytes(&mut bytes[..]);
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = Zeroizing::new(String::with_capacity(40));
        let mut acc: u64 = 0;
        let mut bits = 0;
        let mut n = 0;
        for &b in bytes.iter() {
            acc = (acc << 8) | u64::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                if n > 0 && n % 4 == 0 {
                    out.push('-');
                }
                out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
                n += 1;
            }
        }
        RecoveryCode(SecretString::from(out.as_str()))
    }

    /// Parses a code as a person typed it: case, spaces and dashes are ignored.
    pub fn parse(text: &str) -> Result<RecoveryCode> {
        let clean: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        if clean.len() != 32
            || !clean
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        {
            return Err(VaultError::BadSecret(
                "a recovery code has 32 letters and digits 2-7, in 8 groups of 4",
            ));
        }
        let grouped: String = clean
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-");
        Ok(RecoveryCode(SecretString::from(grouped)))
    }

    /// The code, to show once.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub(crate) fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// Creates a directory (and its parents) private to the user, durably.
pub(crate) fn ensure_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .ctx(|| format!("creating {}", path.display()))?;
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_code_shape_and_parse() {
        let c = RecoveryCode::generate();
        assert_eq!(c.expose().len(), 39);
        let typed = c.expose().to_lowercase().replace('-', " ");
        let parsed = RecoveryCode::parse(&typed).expect("parses");
        assert_eq!(parsed.expose(), c.expose());
        assert!(RecoveryCode::parse("ABCD").is_err());
    }

    #[test]
    fn keyslot_round_trip_and_wrong_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        ensure_dir(&dir.path().join("keyslots")).expect("dir");
        let key = MasterKey::generate();
        let good = SecretString::from("correct horse");
        write_slot(
            dir.path(),
            SlotKind::Passphrase,
            &good,
            &key,
            MIN_WORK_FACTOR,
        )
        .expect("write");
        let back = open_slot(dir.path(), SlotKind::Passphrase, &good)
            .expect("open")
            .expect("fits");
        assert_eq!(&back.0[..], &key.0[..]);
        let wrong = SecretString::from("wrong");
        assert!(
            open_slot(dir.path(), SlotKind::Passphrase, &wrong)
                .expect("open")
                .is_none()
        );
    }
}
