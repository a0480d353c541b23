//! `EventStreamParser`: the core parser (`sse_core::parser`) fed from JS, for streams the native
//! transport does not read (a response from a user's own `fetch` in the drop-ins). Bytes go in;
//! events come out as the records of src/records.rs (MESSAGE, ID, and FAIL for an oversized event),
//! in one string plus a `Uint32Array`, as the delivery path sends them: building the message
//! objects in JS is 5-7x cheaper than building them through napi.

use napi::bindgen_prelude::Uint32Array;
use napi_derive::napi;
use sse_core::options::parser_max_event_size;
use sse_core::{Error, ErrorCode, Parser};

use crate::error::{throw, Code};
use crate::records::{Mode, Records};

/// The records of one `feed`: `text` holds their strings back to back, `meta` the records
/// (`[kind, 0, ...]`, the layout of src/records.rs).
#[napi(object)]
pub struct ParsedRecords {
  pub text: String,
  pub meta: Uint32Array,
}

/// An incremental `text/event-stream` parser (WHATWG rules): chunks may split lines, UTF-8
/// sequences and CRLF pairs anywhere. It keeps the last event ID and the reconnection time across
/// `reset()`, as a reconnecting EventSource does.
#[napi(js_name = "EventStreamParser")]
pub struct EventStreamParser {
  parser: Parser,
  records: Records,
  max_event_size: usize,
}

#[napi]
impl EventStreamParser {
  /// `maxEventSize`: the most bytes one event may hold (data, event, id and the line being read);
  /// default 16 MiB, at most 511 MiB.
  #[napi(constructor)]
  pub fn new(max_event_size: Option<f64>) -> napi::Result<EventStreamParser, Code> {
    let max_event_size = parser_max_event_size(max_event_size).map_err(throw)?;
    Ok(EventStreamParser {
      parser: Parser::new(max_event_size),
      records: Records::new(0, Mode::Messages),
      max_event_size,
    })
  }

  /// Parses the next chunk. Returns the records of the events it completed, or null when it
  /// completed none. An event over `maxEventSize` ends the records with a FAIL record
  /// (code `EVENT_TOO_LARGE`), after the events completed before it in the chunk; call `reset()`
  /// before feeding another stream.
  #[napi]
  pub fn feed(&mut self, chunk: &[u8]) -> Option<ParsedRecords> {
    let records = &mut self.records;
    // MESSAGE records (not TEXT): nothing is refused here, the parser bounds each event.
    let result = self.parser.feed(chunk, |event| {
      let _ = records.message(&event);
    });
    match result {
      Ok(_) => records.last_event_id(self.parser.last_event_id()),
      Err(too_large) => {
        let err = Error::new(ErrorCode::EventTooLarge, too_large.to_string());
        records.fail(&err, 0);
      }
    }
    if records.meta.is_empty() {
      return None;
    }
    Some(ParsedRecords {
      text: std::mem::take(&mut records.text),
      meta: Uint32Array::new(std::mem::take(&mut records.meta)),
    })
  }

  /// Starts a new connection: the unterminated line and event are dropped, a BOM is expected
  /// again; the last event ID and the reconnection time are kept.
  #[napi]
  pub fn reset(&mut self) {
    self.parser.reset_stream();
  }

  /// The last event ID string ("" until the stream sends an `id`).
  #[napi(getter)]
  pub fn last_event_id(&self) -> String {
    self.parser.last_event_id().to_owned()
  }

  /// The reconnection time in milliseconds the stream set with `retry`, if it did.
  #[napi(getter)]
  pub fn retry(&self) -> Option<f64> {
    self.parser.reconnection_time().map(|ms| ms as f64)
  }

  /// The limit given to the constructor, or the default.
  #[napi(getter)]
  pub fn max_event_size(&self) -> f64 {
    self.max_event_size as f64
  }
}
