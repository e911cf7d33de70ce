//! The Yaddash desktop app.
#![forbid(unsafe_code)]
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The same hardening as the CLI, before any thread or WebKit process
    // starts: no core dumps (inherited by the web processes), not
    // dumpable, private files (umask 077) for exports and saved bundles.
    yaddash_os::harden_process();
    yaddash_app::run();
}
