//! The Yaddash desktop app's shell: the window, the security settings, the
//! attachment protocol and the idle lock. Every command is a one-line call
//! into `yaddash_api` (see `commands.rs`); the list of commands lives in one
//! place, `command_list.rs`.
#![forbid(unsafe_code)]

#[macro_use]
mod command_list;
mod commands;
pub mod panic;
mod protocol;

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager};
use yaddash_api::{AUTO_SYNC_EVERY, AppState, Config, JobEvents, JobFinished, JobProgress};

pub use protocol::SCHEME as ATTACHMENT_SCHEME;

macro_rules! names {
    ($($command:ident),* $(,)?) => {
        &[$(stringify!($command)),*]
    };
}

/// Every command the app registers (and declares in its manifest).
pub const COMMAND_NAMES: &[&str] = with_app_commands!(names);

macro_rules! handler {
    ($($command:ident),* $(,)?) => {
        tauri::generate_handler![$(commands::$command),*]
    };
}

/// The event sent to the window when the vault locked itself.
pub const LOCKED_EVENT: &str = "vault-locked";

/// The event carrying a transfer's progress (`JobProgress`).
pub const SYNC_PROGRESS_EVENT: &str = "sync-progress";
/// The event sent when a transfer ends (`JobFinished`).
pub const SYNC_FINISHED_EVENT: &str = "sync-finished";

/// Sends a transfer's progress and end to the window.
pub(crate) struct WindowEvents(pub AppHandle);

impl JobEvents for WindowEvents {
    fn progress(&self, p: &JobProgress) {
        let _ = self.0.emit(SYNC_PROGRESS_EVENT, p);
    }
    fn finished(&self, f: &JobFinished) {
        let _ = self.0.emit(SYNC_FINISHED_EVENT, f);
    }
}

/// How often the idle clock is checked.
const IDLE_CHECK_EVERY: Duration = Duration::from_secs(5);

/// Builds and runs the app until its window closes.
pub fn run() {
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(AppState::new(Config::from_env()))
        .manage(panic::PanicState::default())
        // No shortcut here: a grab that fails must not stop the app
        // starting; panic::install grabs it and reports the outcome.
        .plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .register_asynchronous_uri_scheme_protocol(protocol::SCHEME, protocol::handle)
        .invoke_handler(with_app_commands!(handler))
        .setup(|app| {
            panic::install(app.handle());
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("idle-lock".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(IDLE_CHECK_EVERY);
                        let state = handle.state::<AppState>();
                        if state.lock_if_idle(state.idle_limit()) {
                            let _ = handle.emit(LOCKED_EVENT, ());
                            panic::forget_all_web_content(&handle);
                        }
                    }
                })?;
            // Automatic mode: offer a send every few minutes while the vault
            // is unlocked. The policy (yaddash_outbox::connect) decides; in
            // manual mode, with sync never enabled or the kill switch on,
            // nothing touches the network.
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("auto-sync".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(AUTO_SYNC_EVERY);
                        let state = handle.state::<AppState>();
                        let events = std::sync::Arc::new(WindowEvents(handle.clone()));
                        let _ = state.sync_automatic(events);
                    }
                })?;
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window locks the vault before the process exits.
            if let tauri::WindowEvent::CloseRequested { .. } = event {
                let _ = window.state::<AppState>().lock();
            }
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("yaddash: the app could not start: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests;
