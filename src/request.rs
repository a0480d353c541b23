//! `SseRequest`, the abortable handle `post()` returns (the seed's `xhr`), and the state it shares
//! with the request's task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};

use napi::bindgen_prelude::{Object, ObjectFinalize, ObjectRef};
use napi::Env;
use napi_derive::napi;
use sse_core::request::ReadyState;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::callbacks::EnvState;

/// The open requests of one `ServerSentEvents`, by id.
pub type Registry = Mutex<HashMap<u32, Arc<RequestShared>>>;

pub struct RequestShared {
  pub id: u32,
  pub cancel: CancellationToken,
  ready_state: AtomicU8,
  last_event_id: Mutex<String>,
  /// Cleared, on the JS thread, by whichever comes first: abort() or the end record being drained.
  live: AtomicBool,
  /// Set by a `stream()` whose consumer fell behind: the task stops reading the socket until cleared.
  paused: AtomicBool,
  resumed: Notify,
  registry: Weak<Registry>,
}

impl RequestShared {
  pub fn new(id: u32, cancel: CancellationToken, registry: &Arc<Registry>) -> RequestShared {
    RequestShared {
      id,
      cancel,
      ready_state: AtomicU8::new(ReadyState::Connecting as u8),
      last_event_id: Mutex::new(String::new()),
      live: AtomicBool::new(true),
      paused: AtomicBool::new(false),
      resumed: Notify::new(),
      registry: Arc::downgrade(registry),
    }
  }

  pub fn set_ready_state(&self, state: ReadyState) {
    self.ready_state.store(state as u8, Ordering::Relaxed);
  }

  pub fn set_last_event_id(&self, id: &str) {
    let mut last = self.last_event_id.lock().unwrap_or_else(|e| e.into_inner());
    last.clear();
    last.push_str(id);
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

  fn set_paused(&self, paused: bool) {
    self.paused.store(paused, Ordering::Release);
    if !paused {
      self.resumed.notify_waiters();
    }
  }

  /// Ends the request's bookkeeping; true the first time. Called on the JS thread only.
  pub fn finish(&self) -> bool {
    if !self.live.swap(false, Ordering::AcqRel) {
      return false;
    }
    self.set_ready_state(ReadyState::Closed);
    if let Some(registry) = self.registry.upgrade() {
      registry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&self.id);
    }
    true
  }

  /// Stops the task (closing its socket) and silences the JS side. Idempotent. The JS side is told
  /// even when the task has already ended, since its final records may still be queued.
  pub fn abort(&self, env: &Env) -> napi::Result<()> {
    if self.finish() {
      self.cancel.cancel();
    }
    EnvState::get(env)?.abort(env, self.id)
  }
}

/// The handle of one streaming request.
#[napi(custom_finalize)]
pub struct SseRequest {
  pub(crate) shared: Arc<RequestShared>,
  pub(crate) done: Option<ObjectRef<false>>,
}

#[napi]
impl SseRequest {
  /// Stops the request and closes its connection. Idempotent; no callback of this request runs
  /// after it returns, and `done` resolves.
  #[napi]
  pub fn abort(&self, env: Env) -> napi::Result<()> {
    self.shared.abort(&env)
  }

  /// Back-pressure for `stream()`: stop reading the socket once the current batch is handed over.
  #[napi(js_name = "_pause", skip_typescript)]
  pub fn pause(&self) {
    self.shared.set_paused(true);
  }

  /// Reading resumes.
  #[napi(js_name = "_resume", skip_typescript)]
  pub fn resume(&self) {
    self.shared.set_paused(false);
  }

  /// Resolves when the stream ends cleanly or is aborted; rejects with the final `SseError`.
  #[napi(getter, ts_return_type = "Promise<void>")]
  pub fn done<'e>(&self, env: &'e Env) -> napi::Result<Object<'e>> {
    match &self.done {
      Some(done) => done.get_value(env),
      None => Err(napi::Error::from_reason("native-sse: done is not set")),
    }
  }

  /// 0 CONNECTING, 1 OPEN, 2 CLOSED, as `EventSource.readyState`.
  #[napi(getter, ts_return_type = "0 | 1 | 2")]
  pub fn ready_state(&self) -> u32 {
    u32::from(self.shared.ready_state.load(Ordering::Relaxed))
  }

  /// The last event id received on this request ("" if none).
  #[napi(getter)]
  pub fn last_event_id(&self) -> String {
    self
      .shared
      .last_event_id
      .lock()
      .unwrap_or_else(|e| e.into_inner())
      .clone()
  }
}

impl ObjectFinalize for SseRequest {
  fn finalize(self, env: Env) -> napi::Result<()> {
    if let Some(done) = self.done {
      done.unref(&env)?;
    }
    Ok(())
  }
}

/// Aborts every open request of a registry (on the JS thread).
pub fn abort_all(env: &Env, registry: &Registry) -> napi::Result<()> {
  let open: Vec<Arc<RequestShared>> = registry
    .lock()
    .unwrap_or_else(|e| e.into_inner())
    .values()
    .cloned()
    .collect();
  for shared in open {
    shared.abort(env)?;
  }
  Ok(())
}
