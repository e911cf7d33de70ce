//! One reading of durations for every command line and setting.

use std::fmt;
use std::time::Duration;

/// Why a duration was refused (its `Display` says what to type instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Not a whole number followed by a unit.
    Malformed(String),
    /// A number with no unit: seconds for one command and hours for another
    /// would be a guess, so a unit is required.
    NoUnit(String),
    /// Zero, or too large to represent.
    OutOfRange(String),
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Malformed(s) => {
                write!(
                    f,
                    "{s:?} is not a duration: write a whole number and a unit, like 30s, 10m, 24h or 7d"
                )
            }
            DurationError::NoUnit(s) => {
                write!(f, "{s:?} has no unit: write {s}s, {s}m, {s}h or {s}d")
            }
            DurationError::OutOfRange(s) => write!(f, "{s:?} is out of range"),
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses `30s`, `10m`, `24h`, `7d` (whole numbers, one unit, no spaces).
/// Zero and bare numbers are refused.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(DurationError::Malformed(s.to_owned()));
    }
    let n: u64 = num
        .parse()
        .map_err(|_| DurationError::OutOfRange(s.to_owned()))?;
    let mult: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => return Err(DurationError::NoUnit(s.to_owned())),
        _ => return Err(DurationError::Malformed(s.to_owned())),
    };
    n.checked_mul(mult)
        .filter(|v| *v > 0 && *v <= i64::MAX as u64)
        .map(Duration::from_secs)
        .ok_or_else(|| DurationError::OutOfRange(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_refusals() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(matches!(
            parse_duration("24"),
            Err(DurationError::NoUnit(_))
        ));
        assert!(matches!(
            parse_duration("0h"),
            Err(DurationError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_duration("h"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("1w"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("-5m"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999d"),
            Err(DurationError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_duration("999999999999999d"),
            Err(DurationError::OutOfRange(_))
        ));
        assert!(
            parse_duration("24")
                .unwrap_err()
                .to_string()
                .contains("24h")
        );
    }
}
