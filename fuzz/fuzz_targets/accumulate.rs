#![no_main]
#![deny(clippy::all)]
//! Fuzz target `accumulate`: an arbitrary event stream through the parser into each stream format's
//! accumulator, with snapshots every few bytes (`cd fuzz && cargo +nightly fuzz run accumulate`).
//! Server data must never panic: the assembled message is valid JSON (or the provider's error), and
//! every snapshot is valid JSON. Also checks `partial::parse_partial` on the raw text: never a
//! panic, and a complete JSON document parses to itself.

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sse_core::accumulate::{partial::parse_partial, Accumulator, Format};
use sse_core::parser::parse_all;

fuzz_target!(|bytes: &[u8]| {
  let events = parse_all(bytes);
  for format in [
    Format::OpenAiChat,
    Format::OpenAiResponses,
    Format::AnthropicMessages,
  ] {
    let mut acc = Accumulator::new(format).with_snapshots(3);
    for e in &events {
      acc.event(&e.event, &e.data);
      for snapshot in acc.take_snapshots() {
        serde_json::from_str::<Value>(&snapshot).expect("a snapshot is JSON");
      }
    }
    if let Ok(json) = acc.finish() {
      serde_json::from_str::<Value>(&json).expect("the final message is JSON");
    }
  }
  let text = String::from_utf8_lossy(bytes);
  let partial = parse_partial(&text);
  if let Ok(whole) = serde_json::from_str::<Value>(&text) {
    if text.trim_start().starts_with(['{', '[', '"']) {
      assert_eq!(partial, Some(whole), "a complete document");
    }
  }
});
