//! Options as the user gives them (every field optional), merged per request with the client's
//! defaults, validated, and defaulted here, in one place. The napi layer only converts JS values
//! into `ClientOptions` / `RequestOptions`.

use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{
  HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT,
};
use http::Method;
use url::Url;

use crate::error::Error;
use crate::parser::{DEFAULT_MAX_EVENT_SIZE, MAX_EVENT_SIZE_LIMIT};
use crate::redact::redact_url;

/// The defaults of the original front-end `sse` module: `timeout` 30 s, `reconnectCount` 5.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RECONNECT_COUNT: u32 = 5;
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(1000);
/// Sent unless the user sets a User-Agent: some gateways and WAFs refuse requests without one.
/// The core's version is the package's (a test keeps Cargo.toml and package.json in step).
pub const DEFAULT_USER_AGENT: &str = concat!("native-sse/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReconnectAfterEvents {
  #[default]
  WithId,
  Always,
  Never,
}

impl FromStr for ReconnectAfterEvents {
  type Err = Error;
  fn from_str(s: &str) -> Result<Self, Error> {
    match s {
      "with-id" => Ok(ReconnectAfterEvents::WithId),
      "always" => Ok(ReconnectAfterEvents::Always),
      "never" => Ok(ReconnectAfterEvents::Never),
      other => Err(Error::invalid_options(format!(
        "reconnectAfterEvents must be 'with-id', 'always' or 'never', got {other:?}"
      ))),
    }
  }
}

/// Options shared by every request of one client (API.md `ClientOptions`).
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
  pub base_url: Option<String>,
  pub headers: Vec<(String, String)>,
  pub timeout: Option<f64>,
  pub reconnect_count: Option<f64>,
  pub retry_delay: Option<f64>,
  pub max_event_size: Option<f64>,
  pub ca: Option<Vec<u8>>,
  pub cert: Option<Vec<u8>>,
  pub key: Option<Vec<u8>>,
  pub proxy: Option<String>,
  /// Whether a request `url` may leave `baseUrl`'s origin (an absolute or protocol-relative URL to
  /// another host). Default false: see `ClientDefaults::allow_absolute_urls`.
  pub allow_absolute_urls: Option<bool>,
  /// Offer HTTP/2 in TLS ALPN (default false: HTTP/1.1, see http_client.rs for why).
  pub http2: Option<bool>,
}

/// The request body as the user gave it. JSON is already encoded by the caller (JSON.stringify
/// semantics: `toJSON`, dropped `undefined`), so the core only sends bytes.
#[derive(Debug, Clone, Default)]
pub enum Body {
  #[default]
  None,
  Json(String),
  Text(String),
  Bytes(Bytes),
}

/// Options of one request (API.md `RequestOptions`, without the callbacks).
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
  pub url: String,
  pub method: Option<String>,
  pub body: Body,
  /// The content-type a text or bytes body implies (a form, a typed Blob), sent unless the headers
  /// set one. A JSON body always implies application/json.
  pub body_type: Option<String>,
  pub headers: Vec<(String, String)>,
  pub timeout: Option<f64>,
  pub event_timeout: Option<f64>,
  pub reconnect_count: Option<f64>,
  pub reconnect_after_events: Option<String>,
  pub last_event_id: Option<String>,
  pub done_data: Option<String>,
  pub strict_content_type: Option<bool>,
  pub retry_delay: Option<f64>,
  pub max_event_size: Option<f64>,
}

/// The client's defaults after validation, kept by the client for every request.
#[derive(Debug, Clone)]
pub struct ClientDefaults {
  pub base_url: Option<Url>,
  pub headers: HeaderMap,
  pub timeout: Option<Duration>,
  pub reconnect_count: u32,
  pub retry_delay: Duration,
  pub max_event_size: usize,
  /// With a `baseUrl`, a request `url` that resolves to another origin (`https://evil.example/`,
  /// `//evil.example/`) is refused with INVALID_URL unless this is true: the client's default
  /// headers (often `Authorization`) would go to that origin (the axios CVE-2024-39338 /
  /// CVE-2025-27152 class, where a user-controlled path became an absolute URL). An absolute URL
  /// on baseUrl's own origin is always accepted; without a baseUrl every absolute URL is.
  pub allow_absolute_urls: bool,
}

