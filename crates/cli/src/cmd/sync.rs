//! `yaddash sync`: field device — export what is new into the outbox, upload
//! the outbox to the HQ server, keep the server's signed receipts, and fetch
//! the coordinators' import receipts. Always within the safety policy
//! (`yaddash policy show`): the kill switch, "sync enabled", and the route
//! (a SOCKS5 proxy with no fallback when the policy requires one).

use yaddash_outbox::{Event, OutboxError, Refusal};

use crate::cmd::hq::{UrlArgs, outbox_err};
use crate::common::{CliError, CliResult, Context, Progress};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    url: UrlArgs,
    /// Use this SOCKS5 proxy for this run only (e.g. socks5h://127.0.0.1:9150
    /// for Tor Browser). Names are resolved by the proxy. Nothing falls back
    /// to a direct connection.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Send only if the policy allows sending on its own now (automatic
    /// mode, inside a time window); otherwise say why and exit 0 without
    /// touching the network. For timers and schedulers.
    #[arg(long)]
    auto: bool,
}

/// Prints upload progress on a terminal (one bar per bundle).
pub struct Bars {
    current: Option<(u64, Progress)>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars { current: None }
    }

    pub fn event(&mut self, e: &Event) {
        match e {
            Event::Uploading { seq, sent, total } => {
                if self.current.as_ref().map(|c| c.0) != Some(*seq) {
                    self.finish();
                    eprintln_tty(&format!("bundle {seq}:"));
                    self.current = Some((*seq, Progress::new(Some(*total))));
                }
                if let Some((_, p)) = &mut self.current {
                    p.tick(*sent);
                }
            }
            Event::Waiting {
                unconfirmed,
                waited_secs,
            } => eprintln_tty(&format!(
                "waiting for headquarters to confirm {unconfirmed} bundle(s)… {waited_secs} s"
            )),
            _ => {}
        }
    }

    pub fn finish(&mut self) {
        if let Some((_, p)) = self.current.take() {
            p.finish();
        }
    }
}

fn eprintln_tty(s: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("{s}");
    }
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        if self.auto {
            let policy = yaddash_outbox::load_policy(&vault).map_err(|e| outbox_err(e.into()))?;
            if let Err(why) = policy.permit(true, None, time::OffsetDateTime::now_utc()) {
                let skipped = matches!(why, Refusal::ManualMode | Refusal::OutsideWindow);
                if skipped || why == Refusal::NotEnabled || why == Refusal::NetworkOff {
                    return ctx.print(
                        &serde_json::json!({"skipped": true, "reason": why.to_string()}),
                        || format!("not sending: {why}"),
                    );
                }
                return Err(outbox_err(OutboxError::Refused(why)));
            }
        }
        let mut bars = Bars::new();
        let r = yaddash_outbox::send_now(
            &mut vault,
            self.url.url.as_deref(),
            self.proxy.as_deref(),
            crate::common::cancel_flag(),
            &mut |e| bars.event(e),
        );
        bars.finish();
        let r = r.map_err(|e| {
            CliError::with_hint(e.to_string(), crate::common::outbox_hint(&e.error))
        })?;
        ctx.print(&r, || {
            let mut s = match r.exported {
                Some(seq) => format!("bundle {seq} exported ({} records); ", r.exported_records),
                None => "nothing new to export; ".to_owned(),
            };
            s.push_str(&format!(
                "{} bundle(s) uploaded ({}); headquarters confirmed importing {:?}",
                r.uploaded.len(),
                r.route,
                r.confirmed_imported
            ));
            for p in &r.receipt_problems {
                s.push_str(&format!("\nreceipt refused: {p}"));
            }
            s
        })
    }
}
