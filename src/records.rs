//! The record protocol between the request tasks and the JS thread, and its encoder.
//!
//! A batch reaches JS as `deliver(texts, words, metaLength)` (lib/internal/records.js decodes it):
//! `texts` holds every string of the batch back to back, cut into segments of 32 KiB or a little
//! more; `words` starts with `meta`, `metaLength` words: a run of records, each `[kind, requestId,
//! ...]`; then `ends`, one word per segment: the records of segment k end at meta index `ends[k]`
//! (a record's strings never straddle two segments). Lengths count UTF-16 code units;
//! `NONE` = 0xffffffff means "not present".
//!
//! | kind      | meta                                              | text                              |
//! |-----------|---------------------------------------------------|-----------------------------------|
//! | OPEN 1    | `[1, id, len]`                                    | JSON `{ status, headers }`        |
//! | MESSAGE 2 | `[2, id, dataLen, eventLen/NONE, idLen/NONE, retryHigh/NONE, retryLow]` | data, event, id |
//! | ERROR 3   | `[3, id, len]`                                    | JSON of a retried error, `delay` ms |
//! | END 4     | `[4, id, how]` (0: the body ended, 1: `doneData`) |                                   |
//! | FAIL 5    | `[5, id, len]`                                    | JSON of the final error           |
//! | ID 6      | `[6, id, len]`                                    | the new last event id             |
//! | TEXT 7    | `[7, id, len]`                                    | events as `text/event-stream`     |
//! | LOG 8     | `[8, id, len]`                                    | the generation id                 |
//! | FINAL 9   | `[9, id, len]`                                    | JSON of the assembled message     |
//! | SNAPSHOT 10 | `[10, id, len]`                                 | JSON of a tool call's snapshot    |
//!
//! A request started with `messages: false` (nothing reads its events, `Mode::Unread`) gets no
//! MESSAGE records: an ID record when an event changed the last event id, and its other records.
//! A request started with `text: true` (a relay, `Mode::Text`) gets its events as TEXT records instead of
//! MESSAGE records: the events of one read re-encoded by `sse_core::encode` in one string, so the
//! JS side writes it to a socket without building an object per event; an ID record follows when
//! they changed the last event id.
//! MESSAGE: event type NONE is "message"; id NONE is "unchanged since this request's last record";
//! retry is in ms, split into its high and low 32 bits (high NONE: no retry field; the parser
//! keeps at most 2^53 - 1, so the value is exact as a JS number). ID is sent when a block without
//! data changed the last event id (an id-only block), after the messages of the same read.
//! LOG says that a resumable request's log is open (its producer began, or its reader found it),
//! before any other record of it: a relay sends its response headers then, so that a store that
//! refuses is reported before any header. A resumable request's events carry the log's ids.
//! `EventStreamParser` (src/parser.rs) emits MESSAGE, ID and FAIL records with request id 0 for a
//! stream fed from JS; lib/compat/fetch-transport.js decodes those.
//! SNAPSHOT (`snapshotEvery`) follows the record of the event that brought it (in TEXT mode, the
//! events before it are flushed first): `{index, id, name, arguments}`.
//! FINAL carries the message that `accumulate` assembled, right before the END record of a request
//! that ended cleanly (a provider's error event ends it with FAIL `PROVIDER_ERROR` instead).
//! END and FAIL are a request's last record. `__test__/fixtures/records.json` pins the layout from
//! both sides: `golden_fixture` below encodes it, __test__/core/records.test.mjs decodes it.

use napi_derive::napi;
use sse_core::{Error, ErrorCode, Event};

use crate::error::{error_json, error_json_code};

// Exported by the binding, so that lib/internal/records.js decodes with the same numbers.
#[napi]
pub const KIND_OPEN: u32 = 1;
#[napi]
pub const KIND_MESSAGE: u32 = 2;
#[napi]
pub const KIND_ERROR: u32 = 3;
#[napi]
pub const KIND_END: u32 = 4;
#[napi]
pub const KIND_FAIL: u32 = 5;
#[napi]
pub const KIND_ID: u32 = 6;
#[napi]
pub const KIND_TEXT: u32 = 7;
#[napi]
pub const KIND_LOG: u32 = 8;
#[napi]
pub const KIND_FINAL: u32 = 9;
#[napi]
pub const KIND_SNAPSHOT: u32 = 10;
/// A length or value that is not present.
#[napi]
pub const NONE: u32 = u32::MAX;

