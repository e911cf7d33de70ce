//! Copies the font of the PDF report into the build, so the binary needs no
//! font at run time and every machine draws the report the same way.
//!
//! The font is DejaVu Sans from Debian's `fonts-dejavu-core` (installed by
//! `scripts/dev setup`); it covers Azerbaijani Latin (ə ğ ı ş İ …), Cyrillic
//! (including Ә Ғ Һ Ҹ Ү Ө Ј) and Latin, and its licence allows embedding.
//! Another TrueType (glyf) font can be named with `YADDASH_REPORT_FONT`.

use std::path::PathBuf;

const DEFAULT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

fn main() {
    println!("cargo:rerun-if-env-changed=YADDASH_REPORT_FONT");
    let font = std::env::var_os("YADDASH_REPORT_FONT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT));
    println!("cargo:rerun-if-changed={}", font.display());
    let bytes = match std::fs::read(&font) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "error: the PDF report's font {} cannot be read ({e}).\n\
                 Install it with `apt-get install fonts-dejavu-core` (scripts/dev setup does),\n\
                 or set YADDASH_REPORT_FONT to a TrueType font covering Azerbaijani and Cyrillic.",
                font.display()
            );
            std::process::exit(1);
        }
    };
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("report-font.ttf");
    if let Err(e) = std::fs::write(&out, bytes) {
        eprintln!("error: writing {}: {e}", out.display());
        std::process::exit(1);
    }
}
