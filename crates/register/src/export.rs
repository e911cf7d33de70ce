//! Exports of the register: CSV, JSON, a self-contained HTML report, the
//! same report as PDF, CSV for Uwazi's import and JSON after the HURIDOCS
//! Events Standard Formats.
//!
//! What each level may contain is decided once, in [`crate::build_with`]
//! (via [`crate::Snapshot::visible_at`]); the formats only lay it out. CSV
//! and Uwazi have one line per person (Uwazi with the permitted
//! testimonies in one column); JSON, HTML, PDF and ESF carry the
//! testimonies the level allows; ESF also the events of the visible cases.

mod esf;
mod pdf;
mod uwazi;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::{Detail, Entry, Level, Result, Snapshot, Status, build_with};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per person.
    Csv,
    /// The entries with their facts and testimonies.
    Json,
    /// A printable report: counts, then the list.
    Html,
    /// The printable report as PDF (fonts embedded).
    Pdf,
    /// CSV laid out for Uwazi's CSV import (see `docs/register.md`).
    Uwazi,
    /// The cases of the Uwazi export as their own entities (a second CSV,
    /// template "Case"), linked from the persons' `cases` relationship.
    UwaziCases,
    /// JSON after the HURIDOCS Events Standard Formats: events, acts,
    /// persons (victims, perpetrators, sources), involvements, information.
    Esf,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 7] = [
        Format::Csv,
        Format::Json,
        Format::Html,
        Format::Pdf,
        Format::Uwazi,
        Format::UwaziCases,
        Format::Esf,
    ];

    /// Parses `csv`, `json`, `html`, `pdf`, `uwazi`, `uwazi-cases` or `esf`.
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Uwazi => "uwazi",
            Format::UwaziCases => "uwazi-cases",
            Format::Esf => "esf",
        }
    }

    /// What the entries must carry for this format.
    pub fn detail(self) -> Detail {
        Detail {
            testimonies: self != Format::Csv,
            // JSON carries the cases' events too, so every value of the
            // Uwazi CSVs can be checked against it.
            events: matches!(
                self,
                Format::Esf | Format::Json | Format::Uwazi | Format::UwaziCases
            ),
        }
    }
}

/// Counts for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Persons in the register.
    pub total: usize,
    /// By status in force.
    pub by_status: BTreeMap<String, usize>,
    /// By year of the latest arrest ("unknown" when none).
    pub by_arrest_year: BTreeMap<String, usize>,
    /// By charge article (a person counts once per article).
    pub by_article: BTreeMap<String, usize>,
    /// By latest facility.
    pub by_facility: BTreeMap<String, usize>,
}

/// Counts over entries.
pub fn counts(entries: &[Entry]) -> Counts {
    let mut c = Counts {
        total: entries.len(),
        ..Counts::default()
    };
    for e in entries {
        *c.by_status.entry(e.status.as_str().into()).or_default() += 1;
        let year = e
            .arrest_date
            .map(|d| d.year.to_string())
            .unwrap_or_else(|| "unknown".into());
        *c.by_arrest_year.entry(year).or_default() += 1;
        for a in &e.articles {
            *c.by_article.entry(a.clone()).or_default() += 1;
        }
        let f = e.facility.clone().unwrap_or_else(|| "unknown".into());
        *c.by_facility.entry(f).or_default() += 1;
    }
    c
}

/// The entries an export in `format` at `level` is made of.
pub fn entries(snapshot: &Snapshot, level: Level, format: Format) -> Vec<Entry> {
    build_with(snapshot, level, format.detail())
}

/// Builds the register at `level` and renders it.
pub fn export(snapshot: &Snapshot, level: Level, format: Format) -> Result<Vec<u8>> {
    render(
        &entries(snapshot, level, format),
        level,
        format,
        &mut |_| {},
    )
}

/// Renders entries built by [`entries`] for the same `level` and `format`.
/// `progress` is called with the number of entries laid out so far (for
/// the PDF, which takes longest).
pub fn render(
    entries: &[Entry],
    level: Level,
    format: Format,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Csv => csv(entries).into_bytes(),
        Format::Json => json(entries, level).into_bytes(),
        Format::Html => html(entries, level).into_bytes(),
        Format::Pdf => pdf::pdf(entries, level, progress)?,
        Format::Uwazi => uwazi::uwazi(entries).into_bytes(),
        Format::UwaziCases => uwazi::uwazi_cases(entries).into_bytes(),
        Format::Esf => esf::esf(entries, level).into_bytes(),
    })
}

pub use pdf::DocBlock;

/// A plain document (headings and paragraphs) as PDF, in the report's
/// embedded font: the evidence pack's printable summary.
pub fn document_pdf(title: &str, blocks: &[DocBlock]) -> Result<Vec<u8>> {
    pdf::document(title, blocks)
}

/// The text the PDF report draws, line by line (for tests).
#[cfg(test)]
pub(crate) fn pdf_text(entries: &[Entry], level: Level) -> Result<Vec<String>> {
    pdf::drawn_text(entries, level)
}

/// The heading of each part of the report (HTML and PDF).
pub(crate) const REPORT_TITLE: &str = "Register of political prisoners";

