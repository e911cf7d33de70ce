//! The public report of a register of 10,000 prisoners: time to CSV, HTML
//! and PDF (and Uwazi, ESF, JSON), stage by stage, in process. The same
//! vault is timed through the real CLI by `scripts/bench-register.sh`.
//!
//! ```text
//! cargo bench -p yaddash-register --bench report                      # 10,000, temporary vault
//! cargo bench -p yaddash-register --bench report -- prepare DIR 10000 # vault at DIR/vault
//! cargo bench -p yaddash-register --bench report -- time DIR          # stages on DIR/vault
//! ```
//!
//! The vault (coordinator, passphrase in `DIR/passphrase`, test-only lowest
//! scrypt work factor) holds N detainees with a Latin and a Cyrillic name,
//! one case each (arrest, charges, detention; a trial for two in three; a
//! release for one in four), and an interview (~600 bytes) for every other
//! detainee. Every detainee is public (the public report lists all N);
//! one case or interview in ten is partner-only and one in twenty internal,
//! and one interview in four has internal-only consent, so the public level
//! has something to leave out.

use std::path::Path;
use std::time::Instant;

use secrecy::SecretString;
use yaddash_model::{
    Case, Confidentiality, Consent, Event, EventDetail, Interview, Person, Record, ReleaseKind,
    Reliability, Role,
};
use yaddash_register::export::{self, Format};
use yaddash_register::{Level, Snapshot};
use yaddash_vault::{CreateOptions, MIN_WORK_FACTOR, Unlock, Vault, VaultRole};

const PASSPHRASE: &str = "benchmark passphrase";

const GIVEN: &[(&str, &str)] = &[
    ("Tofiq", "Тофик"),
    ("İntiqam", "Интигам"),
    ("Leyla", "Лейла"),
    ("Anar", "Анар"),
    ("Elçin", "Эльчин"),
    ("Nərgiz", "Наргиз"),
    ("Rauf", "Рауф"),
    ("Xədicə", "Хадиджа"),
    ("Bəxtiyar", "Бахтияр"),
    ("İlqar", "Ильгар"),
    ("Emin", "Эмин"),
    ("Rəsul", "Расул"),
    ("Gülnarə", "Гюльнара"),
    ("Şahin", "Шахин"),
    ("Ülvi", "Ульви"),
    ("Qənimət", "Ганимат"),
];
const ROOTS: &[(&str, &str)] = &[
    ("Məmməd", "Мамед"),
    ("Hüseyn", "Гусейн"),
    ("Həsən", "Гасан"),
    ("Cəfər", "Джафар"),
    ("Qasım", "Гасым"),
    ("Əhməd", "Ахмед"),
    ("İsmayıl", "Исмаил"),
    ("Yaqub", "Якуб"),
    ("Rüstəm", "Рустам"),
    ("Bağır", "Багир"),
    ("Şükür", "Шукюр"),
    ("Ağa", "Ага"),
];
const FACILITIES: &[&str] = &[
    "Bakı istintaq təcridxanası № 1",
    "Kürdəxanı istintaq təcridxanası",
    "Qobustan həbsxanası",
    "12 saylı cəzaçəkmə müəssisəsi",
    "Şüvəlan DTX istintaq təcridxanası",
    "Bayıl istintaq təcridxanası",
];
const ARTICLES: &[&str] = &[
    "206.3.2", "213.1", "179.3.2", "192.3.2", "228.1", "233", "274", "283.2.2",
];
const WORDS: &[&str] = &[
    "həbs",
    "məhkəmə",
    "vəkil",
    "görüş",
    "ana",
    "oğlu",
    "qızı",
    "təcridxana",
    "ittiham",
    "şahid",
    "polis",
    "gecə",
    "səhər",
    "ev",
    "axtarış",
    "telefon",
    "sənəd",
    "xəstə",
    "dərman",
    "qadağa",
];

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

fn confidentiality(i: usize) -> Confidentiality {
    if i % 20 == 7 {
        Confidentiality::Internal
    } else if i % 10 == 3 {
        Confidentiality::Partner
    } else {
        Confidentiality::Public
    }
}

fn date(y: usize, m: usize, d: usize) -> Option<yaddash_model::PartialDate> {
    format!("{y:04}-{m:02}-{d:02}").parse().ok()
}

