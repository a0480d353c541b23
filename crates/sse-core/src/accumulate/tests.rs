//! The recorded-shape fixtures of test-data/ai, each fed whole and one byte at a time (the
//! assembled message must not depend on how the network cut the stream), and table tests of
//! the edges. __test__/core/accumulate.test.mjs checks the same fixtures against the official SDKs.

use serde_json::{json, Value};

use super::*;
use crate::parser::Parser;

fn fixture(name: &str) -> Vec<u8> {
  let path = format!("{}/test-data/ai/{name}", env!("CARGO_MANIFEST_DIR"));
  std::fs::read(path).unwrap()
}

fn run_chunked(format: Format, bytes: &[u8], chunk: usize) -> Result<Value, ProviderError> {
  let mut acc = Accumulator::new(format);
  let mut parser = Parser::new(usize::MAX);
  for piece in bytes.chunks(chunk) {
    parser.feed(piece, |e| acc.event(e.event, e.data)).unwrap();
  }
  acc
    .finish()
    .map(|json| serde_json::from_str(&json).unwrap())
}

/// Whole, and one byte at a time: the same result.
fn run(format: Format, name: &str) -> Result<Value, ProviderError> {
  let bytes = fixture(name);
  let whole = run_chunked(format, &bytes, bytes.len());
  assert_eq!(whole, run_chunked(format, &bytes, 1), "{name} byte by byte");
  whole
}

