//! The reqwest client behind one `SSEClient`: one connection pool, TLS roots, proxy and redirect
//! policy. Timeouts are not set here: the request state machine owns them (`timeout` is a
//! no-progress limit, which reqwest's whole-request timeout cannot express).

use std::sync::{Arc, Once};

use crate::dns::SystemResolver;
use crate::error::Error;
use crate::h2_shards::{Lease, Shards};
use crate::options::ClientOptions;
use hyper_util::client::proxy::matcher::Matcher;

/// rustls needs a process-wide crypto provider; ring is built in (see Cargo.toml for why).
fn install_crypto_provider() {
  static ONCE: Once = Once::new();
  ONCE.call_once(|| {
    // Another library in the process may have installed one first; that one is then used.
    let _ = rustls::crypto::ring::default_provider().install_default();
  });
}

/// HTTP/2 receive window of each stream: the most a stream that nobody reads can hold in h2's
/// buffers (its memory bound: 64 MiB for 1,000 streams whose reader is held back), the spec's
/// default, and 640 KB/s per stream at 100 ms RTT (far above a token stream).
const H2_STREAM_WINDOW: u32 = 64 << 10;
/// HTTP/2 receive window of the whole connection. It only grants the server permission (each
/// stream still stops at its own window), so it is set far above the sum of the stream windows:
/// a stream nobody reads can then never hold the connection (hyperium/hyper#2899). h2 (0.4.16+)
/// also derives its small-DATA-frame budget from it: half of this window, charged 256 - n for
/// every unread frame of n < 256 bytes, and a GOAWAY "too_many_data_frames" for every stream of
/// the connection when it runs out. 256 MiB of budget covers 270 fully unread streams of 16-byte
/// frames (64 KiB / 16 x 240 = 0.94 MiB each), or 2,600 of 100-byte frames.
const H2_CONNECTION_WINDOW: u32 = 512 << 20;

/// The HTTP versions offered. HTTP/1.1 by default, as fetch/undici and the `eventsource` package
/// do: one stream per connection gives every stream its own TCP flow control, no shared window,
/// no small-frame budget and no per-connection stream limit that hyper would wait on instead of
/// opening another connection (hyperium/hyper#2197). `http2: true` offers h2 in ALPN, with fixed
/// windows: hyper's adaptive window starts both at 64 KiB, where h2's small-frame budget is about
/// 136 unread frames, and grows them without bound for memory.
fn http_versions(builder: reqwest::ClientBuilder, opts: &ClientOptions) -> reqwest::ClientBuilder {
  if opts.http2 != Some(true) {
    return builder.http1_only();
  }
  builder
    .http2_adaptive_window(false)
    .http2_initial_stream_window_size(H2_STREAM_WINDOW)
    .http2_initial_connection_window_size(H2_CONNECTION_WINDOW)
}

/// Idle connections kept per host once a burst of streams has ended. reqwest keeps every one by
/// default (for 30 s), which after 1,000 concurrent streams is 1,000 open descriptors: under
/// `ulimit -n 256` Node itself then fails with EMFILE. The ones over the cap are closed as their
/// streams end; a new burst opens what it needs.
const MAX_IDLE_PER_HOST: usize = 8;

/// Pool and resolver: the resources a burst of streams leaves behind.
fn pool_and_dns(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
  builder
    .pool_idle_timeout(std::time::Duration::from_secs(30))
    .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
    .dns_resolver(SystemResolver::shared())
}

/// The connections of one client: reqwest's pool, and with `http2: true` the HTTP/2 shards of each
/// HTTPS origin that speaks it (h2_shards.rs). Cheap to clone; dropping the last clone closes every
/// idle connection.
#[derive(Clone)]
pub struct Transport {
  base: reqwest::Client,
  shards: Option<Arc<Shards>>,
  /// With shards: the proxy variables (HTTPS_PROXY, ALL_PROXY, NO_PROXY, ...) as reqwest read
  /// them when the client was built, through the same hyper-util matcher. A request they send
  /// through a proxy stays on `base` (the shards' probe and connections go direct).
  env_proxies: Option<Arc<Matcher>>,
}

