//! OpenAI Chat Completions: `chat.completion.chunk` objects, each with `choices[].delta` (role,
//! content, refusal, tool_calls by index), `finish_reason`, and a last chunk with `usage` and no
//! choices when `stream_options.include_usage` is set. An `{"error": ...}` chunk is the provider's
//! error. The result has the shape of a `chat.completion` (what openai-node's
//! `finalChatCompletion()` returns), plus `format` and each tool call's `parsed_arguments`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::{parse_arguments, ProviderError, ToolText};

#[derive(Deserialize)]
struct Chunk<'a> {
  #[serde(borrow)]
  id: Option<Cow<'a, str>>,
  #[serde(borrow)]
  model: Option<Cow<'a, str>>,
  #[serde(borrow)]
  created: Option<&'a RawValue>,
  #[serde(borrow)]
  system_fingerprint: Option<Cow<'a, str>>,
  #[serde(borrow)]
  service_tier: Option<Cow<'a, str>>,
  #[serde(default, borrow)]
  choices: Vec<ChoiceChunk<'a>>,
  #[serde(borrow)]
  usage: Option<&'a RawValue>,
  error: Option<Value>,
}

#[derive(Deserialize)]
struct ChoiceChunk<'a> {
  index: Option<u64>,
  #[serde(borrow)]
  delta: Option<Delta<'a>>,
  #[serde(borrow)]
  finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
  #[serde(borrow)]
  role: Option<Cow<'a, str>>,
  #[serde(borrow)]
  content: Option<Cow<'a, str>>,
  #[serde(borrow)]
  refusal: Option<Cow<'a, str>>,
  #[serde(borrow)]
  tool_calls: Option<Vec<ToolCallChunk<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallChunk<'a> {
  index: Option<u64>,
  #[serde(borrow)]
  id: Option<Cow<'a, str>>,
  #[serde(borrow, rename = "type")]
  kind: Option<Cow<'a, str>>,
  #[serde(borrow)]
  function: Option<FunctionChunk<'a>>,
}

#[derive(Deserialize)]
struct FunctionChunk<'a> {
  #[serde(borrow)]
  name: Option<Cow<'a, str>>,
  #[serde(borrow)]
  arguments: Option<Cow<'a, str>>,
}

#[derive(Default)]
pub struct Chat {
  id: Option<String>,
  model: Option<String>,
  created: Option<Value>,
  system_fingerprint: Option<String>,
  service_tier: Option<String>,
  choices: BTreeMap<u64, Choice>,
  usage: Option<Value>,
  /// The tool call whose arguments the last chunk extended: choice index << 32 | call index.
  pub touched: Option<u64>,
}

#[derive(Default)]
struct Choice {
  role: Option<String>,
  content: Option<String>,
  refusal: Option<String>,
  finish_reason: Option<String>,
  tool_calls: BTreeMap<u64, ToolCall>,
}

#[derive(Default)]
struct ToolCall {
  id: String,
  kind: String,
  name: String,
  arguments: String,
}

/// Sets `slot` from `value` unless it already holds it: no allocation per chunk for the metadata
/// that every chunk repeats.
fn keep(slot: &mut Option<String>, value: Option<Cow<'_, str>>) {
  if let Some(value) = value {
    if slot.as_deref() != Some(&*value) {
      *slot = Some(value.into_owned());
    }
  }
}

fn push(slot: &mut Option<String>, text: Option<Cow<'_, str>>) {
  if let Some(text) = text {
    slot.get_or_insert_with(String::new).push_str(&text);
  }
}

impl Chat {
  pub fn event(&mut self, data: &str) -> Result<(), ProviderError> {
    let Ok(chunk) = serde_json::from_str::<Chunk>(data) else {
      return Ok(());
    };
    if let Some(error) = chunk.error {
      return Err(ProviderError::from_value(&error));
    }
    keep(&mut self.id, chunk.id);
    keep(&mut self.model, chunk.model);
    keep(&mut self.system_fingerprint, chunk.system_fingerprint);
    keep(&mut self.service_tier, chunk.service_tier);
    if self.created.is_none() {
      self.created = chunk
        .created
        .and_then(|c| serde_json::from_str(c.get()).ok());
    }
    if let Some(usage) = chunk.usage {
      self.usage = serde_json::from_str(usage.get()).ok();
    }
    for c in chunk.choices {
      let choice = self.choices.entry(c.index.unwrap_or(0)).or_default();
      keep(&mut choice.finish_reason, c.finish_reason);
      let Some(delta) = c.delta else { continue };
      keep(&mut choice.role, delta.role);
      push(&mut choice.content, delta.content);
      push(&mut choice.refusal, delta.refusal);
      for t in delta.tool_calls.unwrap_or_default() {
        let call = choice.tool_calls.entry(t.index.unwrap_or(0)).or_default();
        if let Some(id) = t.id {
          call.id = id.into_owned();
        }
        if let Some(kind) = t.kind {
          call.kind = kind.into_owned();
        }
        if let Some(f) = t.function {
          if let Some(name) = f.name {
            call.name = name.into_owned();
          }
          if let Some(arguments) = f.arguments {
            call.arguments.push_str(&arguments);
            self.touched = Some(c.index.unwrap_or(0) << 32 | (t.index.unwrap_or(0) & 0xffff_ffff));
          }
        }
      }
    }
    Ok(())
  }

  pub fn tool(&self, key: u64) -> Option<ToolText<'_>> {
    let call = self
      .choices
      .get(&(key >> 32))?
      .tool_calls
      .get(&(key & 0xffff_ffff))?;
    Some(ToolText {
      index: key & 0xffff_ffff,
      id: &call.id,
      name: &call.name,
      arguments: &call.arguments,
    })
  }

  pub fn finish(self) -> Value {
    let choices: Vec<Value> = self
      .choices
      .into_iter()
      .map(|(index, c)| {
        let mut message = Map::new();
        message.insert("role".into(), json!(c.role.unwrap_or_else(|| "assistant".into())));
        message.insert("content".into(), json!(c.content));
        message.insert("refusal".into(), json!(c.refusal));
        if !c.tool_calls.is_empty() {
          let calls: Vec<Value> = c
            .tool_calls
            .into_iter()
            .map(|(index, t)| {
              let parsed = parse_arguments(&t.arguments);
              json!({
                "index": index,
                "id": t.id,
                "type": if t.kind.is_empty() { "function".to_owned() } else { t.kind },
                "function": { "name": t.name, "arguments": t.arguments, "parsed_arguments": parsed },
              })
            })
            .collect();
          message.insert("tool_calls".into(), Value::Array(calls));
        }
        json!({ "index": index, "message": message, "finish_reason": c.finish_reason })
      })
      .collect();
    let mut out = json!({
      "format": "openai-chat",
      "id": self.id,
      "object": "chat.completion",
      "created": self.created,
      "model": self.model,
      "choices": choices,
      "usage": self.usage,
    });
    if let Some(fingerprint) = self.system_fingerprint {
      out["system_fingerprint"] = json!(fingerprint);
    }
    if let Some(tier) = self.service_tier {
      out["service_tier"] = json!(tier);
    }
    out
  }
}