#[test]
fn openai_chat_text_with_usage() {
  let m = run(Format::OpenAiChat, "openai-chat-text.sse").unwrap();
  assert_eq!(m["format"], "openai-chat");
  assert_eq!(m["id"], "chatcmpl-1");
  assert_eq!(m["object"], "chat.completion");
  assert_eq!(m["created"], 1700000000);
  assert_eq!(m["system_fingerprint"], "fp_1");
  let choice = &m["choices"][0];
  assert_eq!(
    choice["message"],
    json!({ "role": "assistant", "content": "Hello, héllo \"w\"\n日本 😀", "refusal": null })
  );
  assert_eq!(choice["finish_reason"], "stop");
  assert_eq!(m["usage"]["total_tokens"], 16);
  assert_eq!(m["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

#[test]
fn openai_chat_parallel_tool_calls_split_inside_escapes() {
  let m = run(Format::OpenAiChat, "openai-chat-tools.sse").unwrap();
  let message = &m["choices"][0]["message"];
  assert_eq!(message["content"], Value::Null);
  let calls = message["tool_calls"].as_array().unwrap();
  assert_eq!(calls.len(), 2);
  assert_eq!(calls[0]["id"], "call_a");
  assert_eq!(calls[0]["type"], "function");
  assert_eq!(calls[0]["function"]["name"], "search");
  assert_eq!(
    calls[0]["function"]["arguments"],
    r#"{"q": "caf\u00e9 \"x\" 日本"}"#
  );
  assert_eq!(
    calls[0]["function"]["parsed_arguments"],
    json!({ "q": "café \"x\" 日本" })
  );
  assert_eq!(
    calls[1]["function"]["parsed_arguments"],
    json!({ "city": "😀 Paris" })
  );
  assert_eq!(m["choices"][0]["finish_reason"], "tool_calls");
  assert_eq!(m["usage"]["total_tokens"], 50);
}

#[test]
fn openai_chat_refusal() {
  let m = run(Format::OpenAiChat, "openai-chat-refusal.sse").unwrap();
  let message = &m["choices"][0]["message"];
  assert_eq!(message["refusal"], "I can't help with that.");
  assert_eq!(message["content"], Value::Null);
  assert_eq!(m["usage"], Value::Null);
}

#[test]
fn openai_chat_error_chunk_is_the_providers_error() {
  let err = run(Format::OpenAiChat, "openai-chat-error.sse").unwrap_err();
  assert_eq!(
    err.message,
    "The server had an error while processing your request."
  );
  let body: Value = serde_json::from_str(&err.body).unwrap();
  assert_eq!(body["type"], "server_error");
}

#[test]
fn anthropic_text_and_usage() {
  let m = run(Format::AnthropicMessages, "anthropic-text.sse").unwrap();
  assert_eq!(m["format"], "anthropic-messages");
  assert_eq!(m["id"], "msg_01");
  assert_eq!(
    m["content"],
    json!([{ "type": "text", "text": "Hello, héllo \"w\"\n日本 😀" }])
  );
  assert_eq!(m["stop_reason"], "end_turn");
  assert_eq!(m["usage"]["input_tokens"], 25);
  assert_eq!(m["usage"]["output_tokens"], 12);
}

#[test]
fn anthropic_tool_use_inputs_parsed_once() {
  let m = run(Format::AnthropicMessages, "anthropic-tools.sse").unwrap();
  let content = m["content"].as_array().unwrap();
  assert_eq!(content.len(), 3);
  assert_eq!(content[0]["text"], "Let me look.");
  assert_eq!(
    content[1],
    json!({ "type": "tool_use", "id": "toolu_a", "name": "search",
            "input": { "q": "café \"x\" 日本", "n": [1, 2.5e3] } })
  );
  // No input_json_delta: the block's own input stays.
  assert_eq!(content[2]["input"], json!({}));
  assert_eq!(m["stop_reason"], "tool_use");
  assert_eq!(
    m["usage"],
    json!({ "input_tokens": 400, "output_tokens": 89 })
  );
}

#[test]
fn anthropic_error_event() {
  let err = run(Format::AnthropicMessages, "anthropic-error.sse").unwrap_err();
  assert_eq!(err.message, "Overloaded");
  assert!(err.body.contains("overloaded_error"), "{}", err.body);
}

#[test]
fn openai_responses_text_and_function_call() {
  let m = run(Format::OpenAiResponses, "openai-responses.sse").unwrap();
  assert_eq!(m["format"], "openai-responses");
  assert_eq!(m["status"], "completed");
  assert_eq!(m["output_text"], "Hello, héllo 日本");
  assert_eq!(m["usage"]["total_tokens"], 30);
  let output = m["output"].as_array().unwrap();
  assert_eq!(output[0]["content"][0]["text"], "Hello, héllo 日本");
  assert_eq!(output[0]["status"], "completed");
  assert_eq!(output[1]["arguments"], r#"{"q":"caf\u00e9"}"#);
  assert_eq!(output[1]["parsed_arguments"], json!({ "q": "café" }));
  assert_eq!(output[1]["call_id"], "call_1");
}

#[test]
fn openai_responses_error_events() {
  let mut acc = Accumulator::new(Format::OpenAiResponses);
  acc.event(
    "error",
    r#"{"type":"error","code":"server_error","message":"boom","param":null}"#,
  );
  assert_eq!(acc.finish().unwrap_err().message, "boom");
  let mut acc = Accumulator::new(Format::OpenAiResponses);
  acc.event(
    "response.failed",
    r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"failed"}}}"#,
  );
  assert_eq!(acc.finish().unwrap_err().message, "failed");
}

#[test]
fn invalid_arguments_stay_as_text() {
  let mut acc = Accumulator::new(Format::OpenAiChat);
  acc.event(
    "message",
    r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":"tool_calls"}]}"#,
  );
  let m: Value = serde_json::from_str(&acc.finish().unwrap()).unwrap();
  let f = &m["choices"][0]["message"]["tool_calls"][0]["function"];
  assert_eq!(f["arguments"], r#"{"a":"#);
  assert_eq!(f["parsed_arguments"], Value::Null);
}

#[test]
fn junk_is_ignored_and_huge_indexes_allocate_nothing() {
  for format in [
    Format::OpenAiChat,
    Format::OpenAiResponses,
    Format::AnthropicMessages,
  ] {
    let mut acc = Accumulator::new(format);
    for data in [
      "[DONE]",
      "",
      "{",
      "null",
      "[1,2]",
      r#"{"type":7}"#,
      r#"{"choices":[{"index":18446744073709551615,"delta":{"tool_calls":[{"index":4294967295}]}}]}"#,
      r#"{"type":"content_block_delta","index":18446744073709551615,"delta":{"type":"text_delta","text":"x"}}"#,
      r#"{"type":"response.output_text.delta","output_index":9999999999,"delta":"x"}"#,
    ] {
      acc.event("message", data);
    }
    assert!(acc.finish().is_ok(), "{format:?}");
  }
}

#[test]
fn formats_by_name() {
  for format in [
    Format::OpenAiChat,
    Format::OpenAiResponses,
    Format::AnthropicMessages,
  ] {
    assert_eq!(Format::parse(format.as_str()).unwrap(), format);
  }
  let err = Format::parse("openai").unwrap_err();
  assert!(err.message.contains("'openai-chat'"), "{}", err.message);
}

/// 128 KiB of tool-call arguments in one-character deltas: linear (doubling the input must not
/// quadruple the time). The figures are bench/accumulate.mjs's; this only guards the shape.
#[test]
fn one_character_deltas_are_linear() {
  fn time(n: usize) -> std::time::Duration {
    let mut acc = Accumulator::new(Format::AnthropicMessages);
    acc.event("message", r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#);
    acc.event(
      "message",
      r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":\""}}"#,
    );
    let delta = r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"x"}}"#;
    let start = std::time::Instant::now();
    for _ in 0..n {
      acc.event("message", delta);
    }
    acc.event(
      "message",
      r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"}"}}"#,
    );
    let json = acc.finish().unwrap();
    assert!(json.len() > n);
    start.elapsed()
  }
  time(1000);
  let small = (0..3).map(|_| time(64 * 1024)).min().unwrap();
  let large = (0..3).map(|_| time(256 * 1024)).min().unwrap();
  // Four times the input: linear is ~4x; quadratic would be ~16x. Generous for a busy machine.
  assert!(large < small * 10, "{small:?} -> {large:?}");
}

