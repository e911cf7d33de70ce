//! Unit-test helpers shared with `yaddash-coordinator`'s tests (feature
//! `test-support`; never in a release build of the app or the CLI).
#![allow(missing_docs, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use yaddash_bundle::yaddash_wire::SigningKey;
use yaddash_sync::Client;
use yaddash_vault::{CreateOptions, Vault, VaultRole};

use crate::{Route, Session};

/// A fake HQ server (this is a unit test) that answers every request
/// with `page`, counting them; after `cap` requests it answers `last`,
/// so a client that never stops shows up as a count, not a hang.
pub fn stuck_server(
    page: &'static str,
    last: &'static str,
    cap: usize,
) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            let text = if n > cap { last } else { page };
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (url, count)
}

pub fn vault(dir: &Path, role: VaultRole) -> Vault {
    let (v, _) = Vault::create(
        dir,
        &"correct horse battery".to_string().into(),
        &CreateOptions {
            role,
            kdf_work_factor: 10,
        },
    )
    .unwrap();
    v
}

pub fn session(url: &str, vault: &Vault) -> Session {
    let key = SigningKey::generate();
    Session {
        client: Client::new(url, vault.device_id(), &key).unwrap(),
        route: Route::Direct,
        cancel: Arc::default(),
    }
}
