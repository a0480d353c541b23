//! `accumulate` alone, without HTTP or JS: tool-call arguments streamed in one-character deltas,
//! fed to sse-core's Accumulator as the parsed events' data, timed from the first delta to the
//! assembled JSON. The events are made before the clock starts. Best of 5 runs per row.
//!
//!   cargo run --release -p sse-core --example accumulate
//!
//! (bench/accumulate.mjs measures the same streams end to end, over HTTP, beside the SDKs.)

use std::time::{Duration, Instant};

use sse_core::accumulate::{Accumulator, Format};

/// The data of every event of a stream whose one tool call has `n` one-character argument deltas
/// (a JSON object `{"a":"xxxx..."}` spelled out one character at a time).
fn events(format: Format, n: usize) -> Vec<(&'static str, String)> {
  let args: Vec<char> = format!("{{\"a\":\"{}\"}}", "x".repeat(n.saturating_sub(8)))
    .chars()
    .collect();
  let mut out = Vec::with_capacity(args.len() + 4);
  match format {
    Format::OpenAiChat => {
      out.push(("message", r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}"#.to_owned()));
      for c in args {
        let delta = serde_json::to_string(&c.to_string()).unwrap();
        out.push(("message", format!(r#"{{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"function":{{"arguments":{delta}}}}}]}},"finish_reason":null}}]}}"#)));
      }
      out.push(("message", r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#.to_owned()));
    }
    _ => {
      out.push(("message_start", r#"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}"#.to_owned()));
      out.push(("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#.to_owned()));
      for c in args {
        let delta = serde_json::to_string(&c.to_string()).unwrap();
        out.push(("content_block_delta", format!(r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"input_json_delta","partial_json":{delta}}}}}"#)));
      }
      out.push(("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}"#.to_owned()));
    }
  }
  out
}

fn time(format: Format, events: &[(&str, String)]) -> Duration {
  (0..5)
    .map(|_| {
      let start = Instant::now();
      let mut acc = Accumulator::new(format);
      for (event, data) in events {
        acc.event(event, data);
      }
      let json = acc.finish().expect("no provider error");
      assert!(json.len() > events.len());
      start.elapsed()
    })
    .min()
    .unwrap_or_default()
}

fn main() {
  println!("| format | deltas | argument bytes | assembled in ms | µs per delta |");
  println!("| --- | --- | --- | --- | --- |");
  for format in [Format::OpenAiChat, Format::AnthropicMessages] {
    for n in [128 * 1024, 256 * 1024, 120_000] {
      let events = events(format, n);
      let took = time(format, &events);
      println!(
        "| {} | {} | {} | {:.1} | {:.3} |",
        format.as_str(),
        n,
        n,
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e6 / n as f64
      );
    }
  }
}
