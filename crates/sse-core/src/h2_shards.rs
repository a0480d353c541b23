//! HTTP/2 streams spread over more than one connection per origin (`http2: true`).
//!
//! hyper multiplexes every stream to an origin onto one connection and, once the server's
//! SETTINGS_MAX_CONCURRENT_STREAMS are in use, makes the next request wait for a free stream rather
//! than open another connection (hyperium/hyper#2197): with an AI provider that allows 100 streams
//! per connection, the 101st answer of an SSR server waits for one of the first 100 to end. Browsers
//! and undici's `allowH2` pool open another connection instead; so does this module.
//!
//! hyper does not expose the server's settings, the `h2` crate does: the first request to an HTTPS
//! origin learns them with a short handshake of its own (TLS with ALPN, the HTTP/2 preface, one
//! PING, then closed; see [`probe`]). An origin that speaks HTTP/2 then gets "shards": reqwest clients
//! of their own, each holding one HTTP/2 connection (by prior knowledge, since ALPN has shown that the
//! origin speaks it: hyper's pool then opens one connection for a burst of requests instead of one
//! per request and closing all but one), with at most `limit` streams each and at most
//! [`MAX_CONNECTIONS`] per origin. Beyond that, a request goes to the least busy connection and
//! waits there, as every request did before. An origin that does not negotiate h2, a probe that
//! fails (it is tried again after [`RETRY_PROBE`]), plain `http://` URLs and requests through a
//! proxy stay on the client's ordinary pool.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::dns::{Name, Resolve};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use url::Url;

/// Connections per origin at most: 32 x the usual 100 streams each.
pub const MAX_CONNECTIONS: usize = 32;
/// A failed probe (the server down, a TLS error) is tried again after this long; meanwhile the
/// origin's requests use the ordinary pool, where they fail or succeed on their own.
pub const RETRY_PROBE: Duration = Duration::from_secs(30);
/// The longest a probe may take, whatever the request's own timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Origins remembered per client before the idle ones are forgotten.
const MAX_ORIGINS: usize = 256;

/// What a probe learned of an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
  /// It speaks HTTP/2 and allows this many concurrent streams per connection (at least 1).
  Http2(usize),
  /// ALPN chose HTTP/1.1: one stream per connection, the ordinary pool.
  Http1,
}

/// Builds the reqwest client of a new shard (one HTTP/2 connection).
pub type BuildShard = dyn Fn() -> Option<reqwest::Client> + Send + Sync;

/// The shards of one client, per origin.
pub struct Shards {
  tls: Arc<ClientConfig>,
  build: Box<BuildShard>,
  origins: Mutex<HashMap<(String, u16), Arc<Origin>>>,
}

struct Origin {
  /// The probe's outcome and when it was had; the async lock makes a burst wait for one probe.
  learned: tokio::sync::Mutex<Option<(Result<Learned, ()>, Instant)>>,
  conns: Mutex<Vec<Shard>>,
}

struct Shard {
  client: reqwest::Client,
  streams: usize,
}

/// One stream counted on a shard until this is dropped (when the request's attempt ends).
pub struct Lease {
  origin: Arc<Origin>,
  index: usize,
}

