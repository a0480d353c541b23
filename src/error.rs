//! Errors crossing into JS. Bad input throws at once with `err.code` set to the API.md string; stream
//! faults travel as records and become `SseError` objects in lib/runtime.js.

use napi::Status;
use serde_json::json;
use sse_core::{Error, ErrorCode};

/// The status type of thrown errors: napi-rs puts `as_ref()` into the JS error's `code`.
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
  fn as_ref(&self) -> &str {
    self.0
  }
}

impl From<Status> for Code {
  /// A napi failure while reading options means the value had the wrong shape.
  fn from(_: Status) -> Code {
    Code(ErrorCode::InvalidOptions.as_str())
  }
}

pub type JsResult<T> = napi::Result<T, Code>;

pub fn throw(err: Error) -> napi::Error<Code> {
  napi::Error::new(Code(err.code.as_str()), err.message)
}

pub fn invalid_options(message: impl Into<String>) -> napi::Error<Code> {
  throw(Error::invalid_options(message))
}

/// Re-labels a napi error (a failed conversion) as INVALID_OPTIONS, keeping its reason.
pub fn from_napi(err: napi::Error) -> napi::Error<Code> {
  napi::Error::new(Code(ErrorCode::InvalidOptions.as_str()), err.reason.clone())
}

/// The fields of an `SseError`, as JSON for the runtime to turn into an `Error` instance.
pub fn error_json(err: &Error, attempt: u32, will_retry: bool) -> String {
  json!({
    "code": err.code.as_str(),
    "message": err.message,
    "status": err.status,
    "body": err.body,
    "attempt": attempt,
    "willRetry": will_retry,
  })
  .to_string()
}
