//! Desktop app benchmark support (run by `scripts/bench-ui.sh`; figures in
//! docs/benchmarks.md, "Desktop app (issue 6)"):
//!
//! - `prepare DIR PERSONS INTERVIEWS`: a vault at DIR (passphrase
//!   `benchmark passphrase`, the test-only lowest scrypt work factor) with
//!   PERSONS synthetic persons (a Latin and a Cyrillic spelling each) and
//!   INTERVIEWS interviews (~600-byte narratives), each about one of the
//!   persons, loaded in transactions of 5,000 records.
//! - `search DIR QUERY...`: opens the vault through `yaddash_api::AppState`
//!   (the code the app's `search` command runs, without IPC or rendering) and
//!   times `search` for every prefix of every query, letter by letter, exactly
//!   as the UI asks (persons, limit 500): p50/p95/p99/max.
//!
//! - `prepare-register DIR PERSONS INTERVIEWS`: the same in a coordinator
//!   vault, with a case per person (arrest, detention in a facility) and
//!   every other interview about the case as well as the person.
//! - `register DIR`: the register screen's first page (`register_page`, 200
//!   rows, as the app asks) against the whole register as the screen loaded
//!   it before (`Snapshot::load` + `build`), and every page in turn.
//!
//! No assertions: this measures.

use std::path::Path;
use std::time::{Duration, Instant};

use yaddash_api::dto::{CreateVaultRequest, RegisterPageRequest, SearchRequest, UnlockRequest};
use yaddash_api::{AppState, Config};
use yaddash_model::{
    Case, Confidentiality, Consent, Event, EventDetail, Interview, Person, Record, Reliability,
    Role,
};
use yaddash_vault::{MIN_WORK_FACTOR, Unlock, Vault};

const PASSPHRASE: &str = "benchmark passphrase";

/// Given names: Azerbaijani Latin, Russian Cyrillic.
const GIVEN: &[(&str, &str)] = &[
    ("Tofiq", "Тофик"),
    ("Intiqam", "Интигам"),
    ("Leyla", "Лейла"),
    ("Anar", "Анар"),
    ("Elçin", "Эльчин"),
    ("Nərgiz", "Наргиз"),
    ("Rauf", "Рауф"),
    ("Xədicə", "Хадиджа"),
    ("Bəxtiyar", "Бахтияр"),
    ("Ilqar", "Ильгар"),
    ("Emin", "Эмин"),
    ("Rəsul", "Расул"),
    ("Arif", "Ариф"),
    ("Gülnarə", "Гюльнара"),
    ("Şahin", "Шахин"),
    ("Ülvi", "Ульви"),
    ("Qənimət", "Ганимат"),
    ("Əli", "Али"),
    ("Rüfət", "Руфат"),
    ("Zəhra", "Захра"),
];
/// Surname roots (+ "ov"), Latin and Cyrillic.
const ROOTS: &[(&str, &str)] = &[
    ("Məmməd", "Мамед"),
    ("Hüseyn", "Гусейн"),
    ("Həsən", "Гасан"),
    ("Cəfər", "Джафар"),
    ("Qasım", "Гасым"),
    ("Əhməd", "Ахмед"),
    ("Əli", "Али"),
    ("Ismayıl", "Исмаил"),
    ("Yaqub", "Якуб"),
    ("Rüstəm", "Рустам"),
    ("Hacı", "Гаджи"),
    ("Mirzə", "Мирза"),
    ("Quliy", "Кулий"),
    ("Abbas", "Аббас"),
    ("Bağır", "Багир"),
    ("Nəsib", "Насиб"),
    ("Kərim", "Керим"),
    ("Sadıq", "Садых"),
    ("Vəli", "Вели"),
    ("Tağı", "Таги"),
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
    "ana",
    "bacı",
    "qardaş",
    "iş",
    "jurnalist",
    "yazı",
    "ittiham",
    "maddə",
    "ziyarət",
    "icazə",
    "verilmədi",
    "məktub",
    "dərman",
    "bakı",
    "gün",
];

/// A small deterministic generator (xorshift64*), so every run builds the same vault.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn person(i: usize) -> Person {
    let (g, gc) = GIVEN[i % GIVEN.len()];
    let (r, rc) = ROOTS[(i / GIVEN.len()) % ROOTS.len()];
    let births = 1950 + (i % 50) as i32;
    Person {
        names: vec![format!("{g} {r}ov"), format!("{rc}ов {gc}")],
        birth_year: Some(births),
        roles: vec![Role::Detainee],
        notes: None,
        confidentiality: Confidentiality::Internal,
        reliability: Reliability::Unknown,
    }
}

fn narrative(rng: &mut Rng, name: &str) -> String {
    let mut s = String::with_capacity(700);
    s.push_str(name);
    s.push_str(". ");
    while s.len() < 600 {
        s.push_str(WORDS[rng.below(WORDS.len())]);
        s.push(if rng.below(10) == 0 { '.' } else { ' ' });
        s.push(' ');
    }
    s
}

