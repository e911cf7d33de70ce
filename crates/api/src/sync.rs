//! Sync with headquarters, for the app: the safety policy, the outbox,
//! enrollment, sending, travel mode and the coordinator's pull. Every
//! network action goes through `yaddash_outbox` (its `connect` applies the
//! policy: the kill switch, "sync never enabled", manual/automatic mode and
//! windows, the route with no fallback); nothing here checks the policy a
//! second time or opens a socket itself.
//!
//! Long transfers run on a background thread that holds the vault and
//! reports through [`JobEvents`]; the command returns at once. One transfer
//! at a time. Its stop flag is set by Cancel, by the kill switch
//! (`policy_set` with the network off) and by every lock (idle or panic).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use yaddash_coordinator::PullReport;
use yaddash_outbox::travel;
use yaddash_outbox::{
    Connect, Event, Mode, OutboxError, Policy, Route, SetBy, SyncReport, Window, format_utc_offset,
    parse_utc_offset,
};
use yaddash_vault::{Setting, Vault, VaultRole};

use crate::{
    ApiError, ApiResult, AppState, Code, DeviceRevoked, InviteRequest, RevokeDeviceRequest, Role,
    RunningJob, lock_ignoring_poison,
};

/// How often the app offers an automatic send (the policy decides whether
/// it happens: only in automatic mode, inside the windows).
pub const AUTO_SYNC_EVERY: Duration = Duration::from_secs(5 * 60);
/// Longest wait for headquarters' receipts in travel mode.
pub const MAX_TRAVEL_WAIT_SECS: u64 = 2 * 60 * 60;
/// How often travel mode asks the server for receipts while waiting.
const TRAVEL_POLL: Duration = Duration::from_secs(5);

/// The policy as the settings form edits it (`policy_set` takes it,
/// `policy_get` answers it inside [`PolicyInfo`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct PolicyForm {
    /// Sync allowed at all. Until it is on, nothing touches the network.
    pub enabled: bool,
    /// The kill switch: no network activity at all.
    pub network_off: bool,
    /// `manual` or `automatic`.
    pub mode: Mode,
    /// Daily windows for automatic sending, `HH:MM-HH:MM`.
    pub windows: Vec<String>,
    /// The windows' UTC offset, `+04:00`.
    pub utc_offset: String,
    /// A SOCKS5 proxy URL, or none for a direct connection.
    pub proxy: Option<String>,
    /// Never connect except through the proxy.
    pub require_proxy: bool,
}

/// The policy and where sync stands.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct PolicyInfo {
    /// The policy.
    pub policy: PolicyForm,
    /// Who set it last.
    pub set_by: SetBy,
    /// Whether this device is enrolled at an HQ server (knows its key).
    pub enrolled: bool,
    /// The HQ server's URL, if known.
    pub hq_url: Option<String>,
    /// The vault's role (sync is for field vaults; coordinators pull).
    pub role: Role,
}

/// `hq_enroll` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct EnrollRequest {
    /// The coordinator's one-time code (`YDE1-…`).
    pub code: String,
    /// The HQ server, e.g. `http://xxxx.onion:8440`.
    pub url: String,
}

/// `sync_start` arguments.
#[derive(Deserialize, Default, ts_rs::TS)]
pub struct SyncStartRequest {
    /// A SOCKS5 proxy for this run only (never drops a required proxy).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub proxy: Option<String>,
}

/// `travel_prepare` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct TravelPrepareRequest {
    /// The user confirmed that records will be removed from this laptop.
    pub confirmed: bool,
    /// How long to wait for headquarters' import receipts (seconds).
    pub wait_secs: u64,
    /// Touch no network: remove only what is already confirmed.
    #[serde(default)]
    pub offline: bool,
}

/// Longest validity of an enrollment code the app issues, in hours.
pub const INVITE_HOURS_MAX: u32 = 168;

/// `hq_pull` arguments.
#[derive(Deserialize, Default, ts_rs::TS)]
pub struct HqPullRequest {
    /// The HQ server (remembered after first use).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub url: Option<String>,
}

/// Which transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// The user pressed Send.
    Sync,
    /// The app sending on its own (automatic mode).
    AutoSync,
    /// Travel mode.
    Travel,
    /// A coordinator pulling from the HQ server.
    Pull,
    /// Enrolling at an HQ server.
    Enroll,
    /// A coordinator revoking a device (at the HQ server too, if known).
    Revoke,
}

