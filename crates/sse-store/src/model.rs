//! The data every backend shares: entries, terminal kinds, limits, id rules.

use std::cmp::Ordering;
use std::time::Duration;

use crate::error::{Result, StoreError};

/// Why a generation ended. The terminal entry is always the last entry of its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Terminal {
  /// The upstream ended cleanly.
  End,
  /// The relay saw its `doneData`.
  Done,
  /// The upstream failed; the entry's data is the error JSON the relay writes.
  Error,
  /// `stop(id)` was called and the producer honoured it.
  Stopped,
  /// The producer lost its lease (it died, hung, or lost the store) and a reader or a later
  /// `begin` closed the log on its behalf.
  Interrupted,
}

impl Terminal {
  /// The name stored in the log's `t` field and shown to JS.
  pub fn as_str(self) -> &'static str {
    match self {
      Terminal::End => "end",
      Terminal::Done => "done",
      Terminal::Error => "error",
      Terminal::Stopped => "stopped",
      Terminal::Interrupted => "interrupted",
    }
  }

  /// The inverse of [`Terminal::as_str`]; `None` for anything else.
  pub fn parse(name: &str) -> Option<Terminal> {
    Some(match name {
      "end" => Terminal::End,
      "done" => Terminal::Done,
      "error" => Terminal::Error,
      "stopped" => Terminal::Stopped,
      "interrupted" => Terminal::Interrupted,
      _ => return None,
    })
  }
}

/// One event of a generation's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
  /// The log's id, `<ms>-<seq>`, strictly increasing within a log (Redis stream ids; the memory
  /// store mints the same shape). Browsers send it back as Last-Event-ID.
  pub id: String,
  /// The SSE event name, if any.
  pub event: Option<String>,
  /// The SSE data.
  pub data: String,
  /// Set on the last entry only.
  pub terminal: Option<Terminal>,
}

/// The entries of `entries` up to and including the one whose data brings the total to
/// `max_bytes` (at least one entry).
pub(crate) fn bound_bytes(entries: &mut Vec<Entry>, max_bytes: usize) {
  let mut total = 0usize;
  for (i, entry) in entries.iter().enumerate() {
    total += entry.data.len() + entry.event.as_ref().map_or(0, String::len);
    if total >= max_bytes {
      entries.truncate(i + 1);
      return;
    }
  }
}

/// What one [`crate::Reader::next_batch`] call returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Batch {
  /// Entries strictly after the previous cursor, in order; empty when `max_wait` passed quietly.
  pub entries: Vec<Entry>,
  /// The last entry was terminal: the reader has nothing more to read.
  pub finished: bool,
}

/// The answer of [`crate::Producer::renew`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
  /// The lease was extended; keep producing.
  Continue,
  /// The lease was extended, and someone called `stop(id)`: finish with [`Terminal::Stopped`].
  StopRequested,
}

/// Limits shared by both backends. Build with `StoreConfig::default()` and struct update syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
  /// Prefix of every key and of the stop channel (`{prefix}stop`). Default `nsse:`.
  pub prefix: String,
  /// How long a finished log stays readable. Default 300 s.
  pub ttl: Duration,
  /// Entries kept in a log; older ones are trimmed (a reader behind them gets `RESUME_GAP`).
  /// Default 10,000.
  pub max_len: usize,
  /// How long a producer owns its generation without renewing. Renew every `lease / 3`.
  /// Default 3 s.
  pub lease: Duration,
  /// Memory store only: bytes kept per log (ids, names and data, plus a fixed overhead per
  /// entry). Default 64 MiB.
  pub max_bytes: usize,
  /// Redis only: the bound on one command, connection set-up included, so that a dead server
  /// gives a `STORE` error instead of a hang. Default 5 s.
  pub command_timeout: Duration,
  /// `rediss://` only: PEM certificates trusted as roots instead of the system's (a Redis whose
  /// certificate a private CA signed). Default none.
  pub ca: Option<Vec<u8>>,
}

impl Default for StoreConfig {
  fn default() -> Self {
    StoreConfig {
      prefix: "nsse:".to_string(),
      ttl: Duration::from_secs(300),
      max_len: 10_000,
      lease: Duration::from_secs(3),
      max_bytes: 64 * 1024 * 1024,
      command_timeout: Duration::from_secs(5),
      ca: None,
    }
  }
}

impl StoreConfig {
  /// Checks the limits once, at construction, so no later call meets a zero lease.
  pub fn validate(&self) -> Result<()> {
    let bad = |message: String| Err(StoreError::InvalidOptions(message));
    if self.prefix.len() > 64
      || self
        .prefix
        .bytes()
        .any(|b| !b.is_ascii_graphic() || b == b'{' || b == b'}')
    {
      return bad(format!(
        "prefix {:?} must be at most 64 bytes of printable ASCII without '{{', '}}' or spaces",
        self.prefix
      ));
    }
    // Below 30 ms a lease would lapse between two renewals on a busy event loop.
    if self.lease < Duration::from_millis(30) {
      return bad(format!(
        "lease {:?} is below the minimum of 30ms",
        self.lease
      ));
    }
    if self.ttl < Duration::from_millis(1) {
      return bad(format!("ttl {:?} is below the minimum of 1ms", self.ttl));
    }
    if self.max_len == 0 {
      return bad("maxLen 0 is below the minimum of 1".to_string());
    }
    if self.max_bytes < 1024 {
      return bad(format!(
        "maxBytes {} is below the minimum of 1024",
        self.max_bytes
      ));
    }
    if self.command_timeout < Duration::from_millis(10) {
      return bad(format!(
        "commandTimeout {:?} is below the minimum of 10ms",
        self.command_timeout
      ));
    }
    Ok(())
  }
}