#[test]
fn snapshots_at_most_once_per_n_bytes() {
  for (format, fixture) in [
    (Format::OpenAiChat, "openai-chat-tools.sse"),
    (Format::AnthropicMessages, "anthropic-tools.sse"),
    (Format::OpenAiResponses, "openai-responses.sse"),
  ] {
    let mut acc = Accumulator::new(format).with_snapshots(8);
    let mut parser = Parser::new(usize::MAX);
    let mut snapshots: Vec<Value> = Vec::new();
    parser
      .feed(&fixture_bytes(fixture), |e| {
        acc.event(e.event, e.data);
        snapshots.extend(
          acc
            .take_snapshots()
            .map(|s| serde_json::from_str::<Value>(&s).unwrap()),
        );
      })
      .unwrap();
    assert!(!snapshots.is_empty(), "{fixture}");
    for s in &snapshots {
      assert!(s["arguments"].is_object(), "{fixture}: {s}");
      assert!(
        s["name"].is_string() && s["id"].is_string(),
        "{fixture}: {s}"
      );
    }
    // Without with_snapshots, none.
    let mut acc = Accumulator::new(format);
    for e in crate::parser::parse_all(&fixture_bytes(fixture)) {
      acc.event(&e.event, &e.data);
      assert_eq!(acc.take_snapshots().count(), 0);
    }
  }
  // 1,000 one-character deltas, a snapshot per 100 bytes: 9 of them, each a prefix of the value
  // (at 100, 200, ..., 800 bytes, then 900; the next would be an eighth of 900 later, past the end).
  let mut count = 0;
  one_character_deltas(100, 1000, |s| {
    count += 1;
    let s: Value = serde_json::from_str(s).unwrap();
    let a = s["arguments"]["a"].as_str().unwrap();
    assert!(
      a.len() >= count * 100 - 8 && a.bytes().all(|b| b == b'x'),
      "{s}"
    );
  });
  assert_eq!(count, 9);
}

/// An Anthropic tool call whose arguments, `{"a":"xxx..."}` of `len` bytes, arrive one character
/// per delta, with snapshots every `every` bytes: `snapshot` gets each one's JSON.
fn one_character_deltas(every: usize, len: usize, mut snapshot: impl FnMut(&str)) {
  let mut acc = Accumulator::new(Format::AnthropicMessages).with_snapshots(every);
  acc.event("m", r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#);
  let text = format!(r#"{{"a":"{}"}}"#, "x".repeat(len - 8));
  for c in text.chars() {
    let delta = serde_json::to_string(&c.to_string()).unwrap();
    acc.event(
      "m",
      &format!(r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"input_json_delta","partial_json":{delta}}}}}"#),
    );
    for s in acc.take_snapshots() {
      snapshot(&s);
    }
  }
}

fn fixture_bytes(name: &str) -> Vec<u8> {
  fixture(name)
}

#[test]
fn snapshots_cost_linear_time_in_the_arguments_length() {
  // 32 KiB of arguments in one-character deltas, a snapshot asked for every 16 bytes. Each snapshot
  // parses and writes the arguments so far: one every 16 bytes would write 2,048 of them, 33 MB in
  // all. They also stay at least an eighth of the arguments' length apart, so the total stays
  // within a few times the arguments' length.
  const LEN: usize = 32 << 10;
  let (mut total, mut count, mut last) = (0, 0, 0);
  one_character_deltas(16, LEN, |s| {
    total += s.len();
    count += 1;
    let v: Value = serde_json::from_str(s).unwrap();
    // The arguments so far: `{"a":"` and the x's (the string is still open).
    let len = v["arguments"]["a"].as_str().unwrap().len() + 6;
    assert!(
      len >= last + 16 && len >= last + last / 8,
      "{len} after {last}"
    );
    last = len;
  });
  assert!(total <= 12 * LEN, "{count} snapshots, {total} bytes in all");
  assert!(count >= 40, "{count} snapshots");
}
