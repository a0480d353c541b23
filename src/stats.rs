//! A client's live counters, read by `client.stats()`: kept with atomics by its requests' sinks
//! (src/sink.rs), which add up each network read's events and bytes locally and publish them once
//! per read, so counting costs no JS and no atomic per event.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use napi_derive::napi;

#[derive(Default)]
pub struct Stats {
  started: AtomicU64,
  open: AtomicU64,
  events: AtomicU64,
  bytes: AtomicU64,
  reconnects: AtomicU64,
  /// Errors are rare next to events: a lock per error costs nothing that matters.
  errors: Mutex<HashMap<String, u64>>,
}

/// A snapshot of a client's counters, since it was made.
#[napi(object)]
pub struct ClientStats {
  /// Requests started (resume readers included).
  pub started: i64,
  /// Requests started and not ended yet.
  pub open: i64,
  /// Events delivered (from upstreams and from logs).
  pub events: i64,
  /// Response body bytes received from upstreams, after content decoding.
  pub bytes: i64,
  /// Failed attempts that were retried.
  pub reconnects: i64,
  /// Errors by code: each failed attempt, retried or final.
  pub errors: HashMap<String, i64>,
}

/// napi numbers are f64: counters stay exact up to 2^53.
fn num(n: u64) -> i64 {
  i64::try_from(n).unwrap_or(i64::MAX)
}

impl Stats {
  pub fn started(&self) {
    self.started.fetch_add(1, Ordering::Relaxed);
    self.open.fetch_add(1, Ordering::Relaxed);
  }

  pub fn ended(&self) {
    self.open.fetch_sub(1, Ordering::Relaxed);
  }

  pub fn delivered(&self, events: u64, bytes: u64) {
    if events > 0 {
      self.events.fetch_add(events, Ordering::Relaxed);
    }
    if bytes > 0 {
      self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
  }

  pub fn error(&self, code: &str, retried: bool) {
    if retried {
      self.reconnects.fetch_add(1, Ordering::Relaxed);
    }
    let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
    match errors.get_mut(code) {
      Some(count) => *count += 1,
      None => {
        errors.insert(code.to_owned(), 1);
      }
    }
  }

  pub fn snapshot(&self) -> ClientStats {
    let errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
    ClientStats {
      started: num(self.started.load(Ordering::Relaxed)),
      open: num(self.open.load(Ordering::Relaxed)),
      events: num(self.events.load(Ordering::Relaxed)),
      bytes: num(self.bytes.load(Ordering::Relaxed)),
      reconnects: num(self.reconnects.load(Ordering::Relaxed)),
      errors: errors.iter().map(|(k, v)| (k.clone(), num(*v))).collect(),
    }
  }
}
