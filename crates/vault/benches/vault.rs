//! Vault benchmarks (run with `cargo bench -p yaddash-vault --bench vault -- <which>`):
//!
//! - `save N`: durable record saves, one transaction (and one fsync) each: p50/p99.
//! - `search N`: N synthetic interviews (~2 KB narrative each) loaded into an
//!   encrypted vault and into plain SQLite with the same schema, then the same
//!   queries against both, alternating, in one run: p50/p95/p99 and the ratio.
//!
//! Figures are recorded in docs/benchmarks.md. No assertions: this measures.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, params};
use secrecy::SecretString;
use yaddash_model::{Confidentiality, Consent, Interview, Person, Record, Reliability, Role};
use yaddash_vault::bench_support::{SEARCH_SQL, fts_query, migrations};
use yaddash_vault::{CreateOptions, MIN_WORK_FACTOR, Vault, VaultRole};

const GIVEN: &[&str] = &[
    "Tofiq",
    "Intiqam",
    "Leyla",
    "Anar",
    "Elçin",
    "Nərgiz",
    "Rauf",
    "Xədicə",
    "Bəxtiyar",
    "Ilqar",
    "Emin",
    "Rəsul",
    "Arif",
    "Gülnarə",
    "Şahin",
    "Ülvi",
    "Qənimət",
    "Əli",
    "Rüfət",
    "Zəhra",
];
const SURNAME_ROOTS: &[&str] = &[
    "Məmməd", "Hüseyn", "Həsən", "Cəfər", "Qasım", "Əhməd", "Əli", "Ismayıl", "Yaqub", "Rüstəm",
    "Hacı", "Mirzə", "Quliy", "Abbas", "Bağır", "Nəsib", "Kərim", "Sadıq", "Vəli", "Tağı",
];
const WORDS: &[&str] = &[
    "oğlum",
    "həbs",
    "olundu",
    "gecə",
    "polis",
    "evə",
    "gəldi",
    "məhkəmə",
    "hakim",
    "vəkil",
    "cəza",
    "il",
    "təcridxana",
    "xəstə",
    "döyüldü",
    "ana",
    "bacı",
    "qardaş",
    "iş",
    "jurnalist",
    "müxalifət",
    "yazı",
    "sosial",
    "şəbəkə",
    "ittiham",
    "maddə",
    "narkotik",
    "qaçaqmalçılıq",
    "ziyarət",
    "icazə",
    "verilmədi",
    "məktub",
    "səhiyyə",
    "dərman",
    "aclıq",
    "aksiya",
    "bəyanat",
    "sahə",
    "rayon",
    "kənd",
    "şəhər",
    "bakı",
    "gəncə",
    "sumqayıt",
    "lənkəran",
    "şəki",
    "gün",
];

fn surname(rng: &mut StdRng) -> String {
    let root = SURNAME_ROOTS[rng.gen_range(0..SURNAME_ROOTS.len())];
    let n = rng.gen_range(0..50);
    // 1,000 distinct surnames: a root, a numbered variant, an ending.
    format!("{root}{}ov", ["", "z", "l", "n", "r"][n % 5]) + &"a".repeat(n / 25) + &n.to_string()
}

fn narrative(rng: &mut StdRng, name: &str) -> String {
    let mut s = String::with_capacity(2100);
    while s.len() < 2000 {
        if rng.gen_bool(0.02) {
            s.push_str(name);
        } else {
            s.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
        }
        s.push(if rng.gen_bool(0.1) { '.' } else { ' ' });
        s.push(' ');
    }
    s
}

fn interview(rng: &mut StdRng) -> (Record, String) {
    let name = format!("{} {}", GIVEN[rng.gen_range(0..GIVEN.len())], surname(rng));
    let r = Record::Interview(Interview {
        case_id: None,
        detainee_id: None,
        speaker_id: None,
        relation: Some("ana".into()),
        interviewer: "Bench".into(),
        date: "2025-03-01".parse().expect("date"),
        place: None,
        language: "az".into(),
        consent: Consent::Internal,
        narrative: narrative(rng, &name),
        confidentiality: Confidentiality::Internal,
        reliability: Reliability::Unknown,
    });
    (r, name)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(label: &str, mut d: Vec<Duration>) -> Duration {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    println!(
        "{label}: n={} p50={:.3} ms p95={:.3} ms p99={:.3} ms max={:.3} ms",
        d.len(),
        ms(percentile(&d, 0.50)),
        ms(percentile(&d, 0.95)),
        ms(percentile(&d, 0.99)),
        ms(d[d.len() - 1])
    );
    percentile(&d, 0.95)
}

fn new_vault(dir: &std::path::Path) -> Vault {
    let options = CreateOptions {
        role: VaultRole::Field,
        kdf_work_factor: MIN_WORK_FACTOR,
    };
    Vault::create(dir, &SecretString::from("benchmark passphrase"), &options)
        .expect("create")
        .0
}

fn bench_save(n: usize) {
    let tmp = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .expect("tempdir");
    let mut vault = new_vault(&tmp.path().join("v"));
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let p = Record::Person(Person {
            names: vec![format!("Bench Person {i}"), format!("Бенч {i}")],
            birth_year: Some(1980),
            roles: vec![Role::Detainee],
            notes: None,
            confidentiality: Confidentiality::Internal,
            reliability: Reliability::Unknown,
        });
        let t = Instant::now();
        vault.add(&p).expect("add");
        times.push(t.elapsed());
    }
    report("durable save (vault.add, WAL + synchronous=FULL)", times);
}

