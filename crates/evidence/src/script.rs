//! `verify.sh` and `VERIFY.md`, written for each pack.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use uuid::Uuid;
use yaddash_bundle::yaddash_wire::signing_key_fingerprint;
use yaddash_register::Level;

use crate::{Check, NAMESPACE_EVIDENCE, NAMESPACE_MANIFEST};

/// The script: every check on its own line, each naming what failed.
pub(crate) fn verify_sh(coordinator: &Uuid, checks: &[Check]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"#!/bin/sh
# Checks this Yaddash evidence pack with sha256sum and ssh-keygen only (and a
# POSIX shell with find, grep, awk, sed and cut). Run it in the pack's folder:
#
#     sh verify.sh
#
# Every check prints "ok" or "FAILED" with the file concerned; the exit status
# is 0 only if every check passed. VERIFY.md explains each step.
cd "$(dirname "$0")" || exit 2
failures=0
checks=0
ok() {{ checks=$((checks + 1)); printf 'ok      %s\n' "$1"; }}
bad() {{ checks=$((checks + 1)); failures=$((failures + 1)); printf 'FAILED  %s\n' "$1"; }}
# The SHA-256 a bundle's signed manifest lists for an entry.
listed() {{ awk -F'"' -v p="$2" '/"path":/ {{cur=$4}} /"sha256":/ && cur == p {{print $4; exit}}' "bundles/$1/manifest.json"; }}
sha() {{ sha256sum < "$1" | cut -c1-64; }}

# 1. The exporting coordinator's signature over SHA256SUMS.
if ssh-keygen -Y verify -f allowed_signers -I {coordinator} -n {NAMESPACE_EVIDENCE} -s SHA256SUMS.sig < SHA256SUMS > /dev/null 2>&1; then
  ok "SHA256SUMS is signed by coordinator {coordinator}"
else
  bad "SHA256SUMS.sig: not a valid signature over SHA256SUMS by coordinator {coordinator}"
fi

# 2. Every file has the SHA-256 listed in SHA256SUMS (sha256sum names each file that does not).
if sha256sum -c --quiet SHA256SUMS; then
  ok "every file listed in SHA256SUMS is present and unchanged"
else
  bad "the files named above by sha256sum are changed or missing"
fi

# 3. No file that SHA256SUMS does not list.
for f in $(find . -type f ! -name SHA256SUMS ! -name SHA256SUMS.sig | sed 's|^\./||'); do
  if awk -v f="$f" 'substr($0, 67) == f {{found = 1}} END {{exit !found}}' SHA256SUMS; then :; else
    bad "$f: not listed in SHA256SUMS"
  fi
done
"#
    );
    if !checks.is_empty() {
        s.push_str(
            "\n# 4. The field devices' signatures over the bundle manifests, and every file\n\
             #    the pack ties to them.\n",
        );
    }
    for c in checks {
        match c {
            Check::ManifestSignature { bundle, device } => {
                let _ = write!(
                    s,
                    r#"if ssh-keygen -Y verify -f allowed_signers -I {device} -n {NAMESPACE_MANIFEST} -s bundles/{bundle}/manifest.json.sig < bundles/{bundle}/manifest.json > /dev/null 2>&1; then
  ok "bundles/{bundle}/manifest.json is signed by device {device}"
else
  bad "bundles/{bundle}/manifest.json.sig: not a valid signature over the manifest by device {device}"
fi
"#
                );
            }
            Check::InManifest {
                bundle,
                entry,
                file,
            } => {
                let _ = write!(
                    s,
                    r#"if [ "$(sha {file})" = "$(listed {bundle} {entry})" ]; then
  ok "{file} is {entry} of bundle {bundle}"
else
  bad "{file}: its SHA-256 is not the one the signed manifest of bundle {bundle} lists for {entry}"
fi
"#
                );
            }
            Check::RevisionInEntry { file, entry_file } => {
                let _ = write!(
                    s,
                    r#"if grep -qF "\"body_sha256\":\"$(sha {file})\"" {entry_file}; then
  ok "{file} is a revision in {entry_file}"
else
  bad "{file}: its SHA-256 is not a body_sha256 in {entry_file}"
fi
"#
                );
            }
        }
    }
    s.push_str(
        r#"
if [ "$failures" -eq 0 ]; then
  echo "evidence pack verified: all $checks checks passed"
  exit 0
fi
echo "$failures of $checks checks FAILED: do not rely on this pack"
exit 1
"#,
    );
    s
}