fn prepare(dir: &Path, n: usize) {
    let started = Instant::now();
    std::fs::create_dir_all(dir).expect("dir");
    std::fs::write(dir.join("passphrase"), format!("{PASSPHRASE}\n")).expect("passphrase");
    let options = CreateOptions {
        role: VaultRole::Coordinator,
        kdf_work_factor: MIN_WORK_FACTOR,
    };
    let (mut vault, _) = Vault::create(
        &dir.join("vault"),
        &SecretString::from(PASSPHRASE),
        &options,
    )
    .expect("create vault");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let chunk = 2_000;
    let mut done = 0;
    while done < n {
        let to = (done + chunk).min(n);
        let mut people: Vec<(usize, Person)> = Vec::new();
        for i in done..to {
            let (g, gc) = GIVEN[rng.below(GIVEN.len())];
            let (r, rc) = ROOTS[rng.below(ROOTS.len())];
            people.push((
                i,
                Person {
                    names: vec![format!("{g} {r}ov"), format!("{rc}ов {gc}")],
                    birth_year: Some(1950 + rng.below(55) as i32),
                    roles: vec![Role::Detainee],
                    notes: None,
                    confidentiality: Confidentiality::Public,
                    reliability: Reliability::Unknown,
                },
            ));
        }
        let mut records: Vec<(usize, Record, Record, Option<Record>)> = Vec::new();
        for (i, p) in people {
            let year = 2014 + rng.below(11);
            let month = 1 + rng.below(12);
            let mut events = vec![
                Event {
                    date: date(year, month, 1 + rng.below(28)),
                    detail: EventDetail::Arrest {
                        place: Some("Bakı".into()),
                        authority: Some("Dövlət Təhlükəsizliyi Xidməti".into()),
                    },
                },
                Event {
                    date: format!("{year:04}-{month:02}").parse().ok(),
                    detail: EventDetail::Charges {
                        articles: (0..1 + rng.below(2))
                            .map(|_| ARTICLES[rng.below(ARTICLES.len())].to_string())
                            .collect(),
                        code: None,
                    },
                },
                Event {
                    date: date(year, month, 28),
                    detail: EventDetail::Detention {
                        facility: FACILITIES[rng.below(FACILITIES.len())].into(),
                    },
                },
            ];
            if i % 3 != 0 {
                events.push(Event {
                    date: date(year + 1, 1 + rng.below(12), 1 + rng.below(28)),
                    detail: EventDetail::Trial {
                        court: Some("Bakı Ağır Cinayətlər Məhkəməsi".into()),
                        judge: None,
                        outcome: Some("convicted".into()),
                        sentence: Some(format!("{} years", 2 + rng.below(10))),
                    },
                });
            }
            if i % 4 == 1 {
                events.push(Event {
                    date: date(year + 2, 3, 16),
                    detail: EventDetail::Release {
                        kind: Some(ReleaseKind::Pardon),
                    },
                });
            }
            let mut narrative = format!("{}. ", p.names[0]);
            while narrative.len() < 600 {
                narrative.push_str(WORDS[rng.below(WORDS.len())]);
                narrative.push(' ');
            }
            let interview = (i % 2 == 0).then(|| {
                Record::Interview(Interview {
                    case_id: None,
                    detainee_id: None,
                    speaker_id: None,
                    relation: Some("ana".into()),
                    interviewer: "Bench".into(),
                    date: date(2025, 1 + rng.below(12), 1 + rng.below(28))
                        .unwrap_or_else(|| "2025".parse().expect("year")),
                    place: None,
                    language: "az".into(),
                    consent: if i % 8 == 4 {
                        Consent::Internal
                    } else {
                        Consent::Anonymous
                    },
                    narrative,
                    confidentiality: confidentiality(i + 1),
                    reliability: Reliability::Unknown,
                })
            });
            let case = Record::Case(Case {
                detainee_id: uuid::Uuid::nil(),
                title: None,
                events,
                notes: None,
                confidentiality: confidentiality(i + 2),
                reliability: Reliability::Unknown,
            });
            records.push((i, Record::Person(p), case, interview));
        }
        vault
            .with_transaction(|b| {
                for (_, person, case, interview) in &mut records {
                    let id = b.add(person)?;
                    if let Record::Case(c) = case {
                        c.detainee_id = id;
                    }
                    let case_id = b.add(case)?;
                    if let Some(Record::Interview(iv)) = interview {
                        iv.detainee_id = Some(id);
                        iv.case_id = Some(case_id);
                        b.add(&Record::Interview(iv.clone()))?;
                    }
                }
                Ok(())
            })
            .expect("load");
        done = to;
        eprint!("\rdetainees {done}/{n}");
    }
    eprintln!();
    println!(
        "prepared {n} detainees in {:.1} s at {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn time(dir: &Path) {
    let t = Instant::now();
    let vault = Vault::open(
        &dir.join("vault"),
        &Unlock::Passphrase(SecretString::from(PASSPHRASE)),
    )
    .expect("open");
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let snap = Snapshot::load(&vault).expect("load");
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "open {open_ms:.0} ms, load {} persons, {} cases, {} interviews: {load_ms:.0} ms",
        snap.persons.len(),
        snap.cases.len(),
        snap.interviews.len()
    );
    println!("format  level   persons  build_ms  render_ms     bytes");
    for format in [
        Format::Csv,
        Format::Html,
        Format::Pdf,
        Format::Uwazi,
        Format::Esf,
        Format::Json,
    ] {
        let t = Instant::now();
        let entries = export::entries(&snap, Level::Public, format);
        let build_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let bytes = export::render(&entries, Level::Public, format, &mut |_| {}).expect("render");
        let render_ms = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "{:<7} public  {:>7}  {build_ms:>8.0}  {render_ms:>9.0}  {:>8}",
            format.as_str(),
            entries.len(),
            bytes.len()
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["prepare", dir, n] => prepare(Path::new(dir), n.parse().expect("number of detainees")),
        ["time", dir] => time(Path::new(dir)),
        [] => {
            let tmp = tempfile::tempdir().expect("tmp");
            prepare(tmp.path(), 10_000);
            time(tmp.path());
        }
        _ => eprintln!("usage: report [prepare DIR N | time DIR]"),
    }
}
