//! The safety policy: when and how a device may talk to headquarters.
//!
//! Stored per vault (inside the encrypted database) and optionally pre-set by
//! a coordinator's trust file. The rules it encodes:
//!
//! - nothing touches the network until the user has enabled sync
//!   ([`Policy::enabled`]); a trust file can never enable it;
//! - the kill switch ([`Policy::network_off`]) stops everything;
//! - `manual` mode sends only when the user asks; `automatic` mode lets the
//!   app send on its own, only inside the allowed time windows;
//! - with a proxy, every connection goes through it, names are resolved by
//!   the proxy (`socks5h`), and with `require_proxy` nothing is ever tried
//!   directly.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// When the device may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[ts(rename = "SyncMode")]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Nothing leaves until the user says so (default).
    #[default]
    Manual,
    /// The app sends on its own within the allowed windows.
    Automatic,
}

/// How the device reaches headquarters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Route {
    /// A direct connection.
    #[default]
    Direct,
    /// Through a SOCKS5 proxy (Tor's 127.0.0.1:9050, Tor Browser's 9150);
    /// names are resolved by the proxy.
    Proxy {
        /// `socks5h://host:port`.
        url: String,
    },
}

/// A daily time window, in the policy's UTC offset, e.g. `22:00-05:30`
/// (a window may cross midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start, minutes after midnight.
    pub start: u16,
    /// End (exclusive), minutes after midnight.
    pub end: u16,
}

impl Window {
    /// Whether `minute` (0..1440) is inside the window.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

fn hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl std::str::FromStr for Window {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        let bad = || PolicyError(format!("{s:?} is not a time window like 22:00-05:30"));
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (start, end) = (hhmm(a).ok_or_else(bad)?, hhmm(b).ok_or_else(bad)?);
        if start == end {
            return Err(PolicyError(format!(
                "{s:?} is an empty time window (start equals end)"
            )));
        }
        Ok(Window { start, end })
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A policy problem, said for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

/// Who last set the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[ts(rename = "PolicySetBy")]
#[serde(rename_all = "kebab-case")]
pub enum SetBy {
    /// Nobody: the built-in defaults.
    #[default]
    Default,
    /// The coordinators' trust file.
    TrustFile,
    /// The user of this device.
    User,
}

/// The safety policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Whether the user has enabled sync at all. Until then nothing touches
    /// the network. A trust file cannot set this.
    #[serde(default)]
    pub enabled: bool,
    /// Manual or automatic.
    #[serde(default)]
    pub mode: Mode,
    /// Automatic mode: allowed daily windows (empty: any time).
    #[serde(default)]
    pub windows: Vec<Window>,
    /// The windows' UTC offset in minutes (Baku: +240).
    #[serde(default)]
    pub utc_offset_minutes: i16,
    /// Direct or through a SOCKS5 proxy.
    #[serde(default)]
    pub route: Route,
    /// Never connect except through the proxy.
    #[serde(default)]
    pub require_proxy: bool,
    /// The kill switch: no network activity at all.
    #[serde(default)]
    pub network_off: bool,
    /// Upload chunk size in KiB (default: 64 through a proxy, 8192 direct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_kib: Option<u32>,
    /// Who set it last.
    #[serde(default)]
    pub set_by: SetBy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            enabled: false,
            mode: Mode::Manual,
            windows: Vec::new(),
            utc_offset_minutes: 0,
            route: Route::Direct,
            require_proxy: false,
            network_off: false,
            chunk_kib: None,
            set_by: SetBy::Default,
        }
    }
}

/// Why a send may not happen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The kill switch is on.
    NetworkOff,
    /// Sync was never enabled.
    NotEnabled,
    /// `require_proxy` is on but no proxy is configured.
    ProxyRequired,
    /// Automatic sending asked for, but the mode is manual.
    ManualMode,
    /// Automatic sending outside every window.
    OutsideWindow,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::NetworkOff => {
                "the network is switched off (kill switch): nothing was sent"
            }
            Refusal::NotEnabled => {
                "sync is not enabled on this vault, so nothing touches the network"
            }
            Refusal::ProxyRequired => {
                "the policy requires a proxy but none is set: nothing was sent and nothing was tried directly"
            }
            Refusal::ManualMode => {
                "manual mode: nothing is sent until you ask"
            }
            Refusal::OutsideWindow => {
                "outside the allowed time windows: nothing was sent"
            }
        })
    }
}

