// TEMPORARY STUB (lead): replaced by the real parser.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTooLarge {
  pub limit: usize,
  pub size: usize,
}
impl std::fmt::Display for EventTooLarge {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "too large")
  }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
  pub data: &'a str,
  pub event: &'a str,
  pub id: &'a str,
  pub retry: Option<u64>,
}
pub struct Parser {
  buf: Vec<u8>,
}
impl Parser {
  pub fn new(_m: usize) -> Parser {
    Parser { buf: Vec::new() }
  }
  pub fn feed(
    &mut self,
    chunk: &[u8],
    mut on_event: impl FnMut(Event<'_>),
  ) -> Result<usize, EventTooLarge> {
    self.buf.extend_from_slice(chunk);
    let mut n = 0;
    while let Some(p) = self.buf.windows(2).position(|w| w == b"\n\n") {
      let block: Vec<u8> = self.buf.drain(..p + 2).collect();
      let s = String::from_utf8_lossy(&block).to_string();
      let data: Vec<&str> = s
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
      if !data.is_empty() {
        on_event(Event {
          data: &data.join("\n"),
          event: "message",
          id: "",
          retry: None,
        });
        n += 1;
      }
    }
    Ok(n)
  }
  pub fn last_event_id(&self) -> &str {
    ""
  }
  pub fn reconnection_time(&self) -> Option<u64> {
    None
  }
  pub fn saw_id(&self) -> bool {
    false
  }
  pub fn reset_stream(&mut self) {
    self.buf.clear()
  }
}
