//! Duplicate suggestions over synthetic registers of 12,500 to 200,000
//! persons: wall time, pairs compared (against all n(n−1)/2 pairs) and
//! peak RSS. Run with
//!
//! ```text
//! cargo bench -p yaddash-register --bench duplicates
//! ```
//!
//! The persons are drawn from 100 real Azerbaijani given names and 100
//! surname roots (each with -ov/-yev, -li or -zadə), skewed towards the
//! most common;
//! 5% are re-entered under another spelling (Cyrillic, Russian or English
//! romanisation, short surname, swapped word order), as different families
//! would report them.

use std::collections::HashSet;
use std::time::Instant;

use uuid::Uuid;
use yaddash_register::dup::{Candidate, DEFAULT_THRESHOLD, suggest};

const GIVEN: &[&str] = &[
    "Elçin",
    "Emin",
    "Anar",
    "Ülvi",
    "Tofiq",
    "Rauf",
    "Intiqam",
    "İlqar",
    "Bəxtiyar",
    "Rövşən",
    "Həsən",
    "Əli",
    "Vüqar",
    "Tural",
    "Orxan",
    "Fərid",
    "Cavid",
    "Səbuhi",
    "Nicat",
    "Ruslan",
    "Xədicə",
    "Leyla",
    "Sevinc",
    "Nərgiz",
    "Gülnarə",
    "Aynur",
    "Günay",
    "Lalə",
    "Elnarə",
    "Ülkər",
    "Kamran",
    "Məhəmməd",
    "Murad",
    "Şahin",
    "Qabil",
    "Akif",
    "Natiq",
    "Elnur",
    "Zaur",
    "Taleh",
    "Arif",
    "Bayram",
    "Ceyhun",
    "Dünyamin",
    "Eldar",
    "Fuad",
    "Qənimət",
    "Hafiz",
    "İbrahim",
    "Kənan",
    "Lətif",
    "Mübariz",
    "Nadir",
    "Oqtay",
    "Polad",
    "Ramil",
    "Samir",
    "Teymur",
    "Urfan",
    "Vidadi",
    "Yadigar",
    "Zəfər",
    "Aqil",
    "Babək",
    "Cəmil",
    "Elşən",
    "Firuz",
    "Gündüz",
    "Hikmət",
    "İlham",
    "Kamil",
    "Mahir",
    "Namiq",
    "Pərviz",
    "Rəşad",
    "Seymur",
    "Tahir",
    "Vasif",
    "Yaşar",
    "Zahid",
    "Aysel",
    "Bahar",
    "Dilarə",
    "Esmira",
    "Fidan",
    "Gülər",
    "Humay",
    "İradə",
    "Kəmalə",
    "Mehriban",
    "Nigar",
    "Rəna",
    "Səbinə",
    "Təranə",
    "Ülviyyə",
    "Vüsalə",
    "Yeganə",
    "Zərifə",
    "Şəhla",
    "Aytən",
];
/// Surname roots; each takes -ov/-yev, -li or -zadə.
const ROOT: &[&str] = &[
    "Məmməd",
    "Hüseyn",
    "Həsən",
    "Əli",
    "Cəfər",
    "Qasım",
    "Əhməd",
    "İsmayıl",
    "Quli",
    "Abbas",
    "Rza",
    "Oruc",
    "Bağır",
    "Kərim",
    "Nəsir",
    "Mustafa",
    "Sadıq",
    "Vəli",
    "Paşa",
    "Zeynal",
    "Rüstəm",
    "Nağı",
    "Şükür",
    "Əsəd",
    "Cəlil",
    "Xəlil",
    "Tağı",
    "Hacı",
    "Süleyman",
    "Bayram",
    "Novruz",
    "Ağa",
    "Mirzə",
    "Ömər",
    "Səfər",
    "Qəmbər",
    "Yaqub",
    "İmran",
    "Qurban",
    "Məhərrəm",
    "Allahverdi",
    "Babayev",
    "Cabbar",
    "Dadaş",
    "Eyvaz",
    "Fərhad",
    "Qafar",
    "Hümbət",
    "İsa",
    "Kazım",
    "Lətif",
    "Mehdi",
    "Nəbi",
    "Osman",
    "Pənah",
    "Rəhim",
    "Salah",
    "Talıb",
    "Usub",
    "Vahid",
    "Yusif",
    "Zakir",
    "Abdulla",
    "Bəşir",
    "Camal",
    "Əkbər",
    "Fətəli",
    "Qədir",
    "Həmid",
    "İsgəndər",
    "Kamal",
    "Lütfəli",
    "Musa",
    "Nəcəf",
    "Piri",
    "Rəsul",
    "Sultan",
    "Tahir",
    "Ümid",
    "Vəzir",
    "Yəhya",
    "Zülfüqar",
    "Ağası",
    "Bəhram",
    "Cahangir",
    "Elxan",
    "Fəttah",
    "Qəhrəman",
    "Hilal",
    "İldırım",
    "Kərəm",
    "Mahmud",
    "Nuri",
    "Rəfi",
    "Şirin",
    "Təhmasib",
    "Vaqif",
    "Xudu",
    "Zöhrab",
    "Əsgər",
];

