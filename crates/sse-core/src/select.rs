//! `select`: an RFC 6901 JSON Pointer evaluated on an event's data, without building a JSON value.
//!
//! The data is read once by serde_json's deserializer, driven by a `DeserializeSeed` that follows
//! the pointer: members and elements off the path are skipped with `IgnoredAny` (serde_json
//! validates them without allocating), keys are compared as serde_json hands them over (borrowed,
//! or unescaped into its reused scratch buffer), and the selected value is borrowed as a
//! `RawValue`. So the time is linear in the data, and the only allocation is the decoded text of a
//! selected string that holds escapes. The whole document is validated, as `JSON.parse` does:
//! malformed JSON selects nothing, even when the pointer's target came before the fault. Like
//! `JSON.parse`, the last of duplicate keys wins.
//!
//! Differences from `JSON.parse` + a pointer lookup, all of which select nothing here: a pointer
//! more than 127 tokens deep (serde_json's recursion limit; skipped values may nest to any depth), a selected string holding a lone UTF-16
//! surrogate escape (`"\ud800"`: not representable in a Rust string), and a pointer that goes
//! through a number outside the f64 range.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::Error;

/// A parsed JSON Pointer: its reference tokens, unescaped once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
  tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
  /// The token as an object member name (`~1` is `/`, `~0` is `~`).
  key: String,
  /// The token as an array index: RFC 6901 section 4 allows only `0` or digits without a leading
  /// zero. `-` (the element after the last) never exists, so it selects nothing.
  index: Option<usize>,
}

/// The selected value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected<'a> {
  /// A JSON string, decoded (escapes and surrogate pairs); borrowed when it had no escapes.
  Text(Cow<'a, str>),
  /// Any other value, as its JSON text (borrowed from the data, without surrounding whitespace).
  Json(&'a str),
}

impl Selected<'_> {
  pub fn as_str(&self) -> &str {
    match self {
      Selected::Text(text) => text,
      Selected::Json(json) => json,
    }
  }
}

impl Pointer {
  /// Parses a pointer: `""` (the whole document) or `/`-separated tokens. A `~` not followed by
  /// `0` or `1` is an error (RFC 6901 section 3).
  pub fn parse(pointer: &str) -> Result<Pointer, Error> {
    if pointer.is_empty() {
      return Ok(Pointer { tokens: Vec::new() });
    }
    let Some(rest) = pointer.strip_prefix('/') else {
      return Err(Error::invalid_options(format!(
        "select must be a JSON Pointer starting with \"/\" (RFC 6901), got {pointer:?}: did you mean \"/{pointer}\"?"
      )));
    };
    let mut tokens = Vec::new();
    for raw in rest.split('/') {
      let mut key = String::with_capacity(raw.len());
      let mut chars = raw.chars();
      while let Some(c) = chars.next() {
        if c != '~' {
          key.push(c);
          continue;
        }
        match chars.next() {
          Some('0') => key.push('~'),
          Some('1') => key.push('/'),
          other => {
            let got = other.map_or("the end".to_owned(), |c| format!("{c:?}"));
            return Err(Error::invalid_options(format!(
              "select {pointer:?}: \"~\" must be followed by 0 or 1 (RFC 6901: ~0 is \"~\", ~1 is \"/\"), got {got}"
            )));
          }
        }
      }
      let index = array_index(&key);
      tokens.push(Token { key, index });
    }
    Ok(Pointer { tokens })
  }

  /// The value at the pointer in `json`, or None when `json` is not valid JSON or has no value
  /// there.
  pub fn select<'a>(&self, json: &'a str) -> Option<Selected<'a>> {
    let mut out = None;
    let mut de = serde_json::Deserializer::from_str(json);
    let seek = Seek {
      tokens: &self.tokens,
      out: &mut out,
    };
    seek.deserialize(&mut de).ok()?;
    de.end().ok()?;
    out
  }
}

