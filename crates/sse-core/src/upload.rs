//! The request body as a stream of slices that records when each one was taken, so that a large
//! upload that keeps moving is progress for `timeout`. Sent whole, a body is one frame: hyper takes
//! it at once and the no-progress clock saw nothing until the response headers, so a 16 MiB upload
//! to a server reading at a few MB/s failed with TIMEOUT while it was moving all along. hyper takes
//! the next frame only when its write buffer has room, which follows the socket, which follows the
//! server's reading: a slice taken is a slice the connection accepted.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Instant;

/// Bodies up to this size are sent as one frame (no progress to track); larger ones in slices of it.
pub const SLICE: usize = 64 * 1024;

/// When a slice of the body was last taken, in microseconds since `start`; shared between the body
/// (owned by hyper) and the request waiting for response headers.
#[derive(Debug)]
pub struct Progress {
  start: Instant,
  last_micros: AtomicU64,
}

impl Progress {
  pub fn new() -> Arc<Progress> {
    Arc::new(Progress {
      start: Instant::now(),
      last_micros: AtomicU64::new(0),
    })
  }

  fn mark(&self) {
    let micros = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
    self.last_micros.store(micros, Ordering::Relaxed);
  }

  /// The last time a slice was taken (or the start).
  pub fn last(&self) -> Instant {
    self.start + std::time::Duration::from_micros(self.last_micros.load(Ordering::Relaxed))
  }
}

/// A body of known length (so `content-length` is sent, not chunked encoding) yielded in slices.
#[derive(Debug)]
pub struct SlicedBody {
  data: Bytes,
  progress: Arc<Progress>,
}

impl SlicedBody {
  pub fn new(data: Bytes, progress: Arc<Progress>) -> SlicedBody {
    SlicedBody { data, progress }
  }
}

impl Body for SlicedBody {
  type Data = Bytes;
  type Error = std::convert::Infallible;

  fn poll_frame(
    mut self: Pin<&mut Self>,
    _cx: &mut Context<'_>,
  ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
    if self.data.is_empty() {
      return Poll::Ready(None);
    }
    let n = self.data.len().min(SLICE);
    let slice = self.data.split_to(n);
    self.progress.mark();
    Poll::Ready(Some(Ok(Frame::data(slice))))
  }

  fn is_end_stream(&self) -> bool {
    self.data.is_empty()
  }

  fn size_hint(&self) -> SizeHint {
    SizeHint::with_exact(self.data.len() as u64)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use http_body_util::BodyExt;

  #[tokio::test]
  async fn slices_add_up_to_the_body_and_mark_progress() {
    let data = Bytes::from(vec![7u8; SLICE * 2 + 5]);
    let progress = Progress::new();
    let before = progress.last();
    let mut body = SlicedBody::new(data.clone(), progress.clone());
    assert_eq!(body.size_hint().exact(), Some(data.len() as u64));
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    while let Some(frame) = body.frame().await {
      let chunk = frame.unwrap().into_data().unwrap();
      sizes.push(chunk.len());
      all.extend_from_slice(&chunk);
    }
    assert_eq!(sizes, [SLICE, SLICE, 5]);
    assert_eq!(all, data);
    assert!(progress.last() >= before);
  }
}
