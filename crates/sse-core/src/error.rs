//! The one error type of the core. `ErrorCode::as_str` gives the `code` strings of API.md, and
//! `Error::is_retryable` is the single place that decides which faults a reconnect may cure.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// The `code` of an `SseError`, one-to-one with API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
  Timeout,
  HttpStatus,
  BadContentType,
  Network,
  Tls,
  InvalidUrl,
  InvalidOptions,
  EventTooLarge,
  /// A redirect that is not followed: too many, to a scheme other than http(s), https to http.
  Redirect,
  /// A `content-encoding` that cannot be decoded, or a body that is not what it says.
  BadContentEncoding,
  /// A request on a client after `close()`.
  ClientClosed,
  /// A request on an instance after `delete()` or `clear()` removed it from its client.
  InstanceDeleted,
  /// An AI provider's error event in a stream read with `accumulate`.
  ProviderError,
}

impl ErrorCode {
  pub const ALL: [ErrorCode; 13] = [
    ErrorCode::Timeout,
    ErrorCode::HttpStatus,
    ErrorCode::BadContentType,
    ErrorCode::Network,
    ErrorCode::Tls,
    ErrorCode::InvalidUrl,
    ErrorCode::InvalidOptions,
    ErrorCode::EventTooLarge,
    ErrorCode::Redirect,
    ErrorCode::BadContentEncoding,
    ErrorCode::ClientClosed,
    ErrorCode::InstanceDeleted,
    ErrorCode::ProviderError,
  ];

  pub fn as_str(self) -> &'static str {
    match self {
      ErrorCode::Timeout => "TIMEOUT",
      ErrorCode::HttpStatus => "HTTP_STATUS",
      ErrorCode::BadContentType => "BAD_CONTENT_TYPE",
      ErrorCode::Network => "NETWORK",
      ErrorCode::Tls => "TLS",
      ErrorCode::InvalidUrl => "INVALID_URL",
      ErrorCode::InvalidOptions => "INVALID_OPTIONS",
      ErrorCode::EventTooLarge => "EVENT_TOO_LARGE",
      ErrorCode::Redirect => "REDIRECT",
      ErrorCode::BadContentEncoding => "BAD_CONTENT_ENCODING",
      ErrorCode::ClientClosed => "CLIENT_CLOSED",
      ErrorCode::InstanceDeleted => "INSTANCE_DELETED",
      ErrorCode::ProviderError => "PROVIDER_ERROR",
    }
  }
}

impl AsRef<str> for ErrorCode {
  fn as_ref(&self) -> &str {
    self.as_str()
  }
}

impl fmt::Display for ErrorCode {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(self.as_str())
  }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
  pub code: ErrorCode,
  pub message: String,
  /// The HTTP status, for `HttpStatus`.
  pub status: Option<u16>,
  /// The first bytes of the error response body, for `HttpStatus`.
  pub body: Option<String>,
  /// How long the server asked us to wait (`Retry-After` on 429 / 503).
  pub retry_after: Option<Duration>,
}

impl Error {
  pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
    Error {
      code,
      message: message.into(),
      status: None,
      body: None,
      retry_after: None,
    }
  }

  pub fn invalid_options(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidOptions, message)
  }

  pub fn invalid_url(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidUrl, message)
  }

  pub fn http_status(
    status: u16,
    reason: &str,
    body: String,
    retry_after: Option<Duration>,
  ) -> Error {
    let mut message = format!("server answered HTTP {status}");
    if !reason.is_empty() {
      message.push(' ');
      message.push_str(reason);
    }
    Error {
      code: ErrorCode::HttpStatus,
      message,
      status: Some(status),
      body: Some(body),
      retry_after,
    }
  }

  /// Whether another attempt may succeed. Timeouts and dropped connections may be transient; so are
  /// 429 and 503, which ask to come back later. Every other status, a wrong content-type, TLS and
  /// bad input would fail the same way again.
  pub fn is_retryable(&self) -> bool {
    match self.code {
      ErrorCode::Timeout | ErrorCode::Network => true,
      ErrorCode::HttpStatus => matches!(self.status, Some(429) | Some(503)),
      _ => false,
    }
  }

  /// Classifies a reqwest error by walking its `source()` chain: reqwest's own message ("error
  /// sending request") hides the cause, which users need (connection refused, certificate, DNS).
  pub fn from_reqwest(err: &reqwest::Error, phase: &str) -> Error {
    let chain = source_chain(err);
    let code = if is_tls(err) {
      ErrorCode::Tls
    } else if err.is_redirect() {
      ErrorCode::Redirect
    } else if err.is_builder() {
      ErrorCode::InvalidUrl
    } else if err.is_timeout() {
      ErrorCode::Timeout
    } else {
      ErrorCode::Network
    };
    let mut message = if err.is_redirect() {
      format!("{phase}: redirect refused: {chain}")
    } else {
      format!("{phase}: {chain}")
    };
    // The server accepted none of the protocols offered in ALPN: HTTP/1.1 alone by default.
    if code == ErrorCode::Tls && chain.contains("NoApplicationProtocol") {
      message.push_str(
        "; the server accepts none of the HTTP versions offered: HTTP/1.1 unless `http2: true` is \
         set on the SSEClient; if it speaks only HTTP/2, set `http2: true`",
      );
    }
    // The chain may quote a URL (a redirect's Location, a proxy's): never its secrets.
    Error::new(code, crate::redact::redact_urls_in(&message))
  }
}

