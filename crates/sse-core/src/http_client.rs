//! The reqwest client behind one `SSEClient`: one connection pool, TLS roots, proxy and redirect
//! policy. Timeouts are not set here: the request state machine owns them (`timeout` is a
//! no-progress limit, which reqwest's whole-request timeout cannot express).

use std::sync::Once;

use crate::error::Error;
use crate::options::ClientOptions;

/// rustls needs a process-wide crypto provider; ring is built in (see Cargo.toml for why).
fn install_crypto_provider() {
  static ONCE: Once = Once::new();
  ONCE.call_once(|| {
    // Another library in the process may have installed one first; that one is then used.
    let _ = rustls::crypto::ring::default_provider().install_default();
  });
}

pub fn build_http_client(opts: &ClientOptions) -> Result<reqwest::Client, Error> {
  install_crypto_provider();
  let mut builder = reqwest::Client::builder()
    // Redirects are followed by the request itself (redirect.rs), which chooses the headers.
    .redirect(crate::redirect::reqwest_policy())
    .tcp_nodelay(true)
    .pool_idle_timeout(std::time::Duration::from_secs(30))
    .http2_adaptive_window(true);
  // `ca`, `cert` and `key` (tls.rs): our rustls configuration, else reqwest's default.
  if let Some(tls) = crate::tls::client_config(opts, &crate::tls::ALPN)? {
    builder = builder.tls_backend_preconfigured(tls);
  }
  if let Some(proxy) = &opts.proxy {
    let proxy = reqwest::Proxy::all(proxy.as_str())
      .map_err(|_| Error::invalid_options("proxy is not a valid proxy URL".to_string()))?;
    builder = builder.proxy(proxy);
  }
  builder
    .build()
    .map_err(|e| Error::invalid_options(format!("cannot build the HTTP client: {e}")))
}
