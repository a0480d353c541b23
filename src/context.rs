//! What every request of one client shares: its validated defaults, its connection pool and its
//! event-log store. Its own module so that the client (which makes instances) and the instance
//! (which starts requests) both depend on it and not on each other.

use sse_core::ClientDefaults;

use crate::stats::Stats;
use crate::store::LogStore;

pub struct ClientContext {
  pub defaults: ClientDefaults,
  pub http: reqwest::Client,
  pub store: LogStore,
  pub stats: Stats,
}