impl fmt::Display for Error {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{}: {}", self.code, self.message)
  }
}

impl StdError for Error {}

/// "error sending request for url (…): client error (Connect): tcp connect error: Connection refused"
/// becomes "connection refused (tcp connect error)": the innermost causes, most specific first,
/// without the URL (which may carry credentials in its query).
fn lowercase_first(text: &str) -> String {
  let mut chars = text.chars();
  match chars.next() {
    Some(first) => first.to_lowercase().chain(chars).collect(),
    None => String::new(),
  }
}

fn source_chain(err: &reqwest::Error) -> String {
  let mut parts: Vec<String> = Vec::new();
  let mut cur: Option<&(dyn StdError + 'static)> = err.source();
  while let Some(e) = cur {
    let text = e.to_string();
    if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
      parts.push(text);
    }
    cur = e.source();
  }
  if parts.is_empty() {
    let mut top = err.to_string();
    if let Some(url) = err.url() {
      top = top.replace(&format!(" ({url})"), "");
      top = top.replace(&format!(" for url ({url})"), "");
    }
    return top;
  }
  parts.reverse();
  let mut out = lowercase_first(&parts[0]);
  if let Some(context) = parts.get(1) {
    out.push_str(" (");
    out.push_str(context);
    out.push(')');
  }
  out
}

/// Whether a rustls error is anywhere in the chain. `io::Error::source()` skips the error it wraps,
/// so wrapped errors are visited through `get_ref()` too. The connector may also flatten the cause
/// into text, hence the fallback on the messages rustls uses for handshake failures.
fn is_tls(err: &reqwest::Error) -> bool {
  let mut stack: Vec<&(dyn StdError + 'static)> = err.source().into_iter().collect();
  while let Some(e) = stack.pop() {
    if e.is::<rustls::Error>() {
      return true;
    }
    if let Some(inner) = e
      .downcast_ref::<std::io::Error>()
      .and_then(std::io::Error::get_ref)
    {
      stack.push(inner);
    }
    if let Some(next) = e.source() {
      stack.push(next);
    }
  }
  const RUSTLS_MESSAGES: [&str; 5] = [
    "invalid peer certificate",
    "received fatal alert",
    "peer is incompatible",
    "peer misbehaved",
    "invalid certificate",
  ];
  let text = source_chain(err).to_lowercase();
  RUSTLS_MESSAGES.iter().any(|m| text.contains(m))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn codes_match_the_api_strings() {
    let strings: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
      strings,
      [
        "TIMEOUT",
        "HTTP_STATUS",
        "BAD_CONTENT_TYPE",
        "NETWORK",
        "TLS",
        "INVALID_URL",
        "INVALID_OPTIONS",
        "EVENT_TOO_LARGE",
        "REDIRECT",
        "BAD_CONTENT_ENCODING",
        "CLIENT_CLOSED",
        "INSTANCE_DELETED",
        "PROVIDER_ERROR"
      ]
    );
  }

  #[test]
  fn retry_eligibility_table() {
    let status = |s: u16| Error::http_status(s, "", String::new(), None);
    let table: Vec<(Error, bool)> = vec![
      (Error::new(ErrorCode::Timeout, "t"), true),
      (Error::new(ErrorCode::Network, "n"), true),
      (status(429), true),
      (status(503), true),
      (status(500), false),
      (status(502), false),
      (status(404), false),
      (status(401), false),
      (Error::new(ErrorCode::BadContentType, "b"), false),
      (Error::new(ErrorCode::Tls, "t"), false),
      (Error::new(ErrorCode::InvalidUrl, "u"), false),
      (Error::new(ErrorCode::InvalidOptions, "o"), false),
      (Error::new(ErrorCode::EventTooLarge, "e"), false),
      (Error::new(ErrorCode::Redirect, "r"), false),
      (Error::new(ErrorCode::BadContentEncoding, "c"), false),
      (Error::new(ErrorCode::ClientClosed, "c"), false),
      (Error::new(ErrorCode::InstanceDeleted, "i"), false),
      (Error::new(ErrorCode::ProviderError, "p"), false),
    ];
    for (err, retryable) in table {
      assert_eq!(err.is_retryable(), retryable, "{err}");
    }
  }
}
