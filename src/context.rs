//! What every request of one client shares: its validated defaults, its connection pool, its
//! event-log store and its live counters. Its own module so that the client (which makes instances) and the instance
//! (which starts requests) both depend on it and not on each other.

use std::sync::Mutex;

use sse_core::http_client::Transport;
use sse_core::ClientDefaults;

use crate::stats::Stats;
use crate::store::LogStore;

pub struct ClientContext {
  pub defaults: ClientDefaults,
  /// None once the client is closed. Requests hold a clone only while they run, so taking this one
  /// drops the connection pool, idle sockets included, as soon as the aborted requests have ended.
  http: Mutex<Option<Transport>>,
  pub store: LogStore,
  pub stats: Stats,
}

impl ClientContext {
  pub fn new(defaults: ClientDefaults, http: Transport, store: LogStore) -> ClientContext {
    ClientContext {
      defaults,
      http: Mutex::new(Some(http)),
      store,
      stats: Stats::default(),
    }
  }

  /// The HTTP client for a new request, or None once closed.
  pub fn http(&self) -> Option<Transport> {
    self.http.lock().unwrap_or_else(|e| e.into_inner()).clone()
  }

  /// Drops the context's own handle on the HTTP client.
  pub fn close(&self) {
    self.http.lock().unwrap_or_else(|e| e.into_inner()).take();
  }
}
