//! A best-effort parse of the JSON text of tool arguments still being streamed: the longest prefix
//! that ends at a value boundary, completed by closing what is open. A string value being streamed
//! is kept (closed where it stands, an unfinished escape dropped); a key, a number or a literal
//! that may still grow is left out. One pass over the text, so a snapshot costs its length.

use serde_json::Value;

/// The value the text so far stands for, or None when nothing of it is complete yet.
pub fn parse_partial(text: &str) -> Option<Value> {
  let bytes = text.as_bytes();
  // The open containers, `{` or `[`.
  let mut stack: Vec<u8> = Vec::new();
  // The last point where the text can be cut and closed: its length and the containers open there.
  let mut safe: Option<(usize, Vec<u8>)> = None;
  let mut in_string = false;
  let mut string_is_key = false;
  let mut escape = false;
  // Where the string's last escape began.
  let mut last_escape: Option<usize> = None;
  // Inside an object: whether the next string is a key.
  let mut expect_key = false;
  // A number or literal being read.
  let mut in_scalar = false;
  let mut i = 0;
  while i < bytes.len() {
    let b = bytes[i];
    if in_string {
      if escape {
        escape = false;
      } else if b == b'\\' {
        escape = true;
        last_escape = Some(i);
      } else if b == b'"' {
        in_string = false;
        if !string_is_key {
          safe = Some((i + 1, stack.clone()));
        }
      }
      i += 1;
      continue;
    }
    // Outside a string, JSON is ASCII: nothing from a non-ASCII byte on can be completed (and a
    // cut there could fall inside a character).
    if !b.is_ascii() {
      break;
    }
    if in_scalar && !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+')) {
      in_scalar = false;
      safe = Some((i, stack.clone()));
    }
    match b {
      b'"' => {
        in_string = true;
        string_is_key = expect_key;
        last_escape = None;
        expect_key = false;
      }
      b'{' | b'[' => {
        stack.push(b);
        expect_key = b == b'{';
        safe = Some((i + 1, stack.clone()));
      }
      b'}' | b']' => {
        stack.pop();
        expect_key = false;
        safe = Some((i + 1, stack.clone()));
      }
      b',' => expect_key = stack.last() == Some(&b'{'),
      b':' => expect_key = false,
      b' ' | b'\t' | b'\n' | b'\r' => {}
      _ => in_scalar = true,
    }
    i += 1;
  }
  let mut candidates: Vec<String> = Vec::with_capacity(2);
  if in_string && !string_is_key {
    // The string value as far as it came, without an escape cut short (a lone `\`, `\u00`, or
    // the first half of a surrogate pair whose second half has not come).
    let mut end = bytes.len();
    if let Some(at) = last_escape {
      let unicode = bytes.get(at + 1) == Some(&b'u');
      let cut_short = escape || (unicode && bytes.len() < at + 6);
      let high_surrogate = unicode
        && bytes.len() == at + 6
        && u16::from_str_radix(&text[at + 2..at + 6], 16)
          .is_ok_and(|u| (0xd800..0xdc00).contains(&u));
      if cut_short || high_surrogate {
        end = at;
      }
    }
    candidates.push(close(&text[..end], "\"", &stack));
  }
  if let Some((len, open)) = &safe {
    candidates.push(close(&text[..*len], "", open));
  } else if in_scalar && stack.is_empty() {
    candidates.push(text.to_owned());
  }
  candidates
    .into_iter()
    .find_map(|candidate| serde_json::from_str(&candidate).ok())
}

fn close(prefix: &str, string_end: &str, open: &[u8]) -> String {
  let mut out = String::with_capacity(prefix.len() + string_end.len() + open.len());
  out.push_str(prefix);
  out.push_str(string_end);
  for &c in open.iter().rev() {
    out.push(if c == b'{' { '}' } else { ']' });
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::json;

  #[test]
  fn table() {
    let cases: &[(&str, Option<Value>)] = &[
      ("", None),
      ("{", Some(json!({}))),
      ("{\"", Some(json!({}))),
      ("{\"lo", Some(json!({}))),
      ("{\"loc\"", Some(json!({}))),
      ("{\"loc\":", Some(json!({}))),
      ("{\"loc\": \"Par", Some(json!({ "loc": "Par" }))),
      (
        "{\"loc\": \"Paris\", \"n\": 1",
        Some(json!({ "loc": "Paris" })),
      ),
      (
        "{\"loc\": \"Paris\", \"n\": 12,",
        Some(json!({ "loc": "Paris", "n": 12 })),
      ),
      ("{\"a\": [1, 2", Some(json!({ "a": [1] }))),
      ("{\"a\": [1, 2]", Some(json!({ "a": [1, 2] }))),
      ("{\"a\": [{\"b\": tr", Some(json!({ "a": [{}] }))),
      ("{\"a\": \"x\\", Some(json!({ "a": "x" }))),
      ("{\"a\": \"x\\u00", Some(json!({ "a": "x" }))),
      ("{\"a\": \"x\\u00e9", Some(json!({ "a": "xé" }))),
      ("{\"a\": \"x\\\\", Some(json!({ "a": "x\\" }))),
      ("{\"a\": \"x\\\"", Some(json!({ "a": "x\"" }))),
      ("{\"a\": \"日本", Some(json!({ "a": "日本" }))),
      ("{\"a\": \"x\\ud83d", Some(json!({ "a": "x" }))),
      ("{\"a\": \"x\\ud83d\\ude00", Some(json!({ "a": "x😀" }))),
      ("{\"a\": 1}", Some(json!({ "a": 1 }))),
      ("[\"a\", \"b", Some(json!(["a", "b"]))),
      ("12", Some(json!(12))),
      // Found by the fuzz target: a cut after a scalar must not fall inside a character.
      ("{\"a\": 1é", Some(json!({}))),
      ("[1, tru\u{fffd}]", Some(json!([1]))),
    ];
    for (text, want) in cases {
      assert_eq!(parse_partial(text), *want, "{text:?}");
    }
  }

  /// Every prefix of a document gives something that is None or a value; the whole gives the value.
  #[test]
  fn every_prefix() {
    let doc =
      r#"{"q": "caf\u00e9 \"x\" \\ 日本", "n": [1, -2.5e3, true, null, {"k": "v"}], "e": {}}"#;
    for end in 0..=doc.len() {
      if doc.is_char_boundary(end) {
        parse_partial(&doc[..end]);
      }
    }
    assert_eq!(
      parse_partial(doc),
      Some(serde_json::from_str::<Value>(doc).unwrap())
    );
  }
}
