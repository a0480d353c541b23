//! `ServerSentEvents`: one instance made by `SSEClient.create()`, which sends streaming requests.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{ClassInstance, JavaScriptClassExt, Object, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;
use sse_core::request::Request;
use sse_core::{ClientDefaults, Outcome, RequestConfig};

use crate::callbacks::{EnvState, JsSink};
use crate::error::{throw, Code, JsResult};
use crate::options::request_options;
use crate::request::{abort_all, Registry, RequestShared, SseRequest};

/// Request ids are unique per process, so records of different environments never collide.
static NEXT_REQUEST_ID: AtomicU32 = AtomicU32::new(1);

/// What every request of one `SSEClient` shares: its validated defaults and its connection pool.
pub struct ClientInner {
  pub defaults: ClientDefaults,
  pub http: reqwest::Client,
}

/// An SSE instance: sends streaming requests and can abort all of them at once.
#[napi]
pub struct ServerSentEvents {
  id: u32,
  client: Arc<ClientInner>,
  pub(crate) requests: Arc<Registry>,
}

impl ServerSentEvents {
  pub fn new(id: u32, client: Arc<ClientInner>) -> ServerSentEvents {
    ServerSentEvents {
      id,
      client,
      requests: Arc::new(Mutex::new(Default::default())),
    }
  }

  fn start<'e>(
    &self,
    env: &'e Env,
    options: Object,
    method: Option<String>,
  ) -> JsResult<ClassInstance<'e, SseRequest>> {
    let mut core_options = request_options(env, &options)?;
    if method.is_some() {
      core_options.method = method;
    }
    let cfg = Arc::new(RequestConfig::resolve(&self.client.defaults, core_options).map_err(throw)?);
    let state = EnvState::get(env).map_err(crate::error::from_napi)?;
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let cancel = state.cancel_all.child_token();
    let shared = Arc::new(RequestShared::new(id, cancel.clone(), &self.requests));
    self
      .requests
      .lock()
      .unwrap_or_else(|e| e.into_inner())
      .insert(id, Arc::clone(&shared));
    let handle = SseRequest {
      shared: Arc::clone(&shared),
      done: None,
    };
    let mut instance = handle.into_instance(env).map_err(crate::error::from_napi)?;
    let done = match state
      .open(env, id, instance.as_object(env), options)
      .and_then(|done| done.create_ref::<false>())
    {
      Ok(done) => done,
      Err(err) => {
        shared.finish();
        return Err(crate::error::from_napi(err));
      }
    };
    instance.done = Some(done);
    // `open` may already have aborted it (an AbortSignal that was aborted before the call).
    if !cancel.is_cancelled() {
      let sink = JsSink::new(Arc::clone(&state.hub), shared);
      let http = self.client.http.clone();
      crate::runtime::spawn(async move {
        let (outcome, sink) = Request::new(cfg, http, sink).run(cancel).await;
        match outcome {
          Outcome::Closed => sink.close().await,
          Outcome::Failed(err, attempt) => sink.fail(&err, attempt).await,
          // abort() already told the JS side; nothing may follow it.
          Outcome::Aborted => {}
        }
      });
    }
    Ok(instance)
  }
}

/// The options argument must be a plain object: anything else is INVALID_OPTIONS, not a TypeError.
fn options_object(value: Unknown<'_>) -> JsResult<Object<'_>> {
  match value.get_type().map_err(crate::error::from_napi)? {
    ValueType::Object => unsafe { value.cast::<Object>() }.map_err(crate::error::from_napi),
    ValueType::Undefined => Err(crate::error::invalid_options(
      "options are required: { url, body, onMessage, ... }",
    )),
    _ => Err(crate::error::invalid_options(format!(
      "options must be an object, got {}",
      crate::options::type_name(&value)
    ))),
  }
}

#[napi]
impl ServerSentEvents {
  /// The instance's id, unique within its `SSEClient`; `sseClient.get(id)` returns this instance.
  #[napi(getter)]
  pub fn id(&self) -> u32 {
    self.id
  }

  /// Sends a streaming POST (the seed's `post`): an object or array `body` is sent as JSON.
  #[napi(ts_args_type = "options: RequestOptions")]
  pub fn post<'e>(
    &self,
    env: &'e Env,
    options: Unknown<'e>,
  ) -> napi::Result<ClassInstance<'e, SseRequest>, Code> {
    self.start(env, options_object(options)?, Some("POST".to_string()))
  }

  /// The same request as `post`, as an async iterator of messages: `for await (const msg of
  /// sse.stream(options))`. The loop ends when the stream ends or is aborted, and throws the final
  /// `SseError`; leaving the loop early (break, return, throw) aborts the request.
  #[napi(ts_args_type = "options: RequestOptions", ts_return_type = "SseStream")]
  pub fn stream<'e>(&self, env: &'e Env, options: Unknown<'e>) -> napi::Result<Object<'e>, Code> {
    let options = options_object(options)?;
    let state = EnvState::get(env).map_err(crate::error::from_napi)?;
    let (iterable, options) = state
      .make_stream(env, options)
      .map_err(crate::error::from_napi)?;
    self.start(env, options, Some("POST".to_string()))?;
    Ok(iterable)
  }

  /// Sends a streaming request with any of GET, POST, PUT, PATCH, DELETE (default POST).
  #[napi(
    ts_args_type = "options: RequestOptions & { method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' }"
  )]
  pub fn request<'e>(
    &self,
    env: &'e Env,
    options: Unknown<'e>,
  ) -> napi::Result<ClassInstance<'e, SseRequest>, Code> {
    let options = options_object(options)?;
    let method: Option<String> = options
      .get::<String>("method")
      .map_err(|_| crate::error::invalid_options("method must be a string"))?;
    self.start(env, options, method)
  }

  /// Aborts every open request of this instance.
  #[napi]
  pub fn abort_all(&self, env: Env) -> napi::Result<()> {
    abort_all(&env, &self.requests)
  }
}
