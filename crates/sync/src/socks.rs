//! A SOCKS5 client (RFC 1928, CONNECT, no authentication) and a local
//! bridge.
//!
//! The HTTP client connects only to the bridge: on Unix a socket in a fresh
//! directory only this user can enter (mode 0700), so no other local user
//! can push traffic through it; elsewhere a loopback TCP port. Through a
//! proxy, for every connection the bridge opens a SOCKS5 tunnel to the one
//! HQ host and port, sending the **name** (address type 3) so the proxy
//! resolves it, and relays bytes; it only ever connects to the proxy, so
//! there is no code path that reaches the server directly. (reqwest 0.13's
//! own SOCKS support only works when built with TLS.) On a direct route the
//! bridge connects to the server itself.
//!
//! Either way the bridge holds every live connection, so setting the stop
//! flag (kill switch, Cancel, lock) cuts them within 50 ms — even a request
//! that is waiting for the server's answer, which the blocking HTTP client
//! could not otherwise abandon.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a tunnel failed, kept for the error message the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelError {
    /// The proxy itself cannot be reached.
    ProxyDown(String),
    /// The proxy answered but could not reach the server, or (direct) the
    /// server could not be reached.
    Refused(String),
}

/// Where the bridge sends connections.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// Through the SOCKS5 proxy at `host:port`.
    Socks(String),
    /// Straight to the server.
    Direct,
}

fn direct(host: &str, port: u16) -> Result<TcpStream, TunnelError> {
    let addrs: Vec<SocketAddr> = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| TunnelError::Refused(format!("cannot resolve {host}: {e}")))?
        .collect();
    let mut last = format!("no address for {host}");
    for a in addrs {
        match TcpStream::connect_timeout(&a, Duration::from_secs(30)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e.to_string(),
        }
    }
    Err(TunnelError::Refused(last))
}

fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "not allowed by the proxy's rules",
        3 => "network unreachable",
        4 => "host unreachable (is the onion address or name right?)",
        5 => "connection refused by the server",
        6 => "time-to-live expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

fn proxy_addrs(proxy: &str) -> io::Result<Vec<SocketAddr>> {
    Ok(proxy.to_socket_addrs()?.collect())
}

/// Opens a tunnel to `host:port` through the SOCKS5 proxy at `proxy`
/// (`host:port` of the proxy).
pub fn tunnel(proxy: &str, host: &str, port: u16) -> Result<TcpStream, TunnelError> {
    let down = |e: String| TunnelError::ProxyDown(e);
    let mut last = String::from("no address");
    let mut stream = None;
    for a in proxy_addrs(proxy).map_err(|e| down(e.to_string()))? {
        match TcpStream::connect_timeout(&a, Duration::from_secs(10)) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = e.to_string(),
        }
    }
    let mut s = stream.ok_or_else(|| down(last))?;
    // Tor may take a while to build a circuit.
    let _ = s.set_read_timeout(Some(Duration::from_secs(120)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(30)));
    let io = |e: io::Error| TunnelError::ProxyDown(format!("SOCKS5 handshake failed: {e}"));
    s.write_all(&[5, 1, 0]).map_err(io)?;
    let mut neg = [0u8; 2];
    s.read_exact(&mut neg).map_err(io)?;
    if neg != [5, 0] {
        return Err(TunnelError::ProxyDown(
            "the proxy does not speak SOCKS5 without a password".into(),
        ));
    }
    let mut req = vec![5u8, 1, 0];
    match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            req.push(1);
            req.extend_from_slice(&ip.octets());
        }
        Ok(IpAddr::V6(ip)) => {
            req.push(4);
            req.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let name = host.as_bytes();
            let len = u8::try_from(name.len())
                .map_err(|_| TunnelError::Refused("the server name is too long".into()))?;
            req.push(3);
            req.push(len);
            req.extend_from_slice(name);
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).map_err(io)?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).map_err(io)?;
    if head[0] != 5 {
        return Err(TunnelError::ProxyDown("not a SOCKS5 answer".into()));
    }
    if head[1] != 0 {
        return Err(TunnelError::Refused(format!(
            "the proxy could not reach the server: {}",
            reply_text(head[1])
        )));
    }
    let rest = match head[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut l = [0u8; 1];
            s.read_exact(&mut l).map_err(io)?;
            l[0] as usize + 2
        }
        _ => return Err(TunnelError::ProxyDown("bad SOCKS5 answer".into())),
    };
    let mut skip = vec![0u8; rest];
    s.read_exact(&mut skip).map_err(io)?;
    let _ = s.set_read_timeout(None);
    let _ = s.set_write_timeout(None);
    Ok(s)
}

