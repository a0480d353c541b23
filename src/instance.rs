//! `NativeInstance`, the native half of one `ServerSentEvents`: starts requests and stops, pauses
//! and resumes them by id. The JS module owns the handles users hold.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::Uint32Array;
use napi::Env;
use napi_derive::napi;
use sse_core::request::Request;
use sse_core::{ErrorCode, Outcome, RequestConfig};
use sse_store::StoreError;
use tokio_util::sync::CancellationToken;

use crate::context::ClientContext;
use crate::delivery::coalesce_window;
use crate::env::EnvState;
use crate::error::{internal, throw, Code};
use crate::handle::{abort_all, lock, Registry, RequestShared};
use crate::log::LogWriter;
use crate::options::{FollowOptions, RequestOptions};
use crate::records::{End, Mode};
use crate::select::EventFilter;
use crate::sink::RecordSink;

/// Request ids are unique per process, so records of different environments never collide.
static NEXT_REQUEST_ID: AtomicU32 = AtomicU32::new(1);

#[napi]
pub struct NativeInstance {
  id: u32,
  context: Arc<ClientContext>,
  pub(crate) requests: Arc<Registry>,
}

impl NativeInstance {
  pub fn new(id: u32, context: Arc<ClientContext>) -> NativeInstance {
    NativeInstance {
      id,
      context,
      requests: Arc::new(Mutex::new(Default::default())),
    }
  }

  fn with_request(&self, id: u32, f: impl FnOnce(&RequestShared)) {
    if let Some(shared) = lock(&self.requests).open.get(&id) {
      f(shared);
    }
  }

