//! Anthropic Messages: `message_start` (the message with its input usage), `content_block_start`
//! (a text, tool_use, thinking, ... block), `content_block_delta` (`text_delta`, `input_json_delta`,
//! `thinking_delta`, `signature_delta`, `citations_delta`), `content_block_stop`, `message_delta`
//! (stop reason, output usage), `message_stop`; `ping`; `error`. The result is the message as the
//! Anthropic SDK's `finalMessage()` returns it, plus `format`; a tool_use block's `input` is its
//! JSON parsed once at the end (null, with the text in `input_json`, when it is not valid JSON).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{append, parse_arguments, ProviderError, ToolText};

#[derive(Deserialize)]
struct Envelope<'a> {
  #[serde(borrow, rename = "type")]
  kind: Cow<'a, str>,
  index: Option<u64>,
  message: Option<Map<String, Value>>,
  content_block: Option<Map<String, Value>>,
  #[serde(borrow)]
  delta: Option<Delta<'a>>,
  usage: Option<Map<String, Value>>,
  error: Option<Value>,
}

#[derive(Deserialize)]
struct Delta<'a> {
  #[serde(borrow, rename = "type")]
  kind: Option<Cow<'a, str>>,
  #[serde(borrow)]
  text: Option<Cow<'a, str>>,
  #[serde(borrow)]
  partial_json: Option<Cow<'a, str>>,
  #[serde(borrow)]
  thinking: Option<Cow<'a, str>>,
  #[serde(borrow)]
  signature: Option<Cow<'a, str>>,
  citation: Option<Value>,
  stop_reason: Option<Value>,
  stop_sequence: Option<Value>,
}

#[derive(Default)]
pub struct Messages {
  message: Map<String, Value>,
  blocks: BTreeMap<u64, Block>,
  /// The block whose input JSON the last event extended.
  pub touched: Option<u64>,
}

struct Block {
  fields: Map<String, Value>,
  /// The tool input's JSON text so far (input_json_delta), parsed once at the end.
  json: Option<String>,
}

impl Messages {
  pub fn event(&mut self, _event: &str, data: &str) -> Result<(), ProviderError> {
    let Ok(env) = serde_json::from_str::<Envelope>(data) else {
      return Ok(());
    };
    match &*env.kind {
      "message_start" => {
        if let Some(message) = env.message {
          self.message = message;
        }
      }
      "content_block_start" => {
        if let Some(fields) = env.content_block {
          let block = Block { fields, json: None };
          self.blocks.insert(env.index.unwrap_or(0), block);
        }
      }
      "content_block_delta" => {
        let (Some(delta), Some(block)) = (env.delta, self.blocks.get_mut(&env.index.unwrap_or(0)))
        else {
          return Ok(());
        };
        match delta.kind.as_deref() {
          Some("text_delta") => append(
            &mut block.fields,
            "text",
            delta.text.as_deref().unwrap_or(""),
          ),
          Some("input_json_delta") => {
            let json = block.json.get_or_insert_with(String::new);
            json.push_str(delta.partial_json.as_deref().unwrap_or(""));
            self.touched = env.index.or(Some(0));
          }
          Some("thinking_delta") => append(
            &mut block.fields,
            "thinking",
            delta.thinking.as_deref().unwrap_or(""),
          ),
          Some("signature_delta") => {
            let signature = delta.signature.map(Cow::into_owned).unwrap_or_default();
            block
              .fields
              .insert("signature".into(), Value::String(signature));
          }
          Some("citations_delta") => {
            if let Some(citation) = delta.citation {
              match block.fields.get_mut("citations") {
                Some(Value::Array(list)) => list.push(citation),
                _ => {
                  block
                    .fields
                    .insert("citations".into(), Value::Array(vec![citation]));
                }
              }
            }
          }
          _ => {}
        }
      }
      "message_delta" => {
        if let Some(delta) = env.delta {
          if let Some(reason) = delta.stop_reason {
            self.message.insert("stop_reason".into(), reason);
          }
          if let Some(sequence) = delta.stop_sequence {
            self.message.insert("stop_sequence".into(), sequence);
          }
        }
        // The SDK's rule: the delta's usage replaces each count it gives that is not null.
        if let Some(usage) = env.usage {
          let target = self
            .message
            .entry("usage")
            .or_insert_with(|| Value::Object(Map::new()));
          if let Value::Object(target) = target {
            for (key, value) in usage {
              if !value.is_null() {
                target.insert(key, value);
              }
            }
          }
        }
      }
      "error" => {
        let error = env.error.unwrap_or(Value::Null);
        return Err(ProviderError::from_value(&error));
      }
      _ => {}
    }
    Ok(())
  }

  pub fn tool(&self, index: u64) -> Option<ToolText<'_>> {
    let block = self.blocks.get(&index)?;
    let text = |key: &str| block.fields.get(key).and_then(Value::as_str).unwrap_or("");
    Some(ToolText {
      index,
      id: text("id"),
      name: text("name"),
      arguments: block.json.as_deref().unwrap_or(""),
    })
  }

  pub fn finish(mut self) -> Value {
    let content: Vec<Value> = self
      .blocks
      .into_values()
      .map(|mut block| {
        // No input_json_delta at all: the SDK keeps the block's own `input` ({}), and so do we.
        if let Some(json) = block.json.filter(|json| !json.is_empty()) {
          let input = parse_arguments(&json);
          if input.is_null() {
            block
              .fields
              .insert("input_json".into(), Value::String(json));
          }
          block.fields.insert("input".into(), input);
        }
        Value::Object(block.fields)
      })
      .collect();
    self.message.insert("content".into(), Value::Array(content));
    self
      .message
      .insert("format".into(), Value::String("anthropic-messages".into()));
    Value::Object(self.message)
  }
}