fn surname(root: &str, kind: usize) -> String {
    let root = root.trim_end_matches("ev").trim_end_matches("ay");
    match kind {
        0 | 1 if root.ends_with(['a', 'ə', 'i', 'ı', 'u', 'ü']) => format!("{root}yev"),
        0 | 1 => format!("{root}ov"),
        2 => format!("{root}li"),
        _ => format!("{root}zadə"),
    }
}

/// Azerbaijani Latin → a Russian-style English romanisation.
fn romanise(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            'ə' => o.push('a'),
            'Ə' => o.push('A'),
            'ı' => o.push('y'),
            'İ' => o.push('I'),
            'ö' => o.push('o'),
            'ü' => o.push('u'),
            'Ü' => o.push('U'),
            'ş' => o.push_str("sh"),
            'Ş' => o.push_str("Sh"),
            'ç' => o.push_str("ch"),
            'ğ' => o.push('g'),
            'q' => o.push('g'),
            'Q' => o.push('G'),
            'x' => o.push_str("kh"),
            'X' => o.push_str("Kh"),
            'c' => o.push_str("dzh"),
            'C' => o.push_str("Dzh"),
            'H' => o.push('G'),
            other => o.push(other),
        }
    }
    o
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn synthetic(n: usize) -> (Vec<Candidate>, Vec<(Uuid, Uuid)>) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(n);
    let mut planted = Vec::new();
    let mut id = 1u128;
    while out.len() < n {
        // Skewed towards the first entries, as real names are.
        let g = GIVEN[rng.below(GIVEN.len()).min(rng.below(GIVEN.len()))];
        let root = ROOT[rng.below(ROOT.len()).min(rng.below(ROOT.len()))];
        let s = &surname(root, rng.below(4));
        let s = s.as_str();
        let father = GIVEN[rng.below(GIVEN.len())];
        let born = 1940 + rng.below(65) as i32;
        let name = if rng.below(3) == 0 {
            format!("{s} {g} {father} oğlu")
        } else {
            format!("{g} {s}")
        };
        out.push(Candidate {
            id: Uuid::from_u128(id),
            names: vec![name],
            birth_year: (rng.below(10) != 0).then_some(born),
            ..Candidate::default()
        });
        id += 1;
        if rng.below(20) == 0 && out.len() < n {
            let variant = match rng.below(3) {
                0 => format!("{} {}", romanise(s), romanise(g)),
                1 => format!("{} {}", romanise(g), romanise(s).trim_end_matches('v')),
                _ => format!("{} {}", romanise(g), romanise(s)),
            };
            out.push(Candidate {
                id: Uuid::from_u128(id),
                names: vec![variant],
                birth_year: Some(born),
                ..Candidate::default()
            });
            id += 1;
            planted.push((Uuid::from_u128(id - 2), Uuid::from_u128(id - 1)));
        }
    }
    (out, planted)
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let before = loadavg();
    println!("load average before: {before}");
    println!(
        "persons  wall_ms  comparisons  all_pairs  compared_%  per_person  suggestions  planted  found  skipped_blocks"
    );
    let sizes: Vec<usize> = std::env::var("YADDASH_DUP_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![12_500, 25_000, 50_000, 100_000, 200_000]);
    for n in sizes {
        let (cands, planted) = synthetic(n);
        let t = Instant::now();
        let (sugg, stats) = suggest(&cands, &HashSet::new(), DEFAULT_THRESHOLD);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let all = (n as u64) * (n as u64 - 1) / 2;
        let got: HashSet<(Uuid, Uuid)> =
            sugg.iter().map(|s| (s.a.min(s.b), s.a.max(s.b))).collect();
        let found = planted.iter().filter(|p| got.contains(p)).count();
        println!(
            "{n:>7}  {ms:>7.0}  {:>11}  {all:>10}  {:>9.3}%  {:>10.1}  {:>11}  {:>7}  {found:>5}  {:>14}",
            stats.comparisons,
            stats.comparisons as f64 * 100.0 / all as f64,
            stats.comparisons as f64 / n as f64,
            sugg.len(),
            planted.len(),
            stats.skipped_blocks,
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
    let after = loadavg();
    println!("load average after: {after}");
    let busy = |l: &str| {
        l.split(' ')
            .next()
            .and_then(|x| x.parse::<f64>().ok())
            .is_none_or(|x| x > 1.0)
    };
    if busy(&before) || busy(&after) {
        println!(
            "NOT EVIDENCE: something else was using the cores (1-minute load average above 1.0)"
        );
    }
}