/// Checks and normalises a proxy URL to `socks5h://host:port`.
/// `socks5://` is accepted and turned into `socks5h://`: the proxy must
/// resolve names, or every lookup would leak to the local resolver.
pub fn normalise_proxy(url: &str) -> Result<String, PolicyError> {
    let url = url.trim();
    let rest = url
        .strip_prefix("socks5h://")
        .or_else(|| url.strip_prefix("socks5://"))
        .ok_or_else(|| {
            PolicyError(format!(
                "{url:?} is not a SOCKS5 proxy URL; use socks5h://127.0.0.1:9050 (Tor) or socks5h://127.0.0.1:9150 (Tor Browser)"
            ))
        })?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| PolicyError(format!("{url:?} has no port (e.g. :9050)")))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| PolicyError(format!("{url:?} has a bad port")))?;
    if host.is_empty() || host.contains(['/', '@', '?', '#', ' ']) {
        return Err(PolicyError(format!(
            "{url:?} has a bad host (credentials and paths are not supported)"
        )));
    }
    Ok(format!("socks5h://{host}:{port}"))
}

/// Parses `+04:00`, `-03:30`, `UTC`, `Z` into minutes.
pub fn parse_utc_offset(s: &str) -> Result<i16, PolicyError> {
    let t = s.trim();
    if matches!(t, "Z" | "UTC" | "utc" | "z" | "+00:00" | "0") {
        return Ok(0);
    }
    let bad = || PolicyError(format!("{s:?} is not a UTC offset like +04:00"));
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let m = hhmm(rest).ok_or_else(bad)? as i16;
    if m > 14 * 60 {
        return Err(bad());
    }
    Ok(sign * m)
}

/// Formats minutes as `+04:00`.
pub fn format_utc_offset(m: i16) -> String {
    let sign = if m < 0 { '-' } else { '+' };
    let a = m.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 60, a % 60)
}

impl Policy {
    /// Checks the policy's consistency.
    pub fn check(&self) -> Result<(), PolicyError> {
        if let Route::Proxy { url } = &self.route {
            normalise_proxy(url)?;
        }
        if !(-14 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            return Err(PolicyError("the UTC offset is out of range".into()));
        }
        if let Some(k) = self.chunk_kib
            && !(4..=8192).contains(&k)
        {
            return Err(PolicyError(
                "the chunk size must be between 4 and 8192 KiB".into(),
            ));
        }
        Ok(())
    }

    /// The proxy URL, if any.
    pub fn proxy(&self) -> Option<&str> {
        match &self.route {
            Route::Proxy { url } => Some(url),
            Route::Direct => None,
        }
    }

    /// Whether now is inside an allowed window (always, with no windows).
    pub fn in_window(&self, now: OffsetDateTime) -> bool {
        if self.windows.is_empty() {
            return true;
        }
        let local = now.to_offset(
            time::UtcOffset::from_whole_seconds(i32::from(self.utc_offset_minutes) * 60)
                .unwrap_or(time::UtcOffset::UTC),
        );
        let minute = u16::from(local.hour()) * 60 + u16::from(local.minute());
        self.windows.iter().any(|w| w.contains(minute))
    }

