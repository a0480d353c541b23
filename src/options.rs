//! The options as the binding receives them: each declared once, here, with its docs, and converted
//! into the core's options (which validate and default them, in one place). The JS module
//! (lib/internal/options.js) reads the user's object once, keeps callbacks, `signal` and the body's
//! encoding to itself, and passes the rest: headers as flat `[name, value, ...]` pairs, the body
//! as a string or bytes with the content-type it implies.

use crate::store::StoreOptions;
use bytes::Bytes;
use napi::bindgen_prelude::{Either, Uint8Array};
use napi_derive::napi;
use sse_core::{Body, ClientOptions as CoreClientOptions, RequestOptions as CoreRequestOptions};

/// Defaults for every request of a client, and its connection settings.
#[napi(object, object_to_js = false)]
pub struct ClientOptions {
  /// Relative request URLs are resolved against it.
  pub base_url: Option<String>,
  /// Flat `[name, value, name, value, ...]` pairs.
  pub headers: Option<Vec<String>>,
  /// Milliseconds of no progress before TIMEOUT (default 30000; 0 disables it).
  pub timeout: Option<f64>,
  /// Reconnects after a timeout or a dropped connection (default 5).
  pub reconnect_count: Option<f64>,
  /// Milliseconds before a reconnect when the server sent no retry field (default 1000).
  pub retry_delay: Option<f64>,
  /// Bytes; a larger event fails the request with EVENT_TOO_LARGE (default 16 MiB).
  pub max_event_size: Option<f64>,
  /// Extra trusted CA certificates (PEM), added to the system roots.
  pub ca: Option<Either<String, Uint8Array>>,
  /// Client certificate (PEM) for mutual TLS, with `key`.
  pub cert: Option<Either<String, Uint8Array>>,
  /// The client certificate's private key (PEM).
  pub key: Option<Either<String, Uint8Array>>,
  /// Proxy URL; by default HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply.
  pub proxy: Option<String>,
  /// Default false: with a `baseUrl`, a request URL that leaves its origin is refused.
  pub allow_absolute_urls: Option<bool>,
  /// Default false (HTTP/1.1): offer HTTP/2 in TLS ALPN, with fixed flow-control windows.
  pub http2: Option<bool>,
  /// Where resumable generations are logged: a `redis://`/`rediss://` URL or its options;
  /// default the in-process store.
  pub store: Option<Either<String, StoreOptions>>,
}

/// One request, without its callbacks and signal.
#[napi(object, object_to_js = false)]
pub struct RequestOptions {
  pub url: String,
  /// GET, POST, PUT, PATCH or DELETE (default POST).
  pub method: Option<String>,
  /// The encoded body: JSON text, a string, or bytes.
  pub body: Option<Either<String, Uint8Array>>,
  /// The content-type the body implies ('application/json' for an object), sent unless the
  /// headers set one.
  pub body_type: Option<String>,
  /// Flat `[name, value, name, value, ...]` pairs; they win over the client's, name by name.
  pub headers: Option<Vec<String>>,
  /// Milliseconds of no progress before TIMEOUT.
  pub timeout: Option<f64>,
  /// Milliseconds between two dispatched events before TIMEOUT (default none).
  pub event_timeout: Option<f64>,
  /// Reconnects after a timeout or a dropped connection.
  pub reconnect_count: Option<f64>,
  /// 'with-id' (default), 'always' or 'never': whether to reconnect once events were delivered.
  pub reconnect_after_events: Option<String>,
  /// Sent as Last-Event-ID on the first attempt.
  pub last_event_id: Option<String>,
  /// An event whose data equals it ends the request cleanly and is not delivered.
  pub done_data: Option<String>,
  /// Default true: a response that is not text/event-stream fails with BAD_CONTENT_TYPE.
  pub strict_content_type: Option<bool>,
  /// Milliseconds before a reconnect when the server sent no retry field.
  pub retry_delay: Option<f64>,
  /// Bytes; a larger event fails the request with EVENT_TOO_LARGE.
  pub max_event_size: Option<f64>,
  /// Deliver events as re-encoded event-stream text (TEXT records), for relays.
  pub text: Option<bool>,
  /// Default true; false when nothing on the JS side reads the events (no `onMessage`): only their
  /// id changes are delivered, not one record per event.
  pub messages: Option<bool>,
  /// Resumable: the id of the generation whose log the events are appended to.
  pub generation: Option<String>,
  /// A JSON Pointer (RFC 6901), e.g. '/choices/0/delta/content': each event's data becomes the
  /// value there, evaluated natively (a string as its text, any other value as its JSON). Or named
  /// pointers as flat `[name, pointer, ...]` pairs: one event per value found, named by its pointer.
  pub select: Option<Either<String, Vec<String>>>,
  /// 'keep' (default) or 'drop': what happens to an event whose data is not JSON or has no value
  /// at `select` ('[DONE]', a usage chunk, an error event).
  pub select_missing: Option<String>,
  /// 'openai-chat', 'openai-responses' or 'anthropic-messages': assemble the final message
  /// natively; it is handed over once, at the end.
  pub accumulate: Option<String>,
  /// With `accumulate`: a snapshot of a tool call's arguments parsed so far (best effort), at
  /// most once per this many bytes of them (a SNAPSHOT record, `onSnapshot`).
  pub snapshot_every: Option<f64>,
  /// Milliseconds, 0 to 1000 (default 0): the events that arrive within this window after a
  /// delivery to JS wait for its end and arrive together, in one delivery; the first event after a
  /// quiet period and the request's end are not held back.
  pub coalesce: Option<f64>,
}

