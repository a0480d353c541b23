//! Errors crossing into JS. Bad input throws at once with `err.code` set to the API.md string (the
//! JS module turns it into an `SseError`); stream faults travel as records (src/records.rs).

use serde_json::json;
use sse_core::Error;

/// The status type of thrown errors: napi-rs puts `as_ref()` into the JS error's `code`.
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
  fn as_ref(&self) -> &str {
    self.0
  }
}

/// A napi failure inside the binding is not the user's input: it keeps napi's own status.
impl From<napi::Status> for Code {
  fn from(status: napi::Status) -> Code {
    Code(match status {
      napi::Status::PendingException => "PendingException",
      _ => "NAPI_INTERNAL",
    })
  }
}

pub fn throw(err: Error) -> napi::Error<Code> {
  napi::Error::new(Code(err.code.as_str()), err.message)
}

/// A napi failure while doing the binding's own work (not while reading the user's input).
pub fn internal(err: napi::Error) -> napi::Error<Code> {
  napi::Error::new(Code("NAPI_INTERNAL"), err.reason.clone())
}

/// The fields of an `SseError`, as JSON for lib/errors.js to turn into an `SseError` instance.
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

/// The same fields for an error whose code is not one of the core's (the store's codes).
pub fn error_json_code(code: &str, message: &str) -> String {
  json!({ "code": code, "message": message, "attempt": 0, "willRetry": false }).to_string()
}
