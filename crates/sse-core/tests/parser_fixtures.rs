//! Every `test-data/*.sse` stream must parse to the events in the `.json` file next to it, whether it
//! arrives whole, a byte at a time, or in chunks of every size up to 17 bytes.

use std::fs;
use std::path::Path;

use serde_json::Value;
use sse_core::parser::{parse_all, OwnedEvent, Parser};

fn expected(path: &Path) -> Vec<OwnedEvent> {
  let json: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
  json
    .as_array()
    .unwrap()
    .iter()
    .map(|e| OwnedEvent {
      data: e["data"].as_str().unwrap().to_owned(),
      event: e["event"].as_str().unwrap().to_owned(),
      id: e["id"].as_str().unwrap().to_owned(),
      retry: e["retry"].as_u64(),
    })
    .collect()
}

fn chunked(input: &[u8], size: usize) -> Vec<OwnedEvent> {
  let mut parser = Parser::default();
  let mut out = Vec::new();
  for chunk in input.chunks(size) {
    parser.feed(chunk, |e| out.push(e.into())).unwrap();
  }
  out
}

#[test]
fn fixtures_parse_to_their_expected_events() {
  let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data");
  let mut seen = 0;
  for entry in fs::read_dir(&dir).unwrap() {
    let path = entry.unwrap().path();
    if path.extension().and_then(|e| e.to_str()) != Some("sse") {
      continue;
    }
    let input = fs::read(&path).unwrap();
    let want = expected(&path.with_extension("json"));
    assert_eq!(parse_all(&input), want, "{}", path.display());
    for size in 1..=17 {
      assert_eq!(
        chunked(&input, size),
        want,
        "{} in chunks of {size}",
        path.display()
      );
    }
    seen += 1;
  }
  assert!(seen >= 3, "fixtures missing from {}", dir.display());
}
