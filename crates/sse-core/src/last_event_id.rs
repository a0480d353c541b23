//! The `Last-Event-ID` request header. An event id may hold any character but NUL, CR and LF
//! (WHATWG), while an HTTP header value may not hold the other control characters (U+0001-U+001F
//! but tab, and U+007F). Sending the request without the header would make the server start the
//! stream again and repeat every event silently, so such an id is refused, with a message that says
//! why: at call time for the `lastEventId` option, at the reconnect for an id the server sent.

use http::header::HeaderValue;

/// The header value for `id`, or the reason it cannot be sent (naming the character and where).
pub fn header_value(id: &str) -> Result<HeaderValue, String> {
  if let Some((index, c)) = id
    .char_indices()
    .find(|&(_, c)| (c.is_ascii_control() && c != '\t') || c == '\u{7f}')
  {
    return Err(format!(
      "contains the control character U+{:04X} (at byte {index}), which an HTTP header cannot carry",
      c as u32
    ));
  }
  // Only visible ASCII, tab, space and UTF-8 remain, which HeaderValue accepts.
  HeaderValue::from_str(id).map_err(|_| "cannot be sent as an HTTP header".to_string())
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn sendable_and_refused_ids() {
    // (id, sendable?)
    let table = [
      ("42", true),
      ("a b\tc", true),
      ("évé-🌍", true),
      ("a\u{1}b", false),
      ("\u{7f}", false),
      ("x\u{1b}[31m", false),
      ("\u{1f}", false),
    ];
    for (id, ok) in table {
      assert_eq!(header_value(id).is_ok(), ok, "{id:?}");
    }
    let why = header_value("ab\u{1}").unwrap_err();
    assert!(why.contains("U+0001 (at byte 2)"), "{why}");
  }

  #[test]
  fn utf8_ids_are_sent_as_their_bytes() {
    assert_eq!(header_value("é").unwrap().as_bytes(), "é".as_bytes());
  }
}
