//! Drift tests: the one list of commands against what the UI calls and what
//! the capability allows. A command the UI calls but the app does not
//! register (or does not allow) fails here, not in a user's hands.

use std::collections::BTreeSet;
use std::path::Path;

use super::COMMAND_NAMES;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The command names the Tauri backend of the UI passes to `call(...)` or
/// `callRaw(...)` (with or without a type argument): the string literal
/// that opens the argument list.
fn ui_commands() -> BTreeSet<String> {
    let src = read("../ui/src/lib/backend/tauri.ts");
    let bytes = src.as_bytes();
    let mut out = BTreeSet::new();
    let mut from = 0;
    while let Some(pos) = src[from..].find("call") {
        let start = from + pos;
        from = start + 4;
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
        if start > 0 && ident(bytes[start - 1]) {
            continue;
        }
        let mut rest = &src[start + 4..];
        rest = rest.strip_prefix("Raw").unwrap_or(rest);
        if let Some(generic) = rest.strip_prefix('<') {
            match generic.find('>') {
                Some(end) => rest = &generic[end + 1..],
                None => continue,
            }
        }
        let Some(args) = rest.strip_prefix('(') else {
            continue;
        };
        let args = args.trim_start();
        let Some(quote) = args
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"' | '`'))
        else {
            continue;
        };
        if let Some(end) = args[1..].find(quote) {
            out.insert(args[1..1 + end].to_string());
        }
    }
    out
}

#[test]
fn every_command_the_ui_calls_is_registered_and_every_registered_command_is_used() {
    let registered: BTreeSet<String> = COMMAND_NAMES.iter().map(|s| s.to_string()).collect();
    let called = ui_commands();
    assert!(
        called.len() > 10,
        "found too few calls in tauri.ts: {called:?}"
    );
    let missing: Vec<_> = called.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "the UI calls commands the app does not register: {missing:?} (add them to src-tauri/src/command_list.rs)"
    );
    let unused: Vec<_> = registered.difference(&called).collect();
    assert!(
        unused.is_empty(),
        "commands registered but never called by ui/src/lib/backend/tauri.ts: {unused:?}"
    );
}

#[test]
fn the_ui_command_list_matches() {
    // ui/src/lib/backend/commands.ts lists the names for the TypeScript type
    // `Command`, which `call` takes: a typo there fails `npm run check`.
    let src = read("../ui/src/lib/backend/commands.ts");
    let list = src
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .expect("commands.ts has a [...] list");
    let listed: BTreeSet<String> = list
        .split(['\'', '"'])
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    let registered: BTreeSet<String> = COMMAND_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        listed, registered,
        "ui/src/lib/backend/commands.ts differs from command_list.rs"
    );
}

/// docs/desktop-app.md has a row for every command (it once listed 45 of 53).
#[test]
fn the_command_table_in_the_docs_lists_every_command() {
    let doc = read("../docs/desktop-app.md");
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    let missing: Vec<&str> = COMMAND_NAMES
        .iter()
        .copied()
        .filter(|c| !rows.iter().any(|r| r.contains(&format!("`{c}`"))))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/desktop-app.md has no row for: {missing:?}"
    );
}

#[test]
fn the_capability_allows_exactly_the_registered_commands() {
    let cap: serde_json::Value = serde_json::from_str(&read("capabilities/main.json"))
        .expect("capabilities/main.json is JSON");
    let perms: BTreeSet<String> = cap["permissions"]
        .as_array()
        .expect("permissions array")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.contains(':'))
        .map(str::to_string)
        .collect();
    let expected: BTreeSet<String> = COMMAND_NAMES
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    assert_eq!(
        perms, expected,
        "capabilities/main.json must allow exactly the app's commands"
    );
    let core: Vec<&str> = cap["permissions"]
        .as_array()
        .expect("permissions array")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| p.contains(':'))
        .collect();
    assert_eq!(
        core,
        [
            "core:event:allow-listen",
            "core:event:allow-unlisten",
            "dialog:allow-open",
            "dialog:allow-save"
        ],
        "no core or plugin permission beyond the app's events and the open and save dialogs"
    );
}

#[test]
fn the_csp_is_strict() {
    let conf: serde_json::Value =
        serde_json::from_str(&read("tauri.conf.json")).expect("tauri.conf.json is JSON");
    let csp = &conf["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    let all = csp.as_object().expect("csp object");
    for (directive, value) in all {
        let v = value.as_str().unwrap_or_default();
        for bad in [
            "http:",
            "https:",
            "*",
            "'unsafe-eval'",
            "'unsafe-inline'",
            "data:",
        ] {
            let tokens: Vec<&str> = v.split_whitespace().collect();
            assert!(!tokens.contains(&bad), "CSP {directive} allows {bad}");
        }
    }
    assert_eq!(conf["app"]["withGlobalTauri"], false);
}
