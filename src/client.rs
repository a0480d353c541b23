//! `NativeClient`, the native half of `SSEClient`: one connection pool with its validated defaults,
//! and the ClientManager of the original front-end `sse` module: the registry of the instances it
//! created.

use std::collections::HashMap;
use std::sync::Arc;

use napi::bindgen_prelude::{Object, ObjectFinalize, ObjectRef, Uint32Array};
use napi::Env;
use napi_derive::napi;
use sse_core::http_client::build_http_client;
use sse_core::ClientDefaults;

use crate::context::ClientContext;
use crate::error::{error_json_code, internal, throw, Code};
use crate::handle::{abort_all, Registry};
use crate::instance::NativeInstance;
use crate::options::ClientOptions;
use crate::stats::ClientStats;
use crate::store::LogStore;
use sse_store::StoreError;

/// An instance the manager holds until it is deleted: the JS object `get(id)` returns, and its
/// open requests.
struct Entry {
  object: ObjectRef<false>,
  requests: Arc<Registry>,
}

/// The client and its registry of instances (the ClientManager).
#[napi(custom_finalize)]
pub struct NativeClient {
  context: Arc<ClientContext>,
  next_id: u32,
  instances: HashMap<u32, Entry>,
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
      context: Arc::new(ClientContext {
        defaults,
        http,
        store,
        stats: Default::default(),
      }),
      next_id: 0,
      instances: HashMap::new(),
    })
  }

  /// A new instance with the next id, not registered yet: `register` takes the JS object that
  /// wraps it.
  #[napi]
  pub fn instance(&mut self) -> NativeInstance {
    self.next_id += 1;
    NativeInstance::new(self.next_id, Arc::clone(&self.context))
  }

  /// Registers `object` (the JS `ServerSentEvents`) under the id of `instance`.
  #[napi]
  pub fn register(
    &mut self,
    env: Env,
    instance: &NativeInstance,
    object: Object,
  ) -> napi::Result<(), Code> {
    let object = object.create_ref::<false>().map_err(internal)?;
    let entry = Entry {
      object,
      requests: Arc::clone(&instance.requests),
    };
    if let Some(old) = self.instances.insert(instance.id(), entry) {
      old.object.unref(&env).map_err(internal)?;
    }
    Ok(())
  }

  /// The registered instance with this id, or null.
  #[napi(ts_return_type = "object | null")]
  pub fn get<'e>(&self, env: &'e Env, id: u32) -> napi::Result<Option<Object<'e>>> {
    self
      .instances
      .get(&id)
      .map(|entry| entry.object.get_value(env))
      .transpose()
  }

  /// Unregisters an instance and aborts its open requests; returns their ids, or null if the id
  /// was not registered.
  #[napi]
  pub fn remove(&mut self, env: Env, id: u32) -> napi::Result<Option<Uint32Array>> {
    match self.instances.remove(&id) {
      Some(entry) => Ok(Some(Uint32Array::new(release(&env, entry)?))),
      None => Ok(None),
    }
  }

  /// Unregisters every instance and aborts every open request; returns their ids.
  #[napi]
  pub fn clear(&mut self, env: Env) -> napi::Result<Uint32Array> {
    let mut aborted = Vec::new();
    for (_, entry) in self.instances.drain() {
      aborted.extend(release(&env, entry)?);
    }
    Ok(Uint32Array::new(aborted))
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

  /// How many instances are registered.
  #[napi(getter)]
  pub fn size(&self) -> u32 {
    self.instances.len() as u32
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

fn release(env: &Env, entry: Entry) -> napi::Result<Vec<u32>> {
  let aborted = abort_all(&entry.requests);
  entry.object.unref(env)?;
  Ok(aborted)
}

impl ObjectFinalize for NativeClient {
  /// A client that is garbage collected lets go of its instances (their open requests go on: the
  /// JS module holds them until they end).
  fn finalize(mut self, env: Env) -> napi::Result<()> {
    for (_, entry) in self.instances.drain() {
      entry.object.unref(&env)?;
    }
    Ok(())
  }
}
