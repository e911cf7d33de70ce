//! CSV for Uwazi's CSV import (HURIDOCS), one entity per person.
//!
//! As Uwazi's importer reads it (`app/api/csv` in huridocs/uwazi): the first
//! line names the template's properties by their *name* (lower case, `_`
//! for spaces); `title` is required; several values in one cell are
//! separated by `|`; dates are accepted as `YYYY-MM-DD` or `YYYY`; select and
//! multiselect cells hold thesaurus labels (missing labels are added to the
//! thesaurus on import). Columns without a `__xx` language suffix go into
//! the language chosen at import. The template an Uwazi administrator must
//! create is listed in `docs/register.md`.

use std::fmt::Write as _;

use yaddash_model::PartialDate;

use super::{csv_field, opt, speaker_label};
use crate::Entry;

/// The columns, in order: property names of the Uwazi template.
pub(crate) const HEADER: [&str; 13] = [
    "title",
    "yaddash_id",
    "names",
    "birth_year",
    "status",
    "status_since",
    "arrest_date",
    "charges",
    "sentence",
    "facility",
    "sources",
    "last_confirmed",
    "testimonies",
];

/// A date as Uwazi parses it: `YYYY-MM-DD`, or `YYYY` for a year alone; a
/// year and month becomes the first of the month (Uwazi has no month-only
/// date), as the register also sorts it.
fn date(d: &Option<PartialDate>) -> String {
    match d {
        None => String::new(),
        Some(d) => match (d.month, d.day) {
            (Some(m), Some(day)) => format!("{:04}-{m:02}-{day:02}", d.year),
            (Some(m), None) => format!("{:04}-{m:02}-01", d.year),
            _ => format!("{:04}", d.year),
        },
    }
}

/// One value of a multi-value cell: `|` would split it.
fn one_value(s: &str) -> String {
    s.replace('|', "/")
}

/// Markdown special characters escaped, so a narrative shows as written.
fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The register as Uwazi import CSV (UTF-8, CRLF line ends).
pub(crate) fn uwazi(entries: &[Entry]) -> String {
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for e in entries {
        let mut testimonies = String::new();
        for t in &e.testimonies {
            if !testimonies.is_empty() {
                testimonies.push_str("\n\n");
            }
            let mut meta = String::new();
            if let Some(i) = &t.interviewer {
                meta.push_str(&format!(" interviewed by {i}"));
            }
            if let Some(p) = &t.place {
                meta.push_str(&format!(" in {p}"));
            }
            let _ = write!(
                testimonies,
                "**{}**, {}{}: {}",
                markdown_text(&speaker_label(t)),
                t.date,
                markdown_text(&meta),
                markdown_text(&t.narrative)
            );
        }
        let fields = [
            e.names.first().cloned().unwrap_or_default(),
            e.id.to_string(),
            e.names.join(" / "),
            opt(&e.birth_year),
            e.status.as_str().replace('_', " "),
            date(&e.status_since),
            date(&e.arrest_date),
            e.articles
                .iter()
                .map(|a| one_value(a))
                .collect::<Vec<_>>()
                .join("|"),
            opt(&e.sentence),
            e.facility.as_deref().map(one_value).unwrap_or_default(),
            e.sources.to_string(),
            date(&e.last_confirmed),
            testimonies,
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_uwazi_reads_them() {
        let d = |s: &str| Some(s.parse::<PartialDate>().expect("date"));
        assert_eq!(date(&d("2015")), "2015");
        assert_eq!(date(&d("2015-02")), "2015-02-01");
        assert_eq!(date(&d("2015-02-09")), "2015-02-09");
        assert_eq!(date(&None), "");
    }

    #[test]
    fn markdown_and_separators_are_neutralised() {
        assert_eq!(markdown_text("*a* [b](c)"), "\\*a\\* \\[b\\](c)");
        assert_eq!(one_value("a|b"), "a/b");
    }
}
