//! The delivery hub. Every request of one JS environment (main thread or worker) appends its
//! records (src/records.rs) to the environment's `Hub`; one threadsafe-function call hands all of
//! them to `deliver(texts, words, metaLength)` in lib/internal/records.js, which builds the message objects in JS
//! (5-7x cheaper than through napi, see NAPI-NOTES.md) and calls the user's callbacks. At most one
//! call is queued at a time: records that arrive meanwhile join the pending batch, so the JS thread
//! wakes once per batch, not per event.
//!
//! A request with `coalesce` lets its records wait: they are delivered no sooner than that many ms
//! after the environment's previous delivery (at once after a quiet period). Each wake-up of the JS
//! thread costs a few µs whatever it carries; with 1,000 streams of 40 events/s and nothing held,
//! the JS thread woke 64,000 times for 400,000 events, and those wake-ups, not the events, were
//! most of its time. The window is the environment's, not the request's: requests whose windows
//! started at different times would otherwise wake it as often as before.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::{FnArgs, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use tokio::sync::Notify;

use crate::records::MAX_JS_STRING;

/// When the JS thread falls behind, producers wait once this many bytes are pending, which stops
/// reading their sockets (TCP back-pressure) instead of growing memory without bound.
const PENDING_CAP: usize = 4 << 20;

/// A batch's text is cut into segments once one reaches this size, at record boundaries (a segment
/// can exceed it by one network read's events). V8 puts a string larger than its regular-object
/// limit (128 KiB) in large-object space, on fresh pages each time: with 1,000,000 events on one
/// stream, JS-thread time was 241-247 ms with one string per batch (up to 4 MiB), 159-182 ms with
/// 32 KiB segments, 255-287 ms with 256 KiB ones.
const SEGMENT: usize = 32 << 10;

/// `deliver(texts: string[], words: Uint32Array, metaLength: number): void`: `words` holds the
/// batch's meta, then for each text the index in meta where its records end. Weak: open requests
/// keep the process alive through the JS module's own timer, not through this function.
pub type DeliverArgs = FnArgs<(Vec<String>, Words, u32)>;

/// A batch's meta followed by its segment ends. Written into the environment's one reusable
/// `Uint32Array` on the JS thread (src/env.rs), not handed over as a new external buffer: an
/// external buffer per delivery (a finalizer, a weak handle and a native immediate to free it) was
/// about a fifth of the JS thread's time with 1,000 streams of 40 events/s.
pub struct Words(pub Vec<u32>);
pub type DeliverFn<const WEAK: bool = true> =
  ThreadsafeFunction<(), Unknown<'static>, DeliverArgs, Status, false, WEAK>;

#[derive(Default)]
pub struct Batch {
  /// The batch's strings, back to back, cut into segments.
  segments: Vec<String>,
  /// For each segment, the index in `meta` where its records end (the last one is added by take).
  ends: Vec<u32>,
  text_len: usize,
  meta: Vec<u32>,
  scheduled: bool,
}

/// The pending batch, when JS last took one, and the wake-up armed for held records.
#[derive(Default)]
struct Pending {
  batch: Batch,
  last_take: Option<Instant>,
  timer: Option<Instant>,
}

/// The longest `coalesce` window, in ms (as `relay()`'s).
pub const MAX_COALESCE_MS: f64 = 1000.0;

/// The `coalesce` request option: a window of 0 to 1000 ms (0 or none: nothing is held).
pub fn coalesce_window(ms: Option<f64>) -> Result<Option<Duration>, sse_core::Error> {
  match ms {
    None => Ok(None),
    Some(ms) if (0.0..=MAX_COALESCE_MS).contains(&ms) => {
      Ok((ms > 0.0).then(|| Duration::from_secs_f64(ms / 1000.0)))
    }
    Some(ms) => Err(sse_core::Error::invalid_options(format!(
      "coalesce must be a number of ms from 0 to {MAX_COALESCE_MS}, got {ms}"
    ))),
  }
}

impl Batch {
  pub fn into_args(mut self) -> DeliverArgs {
    let meta_len = self.meta.len() as u32;
    self.meta.extend_from_slice(&self.ends);
    FnArgs::from((self.segments, Words(self.meta), meta_len))
  }
}

/// Capacity a request's record buffers keep between batches.
const KEEP: usize = 4 << 10;

fn trim(text: &mut String, meta: &mut Vec<u32>) {
  text.clear();
  meta.clear();
  if text.capacity() > KEEP {
    *text = String::new();
  }
  if meta.capacity() * 4 > KEEP {
    *meta = Vec::new();
  }
}

