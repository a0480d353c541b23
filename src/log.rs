//! The producing side of a resumable request: the events of each network read are appended to
//! the generation's log in one store call, and reach the request's records carrying the log's
//! ids, so that the browser's Last-Event-ID points into the log. Terminal entries (end, error,
//! stopped) are written to the log and, as events, to the live response, so that a live reader and
//! a resumed one see the same stream.

use sse_core::Event;
use sse_store::{Keepalive, Producer, Terminal};
use tokio_util::sync::CancellationToken;

use crate::records::Records;

pub struct LogWriter {
  producer: Producer,
  _keepalive: Keepalive,
  /// The events of the current read: (event type, data).
  pending: Vec<(String, String)>,
  /// Bytes of event type and data in `pending`.
  pending_bytes: usize,
  /// The store failed or fenced this producer: the live response goes on without the log (its
  /// lease lapses, and readers elsewhere are told the generation was interrupted).
  broken: bool,
  /// The last log id handed to the records, repeated on events that could not be logged.
  last_id: String,
}

impl LogWriter {
  pub fn new(producer: Producer) -> LogWriter {
    LogWriter {
      _keepalive: producer.spawn_keepalive(),
      producer,
      pending: Vec::new(),
      pending_bytes: 0,
      broken: false,
      last_id: String::new(),
    }
  }

  /// Fires when `stop(id)` was called for this generation, on any instance.
  pub fn stop_requested(&self) -> CancellationToken {
    self.producer.stop_requested()
  }

  pub fn push(&mut self, event: &Event<'_>) {
    self.pending_bytes += event.event.len() + event.data.len();
    self
      .pending
      .push((event.event.to_owned(), event.data.to_owned()));
  }

  /// Bytes of the events waiting for the next append.
  pub fn pending_bytes(&self) -> usize {
    self.pending_bytes
  }

  /// Appends the pending events (one store call) and records them with the log's ids.
  pub async fn flush(&mut self, records: &mut Records) {
    if self.pending.is_empty() {
      return;
    }
    let ids = if self.broken || self.producer.lease_lost().is_cancelled() {
      None
    } else {
      let batch: Vec<(Option<&str>, &str)> = self
        .pending
        .iter()
        .map(|(event, data)| {
          (
            (event != "message").then_some(event.as_str()),
            data.as_str(),
          )
        })
        .collect();
      self.producer.append(&batch).await.ok()
    };
    self.broken |= ids.is_none();
    for (i, (event, data)) in self.pending.iter().enumerate() {
      if let Some(id) = ids.as_ref().and_then(|ids| ids.get(i)) {
        self.last_id.clone_from(id);
      }
      // Each event was checked when it arrived (Records::check_size): it fits.
      let _ = records.message(&Event {
        data,
        event,
        id: &self.last_id,
        retry: None,
      });
    }
    self.pending.clear();
    self.pending_bytes = 0;
  }

  /// Writes the terminal entry to the log and its event to the records.
  pub async fn finish(&mut self, terminal: Terminal, data: &str, records: &mut Records) {
    self.flush(records).await;
    if !self.broken {
      if let Ok(id) = self.producer.finish(terminal, data).await {
        self.last_id = id;
      }
    }
    let (event, data) = terminal_event(terminal, data);
    // A terminal event is small (its data is an error's code and message).
    let _ = records.message(&Event {
      data: &data,
      event,
      id: &self.last_id,
      retry: None,
    });
  }

  /// Writes the terminal entry to the log only (nobody is listening on this side any more).
  pub async fn finish_quietly(&mut self, terminal: Terminal) {
    if !self.broken {
      let _ = self.producer.finish(terminal, "").await;
    }
  }
}

/// How a terminal entry reads in the event stream: `end` (clean end or `doneData`), `error` (the
/// data is `{"code","message"}`), `stopped`, `interrupted` (the producer was lost).
pub fn terminal_event(terminal: Terminal, data: &str) -> (&'static str, String) {
  match terminal {
    Terminal::End | Terminal::Done => ("end", String::new()),
    Terminal::Error => ("error", data.to_owned()),
    Terminal::Stopped => (
      "stopped",
      r#"{"code":"STOPPED","message":"the generation was stopped"}"#.to_owned(),
    ),
    Terminal::Interrupted => (
      "interrupted",
      r#"{"code":"INTERRUPTED","message":"the generation's producer was lost before it ended"}"#
        .to_owned(),
    ),
  }
}
