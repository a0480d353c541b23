//! `SSEClient` and its internal `ClientManager`, the registry of the instances it created.

use std::collections::HashMap;
use std::sync::Arc;

use napi::bindgen_prelude::{
  ClassInstance, Either, JavaScriptClassExt, Object, ObjectFinalize, ObjectRef,
};
use napi::Env;
use napi_derive::napi;
use sse_core::http_client::build_http_client;
use sse_core::ClientDefaults;

use crate::error::{throw, Code};
use crate::options::client_options;
use crate::server_sent_events::{ClientInner, ServerSentEvents};

/// The seed's ClientManager: instances by id, each held (with its JS object) until deleted.
#[derive(Default)]
struct ClientManager {
  next_id: u32,
  instances: HashMap<u32, (ObjectRef<false>, Arc<crate::request::Registry>)>,
}

/// Creates and manages SSE instances. Options given here are defaults for every request.
#[napi(js_name = "SSEClient", custom_finalize)]
pub struct SseClient {
  inner: Arc<ClientInner>,
  manager: ClientManager,
}

#[napi]
impl SseClient {
  #[napi(constructor, ts_args_type = "defaults?: ClientOptions")]
  pub fn new(env: Env, defaults: Option<Object>) -> napi::Result<SseClient, Code> {
    let opts = match defaults {
      Some(obj) => client_options(&env, &obj)?,
      None => Default::default(),
    };
    let defaults = ClientDefaults::from_options(&opts).map_err(throw)?;
    let http = build_http_client(&opts).map_err(throw)?;
    Ok(SseClient {
      inner: Arc::new(ClientInner { defaults, http }),
      manager: ClientManager::default(),
    })
  }

  /// Creates a new registered instance with a unique numeric id.
  #[napi]
  pub fn create<'e>(&mut self, env: &'e Env) -> napi::Result<ClassInstance<'e, ServerSentEvents>> {
    self.manager.next_id += 1;
    let id = self.manager.next_id;
    let instance = ServerSentEvents::new(id, Arc::clone(&self.inner));
    let requests = Arc::clone(&instance.requests);
    let instance = instance.into_instance(env)?;
    let reference = instance.as_object(env).create_ref::<false>()?;
    self.manager.instances.insert(id, (reference, requests));
    Ok(instance)
  }

  /// The registered instance with this id, or null.
  #[napi(ts_return_type = "ServerSentEvents | null")]
  pub fn get<'e>(&self, env: &'e Env, id: u32) -> napi::Result<Option<Object<'e>>> {
    self
      .manager
      .instances
      .get(&id)
      .map(|(reference, _)| reference.get_value(env))
      .transpose()
  }

  /// Aborts the instance's open requests and unregisters it. False if it was not registered.
  #[napi]
  pub fn delete(
    &mut self,
    env: Env,
    sse: Either<u32, ClassInstance<ServerSentEvents>>,
  ) -> napi::Result<bool> {
    let id = match sse {
      Either::A(id) => id,
      Either::B(instance) => instance.id(),
    };
    match self.manager.instances.remove(&id) {
      Some(entry) => {
        release(&env, entry)?;
        Ok(true)
      }
      None => Ok(false),
    }
  }

  /// Aborts everything and unregisters every instance.
  #[napi]
  pub fn clear(&mut self, env: Env) -> napi::Result<()> {
    for (_, entry) in self.manager.instances.drain() {
      release(&env, entry)?;
    }
    Ok(())
  }

  /// How many instances are registered.
  #[napi(getter)]
  pub fn size(&self) -> u32 {
    self.manager.instances.len() as u32
  }
}

fn release(
  env: &Env,
  (reference, requests): (ObjectRef<false>, Arc<crate::request::Registry>),
) -> napi::Result<()> {
  crate::request::abort_all(env, &requests)?;
  reference.unref(env)
}

impl ObjectFinalize for SseClient {
  /// A client that is garbage collected lets go of its instances (their open requests go on: the
  /// JS runtime still holds them).
  fn finalize(mut self, env: Env) -> napi::Result<()> {
    for (_, (reference, _)) in self.manager.instances.drain() {
      reference.unref(&env)?;
    }
    Ok(())
  }
}
