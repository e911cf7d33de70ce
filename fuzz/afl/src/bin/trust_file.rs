//! AFL++ entry point for `yaddash_fuzz::trust_file` (see docs/fuzzing.md).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        yaddash_fuzz::trust_file(data);
    });
}