fn prepare(dir: &Path, persons: usize, interviews: usize, register: bool) {
    let started = Instant::now();
    let app = AppState::new(Config {
        vault_dir: dir.to_path_buf(),
        kdf_work_factor: MIN_WORK_FACTOR,
    });
    // Through the app's own command, so the vault has its device keys.
    app.create_vault(CreateVaultRequest {
        passphrase: PASSPHRASE.into(),
        role: if register {
            yaddash_api::dto::Role::Coordinator
        } else {
            yaddash_api::dto::Role::Field
        },
    })
    .expect("create vault");
    app.lock().expect("lock");
    drop(app);
    let mut vault = Vault::open(
        dir,
        &Unlock::Passphrase(secrecy::SecretString::from(PASSPHRASE)),
    )
    .expect("open");
    let chunk = 5_000;
    let mut ids = Vec::with_capacity(persons);
    while ids.len() < persons {
        let from = ids.len();
        let to = (from + chunk).min(persons);
        let added = vault
            .with_transaction(|b| {
                (from..to)
                    .map(|i| b.add(&Record::Person(person(i))))
                    .collect::<Result<Vec<_>, _>>()
            })
            .expect("load persons");
        ids.extend(added);
        eprint!("\rpersons {}/{persons}", ids.len());
    }
    eprintln!();
    let mut cases = Vec::new();
    if register {
        for (from, part) in ids.chunks(chunk).enumerate() {
            let added = vault
                .with_transaction(|b| {
                    part.iter()
                        .enumerate()
                        .map(|(n, id)| b.add(&Record::Case(case(*id, from * chunk + n))))
                        .collect::<Result<Vec<_>, _>>()
                })
                .expect("load cases");
            cases.extend(added);
            eprint!("\rcases {}/{persons}", cases.len());
        }
        eprintln!();
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut done = 0;
    while done < interviews {
        let n = chunk.min(interviews - done);
        let batch: Vec<Record> = (0..n)
            .map(|_| {
                let p = rng.below(persons);
                let name = person(p).names[0].clone();
                Record::Interview(Interview {
                    case_id: (register && rng.below(2) == 0).then(|| cases[p]),
                    detainee_id: Some(ids[p]),
                    speaker_id: None,
                    relation: Some("ana".into()),
                    interviewer: "Bench".into(),
                    date: "2025-03-01".parse().expect("date"),
                    place: None,
                    language: "az".into(),
                    consent: Consent::Internal,
                    narrative: narrative(&mut rng, &name),
                    confidentiality: Confidentiality::Internal,
                    reliability: Reliability::Unknown,
                })
            })
            .collect();
        vault
            .with_transaction(|b| {
                for r in &batch {
                    b.add(r)?;
                }
                Ok(())
            })
            .expect("load interviews");
        done += n;
        eprint!("\rinterviews {done}/{interviews}");
    }
    eprintln!();
    drop(vault);
    let size = std::fs::metadata(dir.join("vault.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "prepared {persons} persons and {interviews} interviews in {:.1} s; vault.db {} MiB",
        started.elapsed().as_secs_f64(),
        size >> 20
    );
}

/// Person `i`'s case: arrested, then held in one of a few facilities.
fn case(detainee: uuid::Uuid, i: usize) -> Case {
    const FACILITIES: &[&str] = &["Qobustan prison", "SIZO-1 Kurdakhani", "Penitentiary 13"];
    let year = 2015 + (i % 10);
    Case {
        detainee_id: detainee,
        title: None,
        events: vec![
            Event {
                date: Some(format!("{year}-03-0{}", 1 + i % 9).parse().expect("date")),
                detail: EventDetail::Arrest {
                    place: None,
                    authority: None,
                },
            },
            Event {
                date: Some(format!("{year}-04").parse().expect("date")),
                detail: EventDetail::Detention {
                    facility: FACILITIES[i % FACILITIES.len()].into(),
                },
            },
        ],
        notes: None,
        confidentiality: Confidentiality::Internal,
        reliability: Reliability::Unknown,
    }
}

/// The prepared vault, unlocked through the app's own command.
fn unlocked(dir: &Path) -> AppState {
    let app = AppState::new(Config {
        vault_dir: dir.to_path_buf(),
        kdf_work_factor: MIN_WORK_FACTOR,
    });
    app.unlock(UnlockRequest::Passphrase {
        secret: PASSPHRASE.into(),
    })
    .expect("unlock");
    app
}

/// The register screen's first page against the whole register.
fn register(dir: &Path) {
    let app = unlocked(dir);
    let first = |app: &AppState| {
        app.register_page(RegisterPageRequest {
            offset: 0,
            limit: 200,
        })
        .expect("page")
    };
    // Once to warm the page cache, as the screen opens after the unlock.
    let total = first(&app).total;
    let mut page = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let p = first(&app);
        page.push(t.elapsed());
        assert_eq!(p.rows.len(), 200.min(total as usize));
    }
    page.sort();
    println!(
        "register_page (first 200 of {total}): n={} p50={:.1} ms p95={:.1} ms max={:.1} ms",
        page.len(),
        percentile(&page, 0.50),
        percentile(&page, 0.95),
        page[page.len() - 1].as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let mut rows = 0;
    while rows < total as usize {
        let p = app
            .register_page(RegisterPageRequest {
                offset: rows as u32,
                limit: 200,
            })
            .expect("page");
        rows += p.rows.len();
    }
    println!(
        "every page in turn ({rows} rows, 200 a page): {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    app.lock().expect("lock");
    drop(app);
    let vault = Vault::open(
        dir,
        &Unlock::Passphrase(secrecy::SecretString::from(PASSPHRASE)),
    )
    .expect("open");
    let mut whole = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let snap = yaddash_register::Snapshot::load(&vault).expect("load");
        let entries = yaddash_register::build(&snap, yaddash_register::Level::Internal, false);
        whole.push(t.elapsed());
        assert_eq!(entries.len(), total as usize);
    }
    whole.sort();
    println!(
        "the whole register as the screen loaded it before (Snapshot::load + build): n={} p50={:.0} ms max={:.0} ms",
        whole.len(),
        percentile(&whole, 0.50),
        whole[whole.len() - 1].as_secs_f64() * 1000.0
    );
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn search(dir: &Path, queries: &[String]) {
    let app = AppState::new(Config {
        vault_dir: dir.to_path_buf(),
        kdf_work_factor: MIN_WORK_FACTOR,
    });
    let t = Instant::now();
    app.unlock(UnlockRequest::Passphrase {
        secret: PASSPHRASE.into(),
    })
    .expect("unlock");
    let unlock = t.elapsed();
    let t = Instant::now();
    let all = app
        .list_records(yaddash_model::RecordKind::Person)
        .expect("list");
    println!(
        "unlock {:.1} ms; list_records(person) {} rows in {:.1} ms",
        unlock.as_secs_f64() * 1000.0,
        all.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let mut times = Vec::new();
    for q in queries {
        let chars: Vec<char> = q.chars().collect();
        for n in 1..=chars.len() {
            let prefix: String = chars[..n].iter().collect();
            if prefix.trim().is_empty() {
                continue;
            }
            let t = Instant::now();
            let hits = app
                .search(
                    serde_json::from_value::<SearchRequest>(serde_json::json!({
                        "query": prefix.trim(), "kind": "person", "limit": 500
                    }))
                    .expect("request"),
                )
                .expect("search");
            let took = t.elapsed();
            times.push(took);
            if took > Duration::from_millis(50) {
                println!(
                    "  slow: {:?} -> {} person hits in {:.1} ms",
                    prefix.trim(),
                    hits.len(),
                    took.as_secs_f64() * 1000.0
                );
            }
        }
    }
    times.sort();
    println!(
        "search (in-process, yaddash-api): n={} p50={:.2} ms p95={:.2} ms p99={:.2} ms max={:.2} ms",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
}

/// A person page's linked cases and interviews: `linked_records` for 100
/// persons, against the scan it replaced (every case and interview read,
/// for 3 persons: it takes seconds each).
fn links(dir: &Path) {
    let app = unlocked(dir);
    let persons = app
        .list_records(yaddash_model::RecordKind::Person)
        .expect("list");
    let mut times = Vec::new();
    let mut found = 0;
    for p in persons.iter().take(100) {
        let t = Instant::now();
        found += app.linked_records(p.id).expect("links").len();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "linked_records (reference indexes): n={} p50={:.2} ms p95={:.2} ms max={:.2} ms ({found} links)",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    let mut scan = Vec::new();
    for p in persons.iter().take(3) {
        let t = Instant::now();
        let mut n = 0;
        for kind in [
            yaddash_model::RecordKind::Case,
            yaddash_model::RecordKind::Interview,
        ] {
            for hit in app.list_records(kind).expect("list") {
                let r = app.get_record(hit.id).expect("get");
                if r.record.references().contains(&p.id) {
                    n += 1;
                }
            }
        }
        std::hint::black_box(n);
        scan.push(t.elapsed());
    }
    scan.sort();
    println!(
        "the previous full scan: n={} p50={:.0} ms max={:.0} ms",
        scan.len(),
        percentile(&scan, 0.50),
        scan[scan.len() - 1].as_secs_f64() * 1000.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some(cmd @ ("prepare" | "prepare-register")) if args.len() == 4 => prepare(
            Path::new(&args[1]),
            args[2].parse().expect("persons"),
            args[3].parse().expect("interviews"),
            cmd == "prepare-register",
        ),
        Some("register") if args.len() == 2 => register(Path::new(&args[1])),
        Some("search") if args.len() >= 3 => search(Path::new(&args[1]), &args[2..]),
        Some("links") if args.len() == 2 => links(Path::new(&args[1])),
        _ => {
            eprintln!(
                "usage: bench_ui_vault prepare|prepare-register DIR PERSONS INTERVIEWS | search DIR QUERY... | links DIR | register DIR"
            );
            std::process::exit(2);
        }
    }
}