impl Transport {
  /// The client to send a request to `url` with, and the HTTP/2 stream it counts on a shard (kept
  /// until the attempt ends).
  /// The shards' probe of a new origin takes at most `timeout` (the request's `timeout`).
  pub async fn client_for(
    &self,
    url: &url::Url,
    timeout: Option<std::time::Duration>,
  ) -> (reqwest::Client, Option<Lease>) {
    if let Some(shards) = self.shards.as_ref().filter(|_| self.direct(url)) {
      // Boxed: the probe's TLS and HTTP/2 handshake are kilobytes of state, which inline would
      // enlarge every request's task, HTTP/2 or not, for its whole life.
      if let Some((client, lease)) = Box::pin(shards.pick(url, timeout)).await {
        return (client, Some(lease));
      }
    }
    (self.base.clone(), None)
  }

  /// Whether the proxy variables let a request to `url` go direct.
  fn direct(&self, url: &url::Url) -> bool {
    let Some(matcher) = &self.env_proxies else {
      return true;
    };
    url
      .as_str()
      .parse::<http::Uri>()
      .is_ok_and(|uri| matcher.intercept(&uri).is_none())
  }

  /// The streams counted on each HTTP/2 connection to `url`'s origin (tests).
  pub fn h2_streams(&self, url: &url::Url) -> Vec<usize> {
    self
      .shards
      .as_ref()
      .map(|s| s.streams(url))
      .unwrap_or_default()
  }
}

/// What every client of one SSEClient shares: redirects, default headers, pool, resolver, versions.
fn common(opts: &ClientOptions) -> reqwest::ClientBuilder {
  // Bodies are decoded by decode.rs, which also reads `GZIP`, `x-gzip` and stacked codings; a
  // request's own accept-encoding header wins over this default.
  let mut accept = http::HeaderMap::new();
  accept.insert(
    http::header::ACCEPT_ENCODING,
    http::HeaderValue::from_static(crate::decode::ACCEPT_ENCODING),
  );
  let builder = reqwest::Client::builder()
    // Redirects are followed by the request itself (redirect.rs), which chooses the headers.
    .redirect(crate::redirect::reqwest_policy())
    .default_headers(accept)
    .tcp_nodelay(true);
  http_versions(pool_and_dns(builder), opts)
}

pub fn build_http_client(opts: &ClientOptions) -> Result<Transport, Error> {
  install_crypto_provider();
  let mut builder = common(opts);
  // `ca`, `cert` and `key` (tls.rs): our rustls configuration, else reqwest's default. Its ALPN
  // offers what http_versions allows: h2 only with `http2: true`.
  let alpn: &[&[u8]] = if opts.http2 == Some(true) {
    &crate::tls::ALPN
  } else {
    &crate::tls::ALPN[1..]
  };
  if let Some(tls) = crate::tls::client_config(opts, alpn)? {
    builder = builder.tls_backend_preconfigured(tls);
  }
  if let Some(proxy) = &opts.proxy {
    let proxy = reqwest::Proxy::all(proxy.as_str())
      .map_err(|_| Error::invalid_options("proxy is not a valid proxy URL".to_string()))?;
    builder = builder.proxy(proxy);
  }
  let base = builder
    .build()
    .map_err(|e| Error::invalid_options(format!("cannot build the HTTP client: {e}")))?;
  // An explicit `proxy` carries every request (reqwest's Proxy::all, no NO_PROXY): no shards then.
  let shards = if opts.http2 == Some(true) && opts.proxy.is_none() {
    let probe = Arc::new(crate::tls::config(opts, &crate::tls::ALPN)?);
    let h2_only = crate::tls::config(opts, &crate::tls::ALPN[..1])?;
    let opts = opts.clone();
    let build = move || {
      common(&opts)
        .http2_prior_knowledge()
        .tls_backend_preconfigured(h2_only.clone())
        .build()
        .ok()
    };
    Some(Arc::new(Shards::new(probe, Box::new(build))))
  } else {
    None
  };
  let env_proxies = shards.as_ref().map(|_| Arc::new(Matcher::from_system()));
  Ok(Transport {
    base,
    shards,
    env_proxies,
  })
}
