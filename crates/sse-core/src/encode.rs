//! Events written back as `text/event-stream`, for relays: what a WHATWG parser reads back from
//! the output is the event that went in (a property test in this file checks it through
//! `parser.rs`).

use crate::parser::Event;

/// The length in bytes of what [`encode_event`] appends for `event`, counted before encoding so
/// that an event whose text could not be delivered is refused without building it: each data line
/// costs 7 bytes more than its text (`data: ` and LF), so an event of N empty lines, N bytes in the
/// parser, becomes 7N bytes here.
pub fn encoded_len(event: &Event<'_>, id_changed: bool) -> usize {
  let mut len = 0;
  if event.event != "message" {
    len += "event: \n".len() + event.event.len();
  }
  if id_changed {
    len += if event.id.is_empty() {
      "id\n".len()
    } else {
      "id: \n".len() + event.id.len()
    };
  }
  if let Some(retry) = event.retry {
    len += "retry: \n".len() + decimal_digits(retry);
  }
  // Every CR, LF or CRLF starts a new line; a CRLF's two bytes become one line break.
  let bytes = event.data.as_bytes();
  let mut lines = 1;
  let mut breaks_len = 0;
  for at in memchr::memchr2_iter(b'\r', b'\n', bytes) {
    if bytes[at] == b'\n' && at > 0 && bytes[at - 1] == b'\r' {
      breaks_len += 1;
      continue;
    }
    lines += 1;
    breaks_len += 1;
  }
  len + (bytes.len() - breaks_len) + lines * "data: \n".len() + 1
}

fn decimal_digits(mut n: u64) -> usize {
  let mut digits = 1;
  while n >= 10 {
    n /= 10;
    digits += 1;
  }
  digits
}

/// Appends one event to `out`. `id` is written only when `id_changed` (the last event id persists
/// across events, so repeating it is redundant); an `id:` line with an empty value resets it.
///
/// Data from the parser holds its lines joined with LF and no CR (the parser split them), and the
/// event type and id are single lines; `data` may still hold CR from other sources, so CR, LF and
/// CRLF all start a new `data:` line, as a parser would split them.
pub fn encode_event(event: &Event<'_>, id_changed: bool, out: &mut String) {
  if event.event != "message" {
    out.push_str("event: ");
    out.push_str(event.event);
    out.push('\n');
  }
  if id_changed {
    if event.id.is_empty() {
      out.push_str("id\n");
    } else {
      out.push_str("id: ");
      out.push_str(event.id);
      out.push('\n');
    }
  }
  if let Some(retry) = event.retry {
    out.push_str("retry: ");
    out.push_str(&retry.to_string());
    out.push('\n');
  }
  let mut rest = event.data;
  loop {
    let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
    out.push_str("data: ");
    out.push_str(&rest[..end]);
    out.push('\n');
    if end == rest.len() {
      break;
    }
    let skip = if rest[end..].starts_with("\r\n") {
      2
    } else {
      1
    };
    rest = &rest[end + skip..];
  }
  out.push('\n');
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::parser::{parse_all, OwnedEvent};
  use proptest::prelude::*;

  fn encode(events: &[OwnedEvent]) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for e in events {
      let event = Event {
        data: &e.data,
        event: &e.event,
        id: &e.id,
        retry: e.retry,
      };
      encode_event(&event, e.id != last, &mut out);
      last.clone_from(&e.id);
    }
    out
  }

  #[test]
  fn encoded_len_is_the_length_of_the_encoding() {
    let cases = [
      ("", "message", "", None, false),
      ("a\n\nb ", "update", "7", Some(1500), true),
      ("a\rb\r\nc\n\r", "message", "", Some(0), true),
      ("\n\n\n", "message", "x", None, false),
      ("héllo 日本", "é", "ü", Some(u64::MAX), true),
    ];
    for (data, event, id, retry, changed) in cases {
      let e = Event {
        data,
        event,
        id,
        retry,
      };
      let mut out = String::new();
      encode_event(&e, changed, &mut out);
      assert_eq!(encoded_len(&e, changed), out.len(), "{out:?}");
    }
  }

  #[test]
  fn fields_and_lines() {
    let e = OwnedEvent {
      data: "a\n\nb ".into(),
      event: "update".into(),
      id: "7".into(),
      retry: Some(1500),
    };
    assert_eq!(
      encode(&[e]),
      "event: update\nid: 7\nretry: 1500\ndata: a\ndata: \ndata: b \n\n"
    );
  }

  #[test]
  fn empty_data_is_one_empty_data_line() {
    let e = OwnedEvent {
      data: String::new(),
      event: "message".into(),
      id: String::new(),
      retry: None,
    };
    assert_eq!(encode(std::slice::from_ref(&e)), "data: \n\n");
    assert_eq!(
      parse_all(encode(std::slice::from_ref(&e)).as_bytes()),
      vec![e]
    );
  }

  #[test]
  fn cr_in_data_is_a_line_break() {
    let e = Event {
      data: "a\rb\r\nc",
      event: "message",
      id: "",
      retry: None,
    };
    let mut out = String::new();
    encode_event(&e, false, &mut out);
    assert_eq!(out, "data: a\ndata: b\ndata: c\n\n");
  }

  fn event() -> impl Strategy<Value = OwnedEvent> {
    (
      "[ a-z\n\u{e9}\u{65e5}:]{0,12}",
      prop_oneof![Just("message".to_string()), "[a-z]{1,6}"],
      prop_oneof![Just(String::new()), "[ a-z0-9:]{1,6}"],
      proptest::option::of(0u64..100_000),
    )
      .prop_map(|(data, event, id, retry)| OwnedEvent {
        data,
        event,
        id,
        retry,
      })
  }

  proptest! {
    #[test]
    fn encoded_len_matches(data in "[a\r\n]{0,12}", retry in proptest::option::of(any::<u64>()), changed: bool) {
      let e = Event { data: &data, event: "message", id: "i", retry };
      let mut out = String::new();
      encode_event(&e, changed, &mut out);
      prop_assert_eq!(encoded_len(&e, changed), out.len());
    }

    #[test]
    fn a_parser_reads_back_what_was_encoded(events in proptest::collection::vec(event(), 0..8)) {
      prop_assert_eq!(parse_all(encode(&events).as_bytes()), events);
    }
  }
}
