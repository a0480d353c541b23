//! The core's `Sink` for one request of the binding: what the request's task reports becomes
//! records (src/records.rs), handed to the environment's hub (src/delivery.rs) at the end of each
//! network read; a paused request waits there, which stops reading its socket. A resumable request
//! appends each read's events to its log first (src/log.rs). A request whose JS side went away (a
//! resumable relay whose browser left) keeps running and hands nothing over.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sse_core::{Error, Event};
use sse_store::{StoreError, Terminal};

use crate::context::ClientContext;
use crate::delivery::Hub;
use crate::handle::RequestShared;
use crate::log::{terminal_event, LogWriter};
use crate::records::{End, Mode, Records};
use crate::select::{EventFilter, Filtered};
use crate::stats::Stats;

/// What one network read may gather before it is handed over although nothing waits. A plain read
/// is at most hyper's buffer (about 400 KiB), so it gathers whole; a compressed one can decode to
/// far more (64 MiB of events, brotli'd to 115 bytes, arrived in one delivery without this).
const GATHER: usize = 1 << 20;

/// The core's `Sink` for one request: encodes what happens into records and hands them to the hub
/// at each flush (the end of one network read).
pub struct RecordSink {
  hub: Arc<Hub>,
  shared: Arc<RequestShared>,
  records: Records,
  log: Option<LogWriter>,
  context: Arc<ClientContext>,
  /// Events and body bytes since the last hand-over, published then (once per read).
  events: u64,
  bytes: u64,
  /// Counted in the client's open requests until `close_stats` (or the drop of an aborted one).
  counted_open: bool,
  /// `select` and `accumulate` (src/select.rs), applied to each event before it goes anywhere.
  filter: EventFilter,
  /// `coalesce`: how long the records of a read may wait for the next delivery (src/delivery.rs).
  hold: Option<Duration>,
}

impl RecordSink {
  pub fn new(
    hub: Arc<Hub>,
    shared: Arc<RequestShared>,
    mode: Mode,
    context: Arc<ClientContext>,
  ) -> RecordSink {
    context.stats.started();
    RecordSink {
      records: Records::new(shared.id, mode),
      hub,
      shared,
      log: None,
      context,
      events: 0,
      bytes: 0,
      counted_open: true,
      filter: EventFilter::default(),
      hold: None,
    }
  }

  /// `coalesce`: the records of each read may wait this long for a delivery; the last never waits.
  pub fn set_hold(&mut self, hold: Option<Duration>) {
    self.hold = hold;
  }

  pub fn set_filter(&mut self, filter: EventFilter) {
    self.filter = filter;
  }

  /// The request is no longer open: said before its last record is handed over, so that
  /// `stats()` read after `done` settles never counts it as open.
  fn close_stats(&mut self) {
    if self.counted_open {
      self.counted_open = false;
      self.stats().ended();
    }
  }

  fn stats(&self) -> &Stats {
    &self.context.stats
  }

  /// Adds this read's events and bytes to the request's counters and the client's, before the
  /// records that carry them reach JS (an END record finds the totals complete).
  fn publish(&mut self) {
    if self.events == 0 && self.bytes == 0 {
      return;
    }
    let (events, bytes) = (self.events, self.bytes);
    self.events = 0;
    self.bytes = 0;
    self.shared.events.fetch_add(events, Ordering::Relaxed);
    self.shared.bytes.fetch_add(bytes, Ordering::Relaxed);
    self.stats().delivered(events, bytes);
  }

  /// Hands over the records so far; `hold`: they may wait that long to be delivered; `more`: the
  /// rest of the same network read follows at once (see `Hub::push`).
  async fn hand_over_within(&mut self, hold: Option<Duration>, more: bool) {
    self.publish();
    if self.shared.is_detached() {
      self.records.clear();
      return;
    }
    self.records.flush_text();
    if !self.records.meta.is_empty() {
      let Records { text, meta, .. } = &mut self.records;
      self.hub.push(text, meta, hold, more).await;
    }
  }

  /// Hands over the records so far, to be delivered at once.
  async fn hand_over(&mut self) {
    self.hand_over_within(None, false).await;
  }

  /// Hands over what is batched, then waits while the request is paused.
  pub async fn flush_and_wait(&mut self) {
    self.flush_and_wait_more(false).await;
  }

