//! Suggesting pairs of person records that are probably the same person.
//!
//! 1. **Names to tokens.** Every name is folded word by word with
//!    [`yaddash_model::fold`] (so Məmmədov, Mamedov and Мамедов give one key).
//!    Patronymics are dropped ("Rauf oğlu", "Rauf qızı", "Рауфович"). Each
//!    word is stemmed: the surname endings -ov/-ova/-ev/-eva, -li/-lı and
//!    -zadə are cut, so Ismayilova, Ismayilov and the short form Ismayil share
//!    the stem `ismail`; a word that lost such an ending is marked a surname.
//!    A name written in Latin letters with the marks of a German or French
//!    rendering of a Russian form (`sch`, `tsch`, `dsch`, `w`, `j` for й;
//!    `ou`, `tch`, `dj`, `ch` for ш) is also read the German or French way
//!    (Dschafarow → Dzhafarov, Youssoupov → Yusupov), and each reading is
//!    matched as one more spelling of that name.
//! 2. **Blocking.** A person gets keys: each unordered pair of stems of a
//!    name, and each pair of 3-letter stem prefixes (typos in endings). Only
//!    persons sharing a key are compared, and among those only persons whose
//!    birth years are at most two apart (birth-year windows of three years,
//!    each person in its window and the next), or of whom one has no known
//!    birth year (compared with the whole key). A window larger than
//!    [`MAX_BLOCK`] is skipped and counted in the statistics. A name of one
//!    word (rare: "Leyla") is compared with everybody sharing that word.
//!    The pairs found are deduplicated, then scored on all cores.
//! 3. **Scoring.** Names: surnames are compared with surnames when both have
//!    one, the other words order-insensitively; a word scores 1 when the
//!    stems are equal (0.85 when the surname endings differ in kind, -ov
//!    against -li), otherwise by edit distance (≥ 0.85 or nothing), where a
//!    voiced consonant for its voiceless pair (d/t, b/p, z/s, v/f) costs half
//!    an edit (Russian writes Mehdiyev as Мехтиев). Then
//!    the other evidence: birth year (equal +0.1, one apart +0.05, two apart
//!    −0.1, further −0.5), a shared arrest date +0.1, a shared facility
//!    +0.05, a shared relative +0.15. Pairs scoring at least the threshold
//!    are suggested, each with its reasons.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use uuid::Uuid;
use yaddash_model::PartialDate;
use yaddash_model::fold::fold_words;

use crate::status::compatible;

/// Blocks larger than this are not compared pairwise (counted in [`DupStats`]).
pub const MAX_BLOCK: usize = 2000;

/// The default suggestion threshold.
pub const DEFAULT_THRESHOLD: f64 = 0.8;

/// What the matcher knows of one person record.
#[derive(Debug, Clone, Default)]
pub struct Candidate {
    /// The person record.
    pub id: Uuid,
    /// Names, as written.
    pub names: Vec<String>,
    /// Birth year.
    pub birth_year: Option<i32>,
    /// Arrest dates from their cases.
    pub arrest_dates: Vec<PartialDate>,
    /// Facilities from their cases, as written.
    pub facilities: Vec<String>,
    /// Persons who spoke about them (relatives, lawyers).
    pub relatives: Vec<Uuid>,
}

/// A suggested pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// One record.
    pub a: Uuid,
    /// The other.
    pub b: Uuid,
    /// 0 to 1.
    pub score: f64,
    /// Why, for the coordinator.
    pub reasons: Vec<Reason>,
}

