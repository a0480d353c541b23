#![deny(clippy::all)]
//! Parses an event stream from stdin with `sse_core::parser::Parser` and prints the events as JSON.
//! `scripts/differential.mjs` runs it to compare the parser with `eventsource-parser`.
//!
//! ```text
//! cargo run -p sse-core --example sse_parse < stream.sse
//!     one line per event: {"data":"…","event":"message","id":"…","retry":null}
//! cargo run -p sse-core --example sse_parse -- --frames < frames.bin
//!     stdin is a sequence of frames, each a u32 little-endian length and that many bytes of one
//!     stream; each gets a fresh parser and one output line:
//!     {"events":[…],"lastEventId":"…","reconnectionTime":null}
//! ```
//!
//! Framing lets one process parse thousands of streams instead of spawning one per stream.

use std::error::Error;
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use serde_json::{json, Value};
use sse_core::parser::{Event, Parser};

fn event_json(e: Event<'_>) -> Value {
  json!({ "data": e.data, "event": e.event, "id": e.id, "retry": e.retry })
}

fn parse(stream: &[u8]) -> Result<(Vec<Value>, Parser), Box<dyn Error>> {
  let mut parser = Parser::default();
  let mut events = Vec::new();
  parser.feed(stream, |e| events.push(event_json(e)))?;
  Ok((events, parser))
}

fn main() -> ExitCode {
  match run() {
    Ok(()) => ExitCode::SUCCESS,
    Err(err) => {
      eprintln!("sse_parse: {err}");
      ExitCode::FAILURE
    }
  }
}

fn run() -> Result<(), Box<dyn Error>> {
  let frames = match std::env::args().nth(1).as_deref() {
    None => false,
    Some("--frames") => true,
    Some(other) => return Err(format!("unknown argument {other:?} (expected --frames)").into()),
  };
  let mut input = Vec::new();
  io::stdin().lock().read_to_end(&mut input)?;
  let mut out = BufWriter::new(io::stdout().lock());

  if !frames {
    for event in parse(&input)?.0 {
      writeln!(out, "{event}")?;
    }
    return Ok(out.flush()?);
  }

  let mut rest = &input[..];
  while !rest.is_empty() {
    let (len, after) = rest
      .split_first_chunk::<4>()
      .ok_or("truncated frame header")?;
    let len = usize::try_from(u32::from_le_bytes(*len))?;
    if after.len() < len {
      return Err(format!("frame of {len} bytes but only {} left", after.len()).into());
    }
    let (stream, after) = after.split_at(len);
    let (events, parser) = parse(stream)?;
    let line = json!({
      "events": events,
      "lastEventId": parser.last_event_id(),
      "reconnectionTime": parser.reconnection_time(),
    });
    writeln!(out, "{line}")?;
    rest = after;
  }
  Ok(out.flush()?)
}
