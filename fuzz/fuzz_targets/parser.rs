#![no_main]
#![deny(clippy::all)]
//! Fuzz target `parser`: arbitrary bytes, fed in arbitrary chunks, under an arbitrary size limit.
//!
//! Input layout (see `Case::from_bytes`):
//!
//! ```text
//! byte 0        limit mode: 0 no limit (usize::MAX), 1 DEFAULT_MAX_EVENT_SIZE, 2 byte 1, 3 byte 1 / 8
//! byte 1        limit value for modes 2 and 3
//! byte 2        n = byte 2 % 16, the number of chunk lengths that follow
//! bytes 3..3+n  chunk lengths, used in a cycle (0 feeds an empty chunk); n = 0 feeds the stream whole
//! the rest      the stream
//! ```
//!
//! The oracle is `reference`, a line-at-a-time transcription of WHATWG HTML §9.2.6 over the whole
//! stream. It shares no code with the incremental parser, so agreement checks the chunk-boundary
//! machinery (BOM matcher, split CRLF, pending line, zero-copy path) and the field rules at once.

use libfuzzer_sys::fuzz_target;
use sse_core::parser::{parse_all, OwnedEvent, Parser, DEFAULT_MAX_EVENT_SIZE};

const BOM: &[u8] = b"\xEF\xBB\xBF";

struct Case<'a> {
  limit: usize,
  lengths: &'a [u8],
  stream: &'a [u8],
}

impl<'a> Case<'a> {
  fn from_bytes(bytes: &'a [u8]) -> Option<Case<'a>> {
    let (&[mode, value, n], rest) = bytes.split_first_chunk::<3>()?;
    let limit = match mode % 4 {
      0 => usize::MAX,
      1 => DEFAULT_MAX_EVENT_SIZE,
      2 => usize::from(value),
      _ => usize::from(value / 8),
    };
    let n = usize::from(n % 16).min(rest.len());
    let (lengths, stream) = rest.split_at(n);
    Some(Case {
      limit,
      lengths,
      stream,
    })
  }

  /// The stream cut by the plan. A round of zero lengths makes no progress, so the rest then goes whole.
  fn chunks(&self) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = self.stream;
    if self.lengths.is_empty() {
      out.push(rest);
      return out;
    }
    while !rest.is_empty() {
      let before = rest.len();
      for &len in self.lengths {
        let (chunk, tail) = rest.split_at(usize::from(len).min(rest.len()));
        out.push(chunk);
        rest = tail;
      }
      if rest.len() == before {
        out.push(rest);
        break;
      }
    }
    out
  }
}

/// What a spec-conforming parser does with the whole stream under the limit.
#[derive(Debug, Default)]
struct Outcome {
  events: Vec<OwnedEvent>,
  /// Whether some line, counted with the data buffered before it, exceeded the limit (parsing
  /// stops there: `events` holds what was dispatched before that line).
  too_large: bool,
  last_event_id: String,
  reconnection_time: Option<u64>,
}

/// Splits at CRLF, LF or CR (`end-of-line` of the §9.2.5 grammar). Returns the lines and the
/// unterminated tail.
fn split_lines<T: Copy>(items: &[T], is: impl Fn(T, u8) -> bool) -> (Vec<&[T]>, &[T]) {
  let mut lines = Vec::new();
  let mut rest = items;
  while let Some(end) = rest.iter().position(|&c| is(c, b'\r') || is(c, b'\n')) {
    lines.push(&rest[..end]);
    let crlf = is(rest[end], b'\r') && rest.get(end + 1).is_some_and(|&c| is(c, b'\n'));
    rest = &rest[end + if crlf { 2 } else { 1 }..];
  }
  (lines, rest)
}

