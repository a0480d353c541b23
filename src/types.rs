//! Declarations for index.d.ts only: the option and message shapes of API.md. Values are read and
//! built elsewhere (options.rs reads options field by field; lib/runtime.js builds messages and
//! errors), so these structs are never constructed in Rust.
#![expect(dead_code, reason = "TypeScript declarations, never constructed")]

use std::collections::HashMap;

use napi_derive::napi;

/// Options of one request. `headers`, `timeout`, `reconnectCount`, `retryDelay` and `maxEventSize`
/// override the client's defaults.
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct RequestOptions {
  /// Absolute http(s) URL, or relative to the client's `baseUrl`.
  pub url: String,
  /// Object or array: sent as JSON (JSON.stringify) with content-type application/json.
  /// String, Buffer or Uint8Array: sent as-is.
  #[napi(ts_type = "Record<string, unknown> | unknown[] | string | Buffer | Uint8Array")]
  pub body: Option<()>,
  /// Default {}; `accept: text/event-stream` is added unless given.
  pub headers: Option<HashMap<String, String>>,
  /// Milliseconds, default 30000: the longest wait with no progress (connect and response headers,
  /// then silence between body bytes). 0 disables it.
  pub timeout: Option<f64>,
  /// Milliseconds, default none: the longest wait between two dispatched events. Comments and
  /// keep-alives do not count as progress here.
  pub event_timeout: Option<f64>,
  /// Default 5: reconnects after a timeout or a dropped connection (never after an HTTP error status
  /// other than 429/503, or a bad content-type).
  pub reconnect_count: Option<f64>,
  /// Default 'with-id': once events were delivered, reconnect only if the server sent an id field.
  #[napi(ts_type = "'with-id' | 'always' | 'never'")]
  pub reconnect_after_events: Option<String>,
  /// Sent as Last-Event-ID on the first attempt.
  pub last_event_id: Option<String>,
  /// E.g. '[DONE]': an event whose data equals it ends the request cleanly and is not delivered.
  pub done_data: Option<String>,
  /// Default true: a response that is not text/event-stream fails with BAD_CONTENT_TYPE.
  pub strict_content_type: Option<bool>,
  /// Milliseconds before a reconnect when the server sent no retry field (default: the client's, 1000).
  pub retry_delay: Option<f64>,
  /// Bytes; a larger event fails the request with EVENT_TOO_LARGE (default: the client's, 16 MiB).
  pub max_event_size: Option<f64>,
  /// Aborting it is the same as `handle.abort()`.
  #[napi(ts_type = "AbortSignal")]
  pub signal: Option<()>,
  #[napi(ts_type = "(res: SseOpenInfo) => void")]
  pub on_open: Option<()>,
  #[napi(ts_type = "(msg: SseMessage) => void")]
  pub on_message: Option<()>,
  #[napi(ts_type = "(err: SseError) => void")]
  pub on_error: Option<()>,
  /// Once, when the request has ended for any reason but abort.
  #[napi(ts_type = "() => void")]
  pub on_close: Option<()>,
}

/// Defaults for every request of a client, and its connection settings.
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct ClientOptions {
  pub base_url: Option<String>,
  pub headers: Option<HashMap<String, String>>,
  /// Milliseconds, default 30000 (see RequestOptions.timeout).
  pub timeout: Option<f64>,
  /// Default 5.
  pub reconnect_count: Option<f64>,
  /// Milliseconds before a reconnect when the server sent no retry field (default 1000).
  pub retry_delay: Option<f64>,
  /// Bytes; a larger event fails the request with EVENT_TOO_LARGE (default 16 MiB).
  pub max_event_size: Option<f64>,
  /// Extra trusted CA certificates (PEM), added to the system roots.
  #[napi(ts_type = "string | Buffer")]
  pub ca: Option<()>,
  /// Client certificate (PEM) for mutual TLS, with `key`.
  #[napi(ts_type = "string | Buffer")]
  pub cert: Option<()>,
  #[napi(ts_type = "string | Buffer")]
  pub key: Option<()>,
  /// Proxy URL; by default HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply.
  pub proxy: Option<String>,
}

/// One event, as delivered to `onMessage`.
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct SseMessage {
  /// The event's data, lines joined with "\n".
  pub data: String,
  /// "message" when the stream named none.
  pub event: String,
  /// The last event id in force ("" if none).
  pub id: String,
  /// Set when this event carried a retry field.
  pub retry: Option<f64>,
}

/// What `onOpen` receives: the response status and its headers (lower-case names).
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct SseOpenInfo {
  pub status: u32,
  pub headers: HashMap<String, String>,
}

/// The error passed to `onError` and with which `done` rejects: an `Error` instance.
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct SseError {
  pub name: String,
  pub message: String,
  pub stack: Option<String>,
  #[napi(
    ts_type = "'TIMEOUT' | 'HTTP_STATUS' | 'BAD_CONTENT_TYPE' | 'NETWORK' | 'TLS' | 'INVALID_URL' | 'INVALID_OPTIONS' | 'EVENT_TOO_LARGE' | 'ABORTED' | 'CALLBACK_THREW'"
  )]
  pub code: String,
  /// For HTTP_STATUS.
  pub status: Option<u32>,
  /// The first bytes of the error response body, for HTTP_STATUS.
  pub body: Option<String>,
  /// 0 for the first try, 1.. for reconnects.
  pub attempt: u32,
  /// True while reconnects remain; the last onError has false.
  pub will_retry: bool,
  /// For CALLBACK_THREW: the value the callback threw.
  #[napi(ts_type = "unknown")]
  pub cause: Option<()>,
}
