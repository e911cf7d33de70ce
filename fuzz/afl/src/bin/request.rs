//! AFL++ entry point for `yaddash_fuzz::request` (see docs/fuzzing.md).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        yaddash_fuzz::request(data);
    });
}