impl Default for ClientDefaults {
  fn default() -> Self {
    ClientDefaults {
      base_url: None,
      headers: HeaderMap::new(),
      timeout: Some(DEFAULT_TIMEOUT),
      reconnect_count: DEFAULT_RECONNECT_COUNT,
      retry_delay: DEFAULT_RETRY_DELAY,
      max_event_size: DEFAULT_MAX_EVENT_SIZE,
      allow_absolute_urls: false,
    }
  }
}

impl ClientDefaults {
  pub fn from_options(opts: &ClientOptions) -> Result<ClientDefaults, Error> {
    let d = ClientDefaults::default();
    let base_url = match &opts.base_url {
      Some(raw) => Some(parse_http_url(raw, None, "baseUrl")?),
      None => None,
    };
    Ok(ClientDefaults {
      base_url,
      headers: header_map(&opts.headers, HeaderMap::new())?,
      timeout: opt_duration(opts.timeout, "timeout")?.map_or(d.timeout, zero_is_none),
      reconnect_count: opt_count(opts.reconnect_count, "reconnectCount")?
        .unwrap_or(d.reconnect_count),
      retry_delay: opt_duration(opts.retry_delay, "retryDelay")?.unwrap_or(d.retry_delay),
      max_event_size: opt_size(opts.max_event_size, "maxEventSize")?.unwrap_or(d.max_event_size),
      allow_absolute_urls: opts.allow_absolute_urls.unwrap_or(d.allow_absolute_urls),
    })
  }
}

/// Everything one request needs, validated and defaulted.
#[derive(Debug, Clone)]
pub struct RequestConfig {
  pub method: Method,
  pub url: Url,
  pub headers: HeaderMap,
  pub body: Option<Bytes>,
  /// None: no limit (`timeout: 0`).
  pub timeout: Option<Duration>,
  pub event_timeout: Option<Duration>,
  pub reconnect_count: u32,
  pub reconnect_after_events: ReconnectAfterEvents,
  pub last_event_id: Option<String>,
  pub done_data: Option<String>,
  pub strict_content_type: bool,
  pub retry_delay: Duration,
  pub max_event_size: usize,
}

