//! AFL++ entry point for `yaddash_fuzz::receipt` (see docs/fuzzing.md).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        yaddash_fuzz::receipt(data);
    });
}