fn array_index(token: &str) -> Option<usize> {
  let bytes = token.as_bytes();
  let canonical = match bytes {
    [b'0'] => true,
    [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
    _ => false,
  };
  if canonical {
    token.parse().ok()
  } else {
    None
  }
}

/// Follows `tokens` from the value being deserialized; stores what it finds in `out`.
struct Seek<'p, 'a> {
  tokens: &'p [Token],
  out: &'p mut Option<Selected<'a>>,
}

impl<'de> DeserializeSeed<'de> for Seek<'_, 'de> {
  type Value = ();

  fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
    if self.tokens.is_empty() {
      let raw: &'de RawValue = de::Deserialize::deserialize(d)?;
      *self.out = leaf(raw.get());
      return Ok(());
    }
    d.deserialize_any(self)
  }
}

/// A selected value: strings decoded, anything else as it is.
fn leaf(raw: &str) -> Option<Selected<'_>> {
  if !raw.starts_with('"') {
    return Some(Selected::Json(raw));
  }
  let mut de = serde_json::Deserializer::from_str(raw);
  de::Deserializer::deserialize_str(&mut de, StrVisitor)
    .ok()
    .map(Selected::Text)
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
  type Value = Cow<'de, str>;

  fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
    f.write_str("a string")
  }

  fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
    Ok(Cow::Borrowed(v))
  }

  fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
    Ok(Cow::Owned(v.to_owned()))
  }
}

/// Whether the next member name equals `key` (no allocation: serde_json lends the name).
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
  type Value = bool;

  fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
    d.deserialize_str(self)
  }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
  type Value = bool;

  fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
    f.write_str("a member name")
  }

  fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
    Ok(v == self.0)
  }
}

impl<'de> Visitor<'de> for Seek<'_, 'de> {
  type Value = ();

  fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
    f.write_str("any JSON value")
  }

  fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
    let (token, rest) = (&self.tokens[0], &self.tokens[1..]);
    while let Some(found) = map.next_key_seed(KeyIs(&token.key))? {
      if found {
        // The last of duplicate members wins, as in JSON.parse: an earlier match is forgotten.
        *self.out = None;
        map.next_value_seed(Seek {
          tokens: rest,
          out: &mut *self.out,
        })?;
      } else {
        map.next_value::<IgnoredAny>()?;
      }
    }
    Ok(())
  }

  fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
    let (token, rest) = (&self.tokens[0], &self.tokens[1..]);
    let mut i = 0usize;
    loop {
      let more = if Some(i) == token.index {
        seq
          .next_element_seed(Seek {
            tokens: rest,
            out: &mut *self.out,
          })?
          .is_some()
      } else {
        seq.next_element::<IgnoredAny>()?.is_some()
      };
      if !more {
        return Ok(());
      }
      i += 1;
    }
  }

  // A scalar on the way selects nothing (the document is still read to its end and validated).
  fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
    Ok(())
  }
  fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
    Ok(())
  }
  fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
    Ok(())
  }
  fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
    Ok(())
  }
  fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
    Ok(())
  }
  fn visit_unit<E: de::Error>(self) -> Result<(), E> {
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn sel(pointer: &str, json: &str) -> Option<String> {
    Pointer::parse(pointer)
      .unwrap()
      .select(json)
      .map(|s| s.as_str().to_owned())
  }

  #[test]
  fn table() {
    let doc = r#"{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8}"#;
    // RFC 6901 section 5, plus the cases around it.
    let cases: &[(&str, &str, Option<&str>)] = &[
      ("", doc, Some(doc)),
      ("/foo", doc, Some(r#"["bar","baz"]"#)),
      ("/foo/0", doc, Some("bar")),
      ("/foo/1", doc, Some("baz")),
      ("/foo/2", doc, None),
      ("/foo/-", doc, None),
      ("/foo/01", doc, None),
      ("/foo/+1", doc, None),
      ("/", doc, Some("0")),
      ("/a~1b", doc, Some("1")),
      ("/c%d", doc, Some("2")),
      ("/e^f", doc, Some("3")),
      ("/g|h", doc, Some("4")),
      ("/i\\j", doc, Some("5")),
      ("/k\"l", doc, Some("6")),
      ("/ ", doc, Some("7")),
      ("/m~0n", doc, Some("8")),
      ("/missing", doc, None),
      ("/foo/0/x", doc, None),
      // A numeric token names a member of an object.
      ("/0", r#"{"0":"zero"}"#, Some("zero")),
      ("/01", r#"{"01":"k"}"#, Some("k")),
      ("/-", r#"{"-":"dash"}"#, Some("dash")),
      // Strings are decoded; other values keep their text.
      (
        "/s",
        r#"{"s":"a\nb\"\u00e9\ud83d\ude00"}"#,
        Some("a\nb\"é😀"),
      ),
      ("/n", r#"{ "n" : -1.5e3 }"#, Some("-1.5e3")),
      ("/n", r#"{"n":null}"#, Some("null")),
      (
        "/o",
        r#"{"o": { "x" : [1, 2] } }"#,
        Some(r#"{ "x" : [1, 2] }"#),
      ),
      ("/t", r#"{"t":true}"#, Some("true")),
      // Escaped member names match their decoded text.
      ("/ab", r#"{"a\u0062":1}"#, Some("1")),
      ("/a~1b", r#"{"a\/b":1}"#, Some("1")),
      // The last duplicate wins, as in JSON.parse.
      ("/a", r#"{"a":1,"a":2}"#, Some("2")),
      ("/a/b", r#"{"a":{"b":1},"a":{}}"#, None),
      ("/a/b", r#"{"a":{},"a":{"b":1}}"#, Some("1")),
      // Not JSON, or not only JSON.
      ("/a", "[DONE]", None),
      ("/a", r#"{"a":1} x"#, None),
      ("/a", r#"{"a":1,}"#, None),
      ("/a", r#"{"a":1,"b":}"#, None),
      ("/a", "", None),
      ("/a", r#"{"a":"\x"}"#, None),
      ("", "  7  ", Some("7")),
      // Through a scalar.
      ("/a/b", r#"{"a":"text"}"#, None),
      ("/a/0", r#"{"a":5}"#, None),
      // Lone surrogates cannot be a Rust string.
      ("/s", r#"{"s":"\ud800"}"#, None),
    ];
    for (pointer, json, want) in cases {
      assert_eq!(
        sel(pointer, json).as_deref(),
        *want,
        "pointer {pointer:?} on {json}"
      );
    }
  }

  #[test]
  fn borrowed_unless_escaped() {
    let p = Pointer::parse("/choices/0/delta/content").unwrap();
    let json = r#"{"choices":[{"delta":{"content":"Hello"}}]}"#;
    assert!(matches!(
      p.select(json),
      Some(Selected::Text(Cow::Borrowed("Hello")))
    ));
    let json = r#"{"choices":[{"delta":{"content":"a\nb"}}]}"#;
    assert!(matches!(
      p.select(json),
      Some(Selected::Text(Cow::Owned(_)))
    ));
  }

  #[test]
  fn invalid_pointers() {
    for (pointer, part) in [
      ("a", "did you mean \"/a\""),
      ("/a~", "got the end"),
      ("/a~2", "got '2'"),
    ] {
      let err = Pointer::parse(pointer).unwrap_err();
      assert_eq!(err.code, crate::ErrorCode::InvalidOptions);
      assert!(err.message.contains(part), "{}", err.message);
    }
  }

  #[test]
  fn deep_nesting_never_overflows_the_stack() {
    // Skipped and selected values are read without recursion: any depth.
    let json = "[".repeat(100_000) + &"]".repeat(100_000);
    assert_eq!(sel("/0", &json).map(|s| s.len()), Some(json.len() - 2));
    // Following the pointer recurses, up to serde_json's limit of 128 levels.
    let json = "[".repeat(200) + &"]".repeat(200);
    assert_eq!(sel(&"/0".repeat(100), &json).map(|s| s.len()), Some(200));
    assert_eq!(sel(&"/0".repeat(150), &json), None);
  }
}