impl RequestConfig {
  /// Merges per-request options over the client's defaults. Per-request headers win, name by name.
  pub fn resolve(defaults: &ClientDefaults, opts: RequestOptions) -> Result<RequestConfig, Error> {
    let method = parse_method(opts.method.as_deref())?;
    let url = parse_http_url(&opts.url, defaults.base_url.as_ref(), "url")?;
    if let Some(base) = &defaults.base_url {
      if !defaults.allow_absolute_urls && url.origin() != base.origin() {
        return Err(Error::invalid_url(format!(
          "url {:?} leaves baseUrl's origin ({}); the client's headers would go to {}. Pass a \
           relative url, or set allowAbsoluteUrls: true on the client",
          redact_url(&opts.url),
          base.origin().ascii_serialization(),
          url.origin().ascii_serialization(),
        )));
      }
    }
    let mut headers = header_map(&opts.headers, defaults.headers.clone())?;
    if !headers.contains_key(ACCEPT) {
      headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
    }
    if !headers.contains_key(USER_AGENT) {
      headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
    }
    let body = match opts.body {
      Body::None => None,
      Body::Json(json) => {
        if !headers.contains_key(CONTENT_TYPE) {
          headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Some(Bytes::from(json))
      }
      Body::Text(text) => Some(Bytes::from(text)),
      Body::Bytes(bytes) => Some(bytes),
    };
    if let (Some(_), Some(body_type)) = (&body, &opts.body_type) {
      if !headers.contains_key(CONTENT_TYPE) {
        let value = HeaderValue::from_str(body_type).map_err(|_| {
          Error::invalid_options("the body's content-type is not a valid header value")
        })?;
        headers.insert(CONTENT_TYPE, value);
      }
    }
    check_content_length(&headers, body.as_ref())?;
    if let Some(id) = &opts.last_event_id {
      if let Err(why) = crate::last_event_id::header_value(id) {
        return Err(Error::invalid_options(format!("lastEventId {why}")));
      }
    }
    let reconnect_after_events = match opts.reconnect_after_events.as_deref() {
      Some(s) => s.parse()?,
      None => ReconnectAfterEvents::default(),
    };
    Ok(RequestConfig {
      method,
      url,
      headers,
      body,
      timeout: opt_duration(opts.timeout, "timeout")?.map_or(defaults.timeout, zero_is_none),
      event_timeout: opt_duration(opts.event_timeout, "eventTimeout")?.and_then(zero_is_none),
      reconnect_count: opt_count(opts.reconnect_count, "reconnectCount")?
        .unwrap_or(defaults.reconnect_count),
      reconnect_after_events,
      last_event_id: opts.last_event_id.filter(|s| !s.is_empty()),
      done_data: opts.done_data,
      strict_content_type: opts.strict_content_type.unwrap_or(true),
      retry_delay: opt_duration(opts.retry_delay, "retryDelay")?.unwrap_or(defaults.retry_delay),
      max_event_size: opt_size(opts.max_event_size, "maxEventSize")?
        .unwrap_or(defaults.max_event_size),
    })
  }
}

/// A user `content-length` that disagrees with the body would truncate it (hyper sends that many
/// bytes and stops) or hang the server waiting for more: refused. One that agrees is harmless.
fn check_content_length(headers: &HeaderMap, body: Option<&Bytes>) -> Result<(), Error> {
  let Some(value) = headers.get(CONTENT_LENGTH) else {
    return Ok(());
  };
  let actual = body.map_or(0, Bytes::len);
  let given = value
    .to_str()
    .ok()
    .and_then(|v| v.trim().parse::<u64>().ok());
  if given != Some(actual as u64) {
    return Err(Error::invalid_options(format!(
      "header \"content-length\" ({}) does not match the body ({actual} bytes); leave it out, it is set \
       from the body",
      String::from_utf8_lossy(value.as_bytes())
    )));
  }
  Ok(())
}

fn zero_is_none(d: Duration) -> Option<Duration> {
  (!d.is_zero()).then_some(d)
}

fn parse_method(method: Option<&str>) -> Result<Method, Error> {
  match method.map(|m| m.to_ascii_uppercase()).as_deref() {
    None | Some("POST") => Ok(Method::POST),
    Some("GET") => Ok(Method::GET),
    Some("PUT") => Ok(Method::PUT),
    Some("PATCH") => Ok(Method::PATCH),
    Some("DELETE") => Ok(Method::DELETE),
    Some(other) => Err(Error::invalid_options(format!(
      "method must be one of GET, POST, PUT, PATCH, DELETE, got {other:?}"
    ))),
  }
}

/// The longest URL the HTTP stack carries, in bytes of its serialized (percent-encoded) form: an
/// `http::Uri`, which reqwest builds from the whole URL, holds at most `u16::MAX - 1` bytes, and so
/// does hyper's request line. A longer one used to fail only once the request was under way.
pub const MAX_URL_LEN: usize = u16::MAX as usize - 1;

/// Only absolute http(s) URLs reach the network; a relative one needs the client's `baseUrl`.
/// Messages show the URL redacted (no userinfo, no query values): they end up in logs.
pub fn parse_http_url(raw: &str, base: Option<&Url>, what: &str) -> Result<Url, Error> {
  if raw.is_empty() {
    return Err(Error::invalid_url(format!("{what} is empty")));
  }
  let url = parse_http_url_unchecked(raw, base, what)?;
  let len = url.as_str().len();
  if len > MAX_URL_LEN {
    // Not quoted: 64 KiB of URL in a message helps nobody.
    return Err(Error::invalid_url(format!(
      "{what} is {len} bytes long once resolved and percent-encoded; the HTTP stack carries at most \
       {MAX_URL_LEN} bytes"
    )));
  }
  Ok(url)
}

fn parse_http_url_unchecked(raw: &str, base: Option<&Url>, what: &str) -> Result<Url, Error> {
  let shown = redact_url(raw);
  let parsed = match base {
    Some(base) => base.join(raw),
    None => Url::parse(raw),
  };
  let url = parsed.map_err(|e| match e {
    url::ParseError::RelativeUrlWithoutBase => Error::invalid_url(format!(
      "{what} {shown:?} is relative and the client has no baseUrl"
    )),
    e => Error::invalid_url(format!("{what} {shown:?} is not a valid URL: {e}")),
  })?;
  match url.scheme() {
    "http" | "https" => Ok(url),
    scheme => Err(Error::invalid_url(format!(
      "{what} {shown:?} has scheme {scheme:?}; only http and https are supported"
    ))),
  }
}

/// Header names must be HTTP tokens and values free of CR, LF and NUL (header injection). Values are
/// never echoed in the message: they often carry credentials.
fn header_map(pairs: &[(String, String)], mut map: HeaderMap) -> Result<HeaderMap, Error> {
  for (name, value) in pairs {
    let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
      Error::invalid_options(format!(
        "header name {name:?} is not a valid HTTP header name"
      ))
    })?;
    let header_value = HeaderValue::from_str(value).map_err(|_| {
      Error::invalid_options(format!(
        "header {name:?} has an invalid value (CR, LF, NUL or another control character)"
      ))
    })?;
    map.insert(header_name, header_value);
  }
  Ok(map)
}

