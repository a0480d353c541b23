//! The native half of one request's handle: what the request's task and the JS thread share. The
//! JS half (`SseRequest` in lib/request.js, over its `RequestState` in lib/internal/request-state.js) owns everything a user can read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use sse_core::ErrorCode;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The open requests of one `ServerSentEvents`, by id. Touched on the JS thread only: a request
/// enters at start and leaves when its end record has been delivered or when it is aborted.
pub type Registry = Mutex<Requests>;

#[derive(Default)]
pub struct Requests {
  pub open: HashMap<u32, Arc<RequestShared>>,
  /// Set once the instance was deleted from its client (or the client closed): new requests are
  /// refused with this code, so that none is started that `clear()` or `close()` would not stop.
  pub refused: Option<ErrorCode>,
}

pub struct RequestShared {
  pub id: u32,
  pub cancel: CancellationToken,
  /// Set by a `stream()` whose consumer fell behind: the task stops reading the socket until cleared.
  paused: AtomicBool,
  resumed: Notify,
  /// Set when the JS side let go of a request that goes on without it (a resumable relay whose
  /// browser left): its task hands nothing over and is never paused.
  detached: AtomicBool,
  /// What `progress(id)` reads for diagnostics_channel: the HTTP version of the last response
  /// (src/sink.rs `version_code`), and the events and body bytes so far, published once per read.
  pub version: AtomicU8,
  pub events: AtomicU64,
  pub bytes: AtomicU64,
  /// The request's method and URL (None for a log reader), for `target(id)`.
  pub target: Option<(http::Method, reqwest::Url)>,
}

impl RequestShared {
  pub fn new(
    id: u32,
    cancel: CancellationToken,
    target: Option<(http::Method, reqwest::Url)>,
  ) -> RequestShared {
    RequestShared {
      id,
      cancel,
      target,
      version: AtomicU8::new(0),
      events: AtomicU64::new(0),
      bytes: AtomicU64::new(0),
      paused: AtomicBool::new(false),
      resumed: Notify::new(),
      detached: AtomicBool::new(false),
    }
  }

  /// Returns once the request is not paused (at once in the usual case). Abort needs no wake-up
  /// here: it cancels the whole task, this wait included.
  pub async fn wait_resumed(&self) {
    loop {
      let resumed = self.resumed.notified();
      tokio::pin!(resumed);
      resumed.as_mut().enable();
      if !self.paused.load(Ordering::Acquire) {
        return;
      }
      resumed.await;
    }
  }

  pub fn is_detached(&self) -> bool {
    self.detached.load(Ordering::Acquire)
  }

  /// Lets the request go on without its JS side; a paused one is woken.
  pub fn detach(&self) {
    self.detached.store(true, Ordering::Release);
    self.set_paused(false);
  }

  /// Whether a consumer holds the request (see `wait_resumed`).
  pub fn is_paused(&self) -> bool {
    self.paused.load(Ordering::Relaxed)
  }

  pub fn set_paused(&self, paused: bool) {
    self.paused.store(paused, Ordering::Release);
    if !paused {
      self.resumed.notify_waiters();
    }
  }
}

/// Locks a registry; a panic elsewhere while it was held leaves a usable map.
pub fn lock(registry: &Registry) -> std::sync::MutexGuard<'_, Requests> {
  registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// Aborts every request of a registry and refuses new ones with `code` (the first reason stays);
/// returns the ids aborted.
pub fn close(registry: &Registry, code: ErrorCode) -> Vec<u32> {
  lock(registry).refused.get_or_insert(code);
  abort_all(registry)
}

/// Cancels every request of a registry and empties it; returns their ids for the JS side to
/// silence (records of theirs may already be queued).
pub fn abort_all(registry: &Registry) -> Vec<u32> {
  let drained: Vec<Arc<RequestShared>> = lock(registry).open.drain().map(|(_, r)| r).collect();
  drained
    .iter()
    .map(|shared| {
      shared.cancel.cancel();
      shared.id
    })
    .collect()
}