/// The count tables of the report, in order, with status names spelled out.
pub(crate) fn count_sections(c: &Counts) -> [(&'static str, BTreeMap<String, usize>); 4] {
    let mut by_status = BTreeMap::new();
    for s in Status::ALL {
        if let Some(n) = c.by_status.get(s.as_str()) {
            by_status.insert(s.as_str().replace('_', " "), *n);
        }
    }
    [
        ("By status", by_status),
        ("By year of arrest", c.by_arrest_year.clone()),
        ("By charge article", c.by_article.clone()),
        ("By facility", c.by_facility.clone()),
    ]
}

/// Who spoke, as the report shows it: name and relation as far as allowed.
pub(crate) fn speaker_label(t: &crate::Testimony) -> String {
    match (&t.speaker, &t.relation) {
        (Some(s), Some(r)) => format!("{s} ({r})"),
        (Some(s), None) => s.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => "anonymous".into(),
    }
}

/// A CSV field: quoted when needed; a leading `= + - @` is prefixed with `'`
/// so spreadsheets do not run it as a formula.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

const CSV_HEADER: [&str; 13] = [
    "id",
    "names",
    "birth_year",
    "status",
    "derived_status",
    "status_since",
    "arrest_date",
    "articles",
    "sentence",
    "facility",
    "sources",
    "last_confirmed",
    "merged_records",
];

pub(crate) fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

/// The register as CSV (RFC 4180, UTF-8, CRLF line ends).
pub fn csv(entries: &[Entry]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for e in entries {
        let fields = [
            e.id.to_string(),
            e.names.join(" / "),
            opt(&e.birth_year),
            e.status.as_str().to_string(),
            e.derived_status.as_str().to_string(),
            opt(&e.status_since),
            opt(&e.arrest_date),
            e.articles.join("; "),
            opt(&e.sentence),
            opt(&e.facility),
            e.sources.to_string(),
            opt(&e.last_confirmed),
            e.records.len().to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[derive(Serialize)]
struct JsonExport<'a> {
    format: &'static str,
    level: Level,
    counts: Counts,
    entries: &'a [Entry],
}

/// The register as JSON: level, counts and entries.
pub fn json(entries: &[Entry], level: Level) -> String {
    let doc = JsonExport {
        format: "yaddash-register/1",
        level,
        counts: counts(entries),
        entries,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn count_table(out: &mut String, title: &str, map: &BTreeMap<String, usize>) {
    let _ = write!(
        out,
        "<section><h2>{}</h2><table><tr><th></th><th>persons</th></tr>",
        esc(title)
    );
    for (k, v) in map {
        let _ = write!(out, "<tr><td>{}</td><td>{v}</td></tr>", esc(k));
    }
    out.push_str("</table></section>\n");
}

/// A self-contained HTML report (no scripts, no external resources).
pub fn html(entries: &[Entry], level: Level) -> String {
    let c = counts(entries);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>{title} ({lvl})</title><style>\
body{{font-family:serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1em}}\
td,th{{border:1px solid #999;padding:2px 6px;vertical-align:top;text-align:left}}\
section{{display:inline-block;margin-right:2em;vertical-align:top}}\
.t{{font-size:90%;margin:0.3em 0}}@media print{{section{{page-break-inside:avoid}}}}\
</style></head><body>\n<h1>{title}</h1>\n\
<p>Level: <b>{lvl}</b>. Persons: <b>{total}</b>.</p>\n",
        title = REPORT_TITLE,
        lvl = level.as_str(),
        total = c.total
    );
    for (title, map) in count_sections(&c) {
        count_table(&mut out, title, &map);
    }
    out.push_str(
        "<h2>List</h2>\n<table><tr><th>#</th><th>Names</th><th>Born</th><th>Status</th>\
<th>Arrested</th><th>Articles</th><th>Sentence</th><th>Facility</th><th>Sources</th>\
<th>Last confirmed</th></tr>\n",
    );
    for (n, e) in entries.iter().enumerate() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            n + 1,
            esc(&e.names.join(" / ")),
            opt(&e.birth_year),
            esc(&e.status.as_str().replace('_', " ")),
            opt(&e.arrest_date),
            esc(&e.articles.join(", ")),
            esc(&opt(&e.sentence)),
            esc(&opt(&e.facility)),
            e.sources,
            opt(&e.last_confirmed),
        );
        if let Some(o) = &e.status_override {
            let _ = writeln!(
                out,
                "<tr><td></td><td colspan=\"9\">status set by hand to {} (derived: {}){}</td></tr>",
                esc(&o.status.as_str().replace('_', " ")),
                esc(&e.derived_status.as_str().replace('_', " ")),
                o.reason
                    .as_ref()
                    .map(|r| format!(": {}", esc(r)))
                    .unwrap_or_default()
            );
        }
        for t in &e.testimonies {
            let who = speaker_label(t);
            let mut meta = String::new();
            if let Some(i) = &t.interviewer {
                meta.push_str(&format!(" interviewed by {}", esc(i)));
            }
            if let Some(p) = &t.place {
                meta.push_str(&format!(" in {}", esc(p)));
            }
            let _ = writeln!(
                out,
                "<tr><td></td><td colspan=\"9\"><p class=\"t\"><b>{}</b>, {}{meta}: {}</p></td></tr>",
                esc(&who),
                t.date,
                esc(&t.narrative)
            );
        }
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn html_escapes() {
        assert_eq!(esc("<script>&'\""), "&lt;script&gt;&amp;&#39;&quot;");
    }
}
