//! `EventStreamParser`: the core parser (`sse_core::parser`) fed from JS, for streams the native
//! transport does not read (a response from a user's own `fetch` in the drop-ins). Bytes go in;
//! events come out as the records of src/records.rs (MESSAGE, ID, and FAIL for an oversized event):
//! their strings as one string, their meta written into a `Uint32Array` the caller keeps and passes
//! to every call. Building the message objects in JS is 5-7x cheaper than building them through
//! napi, and a reused array costs no allocation, finalizer or weak handle per call (an external
//! buffer per delivery was about a fifth of the JS thread's time on the native delivery path).

use napi::bindgen_prelude::Uint32ArraySlice;
use napi_derive::napi;
use sse_core::options::parser_max_event_size;
use sse_core::{Error, ErrorCode, Parser};

use crate::error::{throw, Code};
use crate::records::{Mode, Records};

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

  /// Parses the next chunk. Returns the strings of the records of the events it completed, back
  /// to back, or null when it completed none. `words[0]` then says how many meta words the records
  /// have, and `words[1..]` holds them when they fit; when they do not, `takeMeta` copies them into
  /// a larger array. An event over `maxEventSize` ends the records with a FAIL record (code
  /// `EVENT_TOO_LARGE`), after the events completed before it in the chunk; call `reset()` before
  /// feeding another stream.
  #[napi(ts_args_type = "chunk: Uint8Array, words: Uint32Array")]
  pub fn feed(
    &mut self,
    chunk: &[u8],
    mut words: Uint32ArraySlice<'_>,
  ) -> napi::Result<Option<String>> {
    // SAFETY: this runs on the JS thread, which is in this call: nothing else touches the array.
    let words = unsafe { words.as_mut() };
    let Some((count, rest)) = words.split_first_mut() else {
      return Err(napi::Error::from_reason(
        "EventStreamParser.feed: words must hold at least one element",
      ));
    };
    let records = &mut self.records;
    // Left by a feed whose records did not fit and were not taken.
    records.meta.clear();
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
      return Ok(None);
    }
    let meta = &records.meta;
    *count = meta.len() as u32;
    if let Some(into) = rest.get_mut(..meta.len()) {
      into.copy_from_slice(meta);
      records.meta.clear();
    }
    Ok(Some(std::mem::take(&mut records.text)))
  }

  /// After a `feed` whose meta did not fit: copies it into `words` (from index 1), which must hold
  /// it.
  #[napi(ts_args_type = "words: Uint32Array")]
  pub fn take_meta(&mut self, mut words: Uint32ArraySlice<'_>) -> napi::Result<()> {
    // SAFETY: as in `feed`.
    let words = unsafe { words.as_mut() };
    let meta = std::mem::take(&mut self.records.meta);
    match words.get_mut(1..=meta.len()) {
      Some(into) => {
        into.copy_from_slice(&meta);
        Ok(())
      }
      None => Err(napi::Error::from_reason(format!(
        "EventStreamParser.takeMeta: words must hold {} elements",
        meta.len() + 1
      ))),
    }
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