/// One reason two persons are probably the same (or not): structured, so
/// the app says it in the user's language; `Display` is the CLI's English.
/// Names and facilities are for the coordinator's eyes only.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[ts(rename = "DuplicateReason")]
pub enum Reason {
    /// The closest pair of names, and how alike they are across spellings.
    NamesAlike {
        /// 60 to 100.
        percent: u32,
        /// A name of the first person.
        a: String,
        /// A name of the second.
        b: String,
    },
    /// The same birth year.
    SameBirthYear {
        /// The year.
        year: i32,
    },
    /// Birth years one apart.
    BirthYearsOneApart {
        /// The first person's.
        a: i32,
        /// The second's.
        b: i32,
    },
    /// Birth years two apart.
    BirthYearsTwoApart {
        /// The first person's.
        a: i32,
        /// The second's.
        b: i32,
    },
    /// Birth years further apart.
    BirthYearsDiffer {
        /// The first person's.
        a: i32,
        /// The second's.
        b: i32,
    },
    /// One or both birth years unknown.
    BirthYearUnknown,
    /// Apprehended on the same (compatible) date.
    ArrestedSameDate {
        /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
        date: String,
    },
    /// Held in the same facility.
    SameFacility {
        /// The facility as written.
        facility: String,
    },
    /// A relative or lawyer spoke about both.
    RelativeSpokeAboutBoth,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::NamesAlike { percent, a, b } => {
                write!(
                    f,
                    "names {percent}% alike across spellings: \"{a}\" ~ \"{b}\""
                )
            }
            Reason::SameBirthYear { year } => write!(f, "same birth year {year}"),
            Reason::BirthYearsOneApart { a, b } => write!(f, "birth years one apart ({a}, {b})"),
            Reason::BirthYearsTwoApart { a, b } => write!(f, "birth years two apart ({a}, {b})"),
            Reason::BirthYearsDiffer { a, b } => write!(f, "birth years differ ({a}, {b})"),
            Reason::BirthYearUnknown => f.write_str("birth year unknown for one or both"),
            Reason::ArrestedSameDate { date } => write!(f, "arrested on the same date ({date})"),
            Reason::SameFacility { facility } => write!(f, "same facility ({facility})"),
            Reason::RelativeSpokeAboutBoth => f.write_str("a relative or lawyer spoke about both"),
        }
    }
}

/// Work done by [`suggest`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DupStats {
    /// Persons considered.
    pub persons: usize,
    /// Blocks (distinct keys) with two persons or more.
    pub blocks: usize,
    /// Distinct pairs scored.
    pub comparisons: u64,
    /// Blocks skipped for being larger than [`MAX_BLOCK`].
    pub skipped_blocks: usize,
    /// Pairs suppressed because a coordinator marked them distinct.
    pub suppressed_distinct: usize,
}

#[derive(Debug, Clone)]
struct Token {
    stem: String,
    /// The surname ending cut off: "ov" (-ov/-ova/-ev/-eva), "li", "zada", or "".
    ending: &'static str,
    surname: bool,
}

#[derive(Debug, Clone)]
struct Prepared {
    /// Each reading of each name: the index of the name as written, and its
    /// tokens.
    names: Vec<(usize, Vec<Token>)>,
    facilities: Vec<String>,
}

const PATRONYMIC_MARKERS: [&str; 3] = ["oglu", "ogli", "gizi"];
const PATRONYMIC_ENDINGS: [&str; 6] = ["ovij", "avij", "ovna", "avna", "ivna", "ivij"];
const SURNAME_ENDINGS: [(&str, &str); 6] = [
    ("zada", "zada"),
    ("ova", "ov"),
    ("ava", "ov"),
    ("ov", "ov"),
    ("av", "ov"),
    ("li", "li"),
];

/// Folds and stems the words of one name, dropping patronymics.
fn tokens(name: &str) -> Vec<Token> {
    let words = fold_words(name);
    let mut keep = vec![true; words.len()];
    for (i, w) in words.iter().enumerate() {
        if PATRONYMIC_MARKERS.contains(&w.as_str()) {
            keep[i] = false;
            if i > 0 {
                keep[i - 1] = false;
            }
        } else if w.len() > 6 && PATRONYMIC_ENDINGS.iter().any(|e| w.ends_with(e)) {
            keep[i] = false;
        }
    }
    words
        .into_iter()
        .zip(keep)
        .filter(|(w, k)| *k && !w.chars().all(|c| c.is_ascii_digit()))
        .map(|(w, _)| stem(&w))
        .collect()
}