/// V8's longest string on 64-bit: 2^29 - 24 UTF-16 units. Every string handed to JS (a batch segment,
/// so each record's text too) must fit, or its conversion throws out of the delivery.
pub const MAX_JS_STRING: usize = 0x1fff_ffe8;

/// The most one TEXT record may hold, in bytes (never fewer UTF-16 units): the limit a MESSAGE
/// record's event has through `maxEventSize`, which leaves a batch segment room for the rest of one
/// network read. Re-encoding adds 7 bytes per data line, so an event within `maxEventSize` can
/// exceed it: that request fails with EVENT_TOO_LARGE, the records before it go as usual.
pub const MAX_TEXT_RECORD: usize = sse_core::parser::MAX_EVENT_SIZE_LIMIT;

/// How a request ended cleanly, in an END record.
#[derive(Debug, Clone, Copy)]
pub enum End {
  Body = 0,
  DoneData = 1,
}

/// How a request's events are encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
  /// One MESSAGE record per event.
  #[default]
  Messages,
  /// The events of one read as one TEXT record of event-stream text (a relay).
  Text,
  /// No record per event: nothing on the JS side reads them (no `onMessage`, `stream()` or relay).
  /// Only a change of the last event id is sent (an ID record), so that `lastEventId` holds.
  Unread,
}

/// One request's records since its last hand-over to the hub.
#[derive(Default)]
pub struct Records {
  pub id: u32,
  pub text: String,
  pub meta: Vec<u32>,
  /// The id last sent to JS: an unchanged id is sent as NONE, not as a string.
  last_id: String,
  mode: Mode,
  /// TEXT mode: the events since the last record, re-encoded.
  events_text: String,
  /// TEXT mode: the id in force as of `events_text` (sent in an ID record after it).
  text_id: String,
}

impl Records {
  /// Bytes of records (and, in TEXT mode, of re-encoded events) not handed over yet.
  pub fn gathered(&self) -> usize {
    self.text.len() + self.meta.len() * 4 + self.events_text.len()
  }

  pub fn new(id: u32, mode: Mode) -> Records {
    Records {
      id,
      mode,
      ..Records::default()
    }
  }

  /// In TEXT mode, the events so far become one TEXT record (and an ID record if the id moved):
  /// called before any other record and at each hand-over, so the order of records is kept.
  pub fn flush_text(&mut self) {
    if self.events_text.is_empty() {
      return;
    }
    let text = std::mem::take(&mut self.events_text);
    self.push_json(KIND_TEXT, &text);
    // The buffer is kept for the next read's events, unless one large read grew it.
    if text.capacity() <= 4 << 10 {
      self.events_text = text;
      self.events_text.clear();
    }
    let id = std::mem::take(&mut self.text_id);
    self.last_event_id(&id);
    self.text_id = id;
  }

  fn push_str(&mut self, s: &str) {
    self.meta.push(utf16_len(s));
    self.text.push_str(s);
  }

  fn push_json(&mut self, kind: u32, json: &str) {
    self.meta.extend_from_slice(&[kind, self.id]);
    self.push_str(json);
  }

  pub fn open(&mut self, status: u16, headers: &http::HeaderMap) {
    self.flush_text();
    // A header sent more than once (set-cookie, vary, ...) keeps every value, joined with ", "
    // as fetch's `Headers.get` does.
    let mut map = serde_json::Map::new();
    for name in headers.keys() {
      let mut joined = String::new();
      for value in headers.get_all(name) {
        if !joined.is_empty() {
          joined.push_str(", ");
        }
        joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
      }
      map.insert(name.as_str().to_owned(), serde_json::Value::String(joined));
    }
    let json = serde_json::json!({ "status": status, "headers": map }).to_string();
    self.push_json(KIND_OPEN, &json);
  }