fn check_number(value: f64, what: &str) -> Result<f64, Error> {
  if !value.is_finite() || value < 0.0 {
    return Err(Error::invalid_options(format!(
      "{what} must be a finite number >= 0, got {value}"
    )));
  }
  Ok(value)
}

/// Milliseconds to a Duration, rounded up to the microsecond: a positive value never becomes 0,
/// which means "off" for `timeout` and `eventTimeout` (`timeout: 0.0001` used to disable the
/// timeout). Huge values saturate (at about 584,000 years) instead of overflowing.
fn opt_duration(value: Option<f64>, what: &str) -> Result<Option<Duration>, Error> {
  value
    .map(|v| check_number(v, what).map(|ms| Duration::from_micros((ms * 1000.0).ceil() as u64)))
    .transpose()
}

fn opt_count(value: Option<f64>, what: &str) -> Result<Option<u32>, Error> {
  value
    .map(|v| {
      let v = check_number(v, what)?;
      if v.fract() != 0.0 || v > u32::MAX as f64 {
        return Err(Error::invalid_options(format!(
          "{what} must be a whole number, got {v}"
        )));
      }
      Ok(v as u32)
    })
    .transpose()
}

/// The `maxEventSize` of a parser used on its own (the binding's `EventStreamParser`): validated as
/// in the request options, and the same default.
pub fn parser_max_event_size(value: Option<f64>) -> Result<usize, Error> {
  Ok(opt_size(value, "maxEventSize")?.unwrap_or(DEFAULT_MAX_EVENT_SIZE))
}