/// A progress event of a transfer (Tauri event `sync-progress`).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct JobProgress {
    /// Which transfer.
    pub job: JobKind,
    /// What happened (`event`: exporting, uploading, received, waiting,
    /// removing, importing).
    #[serde(flatten)]
    pub event: Event,
}

/// What a pull did, for the window.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct PullSummary {
    /// Bundles imported.
    pub imported: usize,
    /// The ids of the bundles imported.
    pub bundles: Vec<String>,
    /// Bundles refused and left at the server, with why (one error each,
    /// its detail naming the bundle and the device).
    pub refused: Vec<ApiError>,
    /// Receipts sent back to the devices.
    pub receipts_posted: usize,
}

/// The end of a transfer (Tauri event `sync-finished`).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct JobFinished {
    /// Which transfer.
    pub job: JobKind,
    /// Whether it completed.
    pub ok: bool,
    /// Why not.
    pub error: Option<ApiError>,
    /// A sync's report.
    pub sync: Option<SyncReport>,
    /// Travel mode's report.
    pub travel: Option<travel::Report>,
    /// A pull's report.
    pub pull: Option<PullSummary>,
}

impl JobFinished {
    fn failed(job: JobKind, e: ApiError) -> JobFinished {
        JobFinished {
            job,
            ok: false,
            error: Some(e),
            sync: None,
            travel: None,
            pull: None,
        }
    }
    fn done(job: JobKind) -> JobFinished {
        JobFinished {
            job,
            ok: true,
            error: None,
            sync: None,
            travel: None,
            pull: None,
        }
    }
}

/// Where a transfer reports (the shell emits these to the window).
pub trait JobEvents: Send + Sync + 'static {
    /// Progress.
    fn progress(&self, p: &JobProgress);
    /// The end, after the vault is free again.
    fn finished(&self, f: &JobFinished);
}

fn form_of(p: &Policy) -> PolicyForm {
    PolicyForm {
        enabled: p.enabled,
        network_off: p.network_off,
        mode: p.mode,
        windows: p.windows.iter().map(ToString::to_string).collect(),
        utc_offset: format_utc_offset(p.utc_offset_minutes),
        proxy: p.proxy().map(str::to_owned),
        require_proxy: p.require_proxy,
    }
}

fn info_of(v: &Vault, p: &Policy) -> ApiResult<PolicyInfo> {
    Ok(PolicyInfo {
        policy: form_of(p),
        set_by: p.set_by,
        enrolled: v.setting(Setting::HqServerKey)?.is_some(),
        hq_url: v.setting(Setting::HqUrl)?,
        role: v.role(),
    })
}

/// The form as a policy, with every field checked (the outbox crate checks
/// the combination when saving).
fn policy_of(f: &PolicyForm, current: &Policy) -> ApiResult<Policy> {
    let windows = f
        .windows
        .iter()
        .map(|w| w.trim())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse::<Window>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::new(Code::PolicyInvalid, e.to_string()))?;
    let utc_offset_minutes = if f.utc_offset.trim().is_empty() {
        0
    } else {
        parse_utc_offset(&f.utc_offset)
            .map_err(|e| ApiError::new(Code::PolicyInvalid, e.to_string()))?
    };
    let route = match f.proxy.as_deref().map(str::trim) {
        None | Some("") => Route::Direct,
        Some(url) => Route::Proxy {
            url: url.to_owned(),
        },
    };
    Ok(Policy {
        enabled: f.enabled,
        network_off: f.network_off,
        mode: f.mode,
        windows,
        utc_offset_minutes,
        route,
        require_proxy: f.require_proxy,
        chunk_kib: current.chunk_kib,
        set_by: SetBy::User,
    })
}

fn field_only(v: &Vault, what: &str) -> ApiResult<()> {
    if v.role() != VaultRole::Field {
        return Err(ApiError::wrong_role(
            VaultRole::Field,
            format!("{what} is for field vaults; a coordinator pulls from the HQ server"),
        ));
    }
    Ok(())
}

fn coordinator_only(v: &Vault, what: &str) -> ApiResult<()> {
    if v.role() != VaultRole::Coordinator {
        return Err(ApiError::wrong_role(
            VaultRole::Coordinator,
            format!("{what} needs a coordinator vault"),
        ));
    }
    Ok(())
}