/// Ids become Redis key parts inside a hash tag: braces would break the tag (and with it Redis
/// Cluster slot placement), spaces and control bytes make keys unreadable in redis-cli.
pub fn validate_id(id: &str) -> Result<()> {
  if id.is_empty() || id.len() > 200 {
    return Err(StoreError::InvalidId(format!(
      "generation id must be 1 to 200 bytes, got {}",
      id.len()
    )));
  }
  if let Some(bad) = id
    .chars()
    .find(|c| !c.is_ascii_graphic() || *c == '{' || *c == '}')
  {
    return Err(StoreError::InvalidId(format!(
      "generation id {id:?} contains {bad:?}: only printable ASCII without '{{', '}}' or spaces is allowed"
    )));
  }
  Ok(())
}

/// A parsed `<ms>-<seq>` id. Redis orders stream ids numerically, not as strings
/// ("9-0" < "10-0"), so cursors are compared through this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogId {
  pub ms: u64,
  pub seq: u64,
}

impl LogId {
  /// Parses `<ms>-<seq>` (a bare `<ms>` means seq 0, as Redis reads it).
  pub fn parse(text: &str) -> Option<LogId> {
    let (ms, seq) = match text.split_once('-') {
      Some((ms, seq)) => (ms, seq),
      None => (text, "0"),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(ms) || !digits(seq) {
      return None;
    }
    Some(LogId {
      ms: ms.parse().ok()?,
      seq: seq.parse().ok()?,
    })
  }
}

impl std::fmt::Display for LogId {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{}-{}", self.ms, self.seq)
  }
}

/// Validates a reader's cursor: a browser's Last-Event-ID is user input.
pub fn parse_cursor(after: Option<String>) -> Result<Option<LogId>> {
  match after {
    None => Ok(None),
    Some(text) => LogId::parse(&text).map(Some).ok_or_else(|| {
      StoreError::InvalidOptions(format!(
        "cursor {text:?} is not a log id of the form <ms>-<seq>"
      ))
    }),
  }
}

/// The resume rule: entries up to and including `trimmed` are gone, so a reader may continue only
/// from a cursor at or after it. A reader from the start (`None`) needs the first entry, which
/// is gone once anything was trimmed.
pub fn gap_between(after: Option<LogId>, trimmed: Option<LogId>) -> Option<StoreError> {
  let trimmed = trimmed?;
  let lost = match after {
    None => true,
    Some(after) => after.cmp(&trimmed) == Ordering::Less,
  };
  lost.then(|| StoreError::Gap {
    after: after.map(|a| a.to_string()).unwrap_or_default(),
    trimmed: trimmed.to_string(),
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn terminal_names_round_trip() {
    let table = [
      (Terminal::End, "end"),
      (Terminal::Done, "done"),
      (Terminal::Error, "error"),
      (Terminal::Stopped, "stopped"),
      (Terminal::Interrupted, "interrupted"),
    ];
    for (terminal, name) in table {
      assert_eq!(terminal.as_str(), name);
      assert_eq!(Terminal::parse(name), Some(terminal));
    }
    assert_eq!(Terminal::parse("End"), None);
  }

  #[test]
  fn ids_are_checked_for_length_and_characters() {
    let long = "a".repeat(201);
    let table: [(&str, bool); 9] = [
      ("gen-1", true),
      ("a", true),
      (&long[..200], true),
      ("", false),
      (&long, false),
      ("a b", false),
      ("a{b", false),
      ("a}b", false),
      ("é", false),
    ];
    for (id, ok) in table {
      assert_eq!(validate_id(id).is_ok(), ok, "{id:?}");
      if !ok {
        assert_eq!(validate_id(id).unwrap_err().code(), "INVALID_OPTIONS");
      }
    }
  }

  #[test]
  fn log_ids_compare_numerically() {
    let table = [
      ("9-0", "10-0", Ordering::Less),
      ("10-2", "10-10", Ordering::Less),
      ("10", "10-0", Ordering::Equal),
      ("11-0", "10-99", Ordering::Greater),
    ];
    for (a, b, ord) in table {
      let (a, b) = (LogId::parse(a).unwrap(), LogId::parse(b).unwrap());
      assert_eq!(a.cmp(&b), ord, "{a} vs {b}");
    }
    for bad in ["", "-", "1-", "-1", "a-1", "1-1-1", "1 -0"] {
      assert_eq!(LogId::parse(bad), None, "{bad:?}");
    }
  }

  #[test]
  fn a_cursor_before_the_trimmed_id_is_a_gap() {
    let id = |s: &str| LogId::parse(s);
    let table = [
      (None, None, false),
      (None, id("5-0"), true),
      (id("4-9"), id("5-0"), true),
      (id("5-0"), id("5-0"), false),
      (id("6-0"), id("5-0"), false),
      (id("1-0"), None, false),
    ];
    for (after, trimmed, gap) in table {
      assert_eq!(
        gap_between(after, trimmed).is_some(),
        gap,
        "{after:?} {trimmed:?}"
      );
    }
  }

  #[test]
  fn config_limits_are_checked() {
    assert!(StoreConfig::default().validate().is_ok());
    let bad = [
      StoreConfig {
        prefix: "a{".into(),
        ..Default::default()
      },
      StoreConfig {
        lease: Duration::from_millis(5),
        ..Default::default()
      },
      StoreConfig {
        ttl: Duration::ZERO,
        ..Default::default()
      },
      StoreConfig {
        max_len: 0,
        ..Default::default()
      },
      StoreConfig {
        max_bytes: 10,
        ..Default::default()
      },
    ];
    for config in bad {
      assert_eq!(
        config.validate().unwrap_err().code(),
        "INVALID_OPTIONS",
        "{config:?}"
      );
    }
  }
}