/// §9.2.6 applied to the whole stream, starting from a connection's carried-over state.
fn reference(stream: &[u8], limit: usize, start: &Outcome) -> Outcome {
  // "The stream must then be parsed by ... UTF-8 decode": one leading BOM is dropped, and decoding
  // the whole stream replaces invalid sequences with U+FFFD.
  let body = stream.strip_prefix(BOM).unwrap_or(stream);
  let text: Vec<char> = String::from_utf8_lossy(body).chars().collect();
  let (text_lines, _) = split_lines(&text, |c, b| c == char::from(b));
  // The byte lengths are what the limit counts (the parser holds raw bytes of a pending line).
  let (raw_lines, raw_tail) = split_lines(body, |c, b| c == b);
  assert_eq!(
    text_lines.len(),
    raw_lines.len(),
    "CR and LF never sit inside a UTF-8 sequence"
  );

  let mut out = Outcome {
    last_event_id: start.last_event_id.clone(),
    reconnection_time: start.reconnection_time,
    ..Outcome::default()
  };
  let mut data = String::new();
  let mut event_type = String::new();
  let mut id_buffer = start.last_event_id.clone();
  let mut retry = None;
  for (line, raw) in text_lines.iter().zip(&raw_lines) {
    let line: String = line.iter().collect();
    // The parser decodes line by line; that must give the same text as decoding the whole stream.
    assert_eq!(line, String::from_utf8_lossy(raw));
    // maxEventSize counts the whole event as held: data, event type and id buffers, and the line.
    if data.len() + event_type.len() + id_buffer.len() + raw.len() > limit {
      out.too_large = true;
      return out;
    }
    if line.is_empty() {
      // "Dispatch the event": the last event ID is set even when no event fires.
      out.last_event_id.clone_from(&id_buffer);
      if !data.is_empty() {
        data.pop();
        out.events.push(OwnedEvent {
          data: std::mem::take(&mut data),
          event: if event_type.is_empty() {
            "message".into()
          } else {
            event_type.clone()
          },
          id: out.last_event_id.clone(),
          retry,
        });
      }
      data.clear();
      event_type.clear();
      retry = None;
      continue;
    }
    if line.starts_with(':') {
      continue;
    }
    let (name, value) = match line.split_once(':') {
      Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
      None => (line.as_str(), ""),
    };
    match name {
      "data" => {
        data.push_str(value);
        data.push('\n');
      }
      "event" => event_type = value.to_owned(),
      "id" if !value.contains('\0') => id_buffer = value.to_owned(),
      "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
        // Only digits, so the one failure is overflow; the parser holds the value at 2^53 - 1
        // (exact as a JS number).
        let ms = value.parse::<u64>().unwrap_or(u64::MAX).min((1 << 53) - 1);
        retry = Some(ms);
        out.reconnection_time = Some(ms);
      }
      _ => {}
    }
  }
  // The unterminated tail is counted too, except a stream that is only the start of a BOM: those
  // bytes wait in the BOM matcher, not in the line buffer. (The whole stream, not the body: after a
  // full BOM, a tail such as EF is content and counts.)
  let only_bom_start = stream.len() < BOM.len() && BOM.starts_with(stream);
  let held = data.len() + event_type.len() + id_buffer.len();
  if !raw_tail.is_empty() && !only_bom_start && held + raw_tail.len() > limit {
    out.too_large = true;
  }
  out
}

/// Feeds the chunks until the first error, checking every event on the way.
fn run(parser: &mut Parser, chunks: &[&[u8]], limit: usize) -> Outcome {
  let mut out = Outcome::default();
  for chunk in chunks {
    let before = out.events.len();
    let result = parser.feed(chunk, |e| {
      assert!(!e.data.contains('\r'), "CR in data: {e:?}");
      assert!(!e.event.is_empty(), "empty event type: {e:?}");
      assert!(e.data.len() <= limit, "data over the limit {limit}: {e:?}");
      assert!(!e.id.contains(['\0', '\r', '\n']), "bad id: {e:?}");
      out.events.push(e.into());
    });
    match result {
      Ok(n) => assert_eq!(n, out.events.len() - before, "dispatch count"),
      Err(err) => {
        assert_eq!(err.limit, limit);
        assert!(err.size > limit, "{err:?}");
        out.too_large = true;
        break;
      }
    }
  }
  out.last_event_id = parser.last_event_id().to_owned();
  out.reconnection_time = parser.reconnection_time();
  out
}

fn assert_same(got: &Outcome, want: &Outcome, what: &str) {
  assert_eq!(got.too_large, want.too_large, "{what}: EventTooLarge");
  assert_eq!(got.events, want.events, "{what}: events");
  assert_eq!(
    got.last_event_id, want.last_event_id,
    "{what}: last event ID"
  );
  assert_eq!(
    got.reconnection_time, want.reconnection_time,
    "{what}: reconnection time"
  );
}

fuzz_target!(|bytes: &[u8]| {
  let Some(case) = Case::from_bytes(bytes) else {
    return;
  };
  let fresh = Outcome::default();

  let unlimited = reference(case.stream, usize::MAX, &fresh);
  assert_eq!(parse_all(case.stream), unlimited.events, "parse_all");

  let want = reference(case.stream, case.limit, &fresh);
  let mut parser = Parser::new(case.limit);
  let got = run(&mut parser, &case.chunks(), case.limit);
  assert_same(&got, &want, "chunked");
  if !got.too_large {
    assert_eq!(
      got.events, unlimited.events,
      "chunked without error vs parse_all"
    );
  }

  // A reconnect: the unfinished line and event are dropped, the last event ID and the
  // reconnection time carry over, and the stream may start with a BOM again.
  parser.reset_stream();
  let again = run(&mut parser, &[case.stream], case.limit);
  assert_same(
    &again,
    &reference(case.stream, case.limit, &got),
    "after reset_stream",
  );
});