fn bench_search(n: usize) {
    let tmp = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .expect("tempdir");
    let mut rng = StdRng::seed_from_u64(42);
    let mut vault = new_vault(&tmp.path().join("v"));
    let plain_path = tmp.path().join("plain.db");
    let mut plain = Connection::open(&plain_path).expect("plain");
    plain
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;",
        )
        .expect("pragmas");
    for m in migrations() {
        plain.execute_batch(m).expect("schema");
    }
    let t = Instant::now();
    let mut names = Vec::new();
    let chunk = 5_000;
    let mut done = 0;
    while done < n {
        let batch: Vec<(Record, String)> = (0..chunk.min(n - done))
            .map(|_| interview(&mut rng))
            .collect();
        vault
            .with_transaction(|b| {
                for (r, _) in &batch {
                    b.add(r)?;
                }
                Ok(())
            })
            .expect("load vault");
        let tx = plain.transaction().expect("tx");
        for (r, _) in &batch {
            let body = r.body_json();
            let id = uuid::Uuid::now_v7().to_string();
            tx.execute(
                "INSERT INTO records (id, kind, rev, body, body_sha256, created_at, created_by, updated_at, updated_by)
                 VALUES (?1, 'interview', 1, ?2, '', '', '', '', '')",
                params![id, body],
            )
            .expect("insert");
            let rowid = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO revisions (record_id, rev, body, body_sha256, author, at)
                 VALUES (?1, 1, ?2, '', '', '')",
                params![id, body],
            )
            .expect("revision");
            let (k_names, k_text) = r.search_keys();
            tx.execute(
                "INSERT INTO search (rowid, names, text) VALUES (?1, ?2, ?3)",
                params![rowid, k_names, k_text],
            )
            .expect("index");
        }
        tx.commit().expect("commit");
        names.extend(batch.into_iter().map(|(_, n)| n));
        done += chunk.min(n - done);
        eprint!("\rloaded {done}/{n}");
    }
    eprintln!(
        "\rloaded {n} interviews into both databases in {:?}",
        t.elapsed()
    );
    drop(vault);
    let vault = yaddash_vault::Vault::open(
        &tmp.path().join("v"),
        &yaddash_vault::Unlock::Passphrase(SecretString::from("benchmark passphrase")),
    )
    .expect("reopen");
    drop(plain);
    let plain = Connection::open(&plain_path).expect("plain");
    plain
        .execute_batch("PRAGMA cache_size = -32768;")
        .expect("pragma");

    // Queries as people type them: a surname in another spelling, a full name,
    // a given name with a surname prefix.
    let mut queries = Vec::new();
    for i in 0..300 {
        let name = &names[rng.gen_range(0..names.len())];
        let mut parts = name.split(' ');
        let given = parts.next().unwrap_or("");
        let sur = parts.next().unwrap_or("");
        let q = match i % 3 {
            0 => yaddash_model::fold::fold_text(sur), // the folded (ASCII) spelling
            1 => name.clone(),
            _ => format!("{given} {}", &sur.chars().take(5).collect::<String>()),
        };
        queries.push(q);
    }
    let (mut enc, mut pl) = (Vec::new(), Vec::new());
    let mut stmt = plain.prepare(SEARCH_SQL).expect("prepare");
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        hits += vault.search(q, 50).expect("search").len();
        enc.push(t.elapsed());
        let t = Instant::now();
        let fq = fts_query(q).expect("query");
        let rows: Vec<(String, String, String)> = stmt
            .query_map(params![fq, 50, Option::<&str>::None], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        // Same work as the vault does per hit: parse the body for the label.
        for (_, kind, body) in &rows {
            let k = yaddash_model::RecordKind::parse(kind).expect("kind");
            let _ = Record::from_json(k, body).expect("body").label();
        }
        pl.push(t.elapsed());
    }
    println!("{} queries, {} hits in the vault", queries.len(), hits);
    let e = report("search, encrypted vault (SQLCipher)", enc);
    let p = report("search, plain SQLite, same schema   ", pl);
    println!(
        "p95 ratio encrypted/plain = {:.2}",
        e.as_secs_f64() / p.as_secs_f64()
    );
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "database sizes: vault.db {} MiB, plain.db {} MiB",
        size(&tmp.path().join("v/vault.db")) >> 20,
        size(&plain_path) >> 20
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    let n = |d: usize| args.get(1).and_then(|s| s.parse().ok()).unwrap_or(d);
    match which {
        "save" => bench_save(n(10_000)),
        "search" => bench_search(n(100_000)),
        "all" => {
            bench_save(10_000);
            bench_search(100_000);
        }
        other => eprintln!("unknown benchmark {other}: use save, search or all"),
    }
}
