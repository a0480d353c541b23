//! The core's `Sink` for one request of the binding: what the request's task reports becomes
//! records (src/records.rs), handed to the environment's hub (src/delivery.rs) at the end of each
//! network read; a paused request waits there, which stops reading its socket. A resumable request
//! appends each read's events to its log first (src/log.rs). A request whose JS side went away (a
//! resumable relay whose browser left) keeps running and hands nothing over.

use std::sync::Arc;

use sse_core::{Error, Event};
use sse_store::{StoreError, Terminal};

use crate::delivery::Hub;
use crate::handle::RequestShared;
use crate::log::{terminal_event, LogWriter};
use crate::records::{End, Mode, Records};
use crate::select::{EventFilter, Filtered};

/// The core's `Sink` for one request: encodes what happens into records and hands them to the hub
/// at each flush (the end of one network read).
pub struct RecordSink {
  hub: Arc<Hub>,
  shared: Arc<RequestShared>,
  records: Records,
  log: Option<LogWriter>,
  /// `select` and `accumulate` (src/select.rs), applied to each event before it goes anywhere.
  filter: EventFilter,
}

impl RecordSink {
  pub fn new(hub: Arc<Hub>, shared: Arc<RequestShared>, mode: Mode) -> RecordSink {
    RecordSink {
      records: Records::new(shared.id, mode),
      hub,
      shared,
      log: None,
      filter: EventFilter::default(),
    }
  }

  pub fn set_filter(&mut self, filter: EventFilter) {
    self.filter = filter;
  }

  async fn hand_over(&mut self) {
    if self.shared.is_detached() {
      self.records.clear();
      return;
    }
    self.records.flush_text();
    if !self.records.meta.is_empty() {
      let Records { text, meta, .. } = &mut self.records;
      self.hub.push(text, meta).await;
    }
  }

  /// Hands over what is batched, then waits while the request is paused.
  pub async fn flush_and_wait(&mut self) {
    self.hand_over().await;
    if !self.shared.is_detached() {
      // A stream() consumer or a relay's socket that fell behind holds the reader here; the
      // socket fills and TCP slows the server down.
      self.shared.wait_resumed().await;
    }
  }

  /// From now on the events go to `log` first; the LOG record tells JS that the log is open.
  pub async fn attach_log(&mut self, log: LogWriter, generation: &str) {
    self.log = Some(log);
    self.records.log(generation);
    self.hand_over().await;
  }

  /// A resumed reader's start: its log was found.
  pub async fn log_opened(&mut self, generation: &str) {
    self.records.log(generation);
    self.hand_over().await;
  }

  /// An entry read from a log, with the log's id.
  pub fn entry(&mut self, event: Option<&str>, data: &str, id: &str, terminal: Option<Terminal>) {
    match terminal {
      Some(terminal) => {
        let (event, data) = terminal_event(terminal, data);
        self.records.message(&Event {
          data: &data,
          event,
          id,
          retry: None,
        });
      }
      None => self.records.message(&Event {
        data,
        event: event.unwrap_or("message"),
        id,
        retry: None,
      }),
    }
  }

  /// The request is over: its last record. A resumable request writes its terminal entry first.
  pub async fn end(mut self, how: End) {
    // `accumulate`: the final message (a FINAL record before END), or the provider's error.
    if let Some(accumulator) = self.filter.accumulator.take() {
      match accumulator.finish() {
        Ok(json) => self.records.final_message(&json),
        Err(err) => return self.fail(&err.into(), 0).await,
      }
    }
    if let Some(mut log) = self.log.take() {
      let terminal = match how {
        End::Body => Terminal::End,
        End::DoneData => Terminal::Done,
      };
      log.finish(terminal, "", &mut self.records).await;
    }
    self.records.end(how);
    self.hand_over().await;
  }

  /// The final failure. A resumable request writes it to its log and, as the terminal `error`
  /// event, to its records (the FAIL record then says so: the JS side writes no event of its own).
  pub async fn fail(mut self, err: &Error, attempt: u32) {
    if let Some(mut log) = self.log.take() {
      let data =
        serde_json::json!({ "code": err.code.as_str(), "message": err.message }).to_string();
      log.finish(Terminal::Error, &data, &mut self.records).await;
      self.records.fail_in_band(err, attempt);
    } else {
      self.records.fail(err, attempt);
    }
    self.hand_over().await;
  }

  /// The store refused or failed: a final error with the store's code.
  pub async fn fail_store(mut self, err: &StoreError) {
    self.records.fail_code(err.code(), &err.to_string());
    self.hand_over().await;
  }

  /// A final error with a code of the binding's own (`NOT_FOUND` for an unknown generation).
  pub async fn fail_code(mut self, code: &str, message: &str) {
    self.records.fail_code(code, message);
    self.hand_over().await;
  }

  /// `stop(id)` ended a resumable request: the terminal `stopped` event, then a clean end.
  pub async fn stopped(mut self) {
    if let Some(mut log) = self.log.take() {
      log.finish(Terminal::Stopped, "", &mut self.records).await;
    }
    self.records.end(End::Body);
    self.hand_over().await;
  }

  /// The request was aborted from JS: a resumable one is marked stopped in its log, quietly.
  pub async fn aborted(mut self) {
    if let Some(mut log) = self.log.take() {
      log.finish_quietly(Terminal::Stopped).await;
    }
  }

  /// `snapshotEvery`: the snapshots the last event brought, after its own record.
  fn snapshots(&mut self) {
    for snapshot in self.filter.snapshots() {
      self.records.snapshot(&snapshot);
    }
  }

  pub fn id(&self) -> u32 {
    self.shared.id
  }

  pub fn is_detached(&self) -> bool {
    self.shared.is_detached()
  }

  pub fn stop_requested(&self) -> Option<tokio_util::sync::CancellationToken> {
    self.log.as_ref().map(LogWriter::stop_requested)
  }
}

impl sse_core::Sink for RecordSink {
  fn open(&mut self, status: u16, headers: &http::HeaderMap) {
    self.records.open(status, headers);
  }

  fn event(&mut self, event: Event<'_>) {
    let selected;
    let event = match self.filter.apply(event.event, event.data) {
      Filtered::Unchanged => event,
      Filtered::Dropped => return self.snapshots(),
      Filtered::Selected(value) => {
        selected = value;
        Event {
          data: selected.as_str(),
          ..event
        }
      }
    };
    match &mut self.log {
      Some(log) => log.push(&event),
      None => self.records.message(&event),
    }
    self.snapshots();
  }

  fn last_event_id(&mut self, id: &str) {
    // A resumable request's ids are the log's, not the upstream's.
    if self.log.is_none() {
      self.records.last_event_id(id);
    }
  }

  fn error(&mut self, err: &Error, attempt: u32) {
    self.records.error(err, attempt);
  }

  async fn flush(&mut self) {
    if let Some(log) = &mut self.log {
      log.flush(&mut self.records).await;
    }
    self.flush_and_wait().await;
  }
}
