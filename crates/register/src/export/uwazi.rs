//! CSV for Uwazi's CSV import (HURIDOCS), one entity per person.
//!
//! As Uwazi's importer reads it (`app/api/csv` in huridocs/uwazi): the first
//! line names the template's properties by the *name Uwazi generates from
//! each property's label* (`templateUtils.safeName`: trimmed, lower case,
//! every other character `_`), and a column matching no property is ignored
//! without an error; `title` is required; several values in one cell are
//! separated by `|`; `parent::child` in a select or multiselect cell is a
//! thesaurus group; a date range is `from:to`, each date parsed by `moment`
//! (`YYYY-MM-DD` always accepted); text cells are trimmed and their
//! whitespace runs collapsed; rich-text cells are stored as markdown as
//! they are. Uwazi stores every character of a cell as data, so there is
//! no spreadsheet guard here. Columns without a `__xx` language suffix go
//! into the language chosen at import. The template an Uwazi administrator
//! must create is listed in `docs/register.md`.

use std::fmt::Write as _;

use yaddash_model::PartialDate;

use yaddash_model::{Event, EventDetail};

use super::{opt, speaker_label};
use crate::{CaseEvents, Entry};

/// The columns, in order: property names of the Uwazi template.
pub(crate) const HEADER: [&str; 14] = [
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
    "cases",
];

/// The columns of the cases CSV (template "Case").
pub(crate) const CASE_HEADER: [&str; 8] = [
    "title",
    "yaddash_id",
    "detainee",
    "arrest_date",
    "charges",
    "sentence",
    "facility",
    "events",
];

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// A date as an Uwazi date range `from:to` (`YYYY-MM-DD:YYYY-MM-DD`): the
/// whole year for a year alone, the whole month for a year and month, the
/// day itself for a full date. Nothing is made more precise than recorded.
fn date_range(d: &Option<PartialDate>) -> String {
    let Some(d) = d else {
        return String::new();
    };
    let y = d.year;
    match (d.month, d.day) {
        (Some(m), Some(day)) => format!("{y:04}-{m:02}-{day:02}:{y:04}-{m:02}-{day:02}"),
        (Some(m), None) => format!("{y:04}-{m:02}-01:{y:04}-{m:02}-{:02}", days_in_month(y, m)),
        _ => format!("{y:04}-01-01:{y:04}-12-31"),
    }
}

/// One label of a select or multiselect cell: `|` would split it and `::`
/// make it a thesaurus group (two `::` abort Uwazi's whole import), so `|`
/// is written `/` and `::` is written `: :`.
fn label(s: &str) -> String {
    let mut out = s.replace('|', "/");
    while out.contains("::") {
        out = out.replace("::", ": :");
    }
    out
}

/// A CSV field for Uwazi: quoted per RFC 4180 when needed, nothing added
/// (Uwazi would store a spreadsheet guard as part of the value).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Plain text as markdown that shows as written: characters markdown would
/// act on are escaped anywhere; at the start of a line also list markers
/// (`-`, `+`, `1.`, `1)`), rules and setext underlines (`---`, `===`),
/// fences (`~~~`) and indentation (which would make a code block); single
/// line breaks become hard breaks (`\` at the end of the line) so they
/// survive, blank lines stay paragraph breaks.
fn markdown_text(s: &str) -> String {
    let text = s.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<String> = text.lines().map(markdown_line).collect();
    let mut out = String::with_capacity(s.len() + 16);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        if i + 1 < lines.len() {
            let hard = !line.is_empty() && !lines[i + 1].is_empty();
            out.push_str(if hard { "\\\n" } else { "\n" });
        }
    }
    out
}

