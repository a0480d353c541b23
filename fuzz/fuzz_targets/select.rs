#![no_main]
#![deny(clippy::all)]
//! Fuzz target `select`: an arbitrary pointer and arbitrary JSON-ish text
//! (`cd fuzz && cargo +nightly fuzz run select -- -max_total_time=60`; seeds in corpus/select/).
//!
//! Input layout: the bytes up to the first `\n` are the pointer, the rest the data (both as UTF-8,
//! lossily: event data is always valid UTF-8 by the time `select` sees it).
//!
//! The oracle is serde_json's `Value` and `Value::pointer` (RFC 6901 over a parsed document), which
//! shares no code with `select`'s seeking deserializer beyond the tokenizer. Where the document
//! parses, both must agree: nothing, the same decoded string, or the same value. Where it does not,
//! `select` must select nothing, except for what the oracle refuses and `select` never reads as a
//! value: nesting deeper than 128 levels off the pointer's path, numbers outside the f64 range, and
//! lone surrogate escapes in strings it skips.

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sse_core::select::{Pointer, Selected};

fuzz_target!(|bytes: &[u8]| {
  let (pointer, data) = match bytes.iter().position(|&b| b == b'\n') {
    Some(at) => (&bytes[..at], &bytes[at + 1..]),
    None => (bytes, &[][..]),
  };
  let pointer = String::from_utf8_lossy(pointer);
  let data = String::from_utf8_lossy(data);
  let Ok(parsed) = Pointer::parse(&pointer) else {
    return;
  };
  let got = parsed.select(&data);
  let doc = match serde_json::from_str::<Value>(&data) {
    Ok(doc) => doc,
    Err(err) => {
      let message = err.to_string();
      let refused_by_oracle_only = message.contains("recursion limit")
        || message.contains("number out of range")
        || message.contains("surrogate");
      assert!(
        got.is_none() || refused_by_oracle_only,
        "selected {got:?} from invalid JSON ({message})"
      );
      return;
    }
  };
  match (doc.pointer(&pointer), got) {
    (None, None) => {}
    (Some(Value::String(want)), Some(Selected::Text(text))) => assert_eq!(&*text, want),
    (Some(want), Some(Selected::Json(json))) => {
      assert!(!want.is_string(), "a string selected as JSON: {json}");
      let value: Value = serde_json::from_str(json).expect("the selected JSON text parses");
      assert_eq!(&value, want);
    }
    // A lone surrogate that the oracle's Value accepted cannot be; anything else disagrees.
    (want, got) => panic!("pointer {pointer:?}: oracle {want:?}, select {got:?}"),
  }
});