/// A refusal the app's own timer meets all the time (manual mode, outside
/// the windows, sync off, kill switch, nothing set up): not worth a word.
fn quiet_for_automatic(e: &OutboxError) -> bool {
    matches!(
        e,
        OutboxError::Refused(_)
            | OutboxError::NotEnrolled
            | OutboxError::NoServerUrl
            | OutboxError::NoTrust
            | OutboxError::NoServerKey(_)
            | OutboxError::WrongRole { .. }
            | OutboxError::BadProxy(_)
            | OutboxError::BadPolicy(_)
    )
}

impl AppState {
    pub(crate) fn job_running(&self) -> bool {
        lock_ignoring_poison(&self.job).is_some()
    }

    /// Sets the running transfer's stop flag. Returns whether one was running.
    pub(crate) fn cancel_job(&self) -> bool {
        match lock_ignoring_poison(&self.job).as_ref() {
            Some(j) => {
                j.cancel.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Registers a transfer, refusing a second one.
    fn begin_job(&self, kind: JobKind) -> ApiResult<Arc<AtomicBool>> {
        let mut slot = lock_ignoring_poison(&self.job);
        if slot.is_some() {
            return Err(ApiError::new(
                Code::Busy,
                "a transfer is already running: wait for it or cancel it",
            ));
        }
        let cancel = Arc::new(AtomicBool::new(false));
        *slot = Some(RunningJob {
            kind,
            cancel: Arc::clone(&cancel),
        });
        Ok(cancel)
    }

    /// Runs `work` on a background thread holding the vault, then reports.
    /// The vault is released (and dropped, if a lock came meanwhile) before
    /// `finished` is sent, so the window's refresh finds it free.
    fn spawn_job(
        &self,
        kind: JobKind,
        events: Arc<dyn JobEvents>,
        work: impl FnOnce(&mut Vault, &Arc<AtomicBool>, &mut dyn FnMut(&Event)) -> Option<JobFinished>
        + Send
        + 'static,
    ) -> ApiResult<()> {
        let cancel = self.begin_job(kind)?;
        let vault = Arc::clone(&self.vault);
        let job = Arc::clone(&self.job);
        let lock_requested = Arc::clone(&self.lock_requested);
        let thread_events = Arc::clone(&events);
        let spawned = std::thread::Builder::new()
            .name("yaddash-transfer".into())
            .spawn(move || {
                let finished = {
                    let mut guard = lock_ignoring_poison(&vault);
                    let finished = match guard.as_mut() {
                        Some(v) if !lock_requested.load(Ordering::SeqCst) => {
                            let ev = Arc::clone(&thread_events);
                            let mut on = |e: &Event| {
                                ev.progress(&JobProgress {
                                    job: kind,
                                    event: e.clone(),
                                })
                            };
                            work(v, &cancel, &mut on)
                        }
                        _ => Some(JobFinished::failed(kind, ApiError::locked())),
                    };
                    if lock_requested.swap(false, Ordering::SeqCst) {
                        crate::close_in_place(&mut guard);
                    }
                    finished
                };
                *lock_ignoring_poison(&job) = None;
                if let Some(f) = finished {
                    thread_events.finished(&f);
                }
            });
        if let Err(e) = spawned {
            *lock_ignoring_poison(&self.job) = None;
            return Err(ApiError::new(
                Code::Internal,
                format!("cannot start the transfer: {e}"),
            ));
        }
        Ok(())
    }

    // ----- commands ----------------------------------------------------------

    /// The safety policy and where sync stands. Touches no network.
    pub fn policy_get(&self) -> ApiResult<PolicyInfo> {
        self.with_vault(|v| {
            let p = yaddash_outbox::load_policy(v)?;
            info_of(v, &p)
        })
    }

    /// Saves the policy the user edited (checked by the outbox crate: a
    /// proxy URL must be SOCKS5 with a port, require-proxy needs a proxy).
    /// With the network switched off, any transfer in flight is stopped at
    /// once, before anything else.
    pub fn policy_set(&self, form: PolicyForm) -> ApiResult<PolicyInfo> {
        if form.network_off {
            self.cancel_job();
        }
        self.mark_activity();
        // Waits for a stopping transfer rather than refusing: the kill
        // switch must be saved.
        let mut guard = if form.network_off {
            lock_ignoring_poison(&self.vault)
        } else {
            self.vault_guard()?
        };
        let v = guard.as_mut().ok_or_else(ApiError::locked)?;
        let current = yaddash_outbox::load_policy(v)?;
        let p = policy_of(&form, &current)?;
        let p = yaddash_outbox::set_user_policy(v, p)?;
        info_of(v, &p)
    }

    /// Every bundle this device made, with its state (pending, partly
    /// sent, received, imported, handed over), size and bytes sent.
    pub fn outbox_list(&self) -> ApiResult<Vec<yaddash_outbox::Entry>> {
        self.with_vault(|v| Ok(yaddash_outbox::entries(v)?))
    }

    /// Field: joins the HQ server at `url` with a coordinator's one-time
    /// code. Joining is the user's decision to enable sync (within the
    /// rest of the policy: the kill switch and the route still apply).
    pub fn hq_enroll(&self, req: EnrollRequest) -> ApiResult<yaddash_outbox::Enrolled> {
        let code = req.code.trim().to_owned();
        let url = req.url.trim().to_owned();
        if code.is_empty() || url.is_empty() {
            return Err(ApiError::invalid(
                "enter the code from your coordinator and the server's address",
            ));
        }
        self.mark_activity();
        let cancel = self.begin_job(JobKind::Enroll)?;
        // On a thread of its own: the blocking HTTP client must not run (or
        // be dropped) on the async runtime's threads the shell's commands use.
        let r = std::thread::scope(|scope| {
            scope
                .spawn(|| self.enroll_now(&code, &url, &cancel))
                .join()
                .unwrap_or_else(|_| {
                    Err(ApiError::new(
                        Code::Internal,
                        "enrolling failed unexpectedly; nothing was changed",
                    ))
                })
        });
        *lock_ignoring_poison(&self.job) = None;
        r
    }

    fn enroll_now(
        &self,
        code: &str,
        url: &str,
        cancel: &Arc<AtomicBool>,
    ) -> ApiResult<yaddash_outbox::Enrolled> {
        {
            let mut guard = self.vault_guard()?;
            let v = guard.as_mut().ok_or_else(ApiError::locked)?;
            field_only(v, "enrolling at an HQ server")?;
            let r = yaddash_outbox::enroll(v, code, url, Arc::clone(cancel));
            // A lock during the enrollment: drop the vault now.
            if self.lock_requested.swap(false, Ordering::SeqCst) {
                crate::close_in_place(&mut guard);
            }
            Ok(r?)
        }
    }

    /// Coordinator: a one-time enrollment code for a new field device,
    /// valid for `valid_hours`. Local: touches no network.
    pub fn hq_invite(&self, req: InviteRequest) -> ApiResult<yaddash_coordinator::Invite> {
        if !(1..=INVITE_HOURS_MAX).contains(&req.valid_hours) {
            return Err(ApiError::invalid(
                "choose how long the code stays valid (1 hour to 7 days)",
            ));
        }
        self.with_vault(|v| {
            coordinator_only(v, "issuing enrollment codes")?;
            Ok(yaddash_coordinator::invite(
                v,
                i64::from(req.valid_hours) * 3600,
            )?)
        })
    }

    /// Coordinator: revokes a device from now on — in this vault always,
    /// then at the HQ server if the vault knows one, through the safety
    /// policy. A refusal or network failure there is in the answer
    /// (`server_error`), the local revocation stands.
    pub fn revoke_device(&self, req: RevokeDeviceRequest) -> ApiResult<DeviceRevoked> {
        self.with_vault(|v| coordinator_only(v, "revoking a device"))?;
        self.mark_activity();
        let cancel = self.begin_job(JobKind::Revoke)?;
        // On a thread of its own, as enrolling: the blocking HTTP client
        // must not run on the async runtime's threads.
        let r = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut guard = self.vault_guard()?;
                    let v = guard.as_mut().ok_or_else(ApiError::locked)?;
                    let r = yaddash_coordinator::revoke(
                        v,
                        req.device_id,
                        time::OffsetDateTime::now_utc(),
                        None,
                        Arc::clone(&cancel),
                    );
                    if self.lock_requested.swap(false, Ordering::SeqCst) {
                        crate::close_in_place(&mut guard);
                    }
                    Ok(r?)
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(ApiError::new(
                        Code::Internal,
                        "revoking failed unexpectedly; check the device list",
                    ))
                })
        });
        *lock_ignoring_poison(&self.job) = None;
        let r = r?;
        Ok(DeviceRevoked {
            device_id: r.device_id.to_string(),
            revoked_from: r.revoked_from,
            in_vault: r.in_vault,
            at_server: r.at_server,
            server_known: r.server_known,
            server_error: r.server_failure.map(ApiError::from),
        })
    }

    /// Field: Send now. Puts what is new in the outbox (encrypted), then —
    /// if the policy allows — uploads the outbox and fetches receipts, on a
    /// background thread; returns at once. Progress and the end come as
    /// [`JobEvents`].
    pub fn sync_start(&self, req: SyncStartRequest, events: Arc<dyn JobEvents>) -> ApiResult<()> {
        self.with_vault(|v| field_only(v, "sending to headquarters"))?;
        let proxy = req.proxy.filter(|p| !p.trim().is_empty());
        self.spawn_job(JobKind::Sync, events, move |v, cancel, on| {
            Some(match manual_sync(v, proxy.as_deref(), cancel, on) {
                Ok(r) => JobFinished {
                    sync: Some(r),
                    ..JobFinished::done(JobKind::Sync)
                },
                Err(e) => JobFinished::failed(JobKind::Sync, e),
            })
        })
    }

    /// The app's own timer: sends only if the policy allows sending on its
    /// own now (automatic mode, inside a window, sync on, network on). The
    /// decision is `yaddash_outbox::connect`'s, made before any socket
    /// exists. Returns whether a transfer started (a refusal is silent).
    pub fn sync_automatic(&self, events: Arc<dyn JobEvents>) -> ApiResult<bool> {
        if !self.is_unlocked() || self.job_running() {
            return Ok(false);
        }
        let started = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&started);
        let (tx, rx) = std::sync::mpsc::channel::<bool>();
        let tx = Mutex::new(tx);
        let r = self.spawn_job(JobKind::AutoSync, events, move |v, cancel, on| {
            if v.role() != VaultRole::Field {
                let _ = lock_ignoring_poison(&tx).send(false);
                return None;
            }
            let s = yaddash_outbox::connect(
                v,
                &Connect {
                    url: None,
                    proxy: None,
                    automatic: true,
                    cancel: Arc::clone(cancel),
                },
            );
            let s = match s {
                Ok(s) => s,
                Err(e) if quiet_for_automatic(&e) => {
                    let _ = lock_ignoring_poison(&tx).send(false);
                    return None;
                }
                Err(e) => {
                    let _ = lock_ignoring_poison(&tx).send(true);
                    return Some(JobFinished::failed(JobKind::AutoSync, e.into()));
                }
            };
            flag.store(true, Ordering::SeqCst);
            let _ = lock_ignoring_poison(&tx).send(true);
            Some(match yaddash_outbox::sync(v, &s, on) {
                Ok(r) => JobFinished {
                    sync: Some(r),
                    ..JobFinished::done(JobKind::AutoSync)
                },
                Err(e) => JobFinished::failed(JobKind::AutoSync, e.into()),
            })
        });
        match r {
            // Another transfer began meanwhile: nothing to do now.
            Err(e) if e.code == Code::Busy => return Ok(false),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        // The policy's answer, without waiting for the transfer itself.
        Ok(rx.recv().unwrap_or(false) || started.load(Ordering::SeqCst))
    }

    /// Stops the running transfer (the server keeps what it verified; the
    /// next sync resumes). Returns whether one was running.
    pub fn sync_cancel(&self) -> ApiResult<bool> {
        Ok(self.cancel_job())
    }

    /// The transfer running now, if any (needs no vault).
    pub fn sync_status(&self) -> ApiResult<Option<JobKind>> {
        Ok(lock_ignoring_poison(&self.job).as_ref().map(|j| j.kind))
    }

    /// Travel mode, without changing anything: what would be removed now,
    /// what stays and why. Touches no network.
    pub fn travel_status(&self) -> ApiResult<travel::Status> {
        self.with_vault(|v| {
            field_only(v, "travel mode")?;
            Ok(travel::status(v)?)
        })
    }

    /// Travel mode: send everything (unless `offline`), wait up to
    /// `wait_secs` for headquarters' import receipts, remove what
    /// headquarters confirmed holding, compact the vault. Needs
    /// `confirmed: true`. Runs in the background like `sync_start`.
    pub fn travel_prepare(
        &self,
        req: TravelPrepareRequest,
        events: Arc<dyn JobEvents>,
    ) -> ApiResult<()> {
        if !req.confirmed {
            return Err(ApiError::invalid(
                "travel mode removes records from this laptop: confirm first; nothing was removed",
            ));
        }
        if req.wait_secs > MAX_TRAVEL_WAIT_SECS {
            return Err(ApiError::invalid(format!(
                "wait at most {} minutes for the receipts",
                MAX_TRAVEL_WAIT_SECS / 60
            )));
        }
        self.with_vault(|v| field_only(v, "travel mode"))?;
        let opts = travel::Options {
            wait: Duration::from_secs(req.wait_secs),
            poll: TRAVEL_POLL,
        };
        let offline = req.offline;
        self.spawn_job(JobKind::Travel, events, move |v, cancel, on| {
            let mut run = || -> ApiResult<travel::Report> {
                let s = if offline {
                    None
                } else {
                    Some(yaddash_outbox::user_session(
                        v,
                        None,
                        None,
                        false,
                        Arc::clone(cancel),
                    )?)
                };
                Ok(travel::prepare(v, s.as_ref(), &opts, on)?)
            };
            Some(match run() {
                Ok(r) => JobFinished {
                    travel: Some(r),
                    ..JobFinished::done(JobKind::Travel)
                },
                Err(e) => JobFinished::failed(JobKind::Travel, e),
            })
        })
    }

    /// Coordinator: downloads new bundles from the HQ server, imports them,
    /// acknowledges them and sends the receipts back. In the background.
    pub fn hq_pull(&self, req: HqPullRequest, events: Arc<dyn JobEvents>) -> ApiResult<()> {
        self.with_vault(|v| coordinator_only(v, "pulling from the HQ server"))?;
        let url = req
            .url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        self.spawn_job(JobKind::Pull, events, move |v, cancel, on| {
            let mut run = || -> ApiResult<PullReport> {
                let s = yaddash_outbox::user_session(
                    v,
                    url.as_deref(),
                    None,
                    false,
                    Arc::clone(cancel),
                )?;
                Ok(yaddash_coordinator::pull(v, &s, on)?)
            };
            Some(match run() {
                Ok(r) => JobFinished {
                    pull: Some(PullSummary {
                        imported: r.imported.len(),
                        bundles: r.imported.iter().map(|b| b.bundle_id.clone()).collect(),
                        refused: r.refused.into_iter().map(refusal).collect(),
                        receipts_posted: r.receipts_posted,
                    }),
                    ..JobFinished::done(JobKind::Pull)
                },
                Err(e) => JobFinished::failed(JobKind::Pull, e),
            })
        })
    }
}

