//! A resumed reader: the entries of a generation's log after a Last-Event-ID, then the live ones,
//! as records of a request that has no upstream of its own. Back-pressure is the same as a
//! request's: a paused reader stops reading the log (the log, not this process, holds what it has
//! not read yet, so a slow reader never holds back the producer or the other readers).

use std::time::Duration;

use crate::records::End;
use crate::sink::RecordSink;
use crate::store::LogStore;

/// Entries per store call at most; a batch is handed to JS in one go. The store also stops a batch
/// at about 1 MiB of event data (`sse_store::BATCH_BYTES`), so large events never make a batch of
/// 256 of them.
const BATCH: usize = 256;
/// Entries of the first store call: a smaller first batch reaches the browser sooner, and the
/// replay's writes start while the next batch is read (`node bench/resume.mjs`, 2,000-event log on
/// Redis, quiet, 2026-12-06 08:18-08:21 UTC, two runs each: one resume at a time, first byte p50
/// 1.08-1.39 ms against 2.38-2.56 with 256 first, last byte 5.1-6.5 against 6.4-7.0; ten at a time
/// 11.8-12.1 against 19.8-20.5 ms, last byte 35.7-37.1 against 48.4-49.7 ms; 1,024 per call was
/// slower in both).
const FIRST_BATCH: usize = 64;
/// How long one blocking read waits before it is repeated (the store checks the producer's lease
/// in between on its own).
const WAIT: Duration = Duration::from_secs(10);

pub async fn follow(
  store: &LogStore,
  generation: String,
  after: Option<String>,
  mut sink: RecordSink,
) {
  let store = match store.get().await {
    Ok(store) => store,
    Err(err) => return sink.fail_store(&err).await,
  };
  let mut reader = match store.reader(&generation, after).await {
    Ok(Some(reader)) => reader,
    Ok(None) => {
      let message = format!("no generation {generation:?} in the store (unknown, or expired)");
      return sink.fail_code("NOT_FOUND", &message).await;
    }
    Err(err) => return sink.fail_store(&err).await,
  };
  // A look without waiting first: a browser that saw the terminal event and reconnects anyway
  // (EventSource does after every end) is told there is nothing left, before any header (the
  // relay answers 204, which makes EventSource stop reconnecting).
  let mut batch = match reader.next_batch(FIRST_BATCH, Duration::ZERO).await {
    Ok(batch) => batch,
    Err(err) => return sink.fail_store(&err).await,
  };
  if batch.entries.is_empty() && batch.finished {
    let message = format!("generation {generation:?} has ended and has nothing after this id");
    return sink.fail_code("FINISHED", &message).await;
  }
  sink.log_opened(&generation).await;
  let mut first = true;
  loop {
    if !first {
      batch = match reader.next_batch(BATCH, WAIT).await {
        Ok(batch) => batch,
        Err(err) => return sink.fail_store(&err).await,
      };
    }
    first = false;
    for entry in &batch.entries {
      let event = entry.event.as_deref();
      if let Err(err) = sink.entry(event, &entry.data, &entry.id, entry.terminal) {
        // An entry too large to hand to JS as one string (a TEXT record past V8's limit).
        return sink.fail(&err, 0).await;
      }
    }
    if batch.finished {
      return sink.end(End::Body).await;
    }
    sink.flush_and_wait().await;
  }
}
