//! Delivery to JS. Every request of one JS environment (main thread or worker) appends records to a
//! shared `Hub`; one threadsafe-function call hands all of them to `deliver(text, meta)` in
//! lib/runtime.js, which builds the message objects in JS (5-7x cheaper than through napi, see
//! NAPI-NOTES.md) and calls the user's callbacks. At most one call is queued at a time: records that
//! arrive meanwhile join the pending batch, so the JS thread wakes once per batch, not per event.

use std::pin::pin;
use std::sync::{Arc, Mutex, OnceLock};

use napi::bindgen_prelude::{FnArgs, Function, JsObjectValue, Object, Uint32Array, Unknown};
use napi::threadsafe_function::{
  ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::JsValue;
use napi::{Env, Status};
use sse_core::request::ReadyState;
use sse_core::{Error, Event};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::error_json;
use crate::request::RequestShared;

// Record kinds in `meta`; the layouts are documented at the top of lib/runtime.js.
const KIND_OPEN: u32 = 1;
const KIND_MESSAGE: u32 = 2;
const KIND_ERROR: u32 = 3;
const KIND_CLOSE: u32 = 4;
const KIND_FAIL: u32 = 5;
/// "Not present": event type `message`, id unchanged, no retry field.
const NONE: u32 = u32::MAX;

/// When the JS thread falls behind, producers wait once this many bytes are pending, which stops
/// reading their sockets (TCP back-pressure) instead of growing memory without bound.
const PENDING_CAP: usize = 4 << 20;

static RUNTIME_JS: &str = include_str!("../lib/runtime.js");

/// `deliver(texts: string[], meta: Uint32Array, ends: Uint32Array): void` in lib/runtime.js. Weak:
/// open requests keep the process alive through the runtime's own handle, not through this function.
type DeliverArgs = FnArgs<(Vec<String>, Uint32Array, Uint32Array)>;
type DeliverFn = ThreadsafeFunction<(), Unknown<'static>, DeliverArgs, Status, false, true>;
/// `open(id: number, handle: SseRequest, options: RequestOptions): Promise<void>`
type OpenFn = napi::bindgen_prelude::FunctionRef<
  FnArgs<(u32, Object<'static>, Object<'static>)>,
  Object<'static>,
>;
/// `abort(id: number): void`
type AbortFn = napi::bindgen_prelude::FunctionRef<u32, ()>;
/// `makeStream(options: RequestOptions): { iterable: SseStream, options: RequestOptions }`
type MakeStreamFn = napi::bindgen_prelude::FunctionRef<Object<'static>, Object<'static>>;

/// A batch's text is cut into segments once one reaches this size, at record boundaries (a segment
/// can exceed it by one network read's events). V8 puts a string larger than its regular-object
/// limit (128 KiB) in large-object space, on fresh pages each time: with 1,000,000 events on one
/// stream, JS-thread time was 241-247 ms with one string per batch (up to 4 MiB), 159-182 ms with
/// 32 KiB segments, 255-287 ms with 256 KiB ones.
const SEGMENT: usize = 32 << 10;

#[derive(Default)]
struct Pending {
  /// The batch's strings, back to back, cut into segments.
  segments: Vec<String>,
  /// For each segment but the last, the index in `meta` where its records end.
  ends: Vec<u32>,
  text_len: usize,
  meta: Vec<u32>,
  ended: Vec<Arc<RequestShared>>,
  scheduled: bool,
}

pub struct Hub {
  pending: Mutex<Pending>,
  drained: Notify,
  deliver: OnceLock<DeliverFn>,
}

impl Hub {
  /// Appends a request's records; the first append to an empty batch schedules the JS call.
  async fn push(&self, text: &mut String, meta: &mut Vec<u32>, ended: Option<Arc<RequestShared>>) {
    let mut ended = ended;
    loop {
      let mut drained = pin!(self.drained.notified());
      drained.as_mut().enable();
      {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.meta.is_empty() || pending.text_len + pending.meta.len() * 4 < PENDING_CAP {
          pending.text_len += text.len();
          let full = pending
            .segments
            .last()
            .is_none_or(|last| last.len() >= SEGMENT);
          if full {
            // A new segment: hand over our buffer instead of copying it.
            if !pending.segments.is_empty() {
              let end = pending.meta.len() as u32;
              pending.ends.push(end);
            }
            pending.segments.push(std::mem::take(text));
          } else if let Some(last) = pending.segments.last_mut() {
            last.push_str(text);
          }
          if pending.meta.is_empty() {
            std::mem::swap(&mut pending.meta, meta);
          } else {
            pending.meta.extend_from_slice(meta);
          }
          text.clear();
          meta.clear();
          pending.ended.extend(ended.take());
          let schedule = !pending.scheduled;
          pending.scheduled = true;
          drop(pending);
          if schedule {
            if let Some(deliver) = self.deliver.get() {
              deliver.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
          }
          return;
        }
      }
      drained.await;
    }
  }

  /// On the JS thread: takes the whole pending batch (its `ends` then cover every segment).
  fn take(&self) -> Pending {
    let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
    let mut taken = std::mem::take(&mut *pending);
    drop(pending);
    self.drained.notify_waiters();
    taken.ends.push(taken.meta.len() as u32);
    taken
  }
}

/// Per-environment state, kept in the env's instance data: created on first use, torn down (every
/// request cancelled) when the environment exits, e.g. a worker thread.
pub struct EnvState {
  open: OpenFn,
  abort: AbortFn,
  make_stream: MakeStreamFn,
  pub hub: Arc<Hub>,
  pub cancel_all: CancellationToken,
}

impl EnvState {
  pub fn get(env: &Env) -> napi::Result<&'static mut EnvState> {
    if let Some(state) = env.get_instance_data::<EnvState>()? {
      return Ok(state);
    }
    let runtime: Object = env.run_script(RUNTIME_JS)?;
    let deliver: Function<DeliverArgs, Unknown> = runtime.get_named_property("deliver")?;
    let open: Function<FnArgs<(u32, Object, Object)>, Object> =
      runtime.get_named_property("open")?;
    let abort: Function<u32, ()> = runtime.get_named_property("abort")?;
    let make_stream: Function<Object, Object> = runtime.get_named_property("makeStream")?;
    let hub = Arc::new(Hub {
      pending: Mutex::new(Pending::default()),
      drained: Notify::new(),
      deliver: OnceLock::new(),
    });
    let drain_hub = Arc::clone(&hub);
    let tsfn: DeliverFn = deliver
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .weak::<true>()
      .build_callback(move |_ctx: ThreadsafeCallContext<()>| {
        let batch = drain_hub.take();
        for shared in &batch.ended {
          shared.finish();
        }
        Ok(FnArgs::from((
          batch.segments,
          Uint32Array::new(batch.meta),
          Uint32Array::new(batch.ends),
        )))
      })?;
    let _ = hub.deliver.set(tsfn);
    let state = EnvState {
      open: open.create_ref()?,
      abort: abort.create_ref()?,
      make_stream: make_stream.create_ref()?,
      hub,
      cancel_all: CancellationToken::new(),
    };
    env.set_instance_data(state, (), |ctx| {
      // The environment is going away: stop every request it started.
      ctx.value.cancel_all.cancel();
    })?;
    env
      .get_instance_data::<EnvState>()?
      .ok_or_else(|| napi::Error::from_reason("native-sse: instance data was not kept"))
  }

  /// Registers the JS side of a request; returns its `done` promise.
  pub fn open<'e>(
    &self,
    env: &'e Env,
    id: u32,
    handle: Object,
    options: Object,
  ) -> napi::Result<Object<'e>> {
    let open = self.open.borrow_back(env)?;
    let handle: Object<'static> = Object::from_raw(env.raw(), handle.raw());
    let options: Object<'static> = Object::from_raw(env.raw(), options.raw());
    let done = open.call(FnArgs::from((id, handle, options)))?;
    Ok(Object::from_raw(env.raw(), done.raw()))
  }

  /// Wraps stream() options so that messages go to an async iterator: returns (iterable, options).
  /// `open` gives the iterator its request, through a hook in the wrapped options.
  pub fn make_stream<'e>(
    &self,
    env: &'e Env,
    options: Object,
  ) -> napi::Result<(Object<'e>, Object<'e>)> {
    let make = self.make_stream.borrow_back(env)?;
    let options: Object<'static> = Object::from_raw(env.raw(), options.raw());
    let pair = make.call(options)?;
    let pair: Object<'e> = Object::from_raw(env.raw(), pair.raw());
    Ok((
      pair.get_named_property("iterable")?,
      pair.get_named_property("options")?,
    ))
  }

  /// Tells the JS side a request was aborted: no callback of it runs from now on.
  pub fn abort(&self, env: &Env, id: u32) -> napi::Result<()> {
    self.abort.borrow_back(env)?.call(id)
  }
}