/// Where the HTTP client reaches the bridge.
#[cfg(unix)]
mod local {
    use std::io;
    pub use std::os::unix::net::{UnixListener as Listener, UnixStream as Stream};
    use std::path::PathBuf;

    /// A socket in a directory of its own that only this user can enter.
    #[derive(Debug)]
    pub struct Endpoint {
        /// The socket's path.
        pub path: PathBuf,
        _dir: tempfile::TempDir,
    }

    pub fn bind() -> io::Result<(Listener, Endpoint)> {
        use std::os::unix::fs::PermissionsExt;
        // The per-user runtime directory when there is one (already 0700),
        // else the temporary directory; a socket path must stay short.
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_dir() && p.as_os_str().len() < 60)
            .unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("yaddash-bridge-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(base)?;
        let path = dir.path().join("s");
        let listener = Listener::bind(&path)?;
        Ok((listener, Endpoint { path, _dir: dir }))
    }

    pub fn connect(e: &Endpoint) -> io::Result<Stream> {
        Stream::connect(&e.path)
    }
}

#[cfg(not(unix))]
mod local {
    use std::io;
    use std::net::SocketAddr;
    pub use std::net::{TcpListener as Listener, TcpStream as Stream};
    use std::time::Duration;

    /// A port on loopback.
    #[derive(Debug)]
    pub struct Endpoint {
        /// The listening address.
        pub addr: SocketAddr,
    }

    pub fn bind() -> io::Result<(Listener, Endpoint)> {
        let listener = Listener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        Ok((listener, Endpoint { addr }))
    }

    pub fn connect(e: &Endpoint) -> io::Result<Stream> {
        Stream::connect_timeout(&e.addr, Duration::from_millis(200))
    }
}

pub use local::Endpoint;

type Live = Arc<Mutex<HashMap<u64, (local::Stream, TcpStream)>>>;

