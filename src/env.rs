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
  };
  env.set_instance_data(state, (), |ctx| {
    // The environment is going away: stop every request it started.
    ctx.value.cancel_all.cancel();
  })
}
