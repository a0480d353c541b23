//! Incremental `text/event-stream` parser following the WHATWG HTML "Server-sent events" section
//! (§9.2.6 "Interpreting an event stream", §9.2.7 "Dispatching the event").
//!
//! The input is fed in chunks that may split anything: a UTF-8 sequence, a line, the BOM, or the
//! CR and LF of a CRLF pair. Lines are found with `memchr2` on bytes (CR and LF never occur inside a
//! UTF-8 sequence), then each complete line is decoded with replacement, which gives the same text
//! as decoding the whole stream first. When no line is pending from an earlier chunk, lines are
//! read straight from the chunk without copying.
//!
//! The parser never holds more than `max_event_size` bytes of one event (pending line plus data
//! buffer): a stream that exceeds it gets [`EventTooLarge`] instead of unbounded memory.

use std::fmt;

use memchr::memchr2;

/// Default limit for one event (its data, event and id fields plus the line being read): 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// The largest `maxEventSize` accepted: 511 MiB. V8's longest string is 2^29 - 24 UTF-16 units
/// (512 MiB less 24), and an event reaches JS as one string holding its data, event and id fields
/// (a UTF-8 byte never becomes more than one UTF-16 unit, a replaced invalid byte neither), sharing
/// it with at most a batch segment's worth of smaller events: 1 MiB of room for those. An event
/// larger than V8 can hold used to throw out of the delivery, be dropped, and end as a clean end.
pub const MAX_EVENT_SIZE_LIMIT: usize = (512 - 1) * 1024 * 1024;

/// The largest `retry` value reported (Number.MAX_SAFE_INTEGER): larger ones are held at it.
pub const MAX_RETRY_FIELD: u64 = (1 << 53) - 1;

/// Buffers grown past this by a big event are shrunk back once it has been dispatched.
const KEEP_CAPACITY: usize = 64 * 1024;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// An event held more than `maxEventSize` bytes before it was complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTooLarge {
  pub limit: usize,
  pub size: usize,
}

impl fmt::Display for EventTooLarge {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
      f,
      "event of at least {} bytes exceeds maxEventSize ({} bytes)",
      self.size, self.limit
    )
  }
}

impl std::error::Error for EventTooLarge {}

/// A dispatched event, borrowed from the parser until the callback returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
  /// The data lines joined with LF. Blocks without a data line are not dispatched; a block with one
  /// empty `data` line gives an event whose data is "".
  pub data: &'a str,
  /// The `event` field, or `"message"` when none was given.
  pub event: &'a str,
  /// The last event ID string at dispatch time (it persists across events, as in `EventSource`).
  pub id: &'a str,
  /// The valid `retry` field of this event's block, if it had one.
  pub retry: Option<u64>,
}

/// An owned copy of an [`Event`], for tests and tools.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnedEvent {
  pub data: String,
  pub event: String,
  pub id: String,
  pub retry: Option<u64>,
}

impl From<Event<'_>> for OwnedEvent {
  fn from(e: Event<'_>) -> OwnedEvent {
    OwnedEvent {
      data: e.data.to_owned(),
      event: e.event.to_owned(),
      id: e.id.to_owned(),
      retry: e.retry,
    }
  }
}

/// Parses a whole stream in one go (unbounded event size). The unterminated tail is dropped.
pub fn parse_all(input: &[u8]) -> Vec<OwnedEvent> {
  let mut parser = Parser::new(usize::MAX);
  let mut out = Vec::new();
  parser
    .feed(input, |e| out.push(e.into()))
    .expect("no limit");
  out
}

/// The per-event buffers and the per-stream fields of the spec.
#[derive(Debug, Default)]
struct Fields {
  /// The data buffer: every data line followed by LF.
  data: String,
  /// The event type buffer.
  event_type: String,
  /// The last event ID buffer (set by `id`, copied to `last_event_id` at dispatch).
  id_buffer: String,
  /// `id_buffer` may differ from `last_event_id`: set by an `id` field, so that dispatch does not
  /// compare the two strings for every event (a measurable cost at a million events a second).
  id_dirty: bool,
  /// The last event ID string.
  last_event_id: String,
  /// `retry` seen in the current block.
  retry: Option<u64>,
  /// The event stream's reconnection time, once a server set it.
  reconnection_time: Option<u64>,
  /// Whether an `id` field was ever processed.
  saw_id: bool,
}

