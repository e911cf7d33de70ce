//! The Yaddash desktop app.
#![forbid(unsafe_code)]
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // First, before any thread: start again with glibc filling freed memory
    // (and WebKit allocating through glibc), in this process and in the
    // WebKit processes, so that copies of a passphrase or of testimony that
    // libraries made on their way do not outlive the lock (yaddash_os::scrub).
    if let Err(e) = yaddash_os::exec_with_scrubbing_malloc() {
        eprintln!("yaddash: could not start with freed memory scrubbed ({e}); going on without");
    }
    // The same hardening as the CLI, before any thread or WebKit process
    // starts: no core dumps (inherited by the web processes), not
    // dumpable, private files (umask 077) for exports and saved bundles.
    yaddash_os::harden_process();
    yaddash_app::run();
}
