//! `NativeInstance`, the native half of one `ServerSentEvents`: starts requests and stops, pauses
//! and resumes them by id. The JS module owns the handles users hold.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::Uint32Array;
use napi::Env;
use napi_derive::napi;
use sse_core::request::Request;
use sse_core::{ErrorCode, Outcome, RequestConfig};

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
    if let Some(shared) = lock(&self.requests).open.get(&id) {
      f(shared);
    }
  }

  /// The HTTP client for a new request, unless this instance or its client no longer takes any.
  fn http(&self) -> napi::Result<reqwest::Client, Code> {
    let refused = lock(&self.requests).refused;
    match (refused, self.pool.http()) {
      (None, Some(http)) => Ok(http),
      (Some(ErrorCode::InstanceDeleted), _) => Err(napi::Error::new(
        Code(ErrorCode::InstanceDeleted.as_str()),
        "this instance was removed from its SSEClient by delete() or clear(), which aborted its \
         requests; make a new one with client.create()",
      )),
      _ => Err(napi::Error::new(
        Code(ErrorCode::ClientClosed.as_str()),
        "the SSEClient was closed (client.close()): make a new SSEClient",
      )),
    }
  }

  fn resolve(&self, options: RequestOptions) -> napi::Result<(RequestConfig, Mode), Code> {
    let mode = if options.text.unwrap_or(false) {
      Mode::Text
    } else {
      Mode::Messages
    };
    let cfg = RequestConfig::resolve(&self.pool.defaults, options.into()).map_err(throw)?;
    Ok((cfg, mode))
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
    let (cfg, mode) = self.resolve(options)?;
    let http = self.http()?;
    let state = EnvState::get(&env).map_err(internal)?;
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let cancel = state.cancel_all.child_token();
    let shared = Arc::new(RequestShared::new(id, cancel.clone()));
    lock(&self.requests).open.insert(id, Arc::clone(&shared));
    let sink = RecordSink::new(Arc::clone(&state.hub), shared, mode);
    // The task's clone of the HTTP client goes when the task ends, aborted or not.
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

  /// Throws what `start` would throw for these options (without their body) and starts nothing:
  /// a request whose body is read first (a Blob) fails at once on bad options.
  #[napi]
  pub fn check(&self, options: RequestOptions) -> napi::Result<(), Code> {
    self.resolve(options)?;
    self.http().map(drop)
  }

  /// Stops a request and closes its connection; its queued records are dropped by the JS side.
  #[napi]
  pub fn abort(&self, id: u32) {
    if let Some(shared) = lock(&self.requests).open.remove(&id) {
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
    lock(&self.requests).open.remove(&id);
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