/// A local listener whose every connection goes to one server, through
/// the proxy or directly. Stops when dropped.
pub struct Bridge {
    /// Where the HTTP client connects.
    pub endpoint: Endpoint,
    last_error: Arc<Mutex<Option<TunnelError>>>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

fn cut_all(live: &Live) {
    if let Ok(mut g) = live.lock() {
        for (_, (a, b)) in g.drain() {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
    }
}

impl Bridge {
    /// Starts a bridge to `host:port` via `upstream`; setting `cancel` cuts
    /// every connection.
    pub fn start(
        upstream: Upstream,
        host: &str,
        port: u16,
        cancel: Arc<AtomicBool>,
    ) -> io::Result<Bridge> {
        let (listener, endpoint) = local::bind()?;
        let last_error = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let live: Live = Arc::default();
        // The watcher: the stop flag cuts live connections at once.
        {
            let (live, stop, cancel) = (Arc::clone(&live), Arc::clone(&stop), Arc::clone(&cancel));
            std::thread::Builder::new()
                .name("bridge-watch".into())
                .spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        if cancel.load(Ordering::SeqCst) {
                            cut_all(&live);
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    cut_all(&live);
                })?;
        }
        let host = host.to_owned();
        let (errs, stop2) = (Arc::clone(&last_error), Arc::clone(&stop));
        let next = Arc::new(AtomicU64::new(0));
        std::thread::Builder::new()
            .name("bridge".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = conn else { continue };
                    if cancel.load(Ordering::SeqCst) {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    }
                    let (upstream, host, errs, live) = (
                        upstream.clone(),
                        host.clone(),
                        Arc::clone(&errs),
                        Arc::clone(&live),
                    );
                    let id = next.fetch_add(1, Ordering::SeqCst);
                    let _ = std::thread::Builder::new()
                        .name("bridge-conn".into())
                        .spawn(move || {
                            let up = match &upstream {
                                Upstream::Socks(proxy) => tunnel(proxy, &host, port),
                                Upstream::Direct => direct(&host, port),
                            };
                            match up {
                                Ok(up) => {
                                    if let (Ok(a), Ok(b)) = (client.try_clone(), up.try_clone())
                                        && let Ok(mut g) = live.lock()
                                    {
                                        g.insert(id, (a, b));
                                    }
                                    relay(client, up);
                                    if let Ok(mut g) = live.lock() {
                                        g.remove(&id);
                                    }
                                }
                                Err(e) => {
                                    if let Ok(mut g) = errs.lock() {
                                        *g = Some(e);
                                    }
                                    let _ = client.shutdown(Shutdown::Both);
                                }
                            }
                        });
                }
            })?;
        Ok(Bridge {
            endpoint,
            last_error,
            stop,
        })
    }

    /// The last tunnel failure, taken (cleared).
    pub fn take_error(&self) -> Option<TunnelError> {
        self.last_error.lock().ok().and_then(|mut g| g.take())
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = local::connect(&self.endpoint);
    }
}

fn relay(client: local::Stream, upstream: TcpStream) {
    let (Ok(mut c_r), Ok(mut u_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let t = std::thread::spawn(move || {
        let _ = pump(&mut c_r, &mut u_w);
        let _ = u_w.shutdown(Shutdown::Write);
    });
    let (mut u_r, mut c_w) = (upstream, client);
    let _ = pump(&mut u_r, &mut c_w);
    let _ = c_w.shutdown(Shutdown::Both);
    let _ = u_r.shutdown(Shutdown::Both);
    let _ = t.join();
}

/// Bytes a relay direction moves per read: `io::copy`'s 8 KiB made an
/// upload of a gigabyte 130,000 reads and as many writes on each side.
const RELAY_BUFFER: usize = 256 << 10;

/// Copies until end of stream, [`RELAY_BUFFER`] bytes at a time.
fn pump(from: &mut impl Read, to: &mut impl Write) -> io::Result<u64> {
    let mut buf = vec![0u8; RELAY_BUFFER];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
        total += n as u64;
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

    #[test]
    fn the_bridge_is_a_socket_only_this_user_can_enter_and_it_goes_away() {
        // The "server": answers one connection with what it was sent, reversed.
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut c, _) = server.accept().unwrap();
            let mut buf = [0u8; 4];
            c.read_exact(&mut buf).unwrap();
            buf.reverse();
            c.write_all(&buf).unwrap();
        });
        let bridge = Bridge::start(Upstream::Direct, "127.0.0.1", port, Arc::default()).unwrap();
        let path = bridge.endpoint.path.clone();
        let dir = path.parent().unwrap().to_owned();
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{dir:?}");
        let mine = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(
            meta.uid(),
            mine.as_file().metadata().unwrap().uid(),
            "owned by this user"
        );
        assert!(std::fs::metadata(&path).unwrap().file_type().is_socket());

        let mut c = local::Stream::connect(&path).unwrap();
        c.write_all(b"ping").unwrap();
        let mut back = [0u8; 4];
        c.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"gnip");
        t.join().unwrap();

        drop(bridge);
        assert!(!dir.exists(), "the bridge's directory outlived it");
    }
}
