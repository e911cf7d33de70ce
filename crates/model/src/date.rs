//! Partial dates: testimony often knows only the year or the month.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar date known to the year, the month or the day: `2024`,
/// `2024-11` or `2024-11-20` (ISO 8601 reduced precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ts_rs::TS)]
#[ts(type = "string")]
pub struct PartialDate {
    /// Year.
    pub year: i32,
    /// Month, 1-12, if known.
    pub month: Option<u8>,
    /// Day, 1-31, if known (only with a month).
    pub day: Option<u8>,
}

/// Why a date string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {0:?}: expected YYYY, YYYY-MM or YYYY-MM-DD")]
pub struct InvalidDate(pub String);

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl FromStr for PartialDate {
    type Err = InvalidDate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || InvalidDate(s.chars().take(32).collect());
        let parts: Vec<&str> = s.split('-').collect();
        let num = |p: &str, len: usize| -> Result<u32, InvalidDate> {
            if p.len() != len || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            p.parse().map_err(|_| err())
        };
        let year = i32::try_from(num(parts.first().ok_or_else(err)?, 4)?).map_err(|_| err())?;
        if !(1800..=2200).contains(&year) {
            return Err(err());
        }
        let month = match parts.get(1) {
            Some(m) => {
                let m = num(m, 2)? as u8;
                if !(1..=12).contains(&m) {
                    return Err(err());
                }
                Some(m)
            }
            None => None,
        };
        let day = match (parts.get(2), month) {
            (Some(d), Some(m)) => {
                let d = num(d, 2)? as u8;
                if d == 0 || d > days_in_month(year, m) {
                    return Err(err());
                }
                Some(d)
            }
            _ => None,
        };
        if parts.len() > 3 {
            return Err(err());
        }
        Ok(PartialDate { year, month, day })
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
            if let Some(d) = self.day {
                write!(f, "-{d:02}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for PartialDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_reduced_precision() {
        assert_eq!(
            "2024".parse::<PartialDate>().map(|d| d.to_string()),
            Ok("2024".into())
        );
        assert_eq!(
            "2024-02-29".parse::<PartialDate>().map(|d| d.day),
            Ok(Some(29))
        );
        for bad in [
            "2023-02-29",
            "24",
            "2024-13",
            "2024-1-01",
            "2024-01-01-01",
            "",
            "abcd",
        ] {
            assert!(bad.parse::<PartialDate>().is_err(), "{bad}");
        }
    }
}
