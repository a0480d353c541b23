//! `accumulate`: the final message of an AI provider's stream, assembled in Rust as its deltas
//! arrive, so that JS receives it once, at the end, instead of re-assembling (and re-parsing
//! partial tool-call JSON) on every delta.
//!
//! Each event's data is read once, into borrowed structs (a delta's text is borrowed from the data
//! unless it has escapes), and appended to the message: the time is linear in the bytes of the
//! stream. Tool-call arguments are kept as text and parsed once, at the end. A provider's error
//! event stops the assembly; `finish` then reports it.

mod anthropic;
mod openai_chat;
mod openai_responses;
pub mod partial;

use serde_json::Value;

use crate::Error;

/// A stream format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
  /// OpenAI Chat Completions (`chat.completion.chunk` events, then `[DONE]`).
  OpenAiChat,
  /// OpenAI Responses (`response.*` events).
  OpenAiResponses,
  /// Anthropic Messages (`message_start` ... `message_stop`).
  AnthropicMessages,
}

impl Format {
  pub fn parse(name: &str) -> Result<Format, Error> {
    match name {
      "openai-chat" => Ok(Format::OpenAiChat),
      "openai-responses" => Ok(Format::OpenAiResponses),
      "anthropic-messages" => Ok(Format::AnthropicMessages),
      _ => Err(Error::invalid_options(format!(
        "accumulate must be 'openai-chat', 'openai-responses' or 'anthropic-messages', got {name:?}"
      ))),
    }
  }

  pub fn as_str(self) -> &'static str {
    match self {
      Format::OpenAiChat => "openai-chat",
      Format::OpenAiResponses => "openai-responses",
      Format::AnthropicMessages => "anthropic-messages",
    }
  }
}

/// An error the provider sent in the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
  /// The provider's message (or, when it gave none, a description of what was received).
  pub message: String,
  /// The provider's error object, as JSON text.
  pub body: String,
}

impl From<ProviderError> for Error {
  /// `PROVIDER_ERROR`, with the provider's message and its error object as `body`.
  fn from(err: ProviderError) -> Error {
    let mut error = Error::new(crate::ErrorCode::ProviderError, err.message);
    error.body = Some(err.body);
    error
  }
}

impl ProviderError {
  fn from_value(error: &Value) -> ProviderError {
    let message = error
      .get("message")
      .and_then(Value::as_str)
      .map(str::to_owned)
      .unwrap_or_else(|| "the provider sent an error event without a message".to_owned());
    ProviderError {
      message,
      body: error.to_string(),
    }
  }
}

enum State {
  OpenAiChat(openai_chat::Chat),
  OpenAiResponses(openai_responses::Responses),
  Anthropic(anthropic::Messages),
}

/// A tool call's arguments as streamed so far (for a snapshot).
pub struct ToolText<'a> {
  pub index: u64,
  pub id: &'a str,
  pub name: &'a str,
  pub arguments: &'a str,
}

/// One stream's message being assembled.
pub struct Accumulator {
  state: State,
  error: Option<ProviderError>,
  /// Snapshots: at most one per this many bytes of a tool call's arguments.
  snapshot_every: Option<usize>,
  /// The argument length of each tool call at its last snapshot.
  snapshot_at: std::collections::HashMap<u64, usize>,
  /// Snapshots made since the last `take_snapshots`, as JSON.
  snapshots: Vec<String>,
}

impl Accumulator {
  pub fn new(format: Format) -> Accumulator {
    let state = match format {
      Format::OpenAiChat => State::OpenAiChat(openai_chat::Chat::default()),
      Format::OpenAiResponses => State::OpenAiResponses(openai_responses::Responses::default()),
      Format::AnthropicMessages => State::Anthropic(anthropic::Messages::default()),
    };
    Accumulator {
      state,
      error: None,
      snapshot_every: None,
      snapshot_at: Default::default(),
      snapshots: Vec::new(),
    }
  }

  /// Partial snapshots of tool-call arguments, at most once per `bytes` of each call's arguments,
  /// and at least an eighth of the arguments' length apart: each costs the length of the text so
  /// far, so with a fixed interval the total would grow with the square of the length (2,048
  /// snapshots and 33 MB written for 32 KiB at 16 bytes); growing with the text, it stays within
  /// about nine times the length plus eight snapshots at the interval's size.
  pub fn with_snapshots(mut self, bytes: usize) -> Accumulator {
    self.snapshot_every = Some(bytes.max(1));
    self
  }

  /// The snapshots made since the last call, each `{"index","id","name","arguments"}` as JSON
  /// (`arguments`: the best-effort parse of the text so far, see `partial`).
  pub fn take_snapshots(&mut self) -> std::vec::Drain<'_, String> {
    self.snapshots.drain(..)
  }

  fn snapshot(&mut self) {
    let Some(every) = self.snapshot_every else {
      return;
    };
    let (key, tool) = match &mut self.state {
      State::OpenAiChat(chat) => chat.touched.take().and_then(|k| Some((k, chat.tool(k)?))),
      State::OpenAiResponses(r) => r.touched.take().and_then(|k| Some((k, r.tool(k)?))),
      State::Anthropic(m) => m.touched.take().and_then(|k| Some((k, m.tool(k)?))),
    }
    .unzip();
    let (Some(key), Some(tool)) = (key, tool) else {
      return;
    };
    let at = self.snapshot_at.entry(key).or_insert(0);
    if tool.arguments.len() < *at + every.max(*at / 8) {
      return;
    }
    *at = tool.arguments.len();
    let arguments = partial::parse_partial(tool.arguments).unwrap_or(Value::Null);
    let json = serde_json::json!({
      "index": tool.index,
      "id": tool.id,
      "name": tool.name,
      "arguments": arguments,
    });
    self.snapshots.push(json.to_string());
  }

  /// One event of the stream (`event` is its type, "message" when it had none). Data that is not
  /// JSON (`[DONE]`) or not a known chunk is ignored; a provider's error stops the assembly.
  pub fn event(&mut self, event: &str, data: &str) {
    if self.error.is_some() {
      return;
    }
    let result = match &mut self.state {
      State::OpenAiChat(chat) => chat.event(data),
      State::OpenAiResponses(responses) => responses.event(event, data),
      State::Anthropic(messages) => messages.event(event, data),
    };
    match result {
      Err(err) => self.error = Some(err),
      Ok(()) => self.snapshot(),
    }
  }

  /// The provider's error, once one was received.
  pub fn error(&self) -> Option<&ProviderError> {
    self.error.as_ref()
  }

  /// The assembled message as JSON text (see index.d.ts `FinalMessage`), or the provider's error.
  pub fn finish(self) -> Result<String, ProviderError> {
    if let Some(err) = self.error {
      return Err(err);
    }
    let value = match self.state {
      State::OpenAiChat(chat) => chat.finish(),
      State::OpenAiResponses(responses) => responses.finish(),
      State::Anthropic(messages) => messages.finish(),
    };
    Ok(value.to_string())
  }
}

/// Tool arguments, parsed once at the end: the value, or null when they are not valid JSON (the
/// text stays beside it).
fn parse_arguments(text: &str) -> Value {
  serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Appends to a string member of a JSON object (creating it): amortised linear, in place.
fn append(object: &mut serde_json::Map<String, Value>, key: &str, text: &str) {
  match object.get_mut(key) {
    Some(Value::String(s)) => s.push_str(text),
    _ => {
      object.insert(key.to_owned(), Value::String(text.to_owned()));
    }
  }
}

#[cfg(test)]
mod tests;
