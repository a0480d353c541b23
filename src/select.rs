//! What a request does to each event before it becomes a record: `accumulate` reads it into the
//! final message, then `select` replaces its data with the value at a JSON Pointer (sse-core
//! `select`, `accumulate`). Both run on the reader thread, so neither `relay()`'s TEXT records nor
//! `onMessage` cost JS any JSON.
//!
//! `select` may also name several pointers (`{ content: '/choices/0/delta/content', tools:
//! '/choices/0/delta/tool_calls' }`, flat `[name, pointer, ...]` pairs here): each event then
//! yields one event per name whose pointer finds a value, in the given order, named by it (its
//! `event`, and the `event:` field of a relay's TEXT records). The name replaces the upstream event
//! type: the pointers already tell the kinds apart, and a relay's browser listens by name
//! (`addEventListener('tools', ...)`). Each pointer is one pass over the data.

use napi::bindgen_prelude::Either;
use sse_core::accumulate::{Accumulator, Format};
use sse_core::select::{Pointer, Selected};
use sse_core::Error;

/// The per-event processing a request asked for (nothing, for most).
#[derive(Default)]
pub struct EventFilter {
  select: Option<Pointer>,
  /// Named pointers (`select` given as an object), in order.
  fields: Vec<(String, Pointer)>,
  /// `selectMissing: 'drop'`: an event without the value is not delivered.
  drop_unselected: bool,
  pub accumulator: Option<Accumulator>,
}

/// What `select` made of one event's data.
pub enum Filtered<'a> {
  /// Delivered as it is (no `select`, or kept without the value).
  Unchanged,
  /// Delivered with this data.
  Selected(Selected<'a>),
  /// Named pointers: delivered as one event per value found, `(name index, value)`, in order.
  Fields(Vec<(usize, Selected<'a>)>),
  /// Not delivered.
  Dropped,
}

impl EventFilter {
  /// From the request options `select`, `selectMissing` and `accumulate`; bad values are
  /// INVALID_OPTIONS, thrown when the request starts.
  pub fn new(
    select: Option<&Either<String, Vec<String>>>,
    select_missing: Option<&str>,
    accumulate: Option<&str>,
    snapshot_every: Option<f64>,
  ) -> Result<EventFilter, Error> {
    let drop_unselected = match select_missing {
      None | Some("keep") => false,
      Some("drop") => true,
      Some(other) => {
        return Err(Error::invalid_options(format!(
          "selectMissing must be 'keep' or 'drop', got {other:?}"
        )))
      }
    };
    let mut accumulator = accumulate
      .map(Format::parse)
      .transpose()?
      .map(Accumulator::new);
    if let Some(bytes) = snapshot_every {
      if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(Error::invalid_options(format!(
          "snapshotEvery must be a number of bytes of at least 1, got {bytes}"
        )));
      }
      let Some(acc) = accumulator.take() else {
        return Err(Error::invalid_options(
          "snapshotEvery needs accumulate: snapshots are of the tool calls it assembles",
        ));
      };
      accumulator = Some(acc.with_snapshots(bytes as usize));
    }
    let (select, fields) = match select {
      None => (None, Vec::new()),
      Some(Either::A(pointer)) => (Some(Pointer::parse(pointer)?), Vec::new()),
      Some(Either::B(pairs)) => (None, named_pointers(pairs)?),
    };
    Ok(EventFilter {
      select,
      fields,
      drop_unselected,
      accumulator,
    })
  }

  /// The name of the pointer at `index` (a `Filtered::Fields` entry).
  pub fn field_name(&self, index: usize) -> &str {
    &self.fields[index].0
  }

  /// `snapshotEvery`: the snapshots of tool-call arguments the last event brought, as JSON.
  pub fn snapshots(&mut self) -> impl Iterator<Item = String> + '_ {
    self
      .accumulator
      .iter_mut()
      .flat_map(|accumulator| accumulator.take_snapshots())
  }

  /// The event's data as it is to be delivered.
  pub fn apply<'a>(&mut self, event: &str, data: &'a str) -> Filtered<'a> {
    if let Some(accumulator) = &mut self.accumulator {
      accumulator.event(event, data);
    }
    if !self.fields.is_empty() {
      let found: Vec<_> = (self.fields.iter().enumerate())
        .filter_map(|(i, (_, pointer))| Some((i, pointer.select(data)?)))
        .collect();
      return match found.is_empty() {
        false => Filtered::Fields(found),
        true if self.drop_unselected => Filtered::Dropped,
        true => Filtered::Unchanged,
      };
    }
    let Some(pointer) = &self.select else {
      return Filtered::Unchanged;
    };
    match pointer.select(data) {
      Some(selected) => Filtered::Selected(selected),
      None if self.drop_unselected => Filtered::Dropped,
      None => Filtered::Unchanged,
    }
  }
}

/// `select` as named pointers: flat `[name, pointer, ...]` pairs. A name becomes an event type, in
/// `onMessage` and in the event-stream text a relay writes: it must be a non-empty single line.
fn named_pointers(pairs: &[String]) -> Result<Vec<(String, Pointer)>, Error> {
  if pairs.is_empty() {
    return Err(Error::invalid_options(
      "select names no pointer: give a JSON Pointer, or an object of them such as \
       { content: '/choices/0/delta/content', tools: '/choices/0/delta/tool_calls' }",
    ));
  }
  let mut fields = Vec::with_capacity(pairs.len() / 2);
  for pair in pairs.chunks(2) {
    let [name, pointer] = pair else {
      return Err(Error::invalid_options(
        "select: the named pointers came unpaired",
      ));
    };
    if name.is_empty() || name.contains(['\n', '\r']) {
      return Err(Error::invalid_options(format!(
        "select name {name:?} cannot be an event name: it must be a non-empty single line"
      )));
    }
    fields.push((name.clone(), Pointer::parse(pointer)?));
  }
  Ok(fields)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn named(pairs: &[&str]) -> EventFilter {
    let pairs = pairs.iter().map(|s| s.to_string()).collect();
    EventFilter::new(Some(&Either::B(pairs)), Some("keep"), None, None).unwrap()
  }

  #[test]
  fn named_pointers_yield_each_value_found_in_order() {
    let mut filter = named(&["b", "/b", "a", "/a", "c", "/c"]);
    let Filtered::Fields(found) = filter.apply("message", r#"{"a":"x","b":[1]}"#) else {
      panic!("expected fields");
    };
    let found: Vec<_> = found
      .iter()
      .map(|(i, value)| (filter.field_name(*i), value.as_str()))
      .collect();
    assert_eq!(found, [("b", "[1]"), ("a", "x")]);
    assert!(matches!(
      filter.apply("message", "[DONE]"),
      Filtered::Unchanged
    ));
  }

  #[test]
  fn a_name_must_be_a_single_line() {
    for name in ["", "a\nb", "a\r"] {
      let pairs = vec![name.to_owned(), "/a".to_owned()];
      let err = EventFilter::new(Some(&Either::B(pairs)), None, None, None)
        .err()
        .unwrap();
      assert!(
        err.message.contains("cannot be an event name"),
        "{}",
        err.message
      );
    }
  }
}