fn markdown_line(line: &str) -> String {
    let line = line.trim_start();
    let mut out = String::with_capacity(line.len() + 4);
    // A line starting with digits then `.` or `)` would be an ordered list.
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let ordered = digits > 0 && line[digits..].starts_with(['.', ')']);
    for (i, c) in line.chars().enumerate() {
        let special = matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '&'
        );
        let at_start = i == 0 && matches!(c, '-' | '+' | '=' | '~');
        if special || at_start || (ordered && i == digits) {
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
                meta.push_str(&format!(" interviewed by {}", markdown_text(i)));
            }
            if let Some(p) = &t.place {
                meta.push_str(&format!(" in {}", markdown_text(p)));
            }
            let _ = write!(
                testimonies,
                "**{}**, {}{}: {}",
                markdown_text(&speaker_label(t)),
                t.date,
                meta,
                markdown_text(&t.narrative)
            );
        }
        let fields = [
            e.names.first().cloned().unwrap_or_default(),
            e.id.to_string(),
            e.names.join(" / "),
            opt(&e.birth_year),
            e.status.as_str().replace('_', " "),
            date_range(&e.status_since),
            date_range(&e.arrest_date),
            e.articles
                .iter()
                .map(|a| label(a))
                .collect::<Vec<_>>()
                .join("|"),
            opt(&e.sentence),
            e.facility.as_deref().map(label).unwrap_or_default(),
            e.sources.to_string(),
            date_range(&e.last_confirmed),
            testimonies,
            e.cases
                .iter()
                .map(|c| case_title(e, c))
                .collect::<Vec<_>>()
                .join("|"),
        ];
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A case entity's title: the detainee's first name and the case id, so
/// that it is unique (Uwazi's relationship column finds the related entity
/// by its exact title) and says nothing the persons' file does not.
pub(crate) fn case_title(e: &Entry, c: &CaseEvents) -> String {
    let name = e.names.first().map(String::as_str).unwrap_or("");
    label(&format!("{} · case {}", name.trim(), c.id))
}

/// One event as a line of the case's `events` text.
fn event_line(ev: &Event) -> String {
    let date = ev
        .date
        .map(|d| d.to_string())
        .unwrap_or_else(|| "undated".into());
    let join =
        |parts: Vec<Option<&str>>| parts.into_iter().flatten().collect::<Vec<_>>().join(", ");
    let (kind, detail) = match &ev.detail {
        EventDetail::Arrest { place, authority } => {
            ("arrest", join(vec![place.as_deref(), authority.as_deref()]))
        }
        EventDetail::Charges { articles, code } => (
            "charges",
            join(vec![Some(articles.join(", ").as_str()), code.as_deref()]),
        ),
        EventDetail::Detention { facility } => ("detention", facility.clone()),
        EventDetail::Trial {
            court,
            judge,
            outcome,
            sentence,
        } => (
            "trial",
            join(vec![
                court.as_deref(),
                judge.as_deref(),
                outcome.as_deref(),
                sentence.as_deref(),
            ]),
        ),
        EventDetail::IllTreatment { description } => ("ill-treatment", description.clone()),
        EventDetail::Release { kind } => (
            "release",
            kind.and_then(|k| serde_json::to_value(k).ok())
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default(),
        ),
        EventDetail::TravelBan { authority } => {
            ("travel ban", authority.clone().unwrap_or_default())
        }
        EventDetail::Disbarment { body } => ("disbarment", body.clone().unwrap_or_default()),
        EventDetail::Death { circumstances } => {
            ("death", circumstances.clone().unwrap_or_default())
        }
    };
    if detail.is_empty() {
        format!("{date} {kind}")
    } else {
        format!("{date} {kind}: {detail}")
    }
}