/// A bundle a pull refused, as the app shows it: the refusal's own code.
fn refusal(x: yaddash_coordinator::Refused) -> ApiError {
    let cause = x.cause.and_then(|c| std::sync::Arc::try_unwrap(c).ok());
    let mut e = match cause {
        Some(c) => ApiError::from(c),
        None => ApiError::new(Code::Internal, x.error.clone()),
    };
    e.detail = format!(
        "bundle {} (device {}): {}",
        x.bundle_id, x.device_id, e.detail
    );
    e
}

/// Send now ([`yaddash_outbox::send_now`]): a stopped send says which
/// bundle waits in the outbox.
fn manual_sync(
    v: &mut Vault,
    proxy: Option<&str>,
    cancel: &Arc<AtomicBool>,
    on: &mut dyn FnMut(&Event),
) -> ApiResult<SyncReport> {
    yaddash_outbox::send_now(v, None, proxy, Arc::clone(cancel), on).map_err(|e| {
        let note = e.waiting_note();
        let waiting = e.waiting;
        let mut api = ApiError::from(e.error);
        api.detail.push_str(&note);
        match waiting {
            // The app adds "bundle N waits in the outbox" to any code's sentence.
            Some(seq) => api.with("waiting", seq),
            None => api,
        }
    })
}
