//! `yaddash policy show|set`: the safety policy — whether, when and how this
//! device may talk to headquarters.

use yaddash_outbox::{Mode, Policy, Route, SetBy, Window, format_utc_offset, normalise_proxy};

use crate::common::{CliError, CliResult, Context};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Print the policy.
    Show,
    /// Change the policy (only the options given).
    Set(SetArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

impl From<OnOff> for bool {
    fn from(v: OnOff) -> bool {
        matches!(v, OnOff::On)
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Manual,
    Automatic,
}

#[derive(clap::Args)]
pub struct SetArgs {
    /// Allow sync at all. Until it is on, nothing touches the network.
    #[arg(long, value_enum)]
    sync: Option<OnOff>,
    /// The kill switch: `off` stops every network activity (sync, enroll,
    /// pull) until turned back `on`.
    #[arg(long, value_enum)]
    network: Option<OnOff>,
    /// manual: send only when asked; automatic: the app may send on its own
    /// inside the time windows.
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Allowed daily window for automatic sending, e.g. 22:00-05:30
    /// (repeatable; replaces the list).
    #[arg(long = "window", value_name = "HH:MM-HH:MM")]
    windows: Vec<Window>,
    /// Remove every time window (automatic mode may send any time).
    #[arg(long, conflicts_with = "windows")]
    no_windows: bool,
    /// The windows' UTC offset, e.g. +04:00 (Baku).
    #[arg(long, value_name = "+HH:MM", allow_hyphen_values = true, value_parser = parse_offset)]
    utc_offset: Option<i16>,
    /// Route through this SOCKS5 proxy: socks5h://127.0.0.1:9050 (Tor) or
    /// :9150 (Tor Browser). Names are resolved by the proxy.
    #[arg(long, value_name = "URL", conflicts_with = "direct")]
    proxy: Option<String>,
    /// Connect directly (no proxy).
    #[arg(long)]
    direct: bool,
    /// Never connect except through the proxy: if it is down, nothing is
    /// sent and nothing is tried directly.
    #[arg(long, value_enum)]
    require_proxy: Option<OnOff>,
    /// Upload chunk size in KiB (4–8192; default 64 through a proxy, 8192 direct).
    #[arg(long, value_name = "KIB")]
    chunk_kib: Option<u32>,
}

fn parse_offset(s: &str) -> Result<i16, String> {
    yaddash_outbox::parse_utc_offset(s).map_err(|e| e.to_string())
}

fn describe(p: &Policy) -> String {
    let on = |b: bool| if b { "on" } else { "off" };
    let windows = if p.windows.is_empty() {
        "any time".to_owned()
    } else {
        p.windows
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let route = match &p.route {
        Route::Direct => "direct".to_owned(),
        Route::Proxy { url } => format!("proxy {url} (names resolved by the proxy)"),
    };
    let set_by = match p.set_by {
        SetBy::Default => "defaults",
        SetBy::TrustFile => "headquarters' trust file",
        SetBy::User => "you",
    };
    format!(
        "sync:          {}\nnetwork:       {}{}\nmode:          {}\nwindows:       {windows} (UTC{})\nroute:         {route}\nrequire proxy: {}\nset by:        {set_by}",
        on(p.enabled),
        on(!p.network_off),
        if p.network_off {
            " (kill switch: nothing goes out)"
        } else {
            ""
        },
        match p.mode {
            Mode::Manual => "manual (nothing leaves until you run sync)",
            Mode::Automatic => "automatic (inside the windows)",
        },
        format_utc_offset(p.utc_offset_minutes),
        on(p.require_proxy),
    )
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let vault = ctx.open()?;
        let mut p = yaddash_outbox::load_policy(&vault).map_err(|e| CliError(e.to_string()))?;
        if let Command::Set(a) = self {
            if let Some(v) = a.sync {
                p.enabled = v.into();
            }
            if let Some(v) = a.network {
                p.network_off = !bool::from(v);
            }
            if let Some(m) = a.mode {
                p.mode = match m {
                    ModeArg::Manual => Mode::Manual,
                    ModeArg::Automatic => Mode::Automatic,
                };
            }
            if a.no_windows {
                p.windows.clear();
            } else if !a.windows.is_empty() {
                p.windows = a.windows;
            }
            if let Some(o) = a.utc_offset {
                p.utc_offset_minutes = o;
            }
            if let Some(url) = a.proxy {
                let url = normalise_proxy(&url).map_err(|e| CliError(e.to_string()))?;
                p.route = Route::Proxy { url };
            }
            if a.direct {
                p.route = Route::Direct;
            }
            if let Some(v) = a.require_proxy {
                p.require_proxy = v.into();
            }
            if a.chunk_kib.is_some() {
                p.chunk_kib = a.chunk_kib;
            }
            p = yaddash_outbox::set_user_policy(&vault, p).map_err(|e| CliError(e.to_string()))?;
        }
        ctx.print(&p, || describe(&p))
    }
}
