//! Which records a pack holds at a level, and how each is shown.
//!
//! The rules are the register's (`yaddash_register::Level`, docs/register.md):
//! a record enters only if the level allows its confidentiality; an
//! interview whose consent is `internal` only at the internal level; a case
//! or interview only if the level allows its detainee. Below the internal
//! level a record is shown without its notes, an interview without its
//! interviewer and place, an arrest without its place, and an interview
//! names its speaker (`speaker_id`) only if the speaker consented to be
//! named, the level allows the speaker's record and the speaker is not a
//! relative. Attachments of an interview go below the internal level only
//! with consent to publish (a recording identifies the voice).

use std::collections::HashSet;

use serde_json::Value;
use uuid::Uuid;
use yaddash_model::{Consent, Record, Role};
use yaddash_register::Level;
use yaddash_register::export::DocBlock;
use yaddash_vault::{StoredRecord, Vault, VaultError};

use crate::{EvidenceError, Result};

/// A record chosen for a pack, as the level shows it.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The record as stored.
    pub stored: StoredRecord,
    /// Its current body as the level shows it.
    pub view: Value,
    /// The fields left out at this level.
    pub withheld: Vec<String>,
    /// Whether its attachments may go into the pack.
    pub attachments_allowed: bool,
}

/// The records of a pack, and how many related ones the level left out.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// In the order asked for, related records after each.
    pub records: Vec<Selected>,
    /// Related records the level left out.
    pub left_out: usize,
}

fn confidentiality(r: &Record) -> yaddash_model::Confidentiality {
    match r {
        Record::Person(p) => p.confidentiality,
        Record::Case(c) => c.confidentiality,
        Record::Interview(i) => i.confidentiality,
    }
}

/// Why the level does not allow a record, if it does not.
fn refusal(vault: &Vault, r: &Record, level: Level) -> Result<Option<&'static str>> {
    if !level.allows(confidentiality(r)) {
        return Ok(Some("its confidentiality"));
    }
    let person_allowed = |id: Uuid| -> Result<bool> {
        match vault.get(id) {
            Ok(p) => Ok(level.allows(confidentiality(&p.record))),
            Err(VaultError::NotFound { .. }) => Ok(true),
            Err(e) => Err(e.into()),
        }
    };
    match r {
        Record::Person(_) => {}
        Record::Case(c) => {
            if !person_allowed(c.detainee_id)? {
                return Ok(Some("the confidentiality of its detainee's record"));
            }
        }
        Record::Interview(i) => {
            if level != Level::Internal && i.consent == Consent::Internal {
                return Ok(Some("the speaker's consent (internal use only)"));
            }
            if let Some(d) = i.detainee_id
                && !person_allowed(d)?
            {
                return Ok(Some("the confidentiality of its detainee's record"));
            }
            if let Some(c) = i.case_id
                && !person_allowed(c)?
            {
                return Ok(Some("the confidentiality of its case"));
            }
        }
    }
    Ok(None)
}

/// The records asked for and, with `related`, those about them, as the
/// level allows. A record asked for that the level does not allow is an
/// error; a related one is left out (counted).
pub fn select(vault: &Vault, ids: &[Uuid], related: bool, level: Level) -> Result<Selection> {
    let mut out = Selection::default();
    let mut seen: HashSet<Uuid> = HashSet::new();
    for &id in ids {
        let stored = vault.get(id)?;
        if let Some(why) = refusal(vault, &stored.record, level)? {
            return Err(EvidenceError::Refused(format!(
                "record {id} cannot go into a {} pack: {why} does not allow it",
                level.as_str()
            )));
        }
        let mut queue = vec![stored];
        if related {
            queue.extend(related_records(vault, id, &queue[0].record)?);
        }
        for s in queue {
            if !seen.insert(s.id) {
                continue;
            }
            if refusal(vault, &s.record, level)?.is_some() {
                out.left_out += 1;
                continue;
            }
            out.records.push(shown(vault, s, level)?);
        }
    }
    Ok(out)
}

/// A person's cases and the interviews about the person or those cases; a
/// case's detainee and its interviews. Never the interviews a person gave
/// as a speaker (that would tie an anonymous speaker to their account).
fn related_records(vault: &Vault, id: Uuid, record: &Record) -> Result<Vec<StoredRecord>> {
    let mut out = Vec::new();
    match record {
        Record::Person(_) => {
            let mut cases = Vec::new();
            for hit in vault.referring(id)? {
                let s = vault.get(hit.id)?;
                match &s.record {
                    Record::Case(c) if c.detainee_id == id => {
                        cases.push(s.id);
                        out.push(s);
                    }
                    Record::Interview(i) if i.detainee_id == Some(id) => out.push(s),
                    _ => {}
                }
            }
            for c in cases {
                for hit in vault.referring(c)? {
                    let s = vault.get(hit.id)?;
                    if let Record::Interview(i) = &s.record
                        && i.case_id == Some(c)
                    {
                        out.push(s);
                    }
                }
            }
        }
        Record::Case(c) => {
            if let Ok(p) = vault.get(c.detainee_id) {
                out.push(p);
            }
            for hit in vault.referring(id)? {
                let s = vault.get(hit.id)?;
                if let Record::Interview(i) = &s.record
                    && i.case_id == Some(id)
                {
                    out.push(s);
                }
            }
        }
        Record::Interview(_) => {}
    }
    out.sort_by_key(|s| (s.record.kind() as u8, s.id));
    Ok(out)
}