/// The human explanation, with this pack's keys.
pub(crate) fn verify_md(
    level: Level,
    coordinator: &Uuid,
    coordinator_fpr: &str,
    devices: &BTreeMap<Uuid, String>,
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"# How to verify this evidence pack

This folder was exported from Yaddash, an encrypted documentation tool, at
the **{level}** level. Everything in it can be checked with two standard
tools, without Yaddash: `sha256sum` (GNU coreutils) and `ssh-keygen`
(OpenSSH 8.1 or later), plus a POSIX shell.

Run, in this folder:

    sh verify.sh

It prints `ok` or `FAILED` for each check, names every file that fails, and
ends with `evidence pack verified` only if all passed.

## What the files are

| file | content |
|---|---|
| `summary.pdf` | printable summary: the records, their revisions and attachments, the custody trail |
| `records/<id>.json` | each record as shown at this level, its revisions and attachments |
| `revisions/<id>/<n>.json` | each revision's body exactly as saved (internal level only) |
| `attachments/<id>.<ext>` | the original files, byte for byte |
| `bundles/<bundle>/manifest.json` and `.sig` | the table of contents of a bundle that brought records to headquarters, signed by the field device that made it |
| `bundles/<bundle>/records/<id>.json`, `…/attachments/<id>.json` | the entries of that bundle exactly as received (their SHA-256 is in the manifest) |
| `custody.json` | per record: saved on device X at T, sent in bundle N, imported at headquarters at T2, exported at T3 |
| `pack.json` | level, time, exporting coordinator and keys |
| `allowed_signers` | the public keys of the coordinator and devices, in `ssh-keygen`'s format |
| `SHA256SUMS`, `SHA256SUMS.sig` | the SHA-256 of every file, signed by the exporting coordinator |

## The checks, by hand

1. The exporting coordinator signed the list of files:

       ssh-keygen -Y verify -f allowed_signers -I {coordinator} -n {NAMESPACE_EVIDENCE} -s SHA256SUMS.sig < SHA256SUMS

2. Every file is the one listed: `sha256sum -c SHA256SUMS`.
3. For each bundle, the field device signed its manifest:

       ssh-keygen -Y verify -f allowed_signers -I <device id> -n {NAMESPACE_MANIFEST} -s bundles/<bundle>/manifest.json.sig < bundles/<bundle>/manifest.json

4. Each attachment's `sha256sum` equals the `sha256` the signed manifest lists
   for `attachments/<id>`; each bundle entry's equals the one listed for its
   path. So the device signed these exact bytes.
5. Each revision file's `sha256sum` appears as `"body_sha256":"…"` in the
   record entry of the bundle the device signed. So the device signed that
   revision's exact text (its author and time are beside it).

## Whose keys these are

`verify.sh` proves that the files were signed by the keys in
`allowed_signers`. It cannot prove whose keys those are: compare the
fingerprints below with those the organisation gives you by another channel
(`ssh-keygen -l -f` on a key prints its fingerprint).

* exporting coordinator `{coordinator}`: `{coordinator_fpr}`
"#,
        level = level.as_str(),
    );
    for (dev, key) in devices {
        let fpr = signing_key_fingerprint(key).unwrap_or_default();
        let _ = writeln!(s, "* field device `{dev}`: `{fpr}`");
    }
    s.push_str(
        r#"
## What a signature does and does not show

A device's signature shows that the holder of that device's key made the
bundle, with these exact bytes, before headquarters imported it (the import
time is the coordinator's statement). The time a device gives for a capture
or a revision is its own clock. Revisions and attachments that came before
Yaddash kept bundle manifests, or were saved at headquarters, carry the
coordinator's signature only (`custody.json` says which).
"#,
    );
    if level != Level::Internal {
        s.push_str(
            r#"
## This is a redacted pack

Below the internal level records are shown without notes, interviewer and
place, and without the identity of a speaker who did not consent to be
named; earlier revisions are not included, and the devices' signatures are
left out, because the hashes they cover would let a reader test guesses of
what was withheld. The exporting coordinator's signature covers everything
here. The organisation can produce the internal pack of the same records
(for example to the Court, under confidentiality) where the chain back to
the field device is needed.
"#,
        );
    }
    s
}