impl Drop for Lease {
  fn drop(&mut self) {
    let mut conns = lock(&self.origin.conns);
    if let Some(shard) = conns.get_mut(self.index) {
      shard.streams = shard.streams.saturating_sub(1);
    }
  }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
  m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shards {
  /// `tls` is used for the probes (its ALPN must offer h2); `build` makes a shard's client.
  pub fn new(tls: Arc<ClientConfig>, build: Box<BuildShard>) -> Shards {
    Shards {
      tls,
      build,
      origins: Mutex::new(HashMap::new()),
    }
  }

  /// The client for a request to `url` and the stream it counts, or None: use the ordinary pool.
  /// The first request to a new origin waits for its probe, `timeout` at most.
  pub async fn pick(
    &self,
    url: &Url,
    timeout: Option<Duration>,
  ) -> Option<(reqwest::Client, Lease)> {
    if url.scheme() != "https" {
      return None;
    }
    let origin = self.origin(url)?;
    let limit = match origin.learn(url, &self.tls, timeout).await {
      Ok(Learned::Http2(limit)) => limit,
      Ok(Learned::Http1) | Err(()) => return None,
    };
    let mut conns = lock(&origin.conns);
    let index = match conns.iter().position(|c| c.streams < limit) {
      Some(i) => i,
      None if conns.len() < MAX_CONNECTIONS => match (self.build)() {
        Some(client) => {
          conns.push(Shard { client, streams: 0 });
          conns.len() - 1
        }
        None if conns.is_empty() => return None,
        None => least_busy(&conns),
      },
      None => least_busy(&conns),
    };
    conns[index].streams += 1;
    let client = conns[index].client.clone();
    drop(conns);
    Some((client, Lease { origin, index }))
  }

  /// The streams counted on each of the origin's connections (tests).
  pub fn streams(&self, url: &Url) -> Vec<usize> {
    self
      .origin(url)
      .map(|o| lock(&o.conns).iter().map(|c| c.streams).collect())
      .unwrap_or_default()
  }

  fn origin(&self, url: &Url) -> Option<Arc<Origin>> {
    let key = (url.host_str()?.to_owned(), url.port_or_known_default()?);
    let mut origins = lock(&self.origins);
    if !origins.contains_key(&key) && origins.len() >= MAX_ORIGINS {
      // Forget the origins with no stream open (their idle connections close with their clients).
      origins
        .retain(|_, o| Arc::strong_count(o) > 1 || lock(&o.conns).iter().any(|c| c.streams > 0));
    }
    let origin = origins.entry(key).or_insert_with(|| {
      Arc::new(Origin {
        learned: tokio::sync::Mutex::new(None),
        conns: Mutex::new(Vec::new()),
      })
    });
    Some(Arc::clone(origin))
  }
}

fn least_busy(conns: &[Shard]) -> usize {
  (0..conns.len())
    .min_by_key(|&i| conns[i].streams)
    .unwrap_or(0)
}

impl Origin {
  async fn learn(
    &self,
    url: &Url,
    tls: &Arc<ClientConfig>,
    timeout: Option<Duration>,
  ) -> Result<Learned, ()> {
    let mut learned = self.learned.lock().await;
    match *learned {
      Some((Ok(known), _)) => return Ok(known),
      Some((Err(()), at)) if at.elapsed() < RETRY_PROBE => return Err(()),
      _ => {}
    }
    let limit = timeout.map_or(PROBE_TIMEOUT, |t| t.min(PROBE_TIMEOUT));
    let outcome = match tokio::time::timeout(limit, probe(url, Arc::clone(tls))).await {
      Ok(Ok(known)) => Ok(known),
      Ok(Err(_)) | Err(_) => Err(()),
    };
    *learned = Some((outcome, Instant::now()));
    outcome
  }
}

/// Connects to `url`'s origin as reqwest would (the process-wide resolver, `tls`), and reads what it
/// negotiates: HTTP/1.1, or HTTP/2 and its SETTINGS_MAX_CONCURRENT_STREAMS. The server's SETTINGS
/// frame comes before its answer to our PING, so once the PING is answered the limit is known.
pub async fn probe(url: &Url, tls: Arc<ClientConfig>) -> std::io::Result<Learned> {
  use std::io::{Error, ErrorKind};
  let bad = |what: &str| Error::new(ErrorKind::InvalidInput, what.to_string());
  let port = url.port_or_known_default().ok_or_else(|| bad("no port"))?;
  let (host, addrs): (String, Vec<SocketAddr>) = match url.host() {
    Some(url::Host::Ipv4(ip)) => (ip.to_string(), vec![SocketAddr::new(IpAddr::V4(ip), port)]),
    Some(url::Host::Ipv6(ip)) => (ip.to_string(), vec![SocketAddr::new(IpAddr::V6(ip), port)]),
    Some(url::Host::Domain(name)) => {
      let parsed: Name = name.parse().map_err(|_| bad("not a host name"))?;
      let found = crate::dns::SystemResolver::shared()
        .resolve(parsed)
        .await
        .map_err(|e| Error::other(e.to_string()))?;
      let addrs = found
        .map(|a| SocketAddr::new(a.ip(), port))
        .collect::<Vec<_>>();
      (name.to_owned(), addrs)
    }
    None => return Err(bad("no host")),
  };
  let mut last = Error::new(ErrorKind::NotFound, "no address");
  let mut tcp = None;
  for addr in addrs {
    match tokio::net::TcpStream::connect(addr).await {
      Ok(s) => {
        tcp = Some(s);
        break;
      }
      Err(e) => last = e,
    }
  }
  let tcp = tcp.ok_or(last)?;
  let name = ServerName::try_from(host).map_err(|_| bad("not a TLS server name"))?;
  let stream = tokio_rustls::TlsConnector::from(tls)
    .connect(name, tcp)
    .await?;
  if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
    return Ok(Learned::Http1);
  }
  let (send, mut conn) = h2::client::handshake(stream)
    .await
    .map_err(|e| Error::other(e.to_string()))?;
  let mut ping = conn
    .ping_pong()
    .ok_or_else(|| Error::other("no PING handle"))?;
  tokio::select! {
    ended = &mut conn => {
      return Err(Error::other(format!("the connection ended first: {ended:?}")));
    }
    pong = ping.ping(h2::Ping::opaque()) => {
      pong.map_err(|e| Error::other(e.to_string()))?;
    }
  }
  Ok(Learned::Http2(send.current_max_send_streams().max(1)))
}
