//! Identifiers a server hands the client, checked before they touch a path,
//! a URL or a query.
//!
//! A hostile (or seized) HQ server chooses every string in its answers. A
//! bundle id such as `../x` would otherwise become a file name outside the
//! coordinator's inbox, and an upload id such as `../../v1/bundles/…/ack`
//! a signed request to another endpoint. Every id the client takes from the
//! server goes through one of these functions first: bundle ids, file
//! hashes and upload ids are exactly 64 lowercase hex digits (SHA-256), and
//! device ids are UUIDs. Anything else is refused with
//! [`SyncError::Protocol`], naming the field and showing the value only
//! cleaned of control characters and cut short.

use uuid::Uuid;

use crate::{SyncError, SyncResult};

/// What a server-supplied value is shown as in an error: no control
/// characters (terminal escapes), at most 80 characters.
fn shown(value: &str) -> String {
    let mut s: String = value.chars().filter(|c| !c.is_control()).take(80).collect();
    if value.chars().count() > 80 {
        s.push('…');
    }
    s
}

fn refuse(what: &str, value: &str, expected: &str) -> SyncError {
    SyncError::Protocol(format!(
        "the HQ server sent {what} {:?} that is not {expected}; nothing was written or requested with it (the server may be hostile: tell a coordinator)",
        shown(value)
    ))
}

/// A SHA-256 in hex: exactly 64 characters `0-9a-f`.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A bundle id from the server (SHA-256 of the bundle's payload).
pub fn bundle_id(s: &str) -> SyncResult<&str> {
    if is_hex64(s) {
        Ok(s)
    } else {
        Err(refuse("a bundle id", s, "64 hex digits"))
    }
}

/// A file's SHA-256 from the server.
pub fn file_sha256(s: &str) -> SyncResult<&str> {
    if is_hex64(s) {
        Ok(s)
    } else {
        Err(refuse("a file hash", s, "64 hex digits"))
    }
}

/// An upload id from the server (used in chunk and completion URLs).
pub fn upload_id(s: &str) -> SyncResult<&str> {
    if is_hex64(s) {
        Ok(s)
    } else {
        Err(refuse("an upload id", s, "64 hex digits"))
    }
}

/// A device id from the server, in its canonical hyphenated form.
pub fn device_id(s: &str) -> SyncResult<Uuid> {
    match Uuid::try_parse(s) {
        Ok(u) if u.hyphenated().to_string() == s.to_ascii_lowercase() => Ok(u),
        _ => Err(refuse("a device id", s, "a UUID")),
    }
}

/// Checks every id of one bundle the server lists.
pub fn bundle_info(b: &yaddash_wire::hq::BundleInfo) -> SyncResult<()> {
    bundle_id(&b.bundle_id)?;
    file_sha256(&b.file_sha256)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn only_64_lowercase_hex_digits_pass() {
        assert!(bundle_id(GOOD).is_ok());
        for bad in [
            "",
            "../x",
            "..",
            "/etc/passwd",
            "a/b",
            &GOOD[..63],
            &format!("{GOOD}0"),
            &GOOD.to_uppercase(),
            &format!("{}/", &GOOD[..63]),
            &format!("{}%2e", &GOOD[..61]),
            &"f".repeat(10_000),
        ] {
            assert!(bundle_id(bad).is_err(), "{bad:?} passed");
            assert!(upload_id(bad).is_err(), "{bad:?} passed");
            assert!(file_sha256(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn errors_name_the_field_and_never_echo_control_characters_or_a_novel() {
        let e = bundle_id(&format!("\x1b[2J../{}", "x".repeat(5000)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bundle id"), "{e}");
        assert!(!e.contains('\x1b'), "{e}");
        assert!(e.len() < 400, "{e}");
    }

    #[test]
    fn device_ids_are_canonical_uuids() {
        let u = Uuid::now_v7();
        assert_eq!(device_id(&u.to_string()).unwrap(), u);
        assert!(device_id("../x").is_err());
        assert!(device_id(&u.simple().to_string()).is_err());
        assert!(device_id(&format!("{{{u}}}")).is_err());
    }
}