/// The core's `Sink` for one request: encodes what happens into records and hands them to the hub at
/// each flush (the end of one network read).
pub struct JsSink {
  id: u32,
  hub: Arc<Hub>,
  shared: Arc<RequestShared>,
  text: String,
  meta: Vec<u32>,
  /// The id last sent to JS: an unchanged id is sent as NONE, not as a string.
  last_id: String,
}

impl JsSink {
  pub fn new(hub: Arc<Hub>, shared: Arc<RequestShared>) -> JsSink {
    JsSink {
      id: shared.id,
      hub,
      shared,
      text: String::new(),
      meta: Vec::new(),
      last_id: String::new(),
    }
  }

  fn push_str(&mut self, s: &str) {
    self.meta.push(utf16_len(s));
    self.text.push_str(s);
  }

  fn push_json(&mut self, kind: u32, json: &str) {
    self.meta.extend_from_slice(&[kind, self.id]);
    self.push_str(json);
  }

  /// The request is over: the last records, and the JS thread then unregisters it.
  pub async fn close(mut self) {
    self.meta.extend_from_slice(&[KIND_CLOSE, self.id]);
    let shared = Arc::clone(&self.shared);
    self
      .hub
      .push(&mut self.text, &mut self.meta, Some(shared))
      .await;
  }