    /// Whether the user may send now, explicitly (`automatic == false`:
    /// the user asked) or on the app's own initiative. `proxy_override` is a
    /// one-run route from `yaddash sync --proxy`. Returns the route to use.
    pub fn permit(
        &self,
        automatic: bool,
        proxy_override: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Route, Refusal> {
        if self.network_off {
            return Err(Refusal::NetworkOff);
        }
        if !self.enabled {
            return Err(Refusal::NotEnabled);
        }
        if automatic {
            if self.mode == Mode::Manual {
                return Err(Refusal::ManualMode);
            }
            if !self.in_window(now) {
                return Err(Refusal::OutsideWindow);
            }
        }
        let route = match proxy_override {
            Some(url) => Route::Proxy {
                url: url.to_owned(),
            },
            None => self.route.clone(),
        };
        if self.require_proxy && route == Route::Direct {
            return Err(Refusal::ProxyRequired);
        }
        Ok(route)
    }

    /// What a coordinator's trust file may pre-set: everything but enabling
    /// sync (that is the user's decision on the device).
    pub fn as_preset(&self) -> Policy {
        Policy {
            enabled: false,
            network_off: false,
            set_by: SetBy::TrustFile,
            ..self.clone()
        }
    }

    /// Upload chunk size in bytes for `route`.
    pub fn chunk_bytes(&self, route: &Route) -> u64 {
        let kib = self.chunk_kib.unwrap_or(match route {
            Route::Proxy { .. } => 64,
            Route::Direct => 8192,
        });
        u64::from(kib) * 1024
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn enabled() -> Policy {
        Policy {
            enabled: true,
            ..Policy::default()
        }
    }

    #[test]
    fn defaults_touch_nothing() {
        let p = Policy::default();
        let now = datetime!(2026-11-25 12:00 UTC);
        assert_eq!(p.permit(false, None, now), Err(Refusal::NotEnabled));
        assert_eq!(p.permit(true, None, now), Err(Refusal::NotEnabled));
    }

    #[test]
    fn kill_switch_wins_over_everything() {
        let p = Policy {
            network_off: true,
            ..enabled()
        };
        let now = datetime!(2026-11-25 12:00 UTC);
        assert_eq!(
            p.permit(false, Some("socks5h://127.0.0.1:9050"), now),
            Err(Refusal::NetworkOff)
        );
    }

    #[test]
    fn manual_mode_refuses_automatic_sends_only() {
        let p = enabled();
        let now = datetime!(2026-11-25 12:00 UTC);
        assert_eq!(p.permit(true, None, now), Err(Refusal::ManualMode));
        assert_eq!(p.permit(false, None, now), Ok(Route::Direct));
    }

    #[test]
    fn require_proxy_never_allows_direct() {
        let p = Policy {
            require_proxy: true,
            ..enabled()
        };
        let now = datetime!(2026-11-25 12:00 UTC);
        assert_eq!(p.permit(false, None, now), Err(Refusal::ProxyRequired));
        let via = p.permit(false, Some("socks5h://127.0.0.1:9150"), now);
        assert!(matches!(via, Ok(Route::Proxy { .. })));
    }

    #[test]
    fn windows_cross_midnight_in_local_time() {
        let p = Policy {
            mode: Mode::Automatic,
            windows: vec!["22:00-05:30".parse().expect("window")],
            utc_offset_minutes: 240,
            ..enabled()
        };
        // 19:00 UTC is 23:00 in Baku: inside.
        assert!(p.in_window(datetime!(2026-11-25 19:00 UTC)));
        // 01:29 UTC is 05:29: inside; 01:30 is 05:30: outside.
        assert!(p.in_window(datetime!(2026-11-25 01:29 UTC)));
        assert!(!p.in_window(datetime!(2026-11-25 01:30 UTC)));
        // Noon in Baku: outside.
        assert_eq!(
            p.permit(true, None, datetime!(2026-11-25 08:00 UTC)),
            Err(Refusal::OutsideWindow)
        );
    }

    #[test]
    fn proxy_urls_are_normalised_to_remote_dns() {
        assert_eq!(
            normalise_proxy("socks5://127.0.0.1:9050").expect("ok"),
            "socks5h://127.0.0.1:9050"
        );
        assert!(normalise_proxy("http://127.0.0.1:8080").is_err());
        assert!(normalise_proxy("socks5h://127.0.0.1").is_err());
        assert!(normalise_proxy("socks5h://u:p@127.0.0.1:9050").is_err());
        assert!(normalise_proxy("socks5h://127.0.0.1:0").is_err());
    }

    #[test]
    fn bad_windows_and_offsets_are_refused() {
        for w in [
            "25:00-01:00",
            "10:00",
            "10:00-10:00",
            "1000-1100",
            "10:0-11:00",
        ] {
            assert!(w.parse::<Window>().is_err(), "{w}");
        }
        assert_eq!(parse_utc_offset("+04:00"), Ok(240));
        assert_eq!(parse_utc_offset("-03:30"), Ok(-210));
        assert!(parse_utc_offset("04:00").is_err());
        assert_eq!(format_utc_offset(-210), "-03:30");
    }

    #[test]
    fn a_trust_file_preset_cannot_enable_sync() {
        let p = Policy {
            enabled: true,
            network_off: true,
            require_proxy: true,
            ..Policy::default()
        }
        .as_preset();
        assert!(!p.enabled && !p.network_off && p.require_proxy);
        assert_eq!(p.set_by, SetBy::TrustFile);
    }

    #[test]
    fn policy_json_round_trips_and_rejects_unknown_fields() {
        let p = Policy {
            windows: vec!["08:00-09:00".parse().expect("w")],
            route: Route::Proxy {
                url: "socks5h://127.0.0.1:9050".into(),
            },
            ..enabled()
        };
        let j = serde_json::to_string(&p).expect("json");
        assert_eq!(serde_json::from_str::<Policy>(&j).expect("back"), p);
        assert!(serde_json::from_str::<Policy>(r#"{"enable": true}"#).is_err());
    }
}
