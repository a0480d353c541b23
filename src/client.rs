//! `NativeClient`, the native half of `SSEClient`: one connection pool with its validated defaults,
//! its event-log store (resumable relays), and the open requests of each instance it created (the ClientManager of the original front-end
//! `sse` module), so that `delete()`, `clear()` and `close()` abort them.
//!
//! The JS objects of the instances are held by the JS `SSEClient`, not here: a strong napi reference
//! is a GC root, and each instance points back at its client, so a client nobody references any
//! more was never collected. Held from JS, the cycle is ordinary garbage.

use std::collections::HashMap;
use std::sync::Arc;

use napi::bindgen_prelude::Uint32Array;
use napi_derive::napi;
use sse_core::http_client::build_http_client;
use sse_core::{ClientDefaults, ErrorCode};

use napi::bindgen_prelude::Object;
use napi::Env;
use sse_store::StoreError;

use crate::context::ClientContext;
use crate::error::{error_json_code, throw, Code};
use crate::handle::{close, Registry};
use crate::instance::NativeInstance;
use crate::options::ClientOptions;
use crate::stats::ClientStats;
use crate::store::LogStore;

/// The client and the open requests of its instances.
#[napi]
pub struct NativeClient {
  context: Arc<ClientContext>,
  next_id: u32,
  /// The registries of the instances not deleted, by instance id.
  instances: HashMap<u32, Arc<Registry>>,
  closed: bool,
}

#[napi]
impl NativeClient {
  #[napi(constructor)]
  pub fn new(options: Option<ClientOptions>) -> napi::Result<NativeClient, Code> {
    let (store, opts) = match options {
      Some(mut options) => (options.store.take(), options.into()),
      None => (None, Default::default()),
    };
    let store = LogStore::new(store).map_err(throw)?;
    let defaults = ClientDefaults::from_options(&opts).map_err(throw)?;
    let http = build_http_client(&opts).map_err(throw)?;
    Ok(NativeClient {
      context: Arc::new(ClientContext::new(defaults, http, store)),
      next_id: 0,
      instances: HashMap::new(),
      closed: false,
    })
  }

  /// A new instance with the next id; its requests are aborted by `remove`, `clear` and `close`.
  #[napi]
  pub fn instance(&mut self) -> napi::Result<NativeInstance, Code> {
    if self.closed {
      return Err(napi::Error::new(
        Code(ErrorCode::ClientClosed.as_str()),
        "the SSEClient was closed (client.close()): make a new SSEClient",
      ));
    }
    self.next_id += 1;
    let instance = NativeInstance::new(self.next_id, Arc::clone(&self.context));
    self
      .instances
      .insert(self.next_id, Arc::clone(&instance.requests));
    Ok(instance)
  }

  /// Aborts an instance's open requests and refuses its new ones; returns the ids aborted, or null
  /// if the id was not registered.
  #[napi]
  pub fn remove(&mut self, id: u32) -> Option<Uint32Array> {
    let requests = self.instances.remove(&id)?;
    Some(Uint32Array::new(close(
      &requests,
      ErrorCode::InstanceDeleted,
    )))
  }

  /// `remove` for every instance; returns the ids aborted.
  #[napi]
  pub fn clear(&mut self) -> Uint32Array {
    Uint32Array::new(self.close_all(ErrorCode::InstanceDeleted))
  }

  /// Aborts every open request, refuses new requests and instances, and drops the client's handle on
  /// the connection pool: its idle sockets close once the aborted requests' tasks have ended.
  /// Returns the ids aborted; idempotent.
  #[napi]
  pub fn close(&mut self) -> Uint32Array {
    self.closed = true;
    let aborted = self.close_all(ErrorCode::ClientClosed);
    self.context.close();
    Uint32Array::new(aborted)
  }

  /// Asks the producer of a generation to stop, on whichever instance it runs. Resolves with JSON:
  /// `{"stopped":true|false}` (false: unknown or already finished) or `{"code","message"}`.
  #[napi(ts_return_type = "Promise<string>")]
  pub fn stop<'e>(&self, env: &'e Env, generation: String) -> napi::Result<Object<'e>> {
    let context = Arc::clone(&self.context);
    settle(
      env,
      async move {
        let store = context.store.get().await?;
        store.stop(&generation).await
      },
      |stopped| serde_json::json!({ "stopped": stopped }).to_string(),
    )
  }

  /// Closes the store's connections; later resumable requests fail with STORE_CLOSED. Resolves
  /// with `{}` (JSON).
  #[napi(ts_return_type = "Promise<string>")]
  pub fn close_store<'e>(&self, env: &'e Env) -> napi::Result<Object<'e>> {
    let context = Arc::clone(&self.context);
    settle(
      env,
      async move {
        context.store.close().await;
        Ok::<(), StoreError>(())
      },
      |()| "{}".to_owned(),
    )
  }

  /// The client's live counters (src/stats.rs).
  #[napi]
  pub fn stats(&self) -> ClientStats {
    self.context.stats.snapshot()
  }

  fn close_all(&mut self, code: ErrorCode) -> Vec<u32> {
    let mut aborted = Vec::new();
    for (_, requests) in self.instances.drain() {
      aborted.extend(close(&requests, code));
    }
    aborted
  }
}

/// A promise resolved with JSON from `future`, run on the runtime: the value through `ok`, or
/// the store error's `{"code","message"}`.
fn settle<'e, T: Send + 'static>(
  env: &'e Env,
  future: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
  ok: impl FnOnce(T) -> String + Send + 'static,
) -> napi::Result<Object<'e>> {
  let (deferred, promise) = env.create_deferred::<String, _>()?;
  crate::runtime::spawn(async move {
    let json = match future.await {
      Ok(value) => ok(value),
      Err(err) => error_json_code(err.code(), &err.to_string()),
    };
    deferred.resolve(move |_| Ok(json));
  });
  Ok(promise)
}
