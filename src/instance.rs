//! `NativeInstance`, the native half of one `ServerSentEvents`: starts requests and stops, pauses
//! and resumes them by id. The JS module owns the handles users hold.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::Uint32Array;
use napi::Env;
use napi_derive::napi;
use sse_core::request::Request;
use sse_core::{Outcome, RequestConfig};

use crate::env::EnvState;
use crate::error::{internal, throw, Code};
use crate::handle::{abort_all, lock, Registry, RequestShared};
use crate::options::RequestOptions;
use crate::pool::Pool;
use crate::records::{End, Mode};
use crate::sink::RecordSink;

/// Request ids are unique per process, so records of different environments never collide.
static NEXT_REQUEST_ID: AtomicU32 = AtomicU32::new(1);

#[napi]
pub struct NativeInstance {
  id: u32,
  pool: Arc<Pool>,
  pub(crate) requests: Arc<Registry>,
}

impl NativeInstance {
  pub fn new(id: u32, pool: Arc<Pool>) -> NativeInstance {
    NativeInstance {
      id,
      pool,
      requests: Arc::new(Mutex::new(Default::default())),
    }
  }

  fn with_request(&self, id: u32, f: impl FnOnce(&RequestShared)) {
    if let Some(shared) = lock(&self.requests).get(&id) {
      f(shared);
    }
  }
}

#[napi]
impl NativeInstance {
  /// The instance's id, unique within its client.
  #[napi(getter)]
  pub fn id(&self) -> u32 {
    self.id
  }

  /// Validates the options and starts the request; returns its id. Its records go to the
  /// environment's `deliver` until the last one (END or FAIL) or until `abort(id)`.
  #[napi]
  pub fn start(&self, env: Env, options: RequestOptions) -> napi::Result<u32, Code> {
    let mode = if options.text.unwrap_or(false) {
      Mode::Text
    } else {
      Mode::Messages
    };
    let cfg = RequestConfig::resolve(&self.pool.defaults, options.into()).map_err(throw)?;
    let state = EnvState::get(&env).map_err(internal)?;
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let cancel = state.cancel_all.child_token();
    let shared = Arc::new(RequestShared::new(id, cancel.clone()));
    lock(&self.requests).insert(id, Arc::clone(&shared));
    let sink = RecordSink::new(Arc::clone(&state.hub), shared, mode);
    let http = self.pool.http.clone();
    crate::runtime::spawn(async move {
      let (outcome, sink) = Request::new(Arc::new(cfg), http, sink).run(cancel).await;
      match outcome {
        Outcome::Closed => sink.end(End::Body).await,
        Outcome::Done => sink.end(End::DoneData).await,
        Outcome::Failed(err, attempt) => sink.fail(&err, attempt).await,
        // The JS side silenced the request when it aborted it; nothing may follow.
        Outcome::Aborted => {}
      }
    });
    Ok(id)
  }

  /// Stops a request and closes its connection; its queued records are dropped by the JS side.
  #[napi]
  pub fn abort(&self, id: u32) {
    if let Some(shared) = lock(&self.requests).remove(&id) {
      shared.cancel.cancel();
    }
  }

  /// Aborts every open request of this instance; returns their ids.
  #[napi]
  pub fn abort_all(&self) -> Uint32Array {
    Uint32Array::new(abort_all(&self.requests))
  }

  /// The request's last record has been decoded: it leaves the registry.
  #[napi]
  pub fn release(&self, id: u32) {
    lock(&self.requests).remove(&id);
  }

  /// Back-pressure (a `stream()` consumer or a relay's socket fell behind): stop reading the socket
  /// once the current batch is handed over.
  #[napi]
  pub fn pause(&self, id: u32) {
    self.with_request(id, |shared| shared.set_paused(true));
  }

  #[napi]
  pub fn resume(&self, id: u32) {
    self.with_request(id, |shared| shared.set_paused(false));
  }
}