#[derive(Default)]
pub struct Hub {
  pending: Mutex<Pending>,
  drained: Notify,
  /// The pending batch is at the cap, JS has not taken it yet (read without the lock).
  full: AtomicBool,
  pub deliver: OnceLock<DeliverFn>,
}

impl Hub {
  /// Appends a request's records (and empties the buffers); the first append to an empty batch
  /// schedules the JS call, at once or, for records that may wait `hold`, at the end of the window
  /// that began with the previous delivery. Waits while the pending batch is over the cap.
  /// `more`: the same request appends again right away (the rest of one network read, parsed in
  /// pieces): nothing is scheduled for these records unless the batch reached the cap, so that the
  /// JS thread wakes once per read, as when the read was parsed whole.
  pub async fn push(
    self: &Arc<Self>,
    text: &mut String,
    meta: &mut Vec<u32>,
    hold: Option<Duration>,
    more: bool,
  ) {
    loop {
      let mut drained = pin!(self.drained.notified());
      drained.as_mut().enable();
      {
        let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Pending {
          batch: pending,
          last_take,
          timer,
        } = &mut *guard;
        if pending.meta.is_empty() || pending.text_len + pending.meta.len() * 4 < PENDING_CAP {
          pending.text_len += text.len();
          // A segment becomes one JS string: never longer than V8 can hold (bytes are never fewer
          // than UTF-16 units), whatever the records appended to it.
          let full = pending
            .segments
            .last()
            .is_none_or(|last| last.len() >= SEGMENT || last.len() + text.len() > MAX_JS_STRING);
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
          // A request keeps no more than KEEP of its largest batch between batches: after one
          // 16 KiB event, 1,000 idle streams otherwise held 1,000 buffers of its size. (Not between
          // the pieces of one read: the next piece fills them again at once.)
          if more {
            text.clear();
            meta.clear();
          } else {
            trim(text, meta);
          }
          let mut call = false;
          let mut arm = None;
          let at_cap = pending.text_len + pending.meta.len() * 4 >= PENDING_CAP;
          if at_cap {
            self.full.store(true, Ordering::Relaxed);
          }
          if more {
            // A full batch is delivered whatever follows: the next push waits for JS to take it.
            if !pending.scheduled && at_cap {
              pending.scheduled = true;
              call = true;
            }
          } else if !pending.scheduled {
            // Only records that may wait read the clock: a request without `coalesce` (the common
            // case, once per network read) schedules the call at once.
            let due = match (hold, *last_take) {
              (Some(window), Some(taken)) => Some(taken + window).filter(|&d| d > Instant::now()),
              _ => None,
            };
            match due {
              None => {
                pending.scheduled = true;
                call = true;
              }
              Some(due) if timer.is_none_or(|at| at > due) => {
                *timer = Some(due);
                arm = Some(due);
              }
              Some(_) => {}
            }
          }
          drop(guard);
          if call {
            self.call();
          }
          if let Some(due) = arm {
            let hub = Arc::clone(self);
            crate::runtime::spawn(async move {
              tokio::time::sleep_until(due.into()).await;
              hub.window_ended(due);
            });
          }
          return;
        }
      }
      drained.await;
    }
  }

  /// Whether the pending batch is at the cap: the next push waits for JS to take it.
  pub fn is_full(&self) -> bool {
    self.full.load(Ordering::Relaxed)
  }

  fn call(&self) {
    if let Some(deliver) = self.deliver.get() {
      deliver.call((), ThreadsafeFunctionCallMode::NonBlocking);
    }
  }

  /// The wake-up armed for `due`: delivers the held records, unless a delivery took them since.
  fn window_ended(&self, due: Instant) {
    let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
    if guard.timer != Some(due) {
      return;
    }
    guard.timer = None;
    let call = !guard.batch.scheduled && !guard.batch.meta.is_empty();
    guard.batch.scheduled |= call;
    drop(guard);
    if call {
      self.call();
    }
  }

  /// On the JS thread: takes the whole pending batch (its `ends` then cover every segment).
  pub fn take(&self) -> Batch {
    let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
    let mut taken = std::mem::take(&mut pending.batch);
    pending.last_take = Some(Instant::now());
    // Whatever was held went with this batch; records that come next start a new window.
    pending.timer = None;
    self.full.store(false, Ordering::Relaxed);
    drop(pending);
    self.drained.notify_waiters();
    taken.ends.push(taken.meta.len() as u32);
    taken
  }
}
