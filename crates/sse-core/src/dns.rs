//! Host-name resolution with the system resolver (getaddrinfo: /etc/hosts, nsswitch, search
//! domains, exactly what curl and Node's `dns.lookup` see), but without a thread per lookup.
//!
//! reqwest's default resolver runs every lookup on tokio's blocking pool, one thread each: 1,000
//! streams started at once to `localhost` started about 81 extra OS threads. Here the lookups of
//! one name that overlap in time share a single getaddrinfo call, and at most `MAX_LOOKUPS` calls
//! run at once in the whole process, so a burst costs at most that many blocking threads. Nothing
//! is cached after a lookup completes: getaddrinfo gives no TTL, and a later connection must see a
//! DNS change as it would with every other client.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use futures_util::future::{BoxFuture, FutureExt, Shared};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::Semaphore;

/// getaddrinfo calls in flight at once, process-wide (each holds one blocking thread).
const MAX_LOOKUPS: usize = 4;

/// The shared outcome of one lookup: addresses, or the error text and kind (io::Error is not Clone).
type Outcome = Result<Arc<[SocketAddr]>, (io::ErrorKind, String)>;
type Lookup = Shared<BoxFuture<'static, Outcome>>;

/// A lookup in flight, and whether it got one of the `MAX_LOOKUPS` slots yet.
struct InFlight {
  lookup: Lookup,
  started: Arc<AtomicBool>,
}

#[derive(Default)]
struct Inner {
  in_flight: Mutex<HashMap<String, InFlight>>,
}

/// Where a lookup in flight is, for a timeout's message: the time went to name resolution, not to
/// the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupState {
  /// Waiting for a slot: `MAX_LOOKUPS` lookups of other names hold them all.
  Queued,
  /// getaddrinfo has not answered yet.
  Running,
}

impl LookupState {
  /// Appended to a timeout's message.
  pub fn explain(self, host: &str) -> String {
    match self {
      LookupState::Queued => format!(
        "the time went to name resolution: the lookup of {host:?} was still waiting for one of the \
         {MAX_LOOKUPS} DNS lookups the process runs at once, all taken by lookups of other names \
         that have not answered"
      ),
      LookupState::Running => format!(
        "the time went to name resolution: the system resolver had not answered for {host:?}"
      ),
    }
  }
}

/// One per process (see `shared()`): the bound on threads holds across every SSEClient.
#[derive(Clone)]
pub struct SystemResolver {
  inner: Arc<Inner>,
  permits: Arc<Semaphore>,
}

impl SystemResolver {
  fn new(max_lookups: usize) -> Self {
    SystemResolver {
      inner: Arc::default(),
      permits: Arc::new(Semaphore::new(max_lookups)),
    }
  }

  /// The process-wide resolver.
  pub fn shared() -> Arc<SystemResolver> {
    static SHARED: LazyLock<Arc<SystemResolver>> =
      LazyLock::new(|| Arc::new(SystemResolver::new(MAX_LOOKUPS)));
    SHARED.clone()
  }

  /// Starts a lookup of `host`, or joins the one in flight for it.
  fn lookup(&self, host: &str) -> Lookup {
    let mut in_flight = self
      .inner
      .in_flight
      .lock()
      .unwrap_or_else(|e| e.into_inner());
    if let Some(entry) = in_flight.get(host) {
      return entry.lookup.clone();
    }
    let inner = Arc::downgrade(&self.inner);
    let permits = self.permits.clone();
    let name = host.to_owned();
    let started = Arc::new(AtomicBool::new(false));
    let started_by_task = Arc::clone(&started);
    // A task of its own: it completes and leaves the map even if every request waiting on it
    // was aborted meanwhile.
    let task = tokio::spawn(async move {
      let outcome = getaddrinfo(&permits, name.clone(), &started_by_task).await;
      // Later requests start a fresh lookup: nothing outlives this one.
      if let Some(inner) = inner.upgrade() {
        inner
          .in_flight
          .lock()
          .unwrap_or_else(|e| e.into_inner())
          .remove(&name);
      }
      outcome
    });
    let lookup = async move {
      task
        .await
        .unwrap_or_else(|e| Err((io::ErrorKind::Other, format!("the DNS lookup failed: {e}"))))
    }
    .boxed()
    .shared();
    let entry = InFlight {
      lookup: lookup.clone(),
      started,
    };
    in_flight.insert(host.to_owned(), entry);
    lookup
  }

  /// Whether a lookup of `host` is in flight, and where.
  pub fn resolving(&self, host: &str) -> Option<LookupState> {
    let in_flight = self
      .inner
      .in_flight
      .lock()
      .unwrap_or_else(|e| e.into_inner());
    in_flight.get(host).map(|entry| {
      if entry.started.load(Ordering::Acquire) {
        LookupState::Running
      } else {
        LookupState::Queued
      }
    })
  }

  /// Takes every slot, as lookups that never answer would (tests only).
  #[cfg(test)]
  pub(crate) async fn hold_all_slots(&self) -> tokio::sync::OwnedSemaphorePermit {
    let permits = Arc::clone(&self.permits);
    permits
      .acquire_many_owned(MAX_LOOKUPS as u32)
      .await
      .expect("the semaphore is never closed")
  }
}

async fn getaddrinfo(permits: &Semaphore, host: String, started: &AtomicBool) -> Outcome {
  let _permit = permits.acquire().await.map_err(|_| {
    (
      io::ErrorKind::Other,
      "the DNS resolver was shut down".to_string(),
    )
  })?;
  started.store(true, Ordering::Release);
  let joined = tokio::task::spawn_blocking(move || {
    // Port 0: reqwest puts the URL's port on the addresses it gets back.
    (host.as_str(), 0)
      .to_socket_addrs()
      .map(|addrs| addrs.collect::<Vec<_>>())
  })
  .await;
  match joined {
    Ok(Ok(addrs)) => Ok(addrs.into()),
    Ok(Err(e)) => Err((e.kind(), e.to_string())),
    Err(e) => Err((io::ErrorKind::Other, format!("the DNS lookup failed: {e}"))),
  }
}

impl Resolve for SystemResolver {
  fn resolve(&self, name: Name) -> Resolving {
    let lookup = self.lookup(name.as_str());
    Box::pin(async move {
      match lookup.await {
        // The iterator owns the shared list: no copy per request.
        Ok(addrs) => Ok(Box::new((0..addrs.len()).map(move |i| addrs[i])) as Addrs),
        Err((kind, message)) => Err(Box::new(io::Error::new(kind, message)) as _),
      }
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn overlapping_lookups_of_one_name_share_one_call() {
    let resolver = SystemResolver::new(1);
    let lookups: Vec<_> = (0..100).map(|_| resolver.lookup("localhost")).collect();
    let first = &lookups[0];
    assert!(lookups.iter().all(|l| l.ptr_eq(first)));
    let addrs = first.clone().await.expect("localhost resolves");
    assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    // Once it completed, the next lookup is a new one.
    assert!(!resolver.lookup("localhost").ptr_eq(first));
  }

  #[tokio::test]
  async fn a_failed_lookup_is_an_error_with_the_system_message() {
    let resolver = SystemResolver::new(1);
    let name: Name = "does-not-exist.invalid".parse().expect("a valid name");
    let err = match resolver.resolve(name).await {
      Ok(_) => panic!("a .invalid name must not resolve"),
      Err(e) => e,
    };
    assert!(!err.to_string().is_empty());
  }
}
