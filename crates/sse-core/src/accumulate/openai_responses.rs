//! OpenAI Responses: `response.created`, `response.output_item.added` (a message, function_call,
//! reasoning, ... item at `output_index`), `response.content_part.added`,
//! `response.output_text.delta`, `response.refusal.delta`,
//! `response.function_call_arguments.delta`, `response.output_item.done`, and a terminal
//! `response.completed` / `response.incomplete` / `response.failed` holding the response (status,
//! usage, error). `error` is the provider's error, and so is `response.failed`. The result is the
//! response with its `output` assembled from the deltas, `output_text` (the text of every
//! output_text part, as the SDK's helper joins it), `format`, and each function call's
//! `parsed_arguments`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{append, parse_arguments, ProviderError, ToolText};

#[derive(Deserialize)]
struct Envelope<'a> {
  #[serde(borrow, rename = "type")]
  kind: Cow<'a, str>,
  output_index: Option<u64>,
  content_index: Option<u64>,
  #[serde(borrow)]
  delta: Option<Cow<'a, str>>,
  item: Option<Map<String, Value>>,
  part: Option<Map<String, Value>>,
  response: Option<Map<String, Value>>,
  message: Option<Value>,
}

#[derive(Default)]
pub struct Responses {
  response: Map<String, Value>,
  items: BTreeMap<u64, Item>,
  /// The function call whose arguments the last event extended.
  pub touched: Option<u64>,
}

struct Item {
  fields: Map<String, Value>,
  parts: BTreeMap<u64, Map<String, Value>>,
}

impl Responses {
  pub fn event(&mut self, _event: &str, data: &str) -> Result<(), ProviderError> {
    let Ok(env) = serde_json::from_str::<Envelope>(data) else {
      return Ok(());
    };
    let output = env.output_index.unwrap_or(0);
    match &*env.kind {
      "response.created"
      | "response.in_progress"
      | "response.completed"
      | "response.incomplete" => {
        if let Some(mut response) = env.response {
          // The output is ours, assembled from the deltas.
          response.remove("output");
          self.response = response;
        }
      }
      "response.failed" => {
        let response = env.response.unwrap_or_default();
        let error = response.get("error").cloned().unwrap_or(Value::Null);
        return Err(ProviderError::from_value(&error));
      }
      "error" => {
        let mut error = serde_json::from_str::<Value>(data).unwrap_or(Value::Null);
        if let (Value::Null, Some(message)) = (&error, env.message) {
          error = serde_json::json!({ "message": message });
        }
        return Err(ProviderError::from_value(&error));
      }
      "response.output_item.added" => {
        if let Some(mut fields) = env.item {
          fields.remove("content");
          self.items.insert(
            output,
            Item {
              fields,
              parts: BTreeMap::new(),
            },
          );
        }
      }
      "response.output_item.done" => {
        // The item as the server closed it (status, final arguments); our text parts stay.
        if let (Some(mut fields), Some(item)) = (env.item, self.items.get_mut(&output)) {
          fields.remove("content");
          fields.remove("arguments");
          for (key, value) in fields {
            item.fields.insert(key, value);
          }
        }
      }
      "response.content_part.added" => {
        if let (Some(part), Some(item)) = (env.part, self.items.get_mut(&output)) {
          item.parts.insert(env.content_index.unwrap_or(0), part);
        }
      }
      "response.output_text.delta" | "response.refusal.delta" => {
        let key = if env.kind == "response.output_text.delta" {
          "text"
        } else {
          "refusal"
        };
        if let (Some(delta), Some(item)) = (env.delta, self.items.get_mut(&output)) {
          let part = item
            .parts
            .entry(env.content_index.unwrap_or(0))
            .or_insert_with(|| {
              let mut part = Map::new();
              let kind = if key == "text" {
                "output_text"
              } else {
                "refusal"
              };
              part.insert("type".into(), Value::String(kind.into()));
              part
            });
          append(part, key, &delta);
        }
      }
      "response.function_call_arguments.delta" => {
        if let (Some(delta), Some(item)) = (env.delta, self.items.get_mut(&output)) {
          append(&mut item.fields, "arguments", &delta);
          self.touched = Some(output);
        }
      }
      _ => {}
    }
    Ok(())
  }

  pub fn tool(&self, output: u64) -> Option<ToolText<'_>> {
    let item = self.items.get(&output)?;
    let text = |key: &str| item.fields.get(key).and_then(Value::as_str).unwrap_or("");
    Some(ToolText {
      index: output,
      id: text("call_id"),
      name: text("name"),
      arguments: text("arguments"),
    })
  }

  pub fn finish(mut self) -> Value {
    let mut text = String::new();
    let output: Vec<Value> = self
      .items
      .into_values()
      .map(|mut item| {
        let is_message = item.fields.get("type").and_then(Value::as_str) == Some("message");
        if is_message {
          let parts: Vec<Value> = item.parts.into_values().map(Value::Object).collect();
          for part in &parts {
            if part["type"] == "output_text" {
              text.push_str(part["text"].as_str().unwrap_or(""));
            }
          }
          item.fields.insert("content".into(), Value::Array(parts));
        }
        if item.fields.get("type").and_then(Value::as_str) == Some("function_call") {
          let arguments = item
            .fields
            .get("arguments")
            .and_then(Value::as_str)
            .unwrap_or("");
          let parsed = parse_arguments(arguments);
          item.fields.insert("parsed_arguments".into(), parsed);
        }
        Value::Object(item.fields)
      })
      .collect();
    self.response.insert("output".into(), Value::Array(output));
    self
      .response
      .insert("output_text".into(), Value::String(text));
    self
      .response
      .insert("format".into(), Value::String("openai-responses".into()));
    Value::Object(self.response)
  }
}
