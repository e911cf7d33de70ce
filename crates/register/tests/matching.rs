//! Precision and recall of duplicate suggestions on the labelled set in
//! `tests/data/name_pairs.tsv`. Each pair goes through the whole pipeline
//! (blocking, then scoring) as a two-person register.

use std::collections::HashSet;

use uuid::Uuid;
use yaddash_register::dup::{Candidate, DEFAULT_THRESHOLD, suggest};

fn person(id: u128, names: &str, born: &str) -> Candidate {
    Candidate {
        id: Uuid::from_u128(id),
        names: names.split(" ; ").map(str::to_string).collect(),
        birth_year: born.parse().ok(),
        ..Candidate::default()
    }
}

#[test]
fn labelled_pairs_precision_and_recall() {
    let data = include_str!("data/name_pairs.tsv");
    let (mut tp, mut fp, mut fn_, mut tn) = (0u32, 0u32, 0u32, 0u32);
    let mut misses = Vec::new();
    for (n, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 5, "line {}: {line}", n + 1);
        let same = match f[0] {
            "same" => true,
            "different" => false,
            other => panic!("line {}: label {other}", n + 1),
        };
        let a = person(1, f[1], f[2]);
        let b = person(2, f[3], f[4]);
        let (sugg, stats) = suggest(&[a, b], &HashSet::new(), DEFAULT_THRESHOLD);
        assert!(stats.comparisons <= 1);
        let predicted = !sugg.is_empty();
        match (same, predicted) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => tn += 1,
        }
        if same != predicted {
            misses.push(format!(
                "  {} {} ({}) ~ {} ({}): {:?}",
                f[0],
                f[1],
                f[2],
                f[3],
                f[4],
                sugg.first().map(|s| (s.score, &s.reasons))
            ));
        }
    }
    let precision = f64::from(tp) / f64::from(tp + fp);
    let recall = f64::from(tp) / f64::from(tp + fn_);
    println!(
        "labelled pairs: {} same, {} different; tp {tp} fp {fp} fn {fn_} tn {tn}",
        tp + fn_,
        fp + tn
    );
    println!("precision {precision:.3}, recall {recall:.3}");
    for m in &misses {
        println!("{m}");
    }
    assert!(
        tp + fn_ >= 60 && fp + tn >= 60,
        "the set must keep 60 of each"
    );
    assert!(recall >= 0.95, "recall {recall:.3} < 0.95");
    assert!(precision >= 0.9, "precision {precision:.3} < 0.9");
}
