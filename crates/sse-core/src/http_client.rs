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
  if let Some(ca) = &opts.ca {
    let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
      Error::invalid_options(format!("ca is not a valid PEM certificate bundle: {e}"))
    })?;
    if certs.is_empty() {
      return Err(Error::invalid_options("ca holds no PEM certificate"));
    }
    builder = builder.tls_certs_merge(certs);
  }
  match (&opts.cert, &opts.key) {
    (Some(cert), Some(key)) => {
      // rustls takes one PEM holding the certificate chain and the private key.
      let mut both = cert.clone();
      both.push(b'\n');
      both.extend_from_slice(key);
      let identity = reqwest::Identity::from_pem(&both).map_err(|e| {
        Error::invalid_options(format!(
          "cert/key are not a valid PEM certificate and key: {e}"
        ))
      })?;
      builder = builder.identity(identity);
    }
    (None, None) => {}
    _ => {
      return Err(Error::invalid_options(
        "cert and key must be given together",
      ))
    }
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
