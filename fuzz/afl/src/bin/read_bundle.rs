//! AFL++ entry point for `yaddash_fuzz::read_bundle` (see docs/fuzzing.md).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        yaddash_fuzz::read_bundle(data);
    });
}