fn opt_size(value: Option<f64>, what: &str) -> Result<Option<usize>, Error> {
  value
    .map(|v| {
      let v = check_number(v, what)?;
      if v < 1.0 || v.fract() != 0.0 {
        return Err(Error::invalid_options(format!(
          "{what} must be a whole number of bytes >= 1, got {v}"
        )));
      }
      if v > MAX_EVENT_SIZE_LIMIT as f64 {
        return Err(Error::invalid_options(format!(
          "{what} must be at most {MAX_EVENT_SIZE_LIMIT} bytes (511 MiB: a larger event cannot \
           become a JavaScript string), got {v}"
        )));
      }
      Ok(v as usize)
    })
    .transpose()
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::error::ErrorCode;

  fn req(url: &str) -> RequestOptions {
    RequestOptions {
      url: url.into(),
      ..Default::default()
    }
  }

  #[test]
  fn defaults_are_the_seeds() {
    let cfg =
      RequestConfig::resolve(&ClientDefaults::default(), req("http://127.0.0.1/x")).unwrap();
    assert_eq!(cfg.timeout, Some(Duration::from_secs(30)));
    assert_eq!(cfg.reconnect_count, 5);
    assert_eq!(cfg.retry_delay, Duration::from_secs(1));
    assert_eq!(cfg.max_event_size, 16 * 1024 * 1024);
    assert_eq!(cfg.method, Method::POST);
    assert_eq!(cfg.headers[ACCEPT], "text/event-stream");
    assert!(cfg.strict_content_type);
    assert_eq!(cfg.reconnect_after_events, ReconnectAfterEvents::WithId);
  }

  #[test]
  fn request_options_win_over_client_defaults() {
    let defaults = ClientDefaults::from_options(&ClientOptions {
      base_url: Some("http://127.0.0.1:9/api/".into()),
      headers: vec![
        ("x-a".into(), "client".into()),
        ("x-b".into(), "client".into()),
      ],
      timeout: Some(5000.0),
      reconnect_count: Some(2.0),
      ..Default::default()
    })
    .unwrap();
    let cfg = RequestConfig::resolve(
      &defaults,
      RequestOptions {
        url: "chat".into(),
        headers: vec![("X-B".into(), "request".into())],
        reconnect_count: Some(0.0),
        ..Default::default()
      },
    )
    .unwrap();
    assert_eq!(cfg.url.as_str(), "http://127.0.0.1:9/api/chat");
    assert_eq!(cfg.headers["x-a"], "client");
    assert_eq!(cfg.headers["x-b"], "request");
    assert_eq!(cfg.timeout, Some(Duration::from_secs(5)));
    assert_eq!(cfg.reconnect_count, 0);
  }

  #[test]
  fn json_body_sets_content_type_unless_given() {
    let mut opts = req("http://127.0.0.1/");
    opts.body = Body::Json("{}".into());
    let cfg = RequestConfig::resolve(&ClientDefaults::default(), opts.clone()).unwrap();
    assert_eq!(cfg.headers[CONTENT_TYPE], "application/json");
    opts.headers = vec![("content-type".into(), "application/vnd.x+json".into())];
    let cfg = RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap();
    assert_eq!(cfg.headers[CONTENT_TYPE], "application/vnd.x+json");
  }

  #[test]
  fn bad_input_table() {
    let d = ClientDefaults::default();
    let table: Vec<(RequestOptions, ErrorCode, &str)> = vec![
      (req(""), ErrorCode::InvalidUrl, "url is empty"),
      (req("/relative"), ErrorCode::InvalidUrl, "no baseUrl"),
      (
        req("ftp://127.0.0.1/"),
        ErrorCode::InvalidUrl,
        "only http and https",
      ),
      (req("http://"), ErrorCode::InvalidUrl, "not a valid URL"),
      (
        RequestOptions {
          headers: vec![("x-a".into(), "a\r\nb: c".into())],
          ..req("http://127.0.0.1/")
        },
        ErrorCode::InvalidOptions,
        "header \"x-a\" has an invalid value",
      ),
      (
        RequestOptions {
          headers: vec![("bad name".into(), "v".into())],
          ..req("http://127.0.0.1/")
        },
        ErrorCode::InvalidOptions,
        "not a valid HTTP header name",
      ),
      (
        RequestOptions {
          timeout: Some(-1.0),
          ..req("http://127.0.0.1/")
        },
        ErrorCode::InvalidOptions,
        "timeout must be a finite number >= 0, got -1",
      ),
      (
        RequestOptions {
          reconnect_count: Some(1.5),
          ..req("http://127.0.0.1/")
        },
        ErrorCode::InvalidOptions,
        "reconnectCount must be a whole number",
      ),
      (
        RequestOptions {
          method: Some("TRACE".into()),
          ..req("http://127.0.0.1/")
        },
        ErrorCode::InvalidOptions,
        "method must be one of",
      ),
      (
        RequestOptions {
          reconnect_after_events: Some("sometimes".into()),
          ..req("http://127.0.0.1/")
        },
        ErrorCode::InvalidOptions,
        "reconnectAfterEvents must be",
      ),
      (
        RequestOptions {
          last_event_id: Some("evt\u{1}".into()),
          ..req("http://127.0.0.1/")
        },
        ErrorCode::InvalidOptions,
        "lastEventId contains the control character U+0001",
      ),
      (
        RequestOptions {
          last_event_id: Some("\u{7f}".into()),
          ..req("http://127.0.0.1/")
        },
        ErrorCode::InvalidOptions,
        "U+007F",
      ),
    ];
    for (opts, code, needle) in table {
      let err = RequestConfig::resolve(&d, opts).unwrap_err();
      assert_eq!(err.code, code, "{err}");
      assert!(
        err.message.contains(needle),
        "{:?} lacks {needle:?}",
        err.message
      );
    }
  }

  #[test]
  fn header_values_are_not_echoed() {
    let opts = RequestOptions {
      headers: vec![("authorization".into(), "Bearer secret\n".into())],
      ..req("http://127.0.0.1/")
    };
    let err = RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap_err();
    assert!(!err.message.contains("secret"));
  }

  #[test]
  fn positive_durations_never_round_to_off() {
    // (timeout ms, resulting limit)
    let table = [
      (0.0, None),
      (0.0001, Some(Duration::from_micros(1))),
      (0.4, Some(Duration::from_micros(400))),
      (1.0, Some(Duration::from_millis(1))),
      (1e300, Some(Duration::from_micros(u64::MAX))),
    ];
    for (ms, want) in table {
      let opts = RequestOptions {
        timeout: Some(ms),
        event_timeout: Some(ms),
        ..req("http://127.0.0.1/")
      };
      let cfg = RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap();
      assert_eq!((cfg.timeout, cfg.event_timeout), (want, want), "{ms}");
    }
  }

  #[test]
  fn a_user_agent_is_sent_unless_given() {
    let cfg =
      RequestConfig::resolve(&ClientDefaults::default(), req("http://127.0.0.1/x")).unwrap();
    assert_eq!(
      cfg.headers[USER_AGENT],
      "native-sse/0.1.0".replace("0.1.0", env!("CARGO_PKG_VERSION"))
    );
    let opts = RequestOptions {
      headers: vec![("User-Agent".into(), "mine/1".into())],
      ..req("http://127.0.0.1/x")
    };
    let cfg = RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap();
    assert_eq!(cfg.headers.get_all(USER_AGENT).iter().count(), 1);
    assert_eq!(cfg.headers[USER_AGENT], "mine/1");
  }

  #[test]
  fn the_user_agent_version_is_the_packages() {
    let package: serde_json::Value =
      serde_json::from_str(include_str!("../../../package.json")).unwrap();
    assert_eq!(
      DEFAULT_USER_AGENT,
      format!("native-sse/{}", package["version"].as_str().unwrap())
    );
  }

  #[test]
  fn a_content_length_that_disagrees_with_the_body_is_refused() {
    // (body, content-length, accepted?)
    let table = [
      ("hello", "5", true),
      ("hello", " 5 ", true),
      ("hello", "3", false),
      ("hello", "50", false),
      ("hello", "x", false),
      ("", "0", true),
    ];
    for (body, length, ok) in table {
      let opts = RequestOptions {
        body: Body::Text(body.into()),
        headers: vec![("content-length".into(), length.into())],
        ..req("http://127.0.0.1/")
      };
      let got = RequestConfig::resolve(&ClientDefaults::default(), opts);
      assert_eq!(got.is_ok(), ok, "{body:?} {length:?}");
      if let Err(err) = got {
        assert_eq!(err.code, ErrorCode::InvalidOptions);
        assert!(
          err.message.contains("does not match the body (5 bytes)"),
          "{}",
          err.message
        );
      }
    }
    let opts = RequestOptions {
      headers: vec![("content-length".into(), "10".into())],
      ..req("http://127.0.0.1/")
    };
    assert!(RequestConfig::resolve(&ClientDefaults::default(), opts).is_err());
  }

  #[test]
  fn max_event_size_is_capped_below_what_js_can_hold() {
    let with = |n: f64| RequestOptions {
      max_event_size: Some(n),
      ..req("http://127.0.0.1/")
    };
    let d = ClientDefaults::default();
    let cfg = RequestConfig::resolve(&d, with(MAX_EVENT_SIZE_LIMIT as f64)).unwrap();
    assert_eq!(cfg.max_event_size, MAX_EVENT_SIZE_LIMIT);
    for n in [MAX_EVENT_SIZE_LIMIT as f64 + 1.0, (1u64 << 30) as f64] {
      let err = RequestConfig::resolve(&d, with(n)).unwrap_err();
      assert_eq!(err.code, ErrorCode::InvalidOptions);
      assert!(
        err.message.contains("at most 535822336 bytes"),
        "{}",
        err.message
      );
    }
    let err = ClientDefaults::from_options(&ClientOptions {
      max_event_size: Some((1u64 << 30) as f64),
      ..Default::default()
    })
    .unwrap_err();
    assert!(
      err.message.starts_with("maxEventSize must be at most"),
      "{}",
      err.message
    );
  }

  #[test]
  fn zero_timeout_disables_it() {
    let opts = RequestOptions {
      timeout: Some(0.0),
      ..req("http://127.0.0.1/")
    };
    let cfg = RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap();
    assert_eq!(cfg.timeout, None);
  }
}