/// A resumed reader of a generation's log.
#[napi(object, object_to_js = false)]
pub struct FollowOptions {
  /// The generation id.
  pub generation: String,
  /// Replay the entries after this log id (all of them without one).
  pub last_event_id: Option<String>,
  /// Deliver events as event-stream text (TEXT records), for relays.
  pub text: Option<bool>,
}

fn pairs(flat: Option<Vec<String>>) -> Vec<(String, String)> {
  let mut flat = flat.unwrap_or_default().into_iter();
  let mut out = Vec::with_capacity(flat.len() / 2);
  while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
    out.push((name, value));
  }
  out
}

fn pem(value: Option<Either<String, Uint8Array>>) -> Option<Vec<u8>> {
  value.map(|v| match v {
    Either::A(text) => text.into_bytes(),
    Either::B(bytes) => bytes.to_vec(),
  })
}

impl From<ClientOptions> for CoreClientOptions {
  fn from(o: ClientOptions) -> CoreClientOptions {
    CoreClientOptions {
      base_url: o.base_url,
      headers: pairs(o.headers),
      timeout: o.timeout,
      reconnect_count: o.reconnect_count,
      retry_delay: o.retry_delay,
      max_event_size: o.max_event_size,
      ca: pem(o.ca),
      cert: pem(o.cert),
      key: pem(o.key),
      proxy: o.proxy,
      allow_absolute_urls: o.allow_absolute_urls,
      http2: o.http2,
    }
  }
}

impl From<RequestOptions> for CoreRequestOptions {
  fn from(o: RequestOptions) -> CoreRequestOptions {
    let body = match (o.body, o.body_type.as_deref()) {
      (None, _) => Body::None,
      (Some(Either::A(json)), Some("application/json")) => Body::Json(json),
      (Some(Either::A(text)), _) => Body::Text(text),
      (Some(Either::B(bytes)), _) => Body::Bytes(Bytes::copy_from_slice(&bytes)),
    };
    CoreRequestOptions {
      url: o.url,
      method: o.method,
      body,
      body_type: o.body_type.filter(|t| t != "application/json"),
      headers: pairs(o.headers),
      timeout: o.timeout,
      event_timeout: o.event_timeout,
      reconnect_count: o.reconnect_count,
      reconnect_after_events: o.reconnect_after_events,
      last_event_id: o.last_event_id,
      done_data: o.done_data,
      strict_content_type: o.strict_content_type,
      retry_delay: o.retry_delay,
      max_event_size: o.max_event_size,
    }
  }
}
