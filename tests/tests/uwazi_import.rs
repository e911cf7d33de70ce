//! The Uwazi CSV exports as Uwazi's CSV import reads them: both files
//! (`--format uwazi`, `--format uwazi-cases`) go through Uwazi's own parser
//! libraries (csvtojson 2.0.10, moment 2.30.1) with its import rules
//! re-implemented from its source (tests/uwazi/import.mjs), against the
//! templates documented in docs/register.md. On a fixture with Azerbaijani
//! and Cyrillic names, `,` `"` and line breaks, `|` and `::` in charges, a
//! sentence starting with `+`, a name starting with `-`, year-only and
//! month-only dates and two cases for one person: no column is ignored and
//! every value equals the JSON export's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use time::{Date, Month};
use yaddash_e2e::{TestVault, utf8};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// tests/uwazi with its npm packages installed (`npm ci` once).
fn uwazi_dir() -> PathBuf {
    let dir = root().join("tests/uwazi");
    if !dir.join("node_modules/csvtojson").exists() || !dir.join("node_modules/moment").exists() {
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm (apt-get install npm)");
        assert!(st.success(), "npm ci in tests/uwazi failed");
    }
    dir
}

fn add(v: &TestVault, kind: &str, name: &str, body: &Value) -> String {
    let p = v.write_json(name, body);
    v.json(&[kind, "add", "--file", utf8(&p)])["id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn person(v: &TestVault, names: &[&str], born: Option<&str>, conf: &str) -> String {
    let mut args = vec!["person", "add"];
    // `--name=` so that a name starting with `-` is not read as an option.
    let named: Vec<String> = names.iter().map(|n| format!("--name={n}")).collect();
    for n in &named {
        args.push(n);
    }
    if let Some(b) = born {
        args.extend(["--born", b]);
    }
    args.extend(["--role", "detainee", "--confidentiality", conf]);
    v.json(&args)["id"].as_str().expect("id").to_string()
}

/// The `|` and `::` rewriting of select and multiselect labels.
fn neutralised(s: &str) -> String {
    let mut out = s.replace('|', "/");
    while out.contains("::") {
        out = out.replace("::", ": :");
    }
    out
}

fn unix(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp()
}

/// A partial date as Uwazi stores the documented range: (from, to) in Unix seconds.
fn range(s: &str) -> Value {
    let parts: Vec<i64> = s.split('-').map(|p| p.parse().expect("number")).collect();
    let y = parts[0] as i32;
    let (from, to) = match parts.len() {
        1 => (
            Date::from_calendar_date(y, Month::January, 1),
            Date::from_calendar_date(y, Month::December, 31),
        ),
        2 => {
            let m = Month::try_from(parts[1] as u8).expect("month");
            (
                Date::from_calendar_date(y, m, 1),
                Date::from_calendar_date(y, m, m.length(y)),
            )
        }
        _ => {
            let d = Date::from_calendar_date(
                y,
                Month::try_from(parts[1] as u8).expect("month"),
                parts[2] as u8,
            );
            (d, d)
        }
    };
    json!({"from": unix(from.expect("date")), "to": unix(to.expect("date"))})
}

/// Markdown as a reader sees it: backslash escapes and hard breaks removed.
fn shown(md: &str) -> String {
    let mut out = String::new();
    let mut chars = md.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('\n') => {}
                Some(&n) => {
                    out.push(n);
                    chars.next();
                }
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn labels(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["label"].as_str().expect("label").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn uwazi_imports_both_files_without_loss() {
    let v = TestVault::init("coordinator");
    let tofiq = person(
        &v,
        &["Məmmədov Tofiq", "Мамедов Тофик"],
        Some("1975"),
        "partner",
    );
    let rashad = person(&v, &["-Rəşad Həsənov", "Рашад Гасанов"], None, "public");
    let case1 = add(
        &v,
        "case",
        "c1.json",
        &json!({"detainee_id": tofiq, "confidentiality": "partner",
                "events": [
                    {"type": "arrest", "date": "2010", "authority": "DTX, \"security\""},
                    {"type": "charges", "date": "2010-03", "articles": ["Art. 28::221.3", "206.3|213", "a::b::c"]},
                    {"type": "detention", "date": "2010-04", "facility": "Baku, \"Kürdəxanı\" No. 1"},
                    {"type": "trial", "date": "2011-02", "sentence": "+2 years, \"strict\" regime"}]}),
    );
    let case2 = add(
        &v,
        "case",
        "c2.json",
        &json!({"detainee_id": tofiq, "confidentiality": "partner",
                "events": [
                    {"type": "arrest", "date": "2015-02"},
                    {"type": "charges", "date": "2015-02-09", "articles": ["193-1.3.1"]},
                    {"type": "release", "date": "2016-05-25", "kind": "pardon"}]}),
    );
    let case3 = add(
        &v,
        "case",
        "c3.json",
        &json!({"detainee_id": rashad, "confidentiality": "public",
                "events": [{"type": "arrest", "date": "2024-11-20"},
                           {"type": "detention", "date": "2024-11", "facility": "Zabrat | pre-trial"}]}),
    );
    add(
        &v,
        "interview",
        "i1.json",
        &json!({"detainee_id": tofiq, "case_id": case1, "relation": "mother",
                "interviewer": "x", "date": "2012", "language": "az", "consent": "publish",
                "narrative": "Oğlumu apardılar, \"gecə\".\n- döydülər\n+ Мамедов | ::\n\nYeni abzas",
                "confidentiality": "partner"}),
    );

    let dir = v.tmp.path();
    let json_out = dir.join("register.json");
    let persons_csv = dir.join("register.csv");
    let cases_csv = dir.join("cases.csv");
    for (format, out) in [
        ("json", &json_out),
        ("uwazi", &persons_csv),
        ("uwazi-cases", &cases_csv),
    ] {
        v.ok(&[
            "register",
            "export",
            "--level",
            "partner",
            "--format",
            format,
            "--out",
            utf8(out),
        ]);
    }
    let export: Value =
        serde_json::from_slice(&std::fs::read(&json_out).expect("json")).expect("json export");
    let out = Command::new("node")
        .arg(uwazi_dir().join("import.mjs"))
        .arg(root().join("docs/register.md"))
        .arg(&persons_csv)
        .arg(&cases_csv)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "Uwazi's import rules refused the files: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let imported: Value = serde_json::from_slice(&out.stdout).expect("import.mjs output");

    for file in ["persons", "cases"] {
        assert_eq!(
            imported[file]["ignored"],
            json!([]),
            "{file}: columns Uwazi would ignore"
        );
    }

    // Cases: one entity per case, values equal to the JSON export's.
    let entries = export["entries"].as_array().expect("entries");
    let cases = imported["cases"]["entities"].as_array().expect("cases");
    let mut case_titles: HashMap<String, String> = HashMap::new();
    let mut n_cases = 0;
    for e in entries {
        for c in e["cases"].as_array().expect("cases in JSON") {
            n_cases += 1;
            let id = c["id"].as_str().expect("id");
            let u = cases
                .iter()
                .find(|u| u["yaddash_id"] == id)
                .unwrap_or_else(|| panic!("case {id} missing in Uwazi"));
            let first = e["names"][0].as_str().expect("name");
            assert_eq!(u["title"], format!("{first} · case {id}").as_str());
            assert_eq!(u["detainee"], first);
            case_titles.insert(id.to_string(), u["title"].as_str().expect("t").to_string());
            let events = c["events"].as_array().expect("events");
            let arrest = events
                .iter()
                .rfind(|ev| ev["type"] == "arrest" && ev["date"].is_string());
            match arrest {
                Some(a) => assert_eq!(u["arrest_date"], range(a["date"].as_str().expect("d"))),
                None => assert!(u.get("arrest_date").is_none()),
            }
            let mut articles: Vec<String> = Vec::new();
            for ev in events.iter().filter(|ev| ev["type"] == "charges") {
                for a in ev["articles"].as_array().expect("articles") {
                    let a = neutralised(a.as_str().expect("a")).trim().to_string();
                    if !articles.contains(&a) {
                        articles.push(a);
                    }
                }
            }
            assert_eq!(labels(&u["charges"]), articles, "case {id}");
            let sentence = events
                .iter()
                .filter_map(|ev| ev["sentence"].as_str())
                .next_back();
            assert_eq!(u["sentence"].as_str(), sentence, "case {id}");
            let facility = events
                .iter()
                .filter_map(|ev| ev["facility"].as_str())
                .next_back()
                .map(neutralised);
            assert_eq!(u["facility"]["label"].as_str(), facility.as_deref());
            assert!(u["facility"].get("child").is_none());
            // Every event on its own line, with every value it holds.
            let text = shown(u["events"].as_str().expect("events"));
            let lines: Vec<&str> = text.split('\n').collect();
            assert_eq!(lines.len(), events.len(), "{text}");
            for (line, ev) in lines.iter().zip(events) {
                for (k, x) in ev.as_object().expect("event") {
                    let want: Vec<String> = match x {
                        Value::String(s) if k == "type" => vec![s.replace('_', " ")],
                        Value::String(s) => vec![s.clone()],
                        Value::Array(a) => a
                            .iter()
                            .filter_map(|s| s.as_str().map(String::from))
                            .collect(),
                        _ => vec![],
                    };
                    for w in want {
                        assert!(line.contains(&w), "{k} {w:?} not in {line:?}");
                    }
                }
            }
        }
    }
    assert_eq!(cases.len(), n_cases);
    assert!(n_cases >= 3);

    // Persons: every column, value by value.
    let persons = imported["persons"]["entities"].as_array().expect("persons");
    assert_eq!(persons.len(), entries.len());
    for e in entries {
        let id = e["id"].as_str().expect("id");
        let u = persons
            .iter()
            .find(|u| u["yaddash_id"] == id)
            .unwrap_or_else(|| panic!("person {id} missing in Uwazi"));
        let names: Vec<&str> = e["names"]
            .as_array()
            .expect("names")
            .iter()
            .map(|n| n.as_str().expect("n"))
            .collect();
        assert_eq!(u["title"], names[0]);
        assert_eq!(u["names"], names.join(" / ").as_str());
        assert_eq!(u.get("birth_year"), e.get("birth_year"));
        assert_eq!(
            u["status"]["label"],
            e["status"].as_str().expect("s").replace('_', " ").as_str()
        );
        for k in ["status_since", "arrest_date", "last_confirmed"] {
            match e[k].as_str() {
                Some(d) => assert_eq!(u[k], range(d), "{k}"),
                None => assert!(u.get(k).is_none(), "{k}"),
            }
        }
        let articles: Vec<String> = e["articles"]
            .as_array()
            .expect("articles")
            .iter()
            .map(|a| neutralised(a.as_str().expect("a")).trim().to_string())
            .collect();
        assert_eq!(labels(&u["charges"]), articles);
        assert_eq!(u["sentence"].as_str(), e["sentence"].as_str());
        assert_eq!(
            u["facility"]["label"].as_str(),
            e["facility"].as_str().map(neutralised).as_deref()
        );
        assert_eq!(u["sources"], e["sources"]);
        let text = shown(u["testimonies"].as_str().unwrap_or(""));
        for t in e["testimonies"].as_array().into_iter().flatten() {
            for line in t["narrative"].as_str().expect("n").lines() {
                assert!(text.contains(line.trim()), "{line:?} not in {text:?}");
            }
        }
        let want: Vec<String> = e["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| case_titles[c["id"].as_str().expect("id")].clone())
            .collect();
        let got: Vec<String> = u["cases"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().expect("t").to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(got, want, "the person's cases");
    }
    // The fixture's hard parts are really there.
    let tofiq_u = persons
        .iter()
        .find(|u| u["yaddash_id"] == tofiq.as_str())
        .expect("t");
    assert_eq!(tofiq_u["cases"].as_array().expect("cases").len(), 2);
    let rashad_u = persons
        .iter()
        .find(|u| u["yaddash_id"] == rashad.as_str())
        .expect("r");
    assert_eq!(rashad_u["title"], "-Rəşad Həsənov");
    let c1 = cases
        .iter()
        .find(|u| u["yaddash_id"] == case1.as_str())
        .expect("c1");
    assert_eq!(c1["sentence"], "+2 years, \"strict\" regime");
    assert_eq!(c1["arrest_date"], range("2010"));
    assert_eq!(
        labels(&c1["charges"]),
        vec!["Art. 28: :221.3", "206.3/213", "a: :b: :c"]
    );
    let c2 = cases
        .iter()
        .find(|u| u["yaddash_id"] == case2.as_str())
        .expect("c2");
    assert_eq!(c2["arrest_date"], range("2015-02"));
    let c3 = cases
        .iter()
        .find(|u| u["yaddash_id"] == case3.as_str())
        .expect("c3");
    assert_eq!(c3["facility"]["label"], "Zabrat / pre-trial");
}