#[cfg(test)]
mod url_tests {
  use super::*;
  use crate::error::ErrorCode;

  fn with_base(base: &str, allow: Option<bool>) -> ClientDefaults {
    ClientDefaults::from_options(&ClientOptions {
      base_url: Some(base.into()),
      allow_absolute_urls: allow,
      ..Default::default()
    })
    .unwrap()
  }

  fn resolve(d: &ClientDefaults, url: &str) -> Result<RequestConfig, Error> {
    RequestConfig::resolve(
      d,
      RequestOptions {
        url: url.into(),
        ..Default::default()
      },
    )
  }

  #[test]
  fn invalid_url_messages_never_echo_credentials() {
    let d = ClientDefaults::default();
    let table = [
      "htp://user:hunter2@h/x?key=sk-secret",
      "http://user:hunter2@[::1/x?key=sk-secret",
      "ftp://user:hunter2@h/?key=sk-secret",
      "relative?key=sk-secret",
    ];
    for url in table {
      let err = resolve(&d, url).unwrap_err();
      assert_eq!(err.code, ErrorCode::InvalidUrl, "{url}");
      for secret in ["hunter2", "sk-secret"] {
        assert!(!err.message.contains(secret), "{url}: {}", err.message);
      }
      assert!(err.message.contains("***"), "{}", err.message);
    }
    for base in ["http://user:hunter2@[::1/", "nope?key=sk-secret"] {
      let err = ClientDefaults::from_options(&ClientOptions {
        base_url: Some(base.into()),
        ..Default::default()
      })
      .unwrap_err();
      assert!(err.message.starts_with("baseUrl"), "{}", err.message);
      assert!(!err.message.contains("hunter2") && !err.message.contains("sk-secret"));
    }
  }

