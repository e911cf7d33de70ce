//! Suggesting pairs of person records that are probably the same person.
//!
//! 1. **Names to tokens.** Every name is folded word by word with
//!    [`yaddash_model::fold`] (so Məmmədov, Mamedov and Мамедов give one key).
//!    Patronymics are dropped ("Rauf oğlu", "Rauf qızı", "Рауфович"). Each
//!    word is stemmed: the surname endings -ov/-ova/-ev/-eva, -li/-lı and
//!    -zadə are cut, so Ismayilova, Ismayilov and the short form Ismayil share
//!    the stem `ismail`; a word that lost such an ending is marked a surname.
//! 2. **Blocking.** A person gets keys: each unordered pair of stems of a
//!    name, and each pair of 3-letter stem prefixes (typos in endings). Only
//!    persons sharing a key are compared; a block larger than [`MAX_BLOCK`]
//!    is skipped and counted in the statistics. A name of one word (rare:
//!    "Leyla") is compared with everybody sharing that word.
//! 3. **Scoring.** Names: surnames are compared with surnames when both have
//!    one, the other words order-insensitively; a word scores 1 when the
//!    stems are equal (0.85 when the surname endings differ in kind, -ov
//!    against -li), otherwise by edit distance (≥ 0.85 or nothing). Then
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
    names: Vec<Vec<Token>>,
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

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
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
    let len = a.chars().count().max(b.chars().count());
    if len < 4 {
        return 0.0;
    }
    let s = 1.0 - levenshtein(a, b) as f64 / len as f64;
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
            .map(|n| tokens(n))
            .filter(|t| !t.is_empty())
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
    for name in &p.names {
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
fn score(a: &Candidate, pa: &Prepared, b: &Candidate, pb: &Prepared) -> Option<(f64, Vec<Reason>)> {
    let mut best = (0.0, 0, 0);
    for (i, x) in pa.names.iter().enumerate() {
        for (j, y) in pb.names.iter().enumerate() {
            let s = name_sim(x, y);
            if s > best.0 {
                best = (s, i, j);
            }
        }
    }
    let (name, i, j) = best;
    if name < 0.6 {
        return None;
    }
    let mut reasons = vec![Reason::NamesAlike {
        percent: (name * 100.0).round() as u32,
        a: a.names.get(i).cloned().unwrap_or_default(),
        b: b.names.get(j).cloned().unwrap_or_default(),
    }];
    let mut s = name;
    match (a.birth_year, b.birth_year) {
        (Some(x), Some(y)) => {
            let d = (x - y).abs();
            let (adj, why) = match d {
                0 => (0.1, Reason::SameBirthYear { year: x }),
                1 => (0.05, Reason::BirthYearsOneApart { a: x, b: y }),
                2 => (-0.1, Reason::BirthYearsTwoApart { a: x, b: y }),
                _ => (-0.5, Reason::BirthYearsDiffer { a: x, b: y }),
            };
            s += adj;
            reasons.push(why);
        }
        _ => reasons.push(Reason::BirthYearUnknown),
    }
    if let Some(d) = a
        .arrest_dates
        .iter()
        .find(|d| b.arrest_dates.iter().any(|e| compatible(**d, *e)))
    {
        s += 0.1;
        reasons.push(Reason::ArrestedSameDate {
            date: d.to_string(),
        });
    }
    if let Some(k) = pa.facilities.iter().position(|f| pb.facilities.contains(f)) {
        s += 0.05;
        reasons.push(Reason::SameFacility {
            facility: a.facilities.get(k).cloned().unwrap_or_default(),
        });
    }
    if a.relatives.iter().any(|r| b.relatives.contains(r)) {
        s += 0.15;
        reasons.push(Reason::RelativeSpokeAboutBoth);
    }
    Some((s.clamp(0.0, 1.0), reasons))
}

fn pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a <= b { (a, b) } else { (b, a) }
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
        .map(|p| p.names.iter().any(|n| n.len() == 1))
        .collect();
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
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    let mut out = Vec::new();
    for (key, members) in &blocks {
        // A one-word key only pairs a one-word name with the others.
        let word_key = key.starts_with("t:");
        if members.len() < 2 || (word_key && !members.iter().any(|&i| single[i as usize])) {
            continue;
        }
        stats.blocks += 1;
        if members.len() > MAX_BLOCK && !word_key {
            stats.skipped_blocks += 1;
            continue;
        }
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        if word_key {
            for &i in members.iter().filter(|&&i| single[i as usize]) {
                pairs.extend(members.iter().filter(|&&j| j != i).map(|&j| (i, j)));
            }
        } else {
            for (x, &i) in members.iter().enumerate() {
                pairs.extend(members[x + 1..].iter().map(|&j| (i, j)));
            }
        }
        for (i, j) in pairs {
            let (i, j) = if i < j { (i, j) } else { (j, i) };
            if i == j || !seen.insert((i, j)) {
                continue;
            }
            stats.comparisons += 1;
            let (a, b) = (&candidates[i as usize], &candidates[j as usize]);
            if a.id == b.id {
                continue;
            }
            let Some((s, reasons)) = score(a, &prepared[i as usize], b, &prepared[j as usize])
            else {
                continue;
            };
            if s < threshold {
                continue;
            }
            if distinct.contains(&pair(a.id, b.id)) {
                stats.suppressed_distinct += 1;
                continue;
            }
            out.push(Suggestion {
                a: a.id,
                b: b.id,
                score: (s * 1000.0).round() / 1000.0,
                reasons,
            });
        }
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
        assert_eq!(levenshtein("kitten", "sitting"), 3);
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
}