  /// Encodes one event; an event whose text could not be delivered as a JS string is refused.
  pub fn message(&mut self, event: &Event<'_>) -> Result<(), Error> {
    self.message_within(event, MAX_TEXT_RECORD)
  }

  /// Refuses, as `message` would, an event too large to encode once it carries a log id (a
  /// resumable request checks each event when it arrives, before it is logged).
  pub fn check_size(&self, event: &Event<'_>) -> Result<(), Error> {
    // A log id (`<ms>-<seq>`) is at most 41 bytes: its `id: ` line fits in 64.
    let len = sse_core::encode::encoded_len(event, true) + 64;
    if self.mode == Mode::Text && len > MAX_TEXT_RECORD {
      return Err(Error::new(
        ErrorCode::EventTooLarge,
        format!(
          "an event of {} bytes of data becomes {len} bytes of event-stream text to relay (one \
           `data:` line per line), more than one JS string can hold ({MAX_TEXT_RECORD} bytes)",
          event.data.len()
        ),
      ));
    }
    Ok(())
  }

  /// `message`, with the TEXT record limit as a parameter (tests use a small one).
  fn message_within(&mut self, event: &Event<'_>, limit: usize) -> Result<(), Error> {
    if self.mode == Mode::Text {
      let changed = event.id != self.text_id;
      let len = sse_core::encode::encoded_len(event, changed);
      if len > limit {
        return Err(Error::new(
          ErrorCode::EventTooLarge,
          format!(
            "an event of {} bytes of data becomes {len} bytes of event-stream text to relay (one \
             `data:` line per line), more than one JS string can hold ({limit} bytes)",
            event.data.len()
          ),
        ));
      }
      if self.events_text.len() + len > limit {
        // The events before it go in a TEXT record of their own.
        self.flush_text();
      }
      sse_core::encode::encode_event(event, changed, &mut self.events_text);
      if changed {
        self.text_id.clear();
        self.text_id.push_str(event.id);
      }
      return Ok(());
    }
    if self.mode == Mode::Unread {
      // Copying each event into the batch and building its strings on the JS thread was 40 % of
      // an `accumulate` request's time end to end, for events nothing read.
      self.last_event_id(event.id);
      return Ok(());
    }
    self.meta.extend_from_slice(&[KIND_MESSAGE, self.id]);
    self.push_str(event.data);
    if event.event == "message" {
      self.meta.push(NONE);
    } else {
      self.push_str(event.event);
    }
    if self.id_unchanged(event.id) {
      self.meta.push(NONE);
    } else {
      self.push_str(event.id);
      self.last_id.clear();
      self.last_id.push_str(event.id);
    }
    match event.retry {
      None => self.meta.extend_from_slice(&[NONE, 0]),
      Some(ms) => self.meta.extend_from_slice(&[(ms >> 32) as u32, ms as u32]),
    }
    Ok(())
  }

  /// Lengths first: most streams have no ids, and a memcmp call per event for two empty strings
  /// took a third of the reader thread's time when profiling one stream of 1,000,000 small events.
  fn id_unchanged(&self, id: &str) -> bool {
    id.len() == self.last_id.len() && (id.is_empty() || id == self.last_id)
  }

  /// The last event id after a read: an ID record when an id-only block changed it.
  pub fn last_event_id(&mut self, id: &str) {
    if self.mode == Mode::Text && !self.events_text.is_empty() {
      // Said after the TEXT record, by flush_text.
      if id != self.text_id {
        self.text_id.clear();
        self.text_id.push_str(id);
      }
      return;
    }
    if self.mode == Mode::Text && id != self.text_id {
      self.text_id.clear();
      self.text_id.push_str(id);
    }
    if !self.id_unchanged(id) {
      self.push_json(KIND_ID, id);
      self.last_id.clear();
      self.last_id.push_str(id);
    }
  }

