//! Declares the app's own commands in the app manifest so that Tauri's ACL
//! checks every call against the capabilities (capabilities/main.json).

use std::path::Path;

include!("src/command_list.rs");

macro_rules! names {
    ($($command:ident),* $(,)?) => {
        &[$(stringify!($command)),*]
    };
}

const COMMANDS: &[&str] = with_app_commands!(names);

fn main() {
    ensure_frontend_dist();
    println!("cargo:rerun-if-changed=src/command_list.rs");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}

/// `tauri::generate_context!` embeds ui/dist and refuses to compile without
/// it. So that `cargo build`/`clippy` of the workspace works before the front
/// end is built, a placeholder page is written when ui/dist is missing;
/// scripts/run-app.sh and scripts/test-ui.sh always build the real one first.
fn ensure_frontend_dist() {
    let dist = Path::new("../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist");
    if dist.join("index.html").is_file() {
        return;
    }
    println!(
        "cargo:warning=ui/dist is missing: embedding a placeholder page (run `npm --prefix ui run build`)"
    );
    let page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Yaddash</title></head>\
<body><p>The Yaddash front end was not built. Run <code>npm --prefix ui run build</code>, \
then rebuild the app.</p></body></html>\n";
    if let Err(e) =
        std::fs::create_dir_all(dist).and_then(|()| std::fs::write(dist.join("index.html"), page))
    {
        panic!("cannot write the placeholder ui/dist/index.html: {e}");
    }
}
