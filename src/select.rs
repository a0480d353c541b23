//! What a request does to each event before it becomes a record: `accumulate` reads it into the
//! final message, then `select` replaces its data with the value at a JSON Pointer (sse-core
//! `select`, `accumulate`). Both run on the reader thread, so neither `relay()`'s TEXT records nor
//! `onMessage` cost JS any JSON.

use sse_core::accumulate::{Accumulator, Format};
use sse_core::select::{Pointer, Selected};
use sse_core::Error;

/// The per-event processing a request asked for (nothing, for most).
#[derive(Default)]
pub struct EventFilter {
  select: Option<Pointer>,
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
  /// Not delivered.
  Dropped,
}

impl EventFilter {
  /// From the request options `select`, `selectMissing` and `accumulate`; bad values are
  /// INVALID_OPTIONS, thrown when the request starts.
  pub fn new(
    select: Option<&str>,
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
    Ok(EventFilter {
      select: select.map(Pointer::parse).transpose()?,
      drop_unselected,
      accumulator,
    })
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