  pub async fn fail(mut self, err: &Error, attempt: u32) {
    self.push_json(KIND_FAIL, &error_json(err, attempt, false));
    let shared = Arc::clone(&self.shared);
    self
      .hub
      .push(&mut self.text, &mut self.meta, Some(shared))
      .await;
  }
}

impl sse_core::Sink for JsSink {
  fn state(&mut self, state: ReadyState) {
    self.shared.set_ready_state(state);
  }

  fn open(&mut self, status: u16, headers: &http::HeaderMap) {
    let headers: serde_json::Map<String, serde_json::Value> = headers
      .iter()
      .map(|(name, value)| {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        (name.as_str().to_owned(), serde_json::Value::String(value))
      })
      .collect();
    let json = serde_json::json!({ "status": status, "headers": headers }).to_string();
    self.push_json(KIND_OPEN, &json);
  }

  fn event(&mut self, event: Event<'_>) {
    self.meta.extend_from_slice(&[KIND_MESSAGE, self.id]);
    self.push_str(event.data);
    if event.event == "message" {
      self.meta.push(NONE);
    } else {
      self.push_str(event.event);
    }
    // Lengths first: most streams have no ids, and a memcmp call per event for two empty strings
    // took a third of the reader thread's time in the scenario A profile.
    if event.id.len() == self.last_id.len() && (event.id.is_empty() || event.id == self.last_id) {
      self.meta.push(NONE);
    } else {
      self.push_str(event.id);
      self.last_id.clear();
      self.last_id.push_str(event.id);
      self.shared.set_last_event_id(event.id);
    }
    let retry = event
      .retry
      .map_or(NONE, |ms| ms.min(u64::from(NONE - 1)) as u32);
    self.meta.push(retry);
  }

  fn error(&mut self, err: &Error, attempt: u32) {
    self.push_json(KIND_ERROR, &error_json(err, attempt, true));
  }

  async fn flush(&mut self) {
    if !self.meta.is_empty() {
      self.hub.push(&mut self.text, &mut self.meta, None).await;
    }
    // A stream() consumer that fell behind holds the reader here; the socket fills and TCP slows
    // the server down.
    self.shared.wait_resumed().await;
  }
}

/// JS string offsets count UTF-16 code units, Rust's count bytes.
fn utf16_len(s: &str) -> u32 {
  let n = if s.is_ascii() {
    s.len()
  } else {
    s.chars().map(char::len_utf16).sum()
  };
  n as u32
}

#[cfg(test)]
mod tests {
  use super::utf16_len;

  #[test]
  fn utf16_lengths() {
    assert_eq!(utf16_len("abc"), 3);
    assert_eq!(utf16_len("é"), 1);
    assert_eq!(utf16_len("日本"), 2);
    assert_eq!(utf16_len("😀"), 2);
  }
}