impl Fields {
  /// Processes one complete line (without its terminator). Returns whether an event was dispatched.
  fn line(&mut self, line: &[u8], on_event: &mut impl FnMut(Event<'_>)) -> bool {
    if line.is_empty() {
      return self.dispatch(on_event);
    }
    if line[0] == b':' {
      return false;
    }
    let (name, value) = match memchr::memchr(b':', line) {
      Some(colon) => {
        let value = &line[colon + 1..];
        (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
      }
      None => (line, &b""[..]),
    };
    match name {
      b"data" => {
        push_lossy(&mut self.data, value);
        self.data.push('\n');
      }
      b"event" => {
        self.event_type.clear();
        push_lossy(&mut self.event_type, value);
      }
      // An id containing NUL is ignored.
      b"id" if !value.contains(&0) => {
        self.id_buffer.clear();
        push_lossy(&mut self.id_buffer, value);
        self.id_dirty = true;
        self.saw_id = true;
      }
      // Only ASCII digits; anything else (sign, dot, empty) is ignored.
      b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
        // Held at Number.MAX_SAFE_INTEGER, so that `msg.retry` is exactly what the server sent or
        // that documented cap, never a rounded double.
        let ms = value.iter().fold(0u64, |n, d| {
          n.saturating_mul(10)
            .saturating_add(u64::from(d - b'0'))
            .min(MAX_RETRY_FIELD)
        });
        self.retry = Some(ms);
        self.reconnection_time = Some(ms);
      }
      _ => {}
    }
    false
  }

  fn dispatch(&mut self, on_event: &mut impl FnMut(Event<'_>)) -> bool {
    if self.id_dirty {
      self.id_dirty = false;
      self.last_event_id.clone_from(&self.id_buffer);
    }
    let dispatched = !self.data.is_empty();
    if dispatched {
      let data = &self.data[..self.data.len() - 1];
      let event = if self.event_type.is_empty() {
        "message"
      } else {
        &self.event_type
      };
      on_event(Event {
        data,
        event,
        id: &self.last_event_id,
        retry: self.retry,
      });
    }
    self.clear_event();
    dispatched
  }

  fn clear_event(&mut self) {
    clear_and_trim(&mut self.data);
    self.event_type.clear();
    self.retry = None;
  }

  /// A new connection: the unfinished event is dropped, an `id` it carried with it; the last event
  /// ID string and the reconnection time stay.
  fn new_stream(&mut self) {
    self.clear_event();
    self.id_buffer.clone_from(&self.last_event_id);
    self.id_dirty = false;
  }
}

fn push_lossy(out: &mut String, bytes: &[u8]) {
  match std::str::from_utf8(bytes) {
    Ok(text) => out.push_str(text),
    Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
  }
}

/// Empties a buffer, giving back what one big event made it grow to.
fn clear_and_trim(buf: &mut String) {
  buf.clear();
  if buf.capacity() > KEEP_CAPACITY {
    buf.shrink_to(KEEP_CAPACITY / 4);
  }
}

fn clear_and_trim_bytes(buf: &mut Vec<u8>) {
  buf.clear();
  if buf.capacity() > KEEP_CAPACITY {
    buf.shrink_to(KEEP_CAPACITY / 4);
  }
}

/// Incremental event-stream parser. One per request; [`Parser::reset_stream`] between connections.
#[derive(Debug)]
pub struct Parser {
  max_event_size: usize,
  /// Bytes of a line not terminated yet.
  pending: Vec<u8>,
  /// How many bytes of a leading BOM have been matched; `None` once past the start of the stream.
  bom: Option<usize>,
  /// The previous chunk ended with CR: an LF at the start of the next one belongs to it.
  skip_lf: bool,
  fields: Fields,
}

impl Default for Parser {
  fn default() -> Parser {
    Parser::new(DEFAULT_MAX_EVENT_SIZE)
  }
}

impl Parser {
  pub fn new(max_event_size: usize) -> Parser {
    Parser {
      max_event_size,
      pending: Vec::new(),
      bom: Some(0),
      skip_lf: false,
      fields: Fields::default(),
    }
  }

  /// Feeds the next chunk of the stream, calling `on_event` for each event it completes. Returns
  /// how many events were dispatched, or the error for an event that grew past the limit (events
  /// completed earlier in the same chunk have been delivered by then).
  pub fn feed(
    &mut self,
    chunk: &[u8],
    mut on_event: impl FnMut(Event<'_>),
  ) -> Result<usize, EventTooLarge> {
    let mut input = chunk;
    if let Some(matched) = self.bom {
      let mut matched = matched;
      while matched < BOM.len() && !input.is_empty() {
        if input[0] != BOM[matched] {
          // Not a BOM after all: what matched so far is content.
          self.pending.extend_from_slice(&BOM[..matched]);
          matched = usize::MAX;
          break;
        }
        matched += 1;
        input = &input[1..];
      }
      if matched < BOM.len() {
        self.bom = Some(matched);
        return Ok(0);
      }
      self.bom = None;
    }
    if self.skip_lf && !input.is_empty() {
      self.skip_lf = false;
      if input[0] == b'\n' {
        input = &input[1..];
      }
    }

    let mut dispatched = 0;
    while let Some(end) = memchr2(b'\r', b'\n', input) {
      let line = &input[..end];
      self.check_size(line.len())?;
      let fields = &mut self.fields;
      let hit = if self.pending.is_empty() {
        fields.line(line, &mut on_event)
      } else {
        self.pending.extend_from_slice(line);
        let hit = fields.line(&self.pending, &mut on_event);
        clear_and_trim_bytes(&mut self.pending);
        hit
      };
      dispatched += usize::from(hit);
      let mut next = end + 1;
      if input[end] == b'\r' {
        match input.get(next) {
          Some(b'\n') => next += 1,
          Some(_) => {}
          None => self.skip_lf = true,
        }
      }
      input = &input[next..];
    }
    if !input.is_empty() {
      self.check_size(input.len())?;
      self.pending.extend_from_slice(input);
    }
    Ok(dispatched)
  }

  /// The whole event counts, as it will be delivered: data, event type and id, plus the line
  /// being read. (Counting the data alone let an event with large `event` and `id` fields through
  /// at three times the limit.)
  fn check_size(&self, more: usize) -> Result<(), EventTooLarge> {
    let fields = &self.fields;
    let size = self
      .pending
      .len()
      .saturating_add(fields.data.len())
      .saturating_add(fields.event_type.len())
      .saturating_add(fields.id_buffer.len())
      .saturating_add(more);
    if size > self.max_event_size {
      return Err(EventTooLarge {
        limit: self.max_event_size,
        size,
      });
    }
    Ok(())
  }

  /// The last event ID string: the `id` of the last dispatched block that had one ("" until then).
  pub fn last_event_id(&self) -> &str {
    &self.fields.last_event_id
  }

  /// The reconnection time the server set with `retry`, in milliseconds.
  pub fn reconnection_time(&self) -> Option<u64> {
    self.fields.reconnection_time
  }

  /// Whether the server has sent an `id` field on any connection of this parser.
  pub fn saw_id(&self) -> bool {
    self.fields.saw_id
  }

  /// Starts a new connection: drops the unterminated line and event (they are never dispatched)
  /// and expects a BOM again. The last event ID and the reconnection time are kept.
  pub fn reset_stream(&mut self) {
    clear_and_trim_bytes(&mut self.pending);
    self.bom = Some(0);
    self.skip_lf = false;
    self.fields.new_stream();
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn ev(data: &str, event: &str, id: &str, retry: Option<u64>) -> OwnedEvent {
    OwnedEvent {
      data: data.into(),
      event: event.into(),
      id: id.into(),
      retry,
    }
  }

  fn msg(data: &str) -> OwnedEvent {
    ev(data, "message", "", None)
  }

  fn parse(input: &str) -> Vec<OwnedEvent> {
    parse_all(input.as_bytes())
  }

  fn parse_chunks(chunks: &[&[u8]]) -> Vec<OwnedEvent> {
    let mut parser = Parser::default();
    let mut out = Vec::new();
    for chunk in chunks {
      parser.feed(chunk, |e| out.push(e.into())).unwrap();
    }
    out
  }

  #[test]
  fn blank_line_dispatches() {
    assert_eq!(parse("data: hi\n\n"), vec![msg("hi")]);
  }

  #[test]
  fn unterminated_event_is_not_dispatched() {
    assert_eq!(parse("data: hi\n"), vec![]);
    assert_eq!(parse("data: hi"), vec![]);
  }

  #[test]
  fn multi_line_data_joined_with_lf() {
    assert_eq!(
      parse("data: a\ndata: b\ndata\ndata:\n\n"),
      vec![msg("a\nb\n\n")]
    );
  }

  #[test]
  fn only_one_leading_space_is_removed() {
    assert_eq!(parse("data:  two\n\n"), vec![msg(" two")]);
    assert_eq!(parse("data:no space\n\n"), vec![msg("no space")]);
    assert_eq!(parse("data:\ttab\n\n"), vec![msg("\ttab")]);
  }

  #[test]
  fn line_without_colon_is_a_field_with_empty_value() {
    // A data line with an empty value makes the data buffer "\n": an event with empty data.
    assert_eq!(parse("data\n\n"), vec![msg("")]);
    assert_eq!(parse("data:\n\n"), vec![msg("")]);
    assert_eq!(parse("data\ndata\n\n"), vec![msg("\n")]);
  }

  #[test]
  fn value_keeps_later_colons() {
    assert_eq!(parse("data: a: b:c\n\n"), vec![msg("a: b:c")]);
  }

  #[test]
  fn empty_data_is_not_dispatched() {
    assert_eq!(parse("event: x\n\n"), vec![]);
    assert_eq!(parse("event: x\n\ndata: y\n\n"), vec![msg("y")]);
  }

  #[test]
  fn comments_are_ignored() {
    assert_eq!(parse(": ping\n\n:\ndata: x\n: mid\n\n"), vec![msg("x")]);
  }

  #[test]
  fn unknown_and_case_mismatched_fields_are_ignored() {
    assert_eq!(parse("Data: x\nfoo: y\ndata: z\n\n"), vec![msg("z")]);
  }

  #[test]
  fn event_type_is_set_and_reset() {
    assert_eq!(
      parse("event: add\ndata: 1\n\ndata: 2\n\nevent\ndata: 3\n\n"),
      vec![ev("1", "add", "", None), msg("2"), msg("3")]
    );
  }

  #[test]
  fn id_persists_across_events() {
    assert_eq!(
      parse("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"),
      vec![
        ev("a", "message", "1", None),
        ev("b", "message", "1", None),
        msg("c")
      ]
    );
  }

  #[test]
  fn id_with_nul_is_ignored() {
    let mut parser = Parser::default();
    let mut out: Vec<OwnedEvent> = Vec::new();
    parser
      .feed(b"id: 5\ndata: a\n\nid: 6\0x\ndata: b\n\n", |e| {
        out.push(e.into())
      })
      .unwrap();
    assert_eq!(
      out,
      vec![ev("a", "message", "5", None), ev("b", "message", "5", None)]
    );
    assert_eq!(parser.last_event_id(), "5");
  }

  #[test]
  fn id_only_block_updates_last_event_id() {
    let mut parser = Parser::default();
    assert_eq!(
      parser.feed(b"id: 9\n\n", |_| panic!("no event")).unwrap(),
      0
    );
    assert_eq!(parser.last_event_id(), "9");
    assert!(parser.saw_id());
  }

  #[test]
  fn id_is_only_committed_at_dispatch() {
    let mut parser = Parser::default();
    parser
      .feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n", |_| {})
      .unwrap();
    assert_eq!(parser.last_event_id(), "1");
    parser.reset_stream();
    let mut out: Vec<OwnedEvent> = Vec::new();
    parser.feed(b"data: c\n\n", |e| out.push(e.into())).unwrap();
    assert_eq!(out, vec![ev("c", "message", "1", None)]);
  }

  #[test]
  fn retry_accepts_ascii_digits_only() {
    let mut parser = Parser::default();
    let mut out: Vec<OwnedEvent> = Vec::new();
    let input =
      b"retry: 1500\ndata: a\n\nretry: 12a\ndata: b\n\nretry: -1\nretry: \nretry: 1.5\ndata: c\n\n";
    parser.feed(input, |e| out.push(e.into())).unwrap();
    assert_eq!(
      out,
      vec![ev("a", "message", "", Some(1500)), msg("b"), msg("c")]
    );
    assert_eq!(parser.reconnection_time(), Some(1500));
  }

  #[test]
  fn retry_without_data_still_sets_reconnection_time() {
    let mut parser = Parser::default();
    parser.feed(b"retry: 42\n\n", |_| panic!()).unwrap();
    assert_eq!(parser.reconnection_time(), Some(42));
  }

  #[test]
  fn retry_saturates() {
    let mut parser = Parser::default();
    parser
      .feed(b"retry: 99999999999999999999999999\n\n", |_| {})
      .unwrap();
    assert_eq!(parser.reconnection_time(), Some(MAX_RETRY_FIELD));
    parser.feed(b"retry: 1000000000000000\n\n", |_| {}).unwrap();
    assert_eq!(parser.reconnection_time(), Some(1_000_000_000_000_000));
    parser.feed(b"retry: 9007199254740992\n\n", |_| {}).unwrap();
    assert_eq!(parser.reconnection_time(), Some(9_007_199_254_740_991));
  }

  #[test]
  fn cr_lf_and_crlf_all_end_lines() {
    let expected = vec![msg("a\nb\nc")];
    assert_eq!(parse("data: a\rdata: b\r\ndata: c\n\r\n"), expected);
    assert_eq!(parse("data: a\r\rdata: b\r\r"), vec![msg("a"), msg("b")]);
    assert_eq!(parse("data: a\r\n\r\n"), vec![msg("a")]);
  }

  #[test]
  fn lf_cr_is_two_line_ends() {
    assert_eq!(parse("data: a\n\rdata: b\n\n"), vec![msg("a"), msg("b")]);
  }

  #[test]
  fn crlf_split_across_chunks_is_one_line_end() {
    assert_eq!(
      parse_chunks(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]),
      vec![msg("a\nb")]
    );
    // A CR at a chunk end followed by a chunk with something else is still a line end.
    assert_eq!(parse_chunks(&[b"data: a\r", b"\r"]), vec![msg("a")]);
  }

  #[test]
  fn cr_then_empty_chunk_then_lf() {
    assert_eq!(
      parse_chunks(&[b"data: a\r", b"", b"\n", b"\n"]),
      vec![msg("a")]
    );
  }

  #[test]
  fn leading_bom_is_dropped_once() {
    assert_eq!(parse("\u{FEFF}data: a\n\n"), vec![msg("a")]);
    // A second BOM is part of the first line: the field name becomes "\u{FEFF}data", ignored.
    assert_eq!(parse("\u{FEFF}\u{FEFF}data: a\n\n"), vec![]);
    assert_eq!(parse("data: \u{FEFF}a\n\n"), vec![msg("\u{FEFF}a")]);
  }

  #[test]
  fn bom_split_across_chunks() {
    assert_eq!(
      parse_chunks(&[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]),
      vec![msg("a")]
    );
    assert_eq!(
      parse_chunks(&[b"\xEF\xBB", b"\xBF", b"data: a\n\n"]),
      vec![msg("a")]
    );
  }

  #[test]
  fn partial_bom_is_content() {
    // EF BB then 'd': not a BOM, so the first line's name is U+FFFD + "data": ignored.
    assert_eq!(
      parse_chunks(&[b"\xEF\xBB", b"data: a\n\ndata: b\n\n"]),
      vec![msg("b")]
    );
  }

  #[test]
  fn invalid_utf8_is_replaced() {
    assert_eq!(parse_all(b"data: a\xFFb\n\n"), vec![msg("a\u{FFFD}b")]);
    assert_eq!(parse_all(b"data: \xE2\x82\n\n"), vec![msg("\u{FFFD}")]);
  }

  #[test]
  fn utf8_split_across_chunks_is_kept() {
    let text = "data: héllo 🌍\n\n".as_bytes();
    for cut in 0..text.len() {
      assert_eq!(
        parse_chunks(&[&text[..cut], &text[cut..]]),
        vec![msg("héllo 🌍")],
        "cut at {cut}"
      );
    }
  }

  #[test]
  fn reset_stream_drops_partial_event_and_expects_bom() {
    let mut parser = Parser::default();
    let mut out: Vec<OwnedEvent> = Vec::new();
    parser.feed(b"data: lost\ndata: par", |_| panic!()).unwrap();
    parser.reset_stream();
    parser
      .feed(b"\xEF\xBB\xBFdata: new\n\n", |e| out.push(e.into()))
      .unwrap();
    assert_eq!(out, vec![msg("new")]);
  }

  #[test]
  fn reset_stream_forgets_pending_cr() {
    let mut parser = Parser::default();
    let mut out: Vec<OwnedEvent> = Vec::new();
    parser.feed(b"data: a\r", |_| {}).unwrap();
    parser.reset_stream();
    parser
      .feed(b"\ndata: b\n\n", |e| out.push(e.into()))
      .unwrap();
    assert_eq!(out, vec![msg("b")]);
  }

  #[test]
  fn feed_returns_dispatch_count() {
    let mut parser = Parser::default();
    assert_eq!(parser.feed(b"data: 1\n\ndata: 2\n\ndata: 3", |_| {}), Ok(2));
    assert_eq!(parser.feed(b"\n\n", |_| {}), Ok(1));
  }

  #[test]
  fn event_too_large_on_long_line() {
    let mut parser = Parser::new(16);
    assert!(parser.feed(b"data: 0123456789", |_| {}).is_ok());
    let err = parser.feed(b"abcdef", |_| {}).unwrap_err();
    assert_eq!(
      err,
      EventTooLarge {
        limit: 16,
        size: 22
      }
    );
    assert_eq!(
      err.to_string(),
      "event of at least 22 bytes exceeds maxEventSize (16 bytes)"
    );
  }

  #[test]
  fn event_too_large_on_many_data_lines() {
    let mut parser = Parser::new(32);
    let err = parser
      .feed(
        b"data: 0123456789\ndata: 0123456789\ndata: 0123456789\n",
        |_| {},
      )
      .unwrap_err();
    assert_eq!(err.limit, 32);
    assert!(err.size > 32);
  }

  #[test]
  fn the_event_and_id_fields_count_toward_the_limit() {
    // 30 bytes of data alone pass a 64-byte limit; with 30-byte event and id fields the event is
    // 90 bytes and is refused (it used to be delivered at three times the limit).
    let big = "x".repeat(30);
    let mut parser = Parser::new(64);
    let alone = format!("data: {big}\n\n");
    assert_eq!(parser.feed(alone.as_bytes(), |_| {}), Ok(1));
    let whole = format!("event: {big}\nid: {big}\ndata: {big}\n\n");
    let mut delivered = 0;
    let err = Parser::new(64)
      .feed(whole.as_bytes(), |_| delivered += 1)
      .unwrap_err();
    assert_eq!(delivered, 0);
    assert_eq!(err.limit, 64);
    assert!(err.size > 64, "{err}");
  }

  #[test]
  fn events_under_the_limit_pass_and_free_the_budget() {
    let mut parser = Parser::new(20);
    let mut n = 0;
    for _ in 0..100 {
      n += parser.feed(b"data: 0123456789\n\n", |_| {}).unwrap();
    }
    assert_eq!(n, 100);
  }

  #[test]
  fn big_event_buffers_are_shrunk() {
    let mut parser = Parser::default();
    let big = format!("data: {}\n\n", "x".repeat(1 << 20));
    let mut len = 0;
    for chunk in big.as_bytes().chunks(1000) {
      parser.feed(chunk, |e| len = e.data.len()).unwrap();
    }
    assert_eq!(len, 1 << 20);
    assert!(parser.pending.capacity() <= KEEP_CAPACITY);
    assert!(parser.fields.data.capacity() <= KEEP_CAPACITY);
  }

  #[test]
  fn spec_examples() {
    // The examples of WHATWG HTML §9.2.6.
    assert_eq!(
      parse("data: YHOO\ndata: +2\ndata: 10\n\n"),
      vec![msg("YHOO\n+2\n10")]
    );
    assert_eq!(
      parse(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n"),
      vec![ev("first event", "message", "1", None), msg("second event")]
    );
    assert_eq!(
      parse("data\n\ndata\ndata\n\ndata:"),
      vec![msg(""), msg("\n")]
    );
    assert_eq!(
      parse("data:test\n\ndata: test\n\n"),
      vec![msg("test"), msg("test")]
    );
  }

  mod chunking {
    use super::*;
    use proptest::prelude::*;

    fn pieces() -> impl Strategy<Value = Vec<u8>> {
      let piece = prop_oneof![
        Just(&b"data"[..]),
        Just(&b"data:"[..]),
        Just(&b": "[..]),
        Just(&b"event:"[..]),
        Just(&b"id:"[..]),
        Just(&b"retry:"[..]),
        Just(&b"\r"[..]),
        Just(&b"\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"\0"[..]),
        Just(&b" "[..]),
        Just(&b"12"[..]),
        Just(&b"x"[..]),
        Just("é🌍".as_bytes()),
        Just(&b"\xFF"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
      ];
      proptest::collection::vec(piece, 0..60).prop_map(|p| p.concat())
    }

    proptest! {
      #[test]
      fn every_split_gives_the_same_events(
        input in pieces(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
      ) {
        let whole = parse_all(&input);
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        at.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in at {
          chunks.push(&input[start..cut]);
          start = cut;
        }
        chunks.push(&input[start..]);
        prop_assert_eq!(parse_chunks(&chunks), whole);
      }

      #[test]
      fn byte_at_a_time_gives_the_same_events(input in pieces()) {
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        prop_assert_eq!(parse_chunks(&chunks), parse_all(&input));
      }

      #[test]
      fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut parser = Parser::new(64);
        for chunk in input.chunks(7) {
          if parser.feed(chunk, |e| assert!(!e.data.contains('\r'))).is_err() {
            break;
          }
        }
      }
    }
  }
}
