//! Options as the user gives them (every field optional), merged per request with the client's
//! defaults, validated, and defaulted here, in one place. The napi layer only converts JS values
//! into `ClientOptions` / `RequestOptions`.

use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use http::Method;
use url::Url;

use crate::error::Error;
use crate::parser::DEFAULT_MAX_EVENT_SIZE;

/// The seed's defaults: `timeout` 30 s, `reconnectCount` 5.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RECONNECT_COUNT: u32 = 5;
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(1000);

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
    let mut headers = header_map(&opts.headers, defaults.headers.clone())?;
    if !headers.contains_key(ACCEPT) {
      headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
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
    if let Some(id) = &opts.last_event_id {
      if id.contains(['\0', '\r', '\n']) {
        return Err(Error::invalid_options(
          "lastEventId must not contain NUL, CR or LF",
        ));
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

/// Only absolute http(s) URLs reach the network; a relative one needs the client's `baseUrl`.
pub fn parse_http_url(raw: &str, base: Option<&Url>, what: &str) -> Result<Url, Error> {
  if raw.is_empty() {
    return Err(Error::invalid_url(format!("{what} is empty")));
  }
  let parsed = match base {
    Some(base) => base.join(raw),
    None => Url::parse(raw),
  };
  let url = parsed.map_err(|e| match e {
    url::ParseError::RelativeUrlWithoutBase => Error::invalid_url(format!(
      "{what} {raw:?} is relative and the client has no baseUrl"
    )),
    e => Error::invalid_url(format!("{what} {raw:?} is not a valid URL: {e}")),
  })?;
  match url.scheme() {
    "http" | "https" => Ok(url),
    scheme => Err(Error::invalid_url(format!(
      "{what} {raw:?} has scheme {scheme:?}; only http and https are supported"
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

fn opt_duration(value: Option<f64>, what: &str) -> Result<Option<Duration>, Error> {
  value
    .map(|v| check_number(v, what).map(|ms| Duration::from_micros((ms * 1000.0) as u64)))
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

fn opt_size(value: Option<f64>, what: &str) -> Result<Option<usize>, Error> {
  value
    .map(|v| {
      let v = check_number(v, what)?;
      if v < 1.0 || v.fract() != 0.0 {
        return Err(Error::invalid_options(format!(
          "{what} must be a whole number of bytes >= 1, got {v}"
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
  fn zero_timeout_disables_it() {
    let opts = RequestOptions {
      timeout: Some(0.0),
      ..req("http://127.0.0.1/")
    };
    let cfg = RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap();
    assert_eq!(cfg.timeout, None);
  }
}
