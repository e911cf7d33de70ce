//! The panic shortcut and what every lock does to the window.
//!
//! * **Ctrl+Alt+Shift+L anywhere on an X11 desktop** (a key grab on the root
//!   window through `tauri-plugin-global-shortcut`): it fires whichever
//!   window has the focus, this one or another program's. A rare chord on
//!   purpose: a grab takes the keys away from every other program, and the
//!   common Ctrl+Alt+L locks the screen on KDE, Xfce and Cinnamon.
//! * **`SIGUSR1`** (`pkill -USR1 -x yaddash-app`): the same action, for a
//!   Wayland desktop, where no program may grab keys for itself: the user
//!   binds that command to a key in the desktop's own shortcut settings.
//!
//! The action is the user's choice ([`PanicAction`]): lock and hide
//! (default) or quick delete. Inside the window Ctrl+Shift+L always locks
//! and hides (the front end handles it), never deletes.
//!
//! Every lock, whatever started it (the button, the idle clock, the panic
//! shortcut), also ends the web process that showed the vault's content
//! and loads the app in a fresh one ([`forget_web_content`]): a JavaScript
//! engine frees strings when its garbage collector decides to, and never
//! overwrites them, so clearing the page is not enough.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewWindow};
use tauri_plugin_global_shortcut::{
    Code, GlobalShortcutExt, Modifiers, Shortcut, ShortcutEvent, ShortcutState,
};
use yaddash_api::AppState;

use crate::LOCKED_EVENT;

/// The panic shortcut as the documentation and the Settings screen show it.
pub const PANIC_SHORTCUT_LABEL: &str = "Ctrl+Alt+Shift+L";

/// The panic shortcut.
pub fn panic_shortcut() -> Shortcut {
    Shortcut::new(
        Some(Modifiers::CONTROL | Modifiers::ALT | Modifiers::SHIFT),
        Code::KeyL,
    )
}

pub use yaddash_api::{GlobalShortcutStatus, PanicAction, PanicInfo};

/// Whether [`quick_delete`] destroys the vault in this build.
pub const QUICK_DELETE_AVAILABLE: bool = true;

/// The panic settings of this run of the app.
pub struct PanicState {
    action: AtomicU8,
    global: Mutex<GlobalShortcutStatus>,
}

impl Default for PanicState {
    fn default() -> Self {
        PanicState {
            action: AtomicU8::new(0),
            global: Mutex::new(GlobalShortcutStatus::Unavailable),
        }
    }
}

impl PanicState {
    /// The chosen action.
    pub fn action(&self) -> PanicAction {
        match self.action.load(Ordering::SeqCst) {
            1 => PanicAction::QuickDelete,
            _ => PanicAction::LockAndHide,
        }
    }

    /// Chooses the action (the front end keeps the choice of this computer
    /// and sets it again at every start, like the idle time).
    pub fn set_action(&self, action: PanicAction) {
        let v = match action {
            PanicAction::QuickDelete if QUICK_DELETE_AVAILABLE => 1,
            _ => 0,
        };
        self.action.store(v, Ordering::SeqCst);
    }

    /// The action, the shortcut and whether it works outside the window.
    pub fn info(&self) -> PanicInfo {
        PanicInfo {
            action: self.action(),
            shortcut: PANIC_SHORTCUT_LABEL,
            global: *self.global.lock().unwrap_or_else(|e| e.into_inner()),
            quick_delete_available: QUICK_DELETE_AVAILABLE,
        }
    }
}

/// A Wayland session, where the window itself is a Wayland client: key
/// grabs through XWayland see keys only while an X11 window has the focus.
fn wayland_session() -> bool {
    let set = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
    let gdk_x11 = std::env::var("GDK_BACKEND").is_ok_and(|b| b.starts_with("x11"));
    set("WAYLAND_DISPLAY") && !gdk_x11
}

/// Grabs the panic shortcut and installs the `SIGUSR1` handler. Never
/// fails the start: without a grab the app still locks from the window,
/// the signal and the idle clock, and Settings says so.
pub fn install<R: Runtime>(app: &AppHandle<R>) {
    let status = if wayland_session() {
        GlobalShortcutStatus::Wayland
    } else if std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
        GlobalShortcutStatus::Unavailable
    } else {
        let handler = |app: &AppHandle<R>, _: &Shortcut, event: ShortcutEvent| {
            if event.state == ShortcutState::Pressed {
                run_panic(app);
            }
        };
        match app.global_shortcut().on_shortcut(panic_shortcut(), handler) {
            Ok(()) => GlobalShortcutStatus::Active,
            Err(e) => {
                eprintln!(
                    "yaddash: the panic shortcut {PANIC_SHORTCUT_LABEL} is not available: {e}"
                );
                GlobalShortcutStatus::Unavailable
            }
        }
    };
    *app.state::<PanicState>()
        .global
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = status;

    let handle = app.clone();
    glib::unix_signal_add(libc::SIGUSR1, move || {
        run_panic(&handle);
        glib::ControlFlow::Continue
    });
}

/// The panic action the user chose.
pub fn run_panic<R: Runtime>(app: &AppHandle<R>) {
    match app.state::<PanicState>().action() {
        PanicAction::LockAndHide => {}
        PanicAction::QuickDelete => quick_delete(app),
    }
    lock_and_hide(app);
}

/// QUICK DELETE: the one call site of the vault's destruction for the
/// panic shortcut (`yaddash_api`'s quick delete: crypto-erase, then the
/// rest). [`run_panic`] then locks and hides; the fresh page finds no vault
/// and shows the first run, as after a fresh install.
fn quick_delete<R: Runtime>(app: &AppHandle<R>) {
    if let Err(e) = app.state::<AppState>().destroy_vault() {
        // The message names a step and a path, never content.
        eprintln!("yaddash: quick delete from the panic shortcut failed: {e}");
    }
}

/// Locks, forgets the screen and gets the window out of sight.
pub fn lock_and_hide<R: Runtime>(app: &AppHandle<R>) {
    let _ = app.state::<AppState>().lock();
    let _ = app.emit(LOCKED_EVENT, ());
    for window in app.webview_windows().values() {
        // Locking is what matters; a window manager may refuse to minimise.
        let _ = window.minimize();
    }
    forget_all_web_content(app);
}

/// [`forget_web_content`] for every webview of the app.
pub fn forget_all_web_content<R: Runtime>(app: &AppHandle<R>) {
    for window in app.webview_windows().values() {
        forget_web_content(window);
    }
}

/// TEST ONLY (the `test-hooks` feature, scripts/test-ui.sh): with this
/// variable set to 1 a lock reloads the page in the same web process
/// instead of ending it, because WebKitWebDriver loses its session when the
/// page's process ends. A build without the feature ignores it.
pub const ENV_TEST_KEEP_WEB_PROCESS: &str = "YADDASH_TEST_KEEP_WEB_PROCESS";

fn end_web_process_on_lock() -> bool {
    !(cfg!(feature = "test-hooks")
        && std::env::var_os(ENV_TEST_KEEP_WEB_PROCESS).is_some_and(|v| v == "1"))
}

/// Ends the webview's web process (its whole JavaScript heap, DOM and
/// caches of decoded images go with it) and loads the app again in a
/// fresh one, which starts at the unlock screen.
pub fn forget_web_content<R: Runtime>(window: &WebviewWindow<R>) {
    let end_process = end_web_process_on_lock();
    let _ = window.with_webview(move |platform| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::WebViewExt;
            let view = platform.inner();
            if end_process {
                view.terminate_web_process();
            }
            view.reload();
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (platform, end_process);
    });
}
