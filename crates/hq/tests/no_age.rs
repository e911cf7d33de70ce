//! The HQ server must never be able to decrypt: neither it nor the wire
//! crate may depend (even transitively) on `age` or on the crates that
//! decrypt (yaddash-agefile, -bundle, -vault, -exchange).

use std::process::Command;

fn normal_deps(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn hq_and_wire_do_not_depend_on_anything_that_decrypts() {
    for package in ["yaddash-hq", "yaddash-wire"] {
        let deps = normal_deps(package);
        assert!(
            deps.iter().any(|d| d == "ssh-key"),
            "{package}: the tree looks wrong: {deps:?}"
        );
        for forbidden in [
            "age",
            "age-core",
            "yaddash-agefile",
            "yaddash-bundle",
            "yaddash-vault",
            "yaddash-exchange",
        ] {
            assert!(
                !deps.iter().any(|d| d == forbidden),
                "{package} depends on {forbidden}: the HQ server must not be able to decrypt"
            );
        }
    }
    // The check itself can fail: yaddash-bundle does depend on age.
    let bundle = normal_deps("yaddash-bundle");
    assert!(bundle.iter().any(|d| d == "age"));
    assert!(bundle.iter().any(|d| d == "yaddash-agefile"));
}