fn stem(word: &str) -> Token {
    // A glide between two a-class vowels is written by some and not others
    // (Nurullayev / Нуруллаев, Mirzəyev / Мирзаев).
    let glided = word.replace("aia", "a");
    let word = glided.as_str();
    for (e, class) in SURNAME_ENDINGS {
        if let Some(s) = word.strip_suffix(e)
            && s.chars().count() >= 3
        {
            return Token {
                stem: s.to_string(),
                ending: class,
                surname: true,
            };
        }
    }
    Token {
        stem: word.to_string(),
        ending: "",
        surname: false,
    }
}

/// Rewrites a Latin spelling by the first matching rule at each position.
fn rewrite(word: &str, rules: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(word.len() + 4);
    let mut rest = word;
    'outer: while !rest.is_empty() {
        for (from, to) in rules {
            if let Some(r) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = r;
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// German rendering of Russian letters, read back to the English one.
const GERMAN: [(&str, &str); 7] = [
    ("tsch", "ch"),
    ("dsch", "dzh"),
    ("sch", "sh"),
    ("ch", "kh"),
    ("j", "y"),
    ("w", "v"),
    ("ss", "s"),
];
/// French rendering of Russian letters, read back to the English one.
const FRENCH: [(&str, &str); 8] = [
    ("tch", "ch"),
    ("dj", "dzh"),
    ("ch", "sh"),
    ("ou", "u"),
    ("gui", "gi"),
    ("gue", "ge"),
    ("j", "zh"),
    ("ss", "s"),
];

/// The German and French readings of a name written in Latin letters, when
/// it carries their marks (none for Cyrillic or Azerbaijani spellings).
fn readings(name: &str) -> Vec<String> {
    let lower = name.to_lowercase();
    let mut out = Vec::new();
    let english_j =
        lower.matches('j').count() == lower.matches("dj").count() + lower.matches("dzh").count();
    if lower.contains("sch") || lower.contains('w') || !english_j {
        out.push(rewrite(&lower, &GERMAN));
    }
    let mute_e = lower.split(' ').any(|w| w.ends_with("ine"));
    if lower.contains("ou") || lower.contains("tch") || lower.contains("dj") || mute_e {
        let mut french = rewrite(&lower, &FRENCH);
        // A mute final e (Chahine, Amine).
        french = french
            .split(' ')
            .map(|w| {
                w.strip_suffix("ine")
                    .map_or(w.to_string(), |s| format!("{s}in"))
            })
            .collect::<Vec<_>>()
            .join(" ");
        out.push(french);
    }
    out.retain(|r| *r != lower);
    out
}

/// Substitution cost: a consonant for its voicing pair costs half.
fn sub_cost(a: char, b: char) -> f64 {
    if a == b {
        return 0.0;
    }
    let pair = |x, y| (a == x && b == y) || (a == y && b == x);
    if pair('d', 't') || pair('b', 'p') || pair('z', 's') || pair('v', 'f') {
        0.5
    } else {
        1.0
    }
}

/// Edit distance with [`sub_cost`] for substitutions.
fn levenshtein(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<f64> = (0..=b.len()).map(|n| n as f64).collect();
    let mut cur = vec![0.0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = (i + 1) as f64;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + sub_cost(*ca, *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1.0).min(cur[j] + 1.0);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Similarity of two words: 1 if the stems are equal (0.85 if both had
/// surname endings of different kinds, Məmmədov / Məmmədli), else
/// 1 − distance/length when that is at least 0.85, else 0.
fn word_sim(x: &Token, y: &Token) -> f64 {
    let (a, b) = (x.stem.as_str(), y.stem.as_str());
    if a == b {
        return if !x.ending.is_empty() && !y.ending.is_empty() && x.ending != y.ending {
            0.85
        } else {
            1.0
        };
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let len = la.max(lb);
    // Too short to tell, or the lengths alone already differ by more than
    // the 15% that an edit may cost.
    if len < 4 || la.abs_diff(lb) as f64 > 0.15 * len as f64 {
        return 0.0;
    }
    let s = 1.0 - levenshtein(a, b) / len as f64;
    if s >= 0.85 { s } else { 0.0 }
}

/// Mean over the words of `short` of the best match in `long`.
fn match_words(short: &[&Token], long: &[&Token]) -> f64 {
    if short.is_empty() {
        return 0.0;
    }
    let total: f64 = short
        .iter()
        .map(|t| long.iter().map(|u| word_sim(t, u)).fold(0.0, f64::max))
        .sum();
    total / short.len() as f64
}

/// Similarity of two names (token lists), in 0..=1.
fn name_sim(a: &[Token], b: &[Token]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let sa: Vec<&Token> = a.iter().filter(|t| t.surname).collect();
    let sb: Vec<&Token> = b.iter().filter(|t| t.surname).collect();
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let raw = if sa.len() == 1 && sb.len() == 1 {
        // Both have one surname: surname against surname, the rest freely.
        let s = word_sim(sa[0], sb[0]);
        let ra: Vec<&Token> = a.iter().filter(|t| !t.surname).collect();
        let rb: Vec<&Token> = b.iter().filter(|t| !t.surname).collect();
        let (rs, rl) = if ra.len() <= rb.len() {
            (ra, rb)
        } else {
            (rb, ra)
        };
        if rs.is_empty() {
            s
        } else {
            (s + match_words(&rs, &rl) * rs.len() as f64) / (1 + rs.len()) as f64
        }
    } else {
        let s: Vec<&Token> = short.iter().collect();
        let l: Vec<&Token> = long.iter().collect();
        match_words(&s, &l)
    };
    // One word against several is weak evidence.
    if short.len() == 1 && long.len() > 1 {
        raw * 0.75
    } else {
        raw
    }
}

fn prepare(c: &Candidate) -> Prepared {
    Prepared {
        names: c
            .names
            .iter()
            .enumerate()
            .flat_map(|(i, n)| {
                std::iter::once(tokens(n))
                    .chain(readings(n).into_iter().map(|r| tokens(&r)))
                    .filter(|t| !t.is_empty())
                    .map(move |t| (i, t))
            })
            .collect(),
        facilities: c
            .facilities
            .iter()
            .map(|f| fold_words(f).join(" "))
            .collect(),
    }
}

fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Blocking keys of a person. `p:` and `q:` keys pair two words of one
/// name (exact stems, and 3-letter prefixes for typos in endings); `t:` keys
/// hold single words and are only used to compare one-word names with
/// everybody (see [`suggest`]).
fn keys(p: &Prepared) -> HashSet<String> {
    let mut out = HashSet::new();
    for (_, name) in &p.names {
        for (i, t) in name.iter().enumerate() {
            out.insert(format!("t:{}", t.stem));
            for u in &name[i + 1..] {
                let (x, y) = if t.stem <= u.stem {
                    (&t.stem, &u.stem)
                } else {
                    (&u.stem, &t.stem)
                };
                out.insert(format!("p:{x}|{y}"));
                let (x, y) = (prefix(x, 3), prefix(y, 3));
                let (x, y) = if x <= y { (x, y) } else { (y, x) };
                out.insert(format!("q:{x}|{y}"));
            }
        }
    }
    out
}

/// Scores one pair; `None` when the names are too far apart to suggest.
/// Returns the score and which names matched (for [`reasons`]).
fn score(
    a: &Candidate,
    pa: &Prepared,
    b: &Candidate,
    pb: &Prepared,
) -> Option<(f64, f64, usize, usize)> {
    let mut best = (0.0, 0, 0);
    for (i, x) in &pa.names {
        for (j, y) in &pb.names {
            let s = name_sim(x, y);
            if s > best.0 {
                best = (s, *i, *j);
            }
        }
    }
    let (name, i, j) = best;
    if name < 0.6 {
        return None;
    }
    let mut s = name;
    if let (Some(x), Some(y)) = (a.birth_year, b.birth_year) {
        s += match (x - y).abs() {
            0 => 0.1,
            1 => 0.05,
            2 => -0.1,
            _ => -0.5,
        };
    }
    if a.arrest_dates
        .iter()
        .any(|d| b.arrest_dates.iter().any(|e| compatible(*d, *e)))
    {
        s += 0.1;
    }
    if pa.facilities.iter().any(|f| pb.facilities.contains(f)) {
        s += 0.05;
    }
    if a.relatives.iter().any(|r| b.relatives.contains(r)) {
        s += 0.15;
    }
    Some((s.clamp(0.0, 1.0), name, i, j))
}

/// Why a pair scored as it did, for the coordinator (built only for the
/// pairs suggested).
fn reasons(
    a: &Candidate,
    pa: &Prepared,
    b: &Candidate,
    pb: &Prepared,
    name: f64,
    i: usize,
    j: usize,
) -> Vec<Reason> {
    let mut reasons = vec![Reason::NamesAlike {
        percent: (name * 100.0).round() as u32,
        a: a.names.get(i).cloned().unwrap_or_default(),
        b: b.names.get(j).cloned().unwrap_or_default(),
    }];
    match (a.birth_year, b.birth_year) {
        (Some(x), Some(y)) => reasons.push(match (x - y).abs() {
            0 => Reason::SameBirthYear { year: x },
            1 => Reason::BirthYearsOneApart { a: x, b: y },
            2 => Reason::BirthYearsTwoApart { a: x, b: y },
            _ => Reason::BirthYearsDiffer { a: x, b: y },
        }),
        _ => reasons.push(Reason::BirthYearUnknown),
    }
    if let Some(d) = a
        .arrest_dates
        .iter()
        .find(|d| b.arrest_dates.iter().any(|e| compatible(**d, *e)))
    {
        reasons.push(Reason::ArrestedSameDate {
            date: d.to_string(),
        });
    }
    if let Some(k) = pa.facilities.iter().position(|f| pb.facilities.contains(f)) {
        reasons.push(Reason::SameFacility {
            facility: a.facilities.get(k).cloned().unwrap_or_default(),
        });
    }
    if a.relatives.iter().any(|r| b.relatives.contains(r)) {
        reasons.push(Reason::RelativeSpokeAboutBoth);
    }
    reasons
}

fn pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Candidate pairs within one block: persons whose birth years are at most
/// two apart (each known year goes into its three-year window and the next,
/// so two such persons always share one), and every person of unknown birth
/// year with the whole block. Windows larger than [`MAX_BLOCK`] are skipped.
fn block_pairs(
    members: &[u32],
    years: &[Option<i32>],
    out: &mut Vec<(u32, u32)>,
    skipped: &mut usize,
) {
    let mut windows: HashMap<i32, Vec<u32>> = HashMap::new();
    let mut unknown = Vec::new();
    for &i in members {
        match years[i as usize] {
            Some(y) => {
                let w = y.div_euclid(3);
                windows.entry(w).or_default().push(i);
                windows.entry(w + 1).or_default().push(i);
            }
            None => unknown.push(i),
        }
    }
    for window in windows.values() {
        if window.len() > MAX_BLOCK {
            *skipped += 1;
            continue;
        }
        for (x, &i) in window.iter().enumerate() {
            out.extend(window[x + 1..].iter().map(|&j| (i.min(j), i.max(j))));
        }
    }
    if !unknown.is_empty() && members.len() > MAX_BLOCK {
        *skipped += 1;
        return;
    }
    for &i in &unknown {
        out.extend(
            members
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| (i.min(j), i.max(j))),
        );
    }
}

/// Suggests pairs scoring at least `threshold`, best first, leaving out
/// pairs marked distinct.
pub fn suggest(
    candidates: &[Candidate],
    distinct: &HashSet<(Uuid, Uuid)>,
    threshold: f64,
) -> (Vec<Suggestion>, DupStats) {
    let prepared: Vec<Prepared> = candidates.iter().map(prepare).collect();
    let single: Vec<bool> = prepared
        .iter()
        .map(|p| p.names.iter().any(|(_, n)| n.len() == 1))
        .collect();
    let years: Vec<Option<i32>> = candidates.iter().map(|c| c.birth_year).collect();
    let mut blocks: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, p) in prepared.iter().enumerate() {
        for k in keys(p) {
            blocks.entry(k).or_default().push(i as u32);
        }
    }
    let mut stats = DupStats {
        persons: candidates.len(),
        ..DupStats::default()
    };
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for (key, members) in &blocks {
        // A one-word key only pairs a one-word name with the others.
        let word_key = key.starts_with("t:");
        if members.len() < 2 || (word_key && !members.iter().any(|&i| single[i as usize])) {
            continue;
        }
        stats.blocks += 1;
        if word_key {
            for &i in members.iter().filter(|&&i| single[i as usize]) {
                pairs.extend(
                    members
                        .iter()
                        .filter(|&&j| j != i)
                        .map(|&j| (i.min(j), i.max(j))),
                );
            }
        } else {
            block_pairs(members, &years, &mut pairs, &mut stats.skipped_blocks);
        }
    }
    drop(blocks);
    pairs.sort_unstable();
    pairs.dedup();
    stats.comparisons = pairs.len() as u64;

    // Score on every core: the pairs are independent.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = pairs.len().div_ceil(threads).max(1);
    let results: Vec<(Vec<Suggestion>, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = pairs
            .chunks(chunk)
            .map(|part| {
                let (candidates, prepared) = (candidates, &prepared);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    let mut suppressed = 0;
                    for &(i, j) in part {
                        let (a, b) = (&candidates[i as usize], &candidates[j as usize]);
                        if a.id == b.id {
                            continue;
                        }
                        let (pa, pb) = (&prepared[i as usize], &prepared[j as usize]);
                        let Some((s, name, ni, nj)) = score(a, pa, b, pb) else {
                            continue;
                        };
                        if s < threshold {
                            continue;
                        }
                        if distinct.contains(&pair(a.id, b.id)) {
                            suppressed += 1;
                            continue;
                        }
                        out.push(Suggestion {
                            a: a.id,
                            b: b.id,
                            score: (s * 1000.0).round() / 1000.0,
                            reasons: reasons(a, pa, b, pb, name, ni, nj),
                        });
                    }
                    (out, suppressed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut out = Vec::new();
    for (part, suppressed) in results {
        out.extend(part);
        stats.suppressed_distinct += suppressed;
    }
    out.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    (out, stats)
}

/// The normalised key of a pair, as stored for "distinct".
pub fn pair_key(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    pair(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(n: u128, names: &[&str], born: Option<i32>) -> Candidate {
        Candidate {
            id: Uuid::from_u128(n),
            names: names.iter().map(|s| s.to_string()).collect(),
            birth_year: born,
            ..Candidate::default()
        }
    }

    #[test]
    fn stems_and_patronymics() {
        let t: Vec<String> = tokens("Nərgiz Rauf qızı İsmayılova")
            .into_iter()
            .map(|t| t.stem)
            .collect();
        assert_eq!(t, ["nargiz", "ismail"]);
        let t: Vec<String> = tokens("Эльчин Рауфович Мамедов")
            .into_iter()
            .map(|t| t.stem)
            .collect();
        assert_eq!(t, ["aljin", "mamad"]);
        assert_eq!(levenshtein("kitten", "sitting"), 3.0);
        assert_eq!(levenshtein("megdi", "megti"), 0.5);
    }

    #[test]
    fn order_and_script_insensitive() {
        let a = cand(1, &["Xədicə İsmayılova"], Some(1976));
        let b = cand(2, &["Исмаилова Хадиджа"], Some(1976));
        let c = cand(3, &["Khadija Ismayil"], None);
        let (s, st) = suggest(&[a, b, c], &HashSet::new(), DEFAULT_THRESHOLD);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(st.comparisons <= 3);
        assert!(
            s[0].reasons
                .iter()
                .any(|r| r.to_string().contains("same birth year"))
        );
    }

    #[test]
    fn swapped_given_name_and_surname_are_not_matched() {
        let a = cand(1, &["Əli Həsənov"], None);
        let b = cand(2, &["Həsən Əliyev"], None);
        let (s, _) = suggest(&[a, b], &HashSet::new(), DEFAULT_THRESHOLD);
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn distinct_pairs_are_never_suggested() {
        let a = cand(1, &["Intiqam Əliyev"], Some(1960));
        let b = cand(2, &["Intigam Aliyev"], Some(1960));
        let (s, _) = suggest(&[a.clone(), b.clone()], &HashSet::new(), DEFAULT_THRESHOLD);
        assert_eq!(s.len(), 1);
        let distinct: HashSet<_> = [pair_key(b.id, a.id)].into_iter().collect();
        let (s, st) = suggest(&[a, b], &distinct, DEFAULT_THRESHOLD);
        assert!(s.is_empty());
        assert_eq!(st.suppressed_distinct, 1);
    }

    #[test]
    fn different_birth_years_sink_a_name_match() {
        let a = cand(1, &["Rauf Mirqədirov"], Some(1961));
        let b = cand(2, &["Rauf Mirkadirov"], Some(1990));
        let (s, _) = suggest(&[a, b], &HashSet::new(), DEFAULT_THRESHOLD);
        assert!(s.is_empty());
    }

    #[test]
    fn birth_year_windows_bound_the_comparisons() {
        // Two apart: compared and suggested; three apart: never compared
        // (namesakes); unknown: compared with everybody in the block.
        let a = cand(1, &["Elçin Məmmədov"], Some(1980));
        let b = cand(2, &["Elchin Mammadov"], Some(1982));
        let c = cand(3, &["Elçin Məmmədov"], Some(1950));
        let d = cand(4, &["Эльчин Мамедов"], None);
        let (s, st) = suggest(&[a, b, c, d], &HashSet::new(), DEFAULT_THRESHOLD);
        let got: HashSet<(u128, u128)> = s
            .iter()
            .map(|s| {
                (
                    s.a.as_u128().min(s.b.as_u128()),
                    s.a.as_u128().max(s.b.as_u128()),
                )
            })
            .collect();
        assert!(
            got.contains(&(1, 4)) && got.contains(&(2, 4)) && got.contains(&(3, 4)),
            "{s:?}"
        );
        assert!(!got.contains(&(1, 3)) && !got.contains(&(2, 3)), "{s:?}");
        // 1-2, 1-4, 2-4, 3-4: the pair 1950/1980 and 1950/1982 are not scored.
        assert_eq!(st.comparisons, 4, "{st:?}");
    }

    #[test]
    fn german_and_french_readings() {
        assert!(readings("Rassul Dschafarow").contains(&"rasul dzhafarov".to_string()));
        assert!(readings("Raouf Youssoupov").contains(&"rauf yusupov".to_string()));
        assert!(readings("Chahine Hassanov").contains(&"shahin hasanov".to_string()));
        // Azerbaijani and Cyrillic spellings have no other reading.
        assert!(readings("Rəsul Cəfərov").is_empty());
        assert!(readings("Расул Джафаров").is_empty());
    }
}
