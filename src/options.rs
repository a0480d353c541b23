//! JS option objects → core options. Each field is read with its own typed error, so a wrong value
//! says which option and what was expected (INVALID_OPTIONS), instead of napi's generic message.

use bytes::Bytes;
use napi::bindgen_prelude::{
  Buffer, Function, JsObjectValue, JsValue, Object, Uint8Array, Unknown,
};
use napi::{Env, ValueType};
use sse_core::{Body, ClientOptions as CoreClientOptions, RequestOptions as CoreRequestOptions};

use crate::error::{invalid_options, JsResult};

fn field<'e>(obj: &Object<'e>, name: &str) -> JsResult<Option<Unknown<'e>>> {
  let value: Unknown = obj
    .get_named_property(name)
    .map_err(|_| invalid_options(format!("cannot read option {name}")))?;
  match value.get_type().map_err(crate::error::from_napi)? {
    ValueType::Undefined | ValueType::Null => Ok(None),
    _ => Ok(Some(value)),
  }
}

pub(crate) fn type_name(value: &Unknown) -> &'static str {
  match value.get_type() {
    Ok(ValueType::Null) => "null",
    Ok(ValueType::String) => "string",
    Ok(ValueType::Number) => "number",
    Ok(ValueType::Boolean) => "boolean",
    Ok(ValueType::Object) => "object",
    Ok(ValueType::Function) => "function",
    Ok(ValueType::BigInt) => "bigint",
    Ok(ValueType::Symbol) => "symbol",
    _ => "value",
  }
}

fn string(obj: &Object, name: &str) -> JsResult<Option<String>> {
  match field(obj, name)? {
    None => Ok(None),
    Some(v) if v.get_type().ok() == Some(ValueType::String) => Ok(Some(
      unsafe { v.cast::<String>() }.map_err(crate::error::from_napi)?,
    )),
    Some(v) => Err(invalid_options(format!(
      "{name} must be a string, got {}",
      type_name(&v)
    ))),
  }
}

fn number(obj: &Object, name: &str) -> JsResult<Option<f64>> {
  match field(obj, name)? {
    None => Ok(None),
    Some(v) if v.get_type().ok() == Some(ValueType::Number) => Ok(Some(
      unsafe { v.cast::<f64>() }.map_err(crate::error::from_napi)?,
    )),
    Some(v) => Err(invalid_options(format!(
      "{name} must be a number, got {}",
      type_name(&v)
    ))),
  }
}

fn boolean(obj: &Object, name: &str) -> JsResult<Option<bool>> {
  match field(obj, name)? {
    None => Ok(None),
    Some(v) if v.get_type().ok() == Some(ValueType::Boolean) => Ok(Some(
      unsafe { v.cast::<bool>() }.map_err(crate::error::from_napi)?,
    )),
    Some(v) => Err(invalid_options(format!(
      "{name} must be a boolean, got {}",
      type_name(&v)
    ))),
  }
}

fn headers(obj: &Object, name: &str) -> JsResult<Vec<(String, String)>> {
  let Some(value) = field(obj, name)? else {
    return Ok(Vec::new());
  };
  if value.get_type().ok() != Some(ValueType::Object) {
    return Err(invalid_options(format!(
      "{name} must be an object of strings, got {}",
      type_name(&value)
    )));
  }
  let map: Object = unsafe { value.cast() }.map_err(crate::error::from_napi)?;
  let keys = Object::keys(&map).map_err(crate::error::from_napi)?;
  let mut pairs = Vec::with_capacity(keys.len());
  for key in keys {
    match string(&map, &key) {
      Ok(Some(v)) => pairs.push((key, v)),
      Ok(None) => {}
      Err(_) => return Err(invalid_options(format!("header {key:?} must be a string"))),
    }
  }
  Ok(pairs)
}

/// A PEM given as a string or a Buffer.
fn pem(obj: &Object, name: &str) -> JsResult<Option<Vec<u8>>> {
  let Some(value) = field(obj, name)? else {
    return Ok(None);
  };
  if value.get_type().ok() == Some(ValueType::String) {
    let s: String = unsafe { value.cast() }.map_err(crate::error::from_napi)?;
    return Ok(Some(s.into_bytes()));
  }
  if value.is_buffer().unwrap_or(false) {
    let b: Buffer = unsafe { value.cast() }.map_err(crate::error::from_napi)?;
    return Ok(Some(b.to_vec()));
  }
  Err(invalid_options(format!(
    "{name} must be a PEM string or Buffer, got {}",
    type_name(&value)
  )))
}