  #[test]
  fn urls_leaving_the_base_origin_are_refused_unless_allowed() {
    // (url, allowAbsoluteUrls, resolved url or None for INVALID_URL)
    let table: [(&str, Option<bool>, Option<&str>); 9] = [
      ("chat", None, Some("https://api.example.com/v1/chat")),
      ("/v2/chat", None, Some("https://api.example.com/v2/chat")),
      (
        "https://api.example.com/v1/x",
        None,
        Some("https://api.example.com/v1/x"),
      ),
      ("https://evil.example/x", None, None),
      ("//evil.example/x", None, None),
      ("http://api.example.com/v1/x", None, None), // another scheme is another origin
      ("https://api.example.com:8443/x", Some(false), None),
      (
        "https://evil.example/x",
        Some(true),
        Some("https://evil.example/x"),
      ),
      (
        "//evil.example/x",
        Some(true),
        Some("https://evil.example/x"),
      ),
    ];
    for (url, allow, want) in table {
      let d = with_base("https://api.example.com/v1/", allow);
      match (resolve(&d, url), want) {
        (Ok(cfg), Some(want)) => assert_eq!(cfg.url.as_str(), want),
        (Err(err), None) => {
          assert_eq!(err.code, ErrorCode::InvalidUrl);
          assert!(
            err.message.contains("allowAbsoluteUrls: true"),
            "{}",
            err.message
          );
          assert!(
            err.message.contains("(https://api.example.com)"),
            "{}",
            err.message
          );
        }
        (got, want) => panic!("{url} {allow:?}: got {got:?}, want {want:?}"),
      }
    }
    // Without a baseUrl every absolute URL is the request's own.
    assert!(resolve(&ClientDefaults::default(), "https://evil.example/").is_ok());
  }

  #[test]
  fn a_parser_alone_gets_the_same_max_event_size_rules_and_default() {
    assert_eq!(parser_max_event_size(None).unwrap(), DEFAULT_MAX_EVENT_SIZE);
    assert_eq!(parser_max_event_size(Some(16.0)).unwrap(), 16);
    for bad in [0.0, 1.5, -1.0, f64::NAN, (MAX_EVENT_SIZE_LIMIT + 1) as f64] {
      let err = parser_max_event_size(Some(bad)).unwrap_err();
      assert_eq!(err.code, ErrorCode::InvalidOptions, "{bad}");
      assert!(err.message.starts_with("maxEventSize"), "{}", err.message);
    }
  }
}
