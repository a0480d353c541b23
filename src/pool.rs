//! What every request of one client shares: its validated defaults and its connection pool. Its own
//! module so that the client (which makes instances) and the instance (which starts requests) both
//! depend on it and not on each other.

use sse_core::ClientDefaults;

pub struct Pool {
  pub defaults: ClientDefaults,
  pub http: reqwest::Client,
}
