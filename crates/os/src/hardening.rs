//! Process hardening: what a crash or another program of the same user may
//! read of this process's memory, and who may read the files it creates.

use rustix::fs::Mode;
use rustix::process::{
    DumpableBehavior, Resource, Rlimit, dumpable_behavior, getrlimit, set_dumpable_behavior,
    setrlimit, umask,
};

/// What [`harden_process`] achieved, read back from the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardening {
    /// The core-file size limit (soft, hard) is zero: a crash writes no
    /// image of decrypted memory to disk.
    pub no_core_dumps: bool,
    /// `PR_SET_DUMPABLE` is off: no core dump, and other processes of the
    /// same user cannot ptrace this one or read its `/proc/PID/mem`.
    pub not_dumpable: bool,
    /// The umask is 077: files and directories this process creates
    /// (vault files, exports, saved bundles) are private to its user.
    pub private_umask: bool,
}

impl Hardening {
    /// True when every protection is in place.
    pub fn complete(&self) -> bool {
        self.no_core_dumps && self.not_dumpable && self.private_umask
    }
}

/// The umask every Yaddash process uses.
pub const PRIVATE_UMASK: u32 = 0o077;

/// Hardens the current process (see [`Hardening`]) and reports what holds.
/// Call it first in `main`, before any thread starts (the umask is
/// process-wide). Failures are not fatal: a kernel that refuses one setting
/// still gets the others, and the caller can report [`Hardening`].
///
/// Child processes inherit the core limit and the umask; the dumpable flag
/// is reset by `execve` (the desktop app's WebKit processes), which is why
/// the core limit is set too.
pub fn harden_process() -> Hardening {
    umask(Mode::from_raw_mode(PRIVATE_UMASK));
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
    hardening_state()
}

/// Reads the current state without changing it (the umask is read by
/// setting it and putting it back, the only way POSIX offers).
pub fn hardening_state() -> Hardening {
    let core = getrlimit(Resource::Core);
    let no_core_dumps = core.current == Some(0) && core.maximum == Some(0);
    let not_dumpable = matches!(dumpable_behavior(), Ok(DumpableBehavior::NotDumpable));
    let old = umask(Mode::from_raw_mode(PRIVATE_UMASK));
    umask(old);
    Hardening {
        no_core_dumps,
        not_dumpable,
        private_umask: old.bits() & 0o777 == PRIVATE_UMASK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harden_process_sets_everything_and_reads_it_back() {
        // The test binary runs its tests on threads of one process: what is
        // set here applies to all of them, which is harmless for this crate.
        let h = harden_process();
        assert!(h.no_core_dumps, "{h:?}");
        assert!(h.not_dumpable, "{h:?}");
        assert!(h.private_umask, "{h:?}");
        assert!(h.complete());
        assert_eq!(hardening_state(), h);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