  /// A failed attempt that is retried after `delay` (its JSON's `delay`, in ms, when given).
  pub fn error(&mut self, err: &Error, attempt: u32, delay: Option<std::time::Duration>) {
    self.flush_text();
    let mut json = error_json(err, attempt, true);
    if let Some(delay) = delay {
      json.truncate(json.len() - 1);
      json.push_str(&format!(r#","delay":{}}}"#, delay.as_millis()));
    }
    self.push_json(KIND_ERROR, &json);
  }

  pub fn end(&mut self, how: End) {
    self.flush_text();
    self
      .meta
      .extend_from_slice(&[KIND_END, self.id, how as u32]);
  }

  pub fn fail(&mut self, err: &Error, attempt: u32) {
    self.flush_text();
    self.push_json(KIND_FAIL, &error_json(err, attempt, false));
  }

  /// The final error of a resumable request, whose terminal `error` event is already among its
  /// events (`inBand`: the JS side writes none of its own).
  pub fn fail_in_band(&mut self, err: &Error, attempt: u32) {
    self.flush_text();
    let mut json = error_json(err, attempt, false);
    json.truncate(json.len() - 1);
    json.push_str(r#","inBand":true}"#);
    self.push_json(KIND_FAIL, &json);
  }

  /// A final error with a code the core does not know (the store's).
  pub fn fail_code(&mut self, code: &str, message: &str) {
    self.flush_text();
    self.push_json(KIND_FAIL, &error_json_code(code, message));
  }

  /// The message `accumulate` assembled, as JSON.
  pub fn final_message(&mut self, json: &str) {
    self.flush_text();
    self.push_json(KIND_FINAL, json);
  }

  /// A snapshot of a tool call's arguments (`snapshotEvery`), as JSON.
  pub fn snapshot(&mut self, json: &str) {
    self.flush_text();
    self.push_json(KIND_SNAPSHOT, json);
  }

  /// The log of this resumable request is open.
  pub fn log(&mut self, generation: &str) {
    self.flush_text();
    self.push_json(KIND_LOG, generation);
  }

  /// The events so far in TEXT mode (or nothing), for a request whose JS side went away.
  pub fn clear(&mut self) {
    self.text.clear();
    self.meta.clear();
    self.events_text.clear();
  }
}

/// JS string offsets count UTF-16 code units, Rust's count bytes.
fn utf16_len(s: &str) -> u32 {
  let n = if s.is_ascii() {
    s.len()
  } else {
    s.chars().map(char::len_utf16).sum()
  };
  n as u32
}

#[cfg(test)]
mod tests {
  use super::*;
  use sse_core::ErrorCode;

  #[test]
  fn utf16_lengths() {
    assert_eq!(utf16_len("abc"), 3);
    assert_eq!(utf16_len("é"), 1);
    assert_eq!(utf16_len("日本"), 2);
    assert_eq!(utf16_len("😀"), 2);
  }

  fn ev<'a>(data: &'a str, event: &'a str, id: &'a str, retry: Option<u64>) -> Event<'a> {
    Event {
      data,
      event,
      id,
      retry,
    }
  }

  #[test]
  fn a_text_event_over_the_limit_fails_and_the_events_before_it_are_kept() {
    let mut r = Records::new(3, Mode::Text);
    r.message_within(&ev("a", "message", "", None), 35).unwrap();
    // 4 data lines: 4 x 7 + 1 = 29 bytes, which do not fit after "data: a\n\n" (9): a new record.
    r.message_within(&ev("\n\n\n", "message", "", None), 35)
      .unwrap();
    // 6 lines: 43 bytes, over the limit on its own.
    let err = r
      .message_within(&ev("\n\n\n\n\n", "message", "", None), 35)
      .unwrap_err();
    assert_eq!(err.code, ErrorCode::EventTooLarge);
    assert!(err.message.contains("JS string"), "{}", err.message);
    r.fail(&err, 0);
    assert_eq!(r.meta[..6], [KIND_TEXT, 3, 9, KIND_TEXT, 3, 29]);
    assert_eq!(r.meta[6..8], [KIND_FAIL, 3]);
    assert!(r
      .text
      .starts_with("data: a\n\ndata: \ndata: \ndata: \ndata: \n\n{"));
  }

  #[test]
  fn unread_events_leave_only_their_id_changes() {
    let mut r = Records::new(4, Mode::Unread);
    r.message(&ev("a", "message", "", None)).unwrap();
    r.message(&ev("b", "update", "7", Some(10))).unwrap();
    r.message(&ev("c", "message", "7", None)).unwrap();
    r.last_event_id("7");
    r.end(End::Body);
    assert_eq!(r.meta, [KIND_ID, 4, 1, KIND_END, 4, 0]);
    assert_eq!(r.text, "7");
  }

  #[test]
  fn the_text_limit_is_below_the_longest_js_string() {
    const { assert!(MAX_TEXT_RECORD < MAX_JS_STRING) };
  }

  /// Encodes a fixed sequence of two requests and compares it with the fixture that
  /// __test__/core/records.test.mjs decodes. `UPDATE_FIXTURES=1 cargo test` rewrites it after a
  /// deliberate protocol change.
  #[test]
  fn a_retried_error_carries_its_delay() {
    let mut r = Records::new(3, Mode::Messages);
    let err = Error::new(ErrorCode::Network, "refused");
    r.error(&err, 2, Some(std::time::Duration::from_millis(1500)));
    let json: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(json["delay"], 1500);
    assert_eq!(json["attempt"], 2);
    assert_eq!(json["willRetry"], true);
    assert_eq!(r.meta[..2], [KIND_ERROR, 3]);
  }

  #[test]
  fn golden_fixture() {
    let mut a = Records::new(7, Mode::Messages);
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "text/event-stream".parse().unwrap());
    headers.append("set-cookie", "a=1".parse().unwrap());
    headers.append("set-cookie", "b=2".parse().unwrap());
    a.open(200, &headers);
    a.message(&ev("plain", "message", "", None)).unwrap();
    a.message(&ev("line 1\nline 2", "update", "1", None))
      .unwrap();
    a.message(&ev("same id", "message", "1", Some(2500)))
      .unwrap();
    a.message(&ev("héllo 日本 😀", "message", "2", None))
      .unwrap();
    a.last_event_id("2");
    a.last_event_id("only-id");
    a.error(
      &Error::new(ErrorCode::Timeout, "no data for 10 ms (timeout)"),
      0,
      None,
    );
    a.message(&ev(
      "after retry",
      "message",
      "only-id",
      Some((1 << 53) - 1),
    ))
    .unwrap();
    a.end(End::DoneData);
    let mut b = Records::new(8, Mode::Messages);
    b.fail(
      &Error::http_status(503, "Service Unavailable", "busy".into(), None),
      2,
    );
    let mut c = Records::new(9, Mode::Messages);
    c.snapshot(r#"{"index":0,"id":"call","name":"f","arguments":{"q":"caf"}}"#);
    c.final_message(r#"{"format":"openai-chat","choices":[{"message":{"content":"hé 😀"}}]}"#);
    c.end(End::Body);
    let mut d = Records::new(10, Mode::Text);
    d.open(200, &http::HeaderMap::new());
    d.message(&ev("a\nb", "message", "", None)).unwrap();
    d.message(&ev("c", "update", "5", Some(100))).unwrap();
    d.last_event_id("5");
    d.flush_text();
    d.message(&ev("d", "message", "5", None)).unwrap();
    d.last_event_id("6");
    d.end(End::Body);
    // Two segments, as the hub cuts a large batch: the decoder must switch texts at `ends[0]`.
    let mut texts = Vec::new();
    let mut meta = Vec::new();
    let mut ends = Vec::new();
    for segment in [[&a, &b], [&c, &d]] {
      let mut text = String::new();
      for r in segment {
        text.push_str(&r.text);
        meta.extend_from_slice(&r.meta);
      }
      texts.push(text);
      ends.push(meta.len());
    }
    let encoded = serde_json::json!({ "texts": texts, "meta": meta, "ends": ends });
    let encoded = encoded.to_string() + "\n";
    let path = concat!(
      env!("CARGO_MANIFEST_DIR"),
      "/__test__/fixtures/records.json"
    );
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
      std::fs::write(path, &encoded).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
      encoded, committed,
      "the record encoding changed: update lib/internal/records.js and run UPDATE_FIXTURES=1 cargo test"
    );
  }
}