  /// The HTTP client for a new request, unless this instance or its client no longer takes any.
  fn http(&self) -> napi::Result<sse_core::http_client::Transport, Code> {
    let refused = lock(&self.requests).refused;
    match (refused, self.context.http()) {
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

  /// A new request id, registered, with its cancel token and sink.
  fn open(
    &self,
    env: &Env,
    mode: Mode,
    target: Option<(http::Method, reqwest::Url)>,
  ) -> napi::Result<(u32, CancellationToken, RecordSink), Code> {
    let state = EnvState::get(env).map_err(internal)?;
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let cancel = state.cancel_all.child_token();
    let shared = Arc::new(RequestShared::new(id, cancel.clone(), target));
    lock(&self.requests).open.insert(id, Arc::clone(&shared));
    Ok((
      id,
      cancel,
      RecordSink::new(
        Arc::clone(&state.hub),
        shared,
        mode,
        Arc::clone(&self.context),
      ),
    ))
  }

  fn resolve(&self, options: RequestOptions) -> napi::Result<(RequestConfig, Mode), Code> {
    let mode = if options.text.unwrap_or(false) {
      Mode::Text
    } else if options.messages == Some(false) {
      Mode::Unread
    } else {
      Mode::Messages
    };
    let cfg = RequestConfig::resolve(&self.context.defaults, options.into()).map_err(throw)?;
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
  /// environment's `deliver` until the last one (END or FAIL) or until `abort(id)`. With a
  /// `generation`, the request is resumable: it begins that generation's log first (a LOG record
  /// when it did, FAIL with the store's code when it could not) and appends its events to it.
  #[napi]
  pub fn start(&self, env: Env, mut options: RequestOptions) -> napi::Result<u32, Code> {
    let generation = options.generation.take();
    let filter = EventFilter::new(
      options.select.as_ref(),
      options.select_missing.as_deref(),
      options.accumulate.as_deref(),
      options.snapshot_every,
    )
    .map_err(throw)?;
    let hold = coalesce_window(options.coalesce.take()).map_err(throw)?;
    if let Some(generation) = &generation {
      sse_store::validate_id(generation).map_err(store_input)?;
    }
    let (cfg, mode) = self.resolve(options)?;
    let http = self.http()?;
    let target = (cfg.method.clone(), cfg.url.clone());
    let (id, cancel, mut sink) = self.open(&env, mode, Some(target))?;
    sink.set_filter(filter);
    sink.set_hold(hold);
    // The task's clone of the HTTP client goes when the task ends, aborted or not.
    let context = Arc::clone(&self.context);
    let requests = Arc::clone(&self.requests);
    crate::runtime::spawn(async move {
      let Some(generation) = generation else {
        let (outcome, sink) = Request::new(Arc::new(cfg), http, sink).run(cancel).await;
        match outcome {
          Outcome::Closed => sink.end(End::Body).await,
          Outcome::Done => sink.end(End::DoneData).await,
          Outcome::Failed(err, attempt) => sink.fail(&err, attempt).await,
          // The JS side silenced the request when it aborted it; nothing may follow.
          Outcome::Aborted => {}
        }
        return;
      };
      let begun = tokio::select! {
        biased;
        _ = cancel.cancelled() => return,
        begun = begin(&context, &generation) => begun,
      };
      let mut sink = sink;
      let shared = match begun {
        Ok(log) => {
          sink.attach_log(log, &generation).await;
          sink.stop_requested()
        }
        Err(err) => {
          sink.fail_store(&err).await;
          return;
        }
      };
      // stop(id), from any instance, ends the upstream request the way abort() would, but the
      // generation ends with its `stopped` terminal event instead of in silence.
      let run = cancel.child_token();
      if let Some(stop) = shared {
        let run = run.clone();
        tokio::spawn(async move {
          tokio::select! {
            _ = stop.cancelled() => run.cancel(),
            _ = run.cancelled() => {}
          }
        });
      }
      let (outcome, sink) = Request::new(Arc::new(cfg), http, sink)
        .run(run.clone())
        .await;
      let detached = sink.is_detached();
      match outcome {
        Outcome::Closed => sink.end(End::Body).await,
        Outcome::Done => sink.end(End::DoneData).await,
        Outcome::Failed(err, attempt) => sink.fail(&err, attempt).await,
        Outcome::Aborted if cancel.is_cancelled() => sink.aborted().await,
        Outcome::Aborted => sink.stopped().await,
      }
      // Nobody on the JS side will release it.
      if detached {
        lock(&requests).open.remove(&id);
      }
      run.cancel();
    });
    Ok(id)
  }

  /// Replays the log of `generation` after `lastEventId`, then follows it live until its terminal
  /// entry; returns the request's id. Its records: LOG when the log was found (FAIL `NOT_FOUND`
  /// when it is unknown or expired), the entries as MESSAGE or TEXT records with the log's ids, a
  /// terminal event, END.
  #[napi]
  pub fn follow(&self, env: Env, options: FollowOptions) -> napi::Result<u32, Code> {
    sse_store::validate_id(&options.generation).map_err(store_input)?;
    self.http().map(drop)?;
    let mode = if options.text.unwrap_or(false) {
      Mode::Text
    } else {
      Mode::Messages
    };
    let (_, cancel, sink) = self.open(&env, mode, None)?;
    let id = sink.id();
    let context = Arc::clone(&self.context);
    crate::runtime::spawn(async move {
      tokio::select! {
        biased;
        _ = cancel.cancelled() => {}
        _ = crate::follow::follow(&context.store, options.generation, options.last_event_id, sink) => {}
      }
    });
    Ok(id)
  }

  /// Lets a resumable request go on without its JS side (the browser left): nothing more is
  /// handed over, and it leaves the registry when it ends.
  #[napi]
  pub fn detach(&self, id: u32) {
    self.with_request(id, |shared| shared.detach());
  }

  /// Throws what `start` would throw for these options (without their body) and starts nothing:
  /// a request whose body is read first (a Blob) fails at once on bad options.
  #[napi]
  pub fn check(&self, options: RequestOptions) -> napi::Result<(), Code> {
    EventFilter::new(
      options.select.as_ref(),
      options.select_missing.as_deref(),
      options.accumulate.as_deref(),
      options.snapshot_every,
    )
    .map_err(throw)?;
    coalesce_window(options.coalesce).map_err(throw)?;
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

  /// For diagnostics_channel: `[method, origin, path]` of an open request, the path with its query
  /// values redacted as in error messages (src/redact.rs); null for a log reader or an unknown id.
  #[napi]
  pub fn target(&self, id: u32) -> Option<Vec<String>> {
    let requests = lock(&self.requests);
    let (method, url) = requests.open.get(&id)?.target.as_ref()?;
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
      path.push('?');
      path.push_str(&sse_core::redact::redact_query(query));
    }
    Some(vec![
      method.as_str().to_owned(),
      url.origin().ascii_serialization(),
      path,
    ])
  }

  /// For diagnostics_channel: `[httpVersion, events, bytes]` of an open request (the version as
  /// 10, 11, 20, 30, 0 before a response), the counts as of the records decoded so far.
  #[napi]
  pub fn progress(&self, id: u32) -> Option<Vec<f64>> {
    let requests = lock(&self.requests);
    let shared = requests.open.get(&id)?;
    Some(vec![
      f64::from(shared.version.load(Ordering::Relaxed)),
      shared.events.load(Ordering::Relaxed) as f64,
      shared.bytes.load(Ordering::Relaxed) as f64,
    ])
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

/// Begins a generation: connects the store if needed, creates the log, starts the lease.
async fn begin(context: &ClientContext, generation: &str) -> Result<LogWriter, StoreError> {
  let store = context.store.get().await?;
  Ok(LogWriter::new(store.begin(generation).await?))
}

/// A generation id the store cannot take is the caller's input: thrown at once.
fn store_input(err: StoreError) -> napi::Error<Code> {
  napi::Error::new(Code("INVALID_OPTIONS"), err.to_string())
}
