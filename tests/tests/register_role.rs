//! The register is kept in coordinator vaults only: every `register`
//! command refuses a field vault and changes nothing (the app refused it
//! already; the CLI did not, so `register merge` worked on a field vault).

use yaddash_e2e::{TestVault, snapshot};

#[test]
fn every_register_command_refuses_a_field_vault_and_changes_nothing() {
    let v = TestVault::init("field");
    let a = v.add_person(&["Məmmədov Tofiq"]);
    let b = v.add_person(&["Мамедов Тофик"]);
    let out = v.tmp.path().join("register-export.csv");
    let before = snapshot(&v.dir);
    let out_s = out.display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["register", "list"],
        vec!["register", "duplicates"],
        vec!["register", "merge", &a, &b],
        vec!["register", "unmerge", &b],
        vec!["register", "distinct", &a, &b],
        vec![
            "register", "status", &a, "--set", "released", "--reason", "r",
        ],
        vec![
            "register", "export", "--level", "internal", "--format", "csv", "--out", &out_s,
        ],
    ];
    for args in commands {
        let err = v.err(&args);
        assert!(
            err.contains("coordinator vault"),
            "{args:?} on a field vault: {err}"
        );
    }
    assert!(!out.exists(), "an export was written from a field vault");
    assert_eq!(snapshot(&v.dir), before, "the field vault changed");
}
