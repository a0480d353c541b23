//! The core's `Sink` for one request of the binding: what the request's task reports becomes
//! records (src/records.rs), handed to the environment's hub (src/delivery.rs) at the end of each
//! network read; a paused request waits there, which stops reading its socket.

use std::sync::Arc;

use sse_core::{Error, Event};

use crate::delivery::Hub;
use crate::handle::RequestShared;
use crate::records::{End, Mode, Records};

/// The core's `Sink` for one request: encodes what happens into records and hands them to the hub
/// at each flush (the end of one network read).
pub struct RecordSink {
  hub: Arc<Hub>,
  shared: Arc<RequestShared>,
  records: Records,
}

impl RecordSink {
  pub fn new(hub: Arc<Hub>, shared: Arc<RequestShared>, mode: Mode) -> RecordSink {
    RecordSink {
      records: Records::new(shared.id, mode),
      hub,
      shared,
    }
  }

  async fn hand_over(&mut self) {
    self.records.flush_text();
    if !self.records.meta.is_empty() {
      let Records { text, meta, .. } = &mut self.records;
      self.hub.push(text, meta).await;
    }
  }

  /// The request is over: its last record.
  pub async fn end(mut self, how: End) {
    self.records.end(how);
    self.hand_over().await;
  }

  pub async fn fail(mut self, err: &Error, attempt: u32) {
    self.records.fail(err, attempt);
    self.hand_over().await;
  }
}

impl sse_core::Sink for RecordSink {
  fn open(&mut self, status: u16, headers: &http::HeaderMap) {
    self.records.open(status, headers);
  }

  fn event(&mut self, event: Event<'_>) -> Result<(), Error> {
    self.records.message(&event)
  }

  fn last_event_id(&mut self, id: &str) {
    self.records.last_event_id(id);
  }

  fn error(&mut self, err: &Error, attempt: u32) {
    self.records.error(err, attempt);
  }

  async fn flush(&mut self) {
    self.hand_over().await;
    // A stream() consumer that fell behind holds the reader here; the socket fills and TCP slows
    // the server down.
    self.shared.wait_resumed().await;
  }
}