/// The case entities of the register as Uwazi import CSV (UTF-8, CRLF
/// line ends): one row per case the level allows, with the facts of that
/// case alone and its dated events.
pub(crate) fn uwazi_cases(entries: &[Entry]) -> String {
    let mut out = CASE_HEADER.join(",");
    out.push_str("\r\n");
    for e in entries {
        for c in &e.cases {
            let mut arrest = None;
            let mut articles: Vec<String> = Vec::new();
            let mut sentence = None;
            let mut facility = None;
            // Events are sorted by date, undated last: the last one wins.
            for ev in &c.events {
                match &ev.detail {
                    EventDetail::Arrest { .. } if ev.date.is_some() => arrest = ev.date,
                    EventDetail::Charges { articles: a, .. } => {
                        for x in a {
                            if !articles.contains(x) {
                                articles.push(x.clone());
                            }
                        }
                    }
                    EventDetail::Trial {
                        sentence: Some(s), ..
                    } => sentence = Some(s.clone()),
                    EventDetail::Detention { facility: f } => facility = Some(f.clone()),
                    _ => {}
                }
            }
            let events = c
                .events
                .iter()
                .map(|ev| markdown_text(&event_line(ev)))
                .collect::<Vec<_>>()
                .join("\\\n");
            let fields = [
                case_title(e, c),
                c.id.to_string(),
                e.names.first().cloned().unwrap_or_default(),
                date_range(&arrest),
                articles
                    .iter()
                    .map(|a| label(a))
                    .collect::<Vec<_>>()
                    .join("|"),
                sentence.unwrap_or_default(),
                facility.as_deref().map(label).unwrap_or_default(),
                events,
            ];
            let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV line read back as RFC 4180 (as csvtojson does): the fields.
    fn read_csv_line(s: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut quoted = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            let cur = fields.last_mut().expect("field");
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(String::new()),
                (c, _) => cur.push(c),
            }
        }
        fields
    }

    #[test]
    fn partial_dates_are_date_ranges() {
        let d = |s: &str| Some(s.parse::<PartialDate>().expect("date"));
        assert_eq!(date_range(&d("2010")), "2010-01-01:2010-12-31");
        assert_eq!(date_range(&d("2015-02")), "2015-02-01:2015-02-28");
        assert_eq!(date_range(&d("2016-02")), "2016-02-01:2016-02-29");
        assert_eq!(date_range(&d("2015-02-09")), "2015-02-09:2015-02-09");
        assert_eq!(date_range(&None), "");
        // Uwazi splits on `:` and parses each side with `YYYY-MM-DD`.
        for v in ["2010", "2015-02", "2015-02-09"] {
            let r = date_range(&d(v));
            let parts: Vec<&str> = r.split(':').collect();
            assert_eq!(parts.len(), 2, "{r}");
            for p in parts {
                assert_eq!(p.len(), 10, "{p}");
                assert!(p.parse::<PartialDate>().is_ok(), "{p}");
            }
        }
    }

    #[test]
    fn no_spreadsheet_guard_only_quoting() {
        for v in [
            "-Rəşad Həsənov",
            "+994 charges",
            "=1+1",
            "@x",
            "Хадиджа, \"Исмаилова\"",
        ] {
            let f = field(v);
            assert!(!f.starts_with('\''), "{f}");
            assert_eq!(read_csv_line(&f), vec![v.to_string()]);
        }
        assert_eq!(field("a\nb"), "\"a\nb\"");
    }

    #[test]
    fn separators_and_groups_are_neutralised() {
        assert_eq!(label("Art. 28::221.3"), "Art. 28: :221.3");
        assert_eq!(label("a:::b"), "a: : :b");
        assert_eq!(label("206.3|213"), "206.3/213");
        assert_eq!(
            label("Maddə 28::221.3 | Статья"),
            "Maddə 28: :221.3 / Статья"
        );
        for v in ["x::y::z", "a||b", "::"] {
            let l = label(v);
            assert!(!l.contains("::") && !l.contains('|'), "{l}");
        }
    }

    #[test]
    fn narratives_keep_lines_and_make_no_markdown_blocks() {
        let text = "Ana dedi:\n- onu döydülər\n1. первый допрос\n2) ikinci\n---\n# не заголовок\n\
                    > цитата\n+ plus\n===\n    kod deyil\n\nYeni abzas, \"sitat\", a|b";
        let md = markdown_text(text);
        let lines: Vec<&str> = md.split('\n').collect();
        assert_eq!(
            lines,
            vec![
                "Ana dedi:\\",
                "\\- onu döydülər\\",
                "1\\. первый допрос\\",
                "2\\) ikinci\\",
                "\\---\\",
                "\\# не заголовок\\",
                "\\> цитата\\",
                "\\+ plus\\",
                "\\===\\",
                "kod deyil",
                "",
                "Yeni abzas, \"sitat\", a\\|b",
            ]
        );
        // Inline markdown is escaped too.
        assert_eq!(
            markdown_text("*a* [b](c) _d_ `e` &amp;"),
            "\\*a\\* \\[b\\](c) \\_d\\_ \\`e\\` \\&amp;"
        );
        // Windows line ends count as one break.
        assert_eq!(markdown_text("a\r\nb"), "a\\\nb");
        // Mid-line markers are left alone.
        assert_eq!(
            markdown_text("Sentence -- 5 years, art. 1."),
            "Sentence -- 5 years, art. 1."
        );
    }
}