fn callback(obj: &Object, name: &str) -> JsResult<()> {
  match field(obj, name)? {
    Some(v) if v.get_type().ok() != Some(ValueType::Function) => Err(invalid_options(format!(
      "{name} must be a function, got {}",
      type_name(&v)
    ))),
    _ => Ok(()),
  }
}

/// Objects and arrays go through the engine's own JSON.stringify, so `toJSON`, dropped `undefined`
/// and key order are exactly what users get from fetch + JSON.stringify.
fn body(env: &Env, obj: &Object) -> JsResult<Body> {
  let Some(value) = field(obj, "body")? else {
    return Ok(Body::None);
  };
  match value.get_type().map_err(crate::error::from_napi)? {
    ValueType::String => Ok(Body::Text(
      unsafe { value.cast::<String>() }.map_err(crate::error::from_napi)?,
    )),
    ValueType::Object => {
      if value.is_typedarray().unwrap_or(false) {
        let bytes: Uint8Array = unsafe { value.cast() }.map_err(|_| {
          invalid_options("body: of the typed arrays only Uint8Array and Buffer are accepted")
        })?;
        return Ok(Body::Bytes(Bytes::copy_from_slice(&bytes)));
      }
      let global = env.get_global().map_err(crate::error::from_napi)?;
      let json: Object = global
        .get_named_property("JSON")
        .map_err(crate::error::from_napi)?;
      let stringify: Function<Unknown, Unknown> = json
        .get_named_property("stringify")
        .map_err(crate::error::from_napi)?;
      let encoded = stringify
        .call(value)
        .map_err(|e| invalid_options(format!("body cannot be sent as JSON: {}", e.reason)))?;
      if encoded.get_type().ok() != Some(ValueType::String) {
        return Err(invalid_options("body cannot be sent as JSON"));
      }
      Ok(Body::Json(
        unsafe { encoded.cast::<String>() }.map_err(crate::error::from_napi)?,
      ))
    }
    _ => Err(invalid_options(format!(
      "body must be an object, an array, a string, a Buffer or a Uint8Array, got {}",
      type_name(&value)
    ))),
  }
}

pub fn request_options(env: &Env, obj: &Object) -> JsResult<CoreRequestOptions> {
  for name in ["onOpen", "onMessage", "onError", "onClose"] {
    callback(obj, name)?;
  }
  if let Some(signal) = field(obj, "signal")? {
    let is_signal = signal.get_type().ok() == Some(ValueType::Object);
    if !is_signal {
      return Err(invalid_options(format!(
        "signal must be an AbortSignal, got {}",
        type_name(&signal)
      )));
    }
  }
  let url = string(obj, "url")?
    .ok_or_else(|| crate::error::throw(sse_core::Error::invalid_url("url is required")))?;
  Ok(CoreRequestOptions {
    url,
    method: None,
    body: body(env, obj)?,
    headers: headers(obj, "headers")?,
    timeout: number(obj, "timeout")?,
    event_timeout: number(obj, "eventTimeout")?,
    reconnect_count: number(obj, "reconnectCount")?,
    reconnect_after_events: string(obj, "reconnectAfterEvents")?,
    last_event_id: string(obj, "lastEventId")?,
    done_data: string(obj, "doneData")?,
    strict_content_type: boolean(obj, "strictContentType")?,
    retry_delay: number(obj, "retryDelay")?,
    max_event_size: number(obj, "maxEventSize")?,
  })
}

pub fn client_options(_env: &Env, obj: &Object) -> JsResult<CoreClientOptions> {
  Ok(CoreClientOptions {
    base_url: string(obj, "baseUrl")?,
    headers: headers(obj, "headers")?,
    timeout: number(obj, "timeout")?,
    reconnect_count: number(obj, "reconnectCount")?,
    retry_delay: number(obj, "retryDelay")?,
    max_event_size: number(obj, "maxEventSize")?,
    ca: pem(obj, "ca")?,
    cert: pem(obj, "cert")?,
    key: pem(obj, "key")?,
    proxy: string(obj, "proxy")?,
    http2: boolean(obj, "http2")?,
  })
}
