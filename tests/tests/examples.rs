//! The examples in docs/examples are valid and load through the CLI.

use std::path::Path;

use yaddash_e2e::TestVault;

fn example(name: &str) -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/examples")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("read example")).expect("json")
}

#[test]
fn documented_examples_load() {
    let v = TestVault::init("field");
    let person = v.add_person(&["Məmmədov Tofiq", "Мамедов Тофик"]);
    let mut case = example("case.json");
    case["detainee_id"] = person.clone().into();
    let f = v.write_json("case.json", &case);
    let case_id = v.json(&["case", "add", "--file", f.to_str().expect("p")])["id"]
        .as_str()
        .expect("id")
        .to_string();
    for name in [
        "interview.json",
        "interview-publish.json",
        "interview-anonymous.json",
        "interview-internal.json",
    ] {
        let mut i = example(name);
        i["case_id"] = case_id.clone().into();
        i["detainee_id"] = person.clone().into();
        let f = v.write_json(name, &i);
        let id = v.json(&["interview", "add", "--file", f.to_str().expect("p")])["id"]
            .as_str()
            .expect("id")
            .to_string();
        let shown = v.json(&["show", &id]);
        assert_eq!(shown["record"]["body"]["consent"], i["consent"], "{name}");
    }
    let shown = v.json(&["show", &case_id]);
    assert_eq!(
        shown["record"]["body"]["events"].as_array().map(Vec::len),
        Some(7)
    );
    assert!(v.ok(&["search", "Kurdaxani"]).contains(&case_id));
}