/// The record as the level shows it.
fn shown(vault: &Vault, stored: StoredRecord, level: Level) -> Result<Selected> {
    let body = match &stored.record {
        Record::Person(p) => serde_json::to_value(p),
        Record::Case(c) => serde_json::to_value(c),
        Record::Interview(i) => serde_json::to_value(i),
    };
    let mut view =
        body.map_err(|_| EvidenceError::Refused("a record could not be laid out".into()))?;
    let mut withheld = Vec::new();
    let mut attachments_allowed = true;
    if level != Level::Internal {
        let obj = view.as_object_mut();
        if let Some(obj) = obj {
            let mut strip = |k: &str, obj: &mut serde_json::Map<String, Value>| {
                if obj.remove(k).is_some() {
                    withheld.push(k.to_string());
                }
            };
            strip("notes", obj);
            match &stored.record {
                Record::Person(_) => {}
                Record::Case(_) => {
                    if let Some(Value::Array(events)) = obj.get_mut("events") {
                        let mut any = false;
                        for e in events {
                            if e.get("type").and_then(Value::as_str) == Some("arrest")
                                && let Some(o) = e.as_object_mut()
                            {
                                any |= o.remove("place").is_some();
                            }
                        }
                        if any {
                            withheld.push("events.place (arrest)".into());
                        }
                    }
                }
                Record::Interview(i) => {
                    strip("interviewer", obj);
                    strip("place", obj);
                    let named = match i.speaker_id {
                        Some(sid) if i.consent == Consent::Publish => match vault.get(sid) {
                            Ok(p) => match &p.record {
                                Record::Person(p) => {
                                    level.allows(p.confidentiality)
                                        && !p.roles.contains(&Role::Relative)
                                }
                                _ => false,
                            },
                            Err(_) => false,
                        },
                        _ => false,
                    };
                    if !named {
                        strip("speaker_id", obj);
                    }
                    attachments_allowed = i.consent == Consent::Publish;
                }
            }
        }
    }
    Ok(Selected {
        stored,
        view,
        withheld,
        attachments_allowed,
    })
}

fn flat(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flat(&p, x, out);
            }
        }
        Value::Array(a) if a.iter().all(|x| !x.is_object()) => {
            let items: Vec<String> = a
                .iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            out.push(format!("{prefix}: {}", items.join(" / ")));
        }
        Value::Array(a) => {
            for (n, x) in a.iter().enumerate() {
                flat(&format!("{prefix}[{}]", n + 1), x, out);
            }
        }
        Value::String(s) => out.push(format!("{prefix}: {s}")),
        Value::Null => {}
        other => out.push(format!("{prefix}: {other}")),
    }
}

/// The record's part of the printable summary.
pub(crate) fn pdf_blocks(record: &Value) -> Vec<DocBlock> {
    let kind = record["kind"].as_str().unwrap_or("record");
    let id = record["id"].as_str().unwrap_or("");
    let mut blocks = vec![DocBlock::Heading(format!("{kind} {id}"))];
    let mut lines = Vec::new();
    flat("", &record["body"], &mut lines);
    blocks.push(DocBlock::Text(lines.join("\n")));
    if let Some(w) = record["withheld"].as_array()
        && !w.is_empty()
    {
        let w: Vec<&str> = w.iter().filter_map(Value::as_str).collect();
        blocks.push(DocBlock::Text(format!(
            "Withheld at this level: {}",
            w.join(", ")
        )));
    }
    let mut custody = Vec::new();
    for r in record["revisions"].as_array().into_iter().flatten() {
        let mut line = format!(
            "Revision {} saved at {}",
            r["rev"],
            r["saved_at"].as_str().unwrap_or("?")
        );
        if let Some(by) = r["saved_by"].as_str() {
            line.push_str(&format!(" by device {by}"));
        }
        if let Some(h) = r["body_sha256"].as_str() {
            line.push_str(&format!(
                "; SHA-256 {h} ({})",
                r["file"].as_str().unwrap_or("")
            ));
        }
        line.push_str(&came_in(&r["came_in"]));
        custody.push(line);
    }
    for a in record["attachments"].as_array().into_iter().flatten() {
        let mut line = format!(
            "Attachment {} ({}, {} bytes) captured at {}",
            a["file"].as_str().unwrap_or(""),
            a["media_type"].as_str().unwrap_or(""),
            a["size"],
            a["captured_at"].as_str().unwrap_or("?")
        );
        if let Some(by) = a["captured_by"].as_str() {
            line.push_str(&format!(" by device {by}"));
        }
        if let Some(n) = a["name"].as_str() {
            line.push_str(&format!(", original name {n}"));
        }
        line.push_str(&format!("; SHA-256 {}", a["sha256"].as_str().unwrap_or("")));
        line.push_str(&came_in(&a["came_in"]));
        custody.push(line);
    }
    blocks.push(DocBlock::Text(custody.join("\n")));
    blocks
}

fn came_in(b: &Value) -> String {
    if b.is_null() {
        return "; saved at headquarters".into();
    }
    let mut s = format!(
        "; sent in bundle no. {} made {}, imported at headquarters {}",
        b["seq"],
        b["created_at"].as_str().unwrap_or("?"),
        b["imported_at"].as_str().unwrap_or("?")
    );
    if let Some(by) = b["imported_by"].as_str() {
        s.push_str(&format!(" by coordinator {by}"));
    }
    if let Some(m) = b["device_signed_manifest"].as_str() {
        s.push_str(&format!(" (device-signed manifest {m})"));
    }
    s
}
