//! Freed memory overwritten at once, in this process and in the processes it
//! starts (the desktop app's WebKit processes).
//!
//! A secret that was copied on its way through libraries (an IPC buffer, a
//! JSON value, SQLite's page cache, WebKit's message buffers) is freed but
//! not erased: its bytes stay in the heap until that memory is used again,
//! and an image of the process taken after the lock finds them. Zeroizing
//! our own buffers cannot reach those copies. glibc can: with the tunable
//! `glibc.malloc.perturb` it fills every chunk with a byte as it is freed,
//! and with `glibc.malloc.tcache_count=0` no free takes the per-thread cache
//! path that skips the filling. WebKit allocates through its own allocator
//! (bmalloc/libpas) unless `Malloc=1` sends it to the system one.
//!
//! Tunables are read when a program starts, so [`exec_with_scrubbing_malloc`]
//! starts the program again (the same executable, arguments and process id)
//! with them set. The cost is a slower `malloc`/`free` (no per-thread cache,
//! every freed byte written once), small for an app that waits on a person.
//! Other C libraries (musl) ignore the variables: there the guarantee is
//! only what the app zeroizes itself.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Set in the environment of a process started with the scrubbing
/// allocator settings (so that it does not start itself again).
pub const SCRUB_MARK: &str = "YADDASH_FREED_MEMORY_SCRUBBED";

/// The glibc tunables that fill freed memory: the byte 0xA5 (any non-zero
/// byte; zero would also fill new allocations with 0xFF), no thread cache.
pub const SCRUB_TUNABLES: &str = "glibc.malloc.perturb=165:glibc.malloc.tcache_count=0";

/// Whether this process was started with the scrubbing settings.
pub fn freed_memory_scrubbed() -> bool {
    std::env::var_os(SCRUB_MARK).is_some_and(|v| v == "1")
}

/// The environment the program is started again with: the existing
/// `GLIBC_TUNABLES` (if any) followed by [`SCRUB_TUNABLES`], WebKit on the
/// system allocator, and the mark.
pub fn scrub_environment(existing_tunables: Option<OsString>) -> Vec<(&'static str, OsString)> {
    let tunables = match existing_tunables.filter(|t| !t.is_empty()) {
        Some(mut t) => {
            t.push(":");
            t.push(SCRUB_TUNABLES);
            t
        }
        None => OsString::from(SCRUB_TUNABLES),
    };
    vec![
        ("GLIBC_TUNABLES", tunables),
        ("Malloc", OsString::from("1")),
        (SCRUB_MARK, OsString::from("1")),
    ]
}

/// Starts this program again (same executable, arguments, process id) with
/// the scrubbing allocator settings, unless it already runs with them. Call
/// it first in `main`, before any thread starts and before
/// [`crate::harden_process`] (starting again resets the dumpable flag).
/// Returns only if starting again failed; the caller then runs on without
/// the scrubbing (and may say so).
pub fn exec_with_scrubbing_malloc() -> io::Result<()> {
    if freed_memory_scrubbed() {
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    let mut cmd = Command::new(&exe);
    cmd.arg0(argv0).args(args);
    for (k, v) in scrub_environment(std::env::var_os("GLIBC_TUNABLES")) {
        cmd.env(k, v);
    }
    Err(cmd.exec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunables_are_appended_to_existing_ones() {
        let env = scrub_environment(Some(OsString::from("glibc.malloc.arena_max=2")));
        assert_eq!(
            env[0],
            (
                "GLIBC_TUNABLES",
                OsString::from(format!("glibc.malloc.arena_max=2:{SCRUB_TUNABLES}"))
            )
        );
        let env = scrub_environment(None);
        assert_eq!(env[0].1, OsString::from(SCRUB_TUNABLES));
        assert!(env.contains(&("Malloc", OsString::from("1"))));
        assert!(env.contains(&(SCRUB_MARK, OsString::from("1"))));
    }
}
