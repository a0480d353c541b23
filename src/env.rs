//! Per-environment state (the main thread and each worker thread are environments): the delivery
//! hub and the token that cancels every request of the environment when it goes away.

use std::sync::Arc;

use napi::bindgen_prelude::{Function, Unknown};
use napi::threadsafe_function::ThreadsafeCallContext;
use napi::Env;
use napi_derive::napi;
use tokio_util::sync::CancellationToken;

use crate::delivery::{DeliverArgs, DeliverFn, Hub};

pub struct EnvState {
  pub hub: Arc<Hub>,
  pub cancel_all: CancellationToken,
  /// Referenced while requests are open (`keepAlive(true)`), so that they keep the process alive
  /// like a socket. A native handle: a timer could be a test framework's fake (node:test's
  /// `mock.timers` replaces `node:timers` too), and its reset would let the process exit mid-stream.
  /// Never called.
  keep_alive: DeliverFn<false>,
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
/// `deliver(texts: string[], meta: Uint32Array, ends: Uint32Array): void` (src/records.rs).
#[cfg_attr(
  test,
  allow(
    dead_code,
    reason = "#[napi] registers it with Node; test builds leave that out"
  )
)]
#[napi(ts_args_type = "deliver: (texts: string[], meta: Uint32Array, ends: Uint32Array) => void")]
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