  async fn flush_and_wait_more(&mut self, more: bool) {
    self.hand_over_within(self.hold, more).await;
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
  pub fn entry(
    &mut self,
    event: Option<&str>,
    data: &str,
    id: &str,
    terminal: Option<Terminal>,
  ) -> Result<(), Error> {
    self.events += 1;
    match terminal {
      Some(terminal) => {
        let (event, data) = terminal_event(terminal, data);
        self.records.message(&Event {
          data: &data,
          event,
          id,
          retry: None,
        })
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
    self.close_stats();
    self.hand_over().await;
  }

  /// The final failure. A resumable request writes it to its log and, as the terminal `error`
  /// event, to its records (the FAIL record then says so: the JS side writes no event of its own).
  pub async fn fail(mut self, err: &Error, attempt: u32) {
    self.stats().error(err.code.as_str(), false);
    if let Some(mut log) = self.log.take() {
      let data =
        serde_json::json!({ "code": err.code.as_str(), "message": err.message }).to_string();
      log.finish(Terminal::Error, &data, &mut self.records).await;
      self.records.fail_in_band(err, attempt);
    } else {
      self.records.fail(err, attempt);
    }
    self.close_stats();
    self.hand_over().await;
  }

  /// The store refused or failed: a final error with the store's code.
  pub async fn fail_store(mut self, err: &StoreError) {
    self.stats().error(err.code(), false);
    self.records.fail_code(err.code(), &err.to_string());
    self.close_stats();
    self.hand_over().await;
  }

  /// A final error with a code of the binding's own (`NOT_FOUND` for an unknown generation).
  pub async fn fail_code(mut self, code: &str, message: &str) {
    self.stats().error(code, false);
    self.records.fail_code(code, message);
    self.close_stats();
    self.hand_over().await;
  }

  /// `stop(id)` ended a resumable request: the terminal `stopped` event, then a clean end.
  pub async fn stopped(mut self) {
    if let Some(mut log) = self.log.take() {
      log.finish(Terminal::Stopped, "", &mut self.records).await;
    }
    self.records.end(End::Body);
    self.close_stats();
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
  fn open(&mut self, status: u16, version: http::Version, headers: &http::HeaderMap) {
    self
      .shared
      .version
      .store(version_code(version), Ordering::Relaxed);
    self.records.open(status, headers);
  }

  fn received(&mut self, bytes: usize) {
    self.bytes += bytes as u64;
  }

  fn event(&mut self, event: Event<'_>) -> Result<(), Error> {
    let selected;
    let event = match self.filter.apply(event.event, event.data) {
      Filtered::Unchanged => event,
      Filtered::Dropped => {
        self.snapshots();
        return Ok(());
      }
      Filtered::Fields(values) => {
        // One message per name found, each counted as delivered.
        self.events += values.len() as u64;
        for (index, value) in &values {
          let named = Event {
            data: value.as_str(),
            event: self.filter.field_name(*index),
            ..event
          };
          put(&mut self.records, &mut self.log, &named)?;
        }
        self.snapshots();
        return Ok(());
      }
      Filtered::Selected(value) => {
        selected = value;
        Event {
          data: selected.as_str(),
          ..event
        }
      }
    };
    // Counted as delivered: what `select` dropped is not.
    self.events += 1;
    put(&mut self.records, &mut self.log, &event)?;
    self.snapshots();
    Ok(())
  }

  fn last_event_id(&mut self, id: &str) {
    // A resumable request's ids are the log's, not the upstream's.
    if self.log.is_none() {
      self.records.last_event_id(id);
    }
  }

  fn error(&mut self, err: &Error, attempt: u32, delay: Duration) {
    self.stats().error(err.code.as_str(), true);
    self.records.error(err, attempt, Some(delay));
  }

  async fn flush(&mut self) {
    if let Some(log) = &mut self.log {
      log.flush(&mut self.records).await;
    }
    self.flush_and_wait().await;
  }

  /// Only when the next flush would wait (the hub at its cap, or a consumer holding the request),
  /// or once the read's events gathered [`GATHER`] bytes: otherwise they keep gathering, and JS
  /// wakes once per read.
  async fn flush_piece(&mut self) {
    let gathered = self.records.gathered() + self.log.as_ref().map_or(0, LogWriter::pending_bytes);
    if !self.hub.is_full() && !self.shared.is_paused() && gathered < GATHER {
      return;
    }
    if let Some(log) = &mut self.log {
      log.flush(&mut self.records).await;
    }
    self.flush_and_wait_more(true).await;
  }
}

impl Drop for RecordSink {
  /// However the request ended (its last record, an abort that dropped its task), it is no longer
  /// open; counts not handed over yet (an aborted read) still add up.
  fn drop(&mut self) {
    self.publish();
    self.close_stats();
  }
}

/// One event to its records, or to the log first (a resumable request).
fn put(records: &mut Records, log: &mut Option<LogWriter>, event: &Event<'_>) -> Result<(), Error> {
  match log {
    Some(log) => {
      records.check_size(event)?;
      log.push(event);
    }
    None => records.message(event)?,
  }
  Ok(())
}

/// The HTTP version as `progress(id)` reports it: 10 for HTTP/1.0, 11, 20, 30; 9 for 0.9, 0 unknown.
fn version_code(version: http::Version) -> u8 {
  match version {
    http::Version::HTTP_09 => 9,
    http::Version::HTTP_10 => 10,
    http::Version::HTTP_11 => 11,
    http::Version::HTTP_2 => 20,
    http::Version::HTTP_3 => 30,
    _ => 0,
  }
}
