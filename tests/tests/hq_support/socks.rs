//! A real SOCKS5 proxy (RFC 1928, CONNECT, no authentication) for the sync
//! tests, on loopback. It records every CONNECT (address type and target),
//! resolves only the names it is given (so a name it knows is unresolvable
//! anywhere else), counts the bytes clients send through it, and can cut
//! each connection after a random number of bytes.
//!
//! Also a counting TCP forwarder, to prove that no connection reached a
//! server.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One CONNECT request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// 1 = IPv4, 3 = domain name, 4 = IPv6.
    pub atyp: u8,
    /// The host as sent (a name or an address).
    pub host: String,
    /// The port.
    pub port: u16,
}

/// The proxy.
pub struct Socks {
    pub addr: SocketAddr,
    pub connects: Arc<Mutex<Vec<Connect>>>,
    /// Bytes clients sent through (after the SOCKS handshake).
    pub up_bytes: Arc<AtomicU64>,
    /// Connections cut.
    pub cuts: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

fn read_exact(s: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; n];
    s.read_exact(&mut b).ok()?;
    Some(b)
}

impl Socks {
    /// `names` maps the names this proxy resolves; `cut` is an inclusive
    /// range of client bytes after which each connection is cut.
    pub fn start(names: HashMap<String, SocketAddr>, cut: Option<(u64, u64)>) -> Socks {
        Self::start_with(names, cut, Duration::ZERO)
    }

    /// A slow link: the proxy pauses `delay` after relaying each read
    /// (at most 16 KiB) from a client.
    pub fn start_slow(delay: Duration) -> Socks {
        Self::start_with(HashMap::new(), None, delay)
    }

    fn start_with(
        names: HashMap<String, SocketAddr>,
        cut: Option<(u64, u64)>,
        delay: Duration,
    ) -> Socks {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind socks");
        let addr = listener.local_addr().expect("addr");
        let connects = Arc::new(Mutex::new(Vec::new()));
        let up_bytes = Arc::new(AtomicU64::new(0));
        let cuts = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c2, u2, k2, s2) = (
            Arc::clone(&connects),
            Arc::clone(&up_bytes),
            Arc::clone(&cuts),
            Arc::clone(&stop),
        );
        let names = Arc::new(names);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let (connects, up, cuts, names) = (
                    Arc::clone(&c2),
                    Arc::clone(&u2),
                    Arc::clone(&k2),
                    Arc::clone(&names),
                );
                std::thread::spawn(move || {
                    handle(client, &names, &connects, &up, &cuts, cut, delay);
                });
            }
        });
        Socks {
            addr,
            connects,
            up_bytes,
            cuts,
            stop,
        }
    }

    /// `socks5h://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("socks5h://{}", self.addr)
    }

    pub fn connects(&self) -> Vec<Connect> {
        self.connects.lock().expect("lock").clone()
    }
}

impl Drop for Socks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn handle(
    mut client: TcpStream,
    names: &HashMap<String, SocketAddr>,
    connects: &Mutex<Vec<Connect>>,
    up: &Arc<AtomicU64>,
    cuts: &Arc<AtomicU64>,
    cut: Option<(u64, u64)>,
    delay: Duration,
) -> Option<()> {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let hello = read_exact(&mut client, 2)?;
    if hello[0] != 5 {
        return None;
    }
    let methods = read_exact(&mut client, hello[1] as usize)?;
    if !methods.contains(&0) {
        client.write_all(&[5, 0xff]).ok()?;
        return None;
    }
    client.write_all(&[5, 0]).ok()?;
    let req = read_exact(&mut client, 4)?;
    if req[0] != 5 || req[1] != 1 {
        client.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]).ok()?;
        return None;
    }
    let atyp = req[3];
    let host = match atyp {
        1 => {
            let b = read_exact(&mut client, 4)?;
            Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()
        }
        3 => {
            let n = read_exact(&mut client, 1)?[0] as usize;
            String::from_utf8(read_exact(&mut client, n)?).ok()?
        }
        4 => {
            let b = read_exact(&mut client, 16)?;
            let a: [u8; 16] = b.try_into().ok()?;
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => return None,
    };
    let p = read_exact(&mut client, 2)?;
    let port = u16::from_be_bytes([p[0], p[1]]);
    connects.lock().ok()?.push(Connect {
        atyp,
        host: host.clone(),
        port,
    });
    let target: Option<SocketAddr> = match atyp {
        3 => names.get(&host).map(|a| SocketAddr::new(a.ip(), port)),
        _ => format!("{host}:{port}").parse().ok(),
    };
    let upstream = target.and_then(|t| TcpStream::connect_timeout(&t, Duration::from_secs(5)).ok());
    let Some(upstream) = upstream else {
        // 4: host unreachable.
        client.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]).ok()?;
        return None;
    };
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).ok()?;
    let budget = cut.map(|(lo, hi)| lo + rand::random::<u64>() % (hi - lo + 1));
    let _ = client.set_read_timeout(None);
    let (mut c_r, mut u_w) = (client.try_clone().ok()?, upstream.try_clone().ok()?);
    let (mut u_r, mut c_w) = (upstream, client);
    let up = Arc::clone(up);
    let cuts = Arc::clone(cuts);
    let t = std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent = 0u64;
        loop {
            let n = match c_r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut n = n as u64;
            let mut cut_now = false;
            if let Some(b) = budget
                && sent + n >= b
            {
                n = b - sent;
                cut_now = true;
            }
            if u_w.write_all(&buf[..n as usize]).is_err() {
                break;
            }
            up.fetch_add(n, Ordering::SeqCst);
            sent += n;
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            if cut_now {
                cuts.fetch_add(1, Ordering::SeqCst);
                let _ = c_r.shutdown(Shutdown::Both);
                let _ = u_w.shutdown(Shutdown::Both);
                return;
            }
        }
        let _ = u_w.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match u_r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if c_w.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = c_w.shutdown(Shutdown::Both);
    let _ = t.join();
    Some(())
}

/// A TCP forwarder to `upstream` that counts the connections it accepts.
pub struct Counter {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Counter {
    pub fn start(upstream: SocketAddr) -> Counter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind counter");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a2, s2) = (Arc::clone(&accepted), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                a2.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Write);
                    });
                }
            }
        });
        Counter {
            addr,
            accepted,
            stop,
        }
    }

    pub fn count(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// A loopback port with nothing listening.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let p = l.local_addr().expect("addr").port();
    drop(l);
    p
}
