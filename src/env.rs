//! Per-environment state (the main thread and each worker thread are environments): the delivery
//! hub and the token that cancels every request of the environment when it goes away.

use std::sync::Arc;

use napi::bindgen_prelude::{Function, ToNapiValue, Unknown};
use napi::threadsafe_function::ThreadsafeCallContext;
use napi::{check_status, sys, Env};
use napi_derive::napi;
use tokio_util::sync::CancellationToken;

use crate::delivery::{DeliverArgs, DeliverFn, Hub, Words};

pub struct EnvState {
  pub hub: Arc<Hub>,
  pub cancel_all: CancellationToken,
  /// Referenced while requests are open (`keepAlive(true)`), so that they keep the process alive
  /// like a socket. A native handle: a timer could be a test framework's fake (node:test's
  /// `mock.timers` replaces `node:timers` too), and its reset would let the process exit mid-stream.
  /// Never called.
  keep_alive: DeliverFn<false>,
  /// The `Uint32Array` every delivery's words are written into.
  scratch: Scratch,
}

impl EnvState {
  /// The environment's state; `init` made it when the JS module was loaded.
  pub fn get(env: &Env) -> napi::Result<&'static mut EnvState> {
    env
      .get_instance_data::<EnvState>()?
      .ok_or_else(|| napi::Error::from_reason("native-sse: the binding was used before init()"))
  }
}

/// Called once per environment by lib/internal/binding.js with the batch decoder
/// `deliver(texts: string[], words: Uint32Array, metaLength: number): void` (src/records.rs,
/// src/delivery.rs).
#[cfg_attr(
  test,
  allow(
    dead_code,
    reason = "#[napi] registers it with Node; test builds leave that out"
  )
)]
#[napi(ts_args_type = "deliver: (texts: string[], words: Uint32Array, metaLength: number) => void")]
pub fn init(env: Env, deliver: Function<DeliverArgs, Unknown<'static>>) -> napi::Result<()> {
  if env.get_instance_data::<EnvState>()?.is_some() {
    return Err(napi::Error::from_reason(
      "native-sse: init() was called twice in one environment",
    ));
  }
  let hub = Arc::new(Hub::default());
  let mut keep_alive: DeliverFn<false> = deliver
    .build_threadsafe_function::<()>()
    .callee_handled::<false>()
    .weak::<false>()
    .build_callback(|_ctx: ThreadsafeCallContext<()>| {
      Ok(crate::delivery::Batch::default().into_args())
    })?;
  set_referenced(&mut keep_alive, &env, false)?;
  let drain = Arc::clone(&hub);
  let tsfn: DeliverFn = deliver
    .build_threadsafe_function::<()>()
    .callee_handled::<false>()
    .weak::<true>()
    .build_callback(move |_ctx: ThreadsafeCallContext<()>| Ok(drain.take().into_args()))?;
  let _ = hub.deliver.set(tsfn);
  let state = EnvState {
    hub,
    cancel_all: CancellationToken::new(),
    keep_alive,
    scratch: Scratch::default(),
  };
  env.set_instance_data(state, (), |ctx| {
    // The environment is going away: stop every request it started.
    ctx.value.cancel_all.cancel();
  })
}

/// Whether open requests keep the process alive: lib/internal/request-state.js says true when the
/// first request opens and false when the last one ends.
#[cfg_attr(
  test,
  allow(
    dead_code,
    reason = "#[napi] registers it with Node; test builds leave that out"
  )
)]
#[napi]
pub fn keep_alive(env: Env, hold: bool) -> napi::Result<()> {
  set_referenced(&mut EnvState::get(&env)?.keep_alive, &env, hold)
}

#[expect(
  deprecated,
  reason = "napi_ref/unref_threadsafe_function is what keeps the event loop alive; the suggested \
            clone() only counts threads that may call the function"
)]
fn set_referenced(tsfn: &mut DeliverFn<false>, env: &Env, hold: bool) -> napi::Result<()> {
  if hold {
    tsfn.refer(env)
  } else {
    tsfn.unref(env)
  }
}

/// The environment's reusable `Uint32Array` for the words of each delivery (a strong reference
/// keeps it; the environment frees the reference when it goes away). It grows to the largest batch
/// and shrinks back after a batch far below a large capacity. The decoder reads it only during its
/// synchronous `deliver` call, and deliveries never nest, so each one may overwrite it.
#[derive(Default)]
struct Scratch {
  array: Option<sys::napi_ref>,
}

/// Words the scratch array starts with (16 KiB), and the capacity above which a small batch
/// shrinks it back.
const SCRATCH_MIN: usize = 4 << 10;
const SCRATCH_SHRINK: usize = 64 << 10;

impl Scratch {
  /// Writes `words` at the start of the array (made anew if it is too small) and returns it.
  unsafe fn fill(&mut self, env: sys::napi_env, words: &[u32]) -> napi::Result<sys::napi_value> {
    let want = words.len();
    let mut value = std::ptr::null_mut();
    let mut data: *mut std::ffi::c_void = std::ptr::null_mut();
    let mut length = 0usize;
    if let Some(array) = self.array {
      check_status!(unsafe { sys::napi_get_reference_value(env, array, &mut value) })?;
      let mut kind = 0;
      let mut buffer = std::ptr::null_mut();
      let mut offset = 0;
      check_status!(unsafe {
        sys::napi_get_typedarray_info(
          env,
          value,
          &mut kind,
          &mut length,
          &mut data,
          &mut buffer,
          &mut offset,
        )
      })?;
    }
    let shrink = length > SCRATCH_SHRINK && want <= SCRATCH_MIN;
    if value.is_null() || length < want || data.is_null() || shrink {
      let capacity = want.max(SCRATCH_MIN).next_power_of_two();
      let mut buffer = std::ptr::null_mut();
      check_status!(unsafe {
        sys::napi_create_arraybuffer(env, capacity * 4, &mut data, &mut buffer)
      })?;
      check_status!(unsafe {
        sys::napi_create_typedarray(
          env,
          sys::TypedarrayType::uint32_array,
          capacity,
          buffer,
          0,
          &mut value,
        )
      })?;
      let mut array = std::ptr::null_mut();
      check_status!(unsafe { sys::napi_create_reference(env, value, 1, &mut array) })?;
      if let Some(old) = self.array.replace(array) {
        check_status!(unsafe { sys::napi_delete_reference(env, old) })?;
      }
    }
    if want > 0 {
      // SAFETY: the array's buffer holds at least `want` u32s (checked or made above), it is owned
      // by V8 and not detached (only the decoder sees it), and this runs on the JS thread.
      unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), data.cast::<u32>(), want) };
    }
    Ok(value)
  }
}

impl ToNapiValue for Words {
  unsafe fn to_napi_value(env: sys::napi_env, words: Words) -> napi::Result<sys::napi_value> {
    let state = EnvState::get(&Env::from_raw(env))?;
    unsafe { state.scratch.fill(env, &words.0) }
  }
}
