//! The tokio runtime that runs every request of the process, off the JS thread.

use std::sync::LazyLock;

use tokio::runtime::{Builder, Runtime};

/// Two worker threads by default: the work is network I/O and parsing, and an SSR server's JS
/// thread needs the rest of a small machine. `NATIVE_SSE_WORKER_THREADS` (1-64), read once when the
/// first request starts, sets another count.
static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
  Builder::new_multi_thread()
    .worker_threads(worker_threads(
      std::env::var("NATIVE_SSE_WORKER_THREADS").ok().as_deref(),
    ))
    .thread_name("native-sse")
    .enable_all()
    .build()
    .unwrap_or_else(|e| panic!("native-sse cannot start its tokio runtime: {e}"))
});

/// The worker count for a value of `NATIVE_SSE_WORKER_THREADS`: 2 when unset or not a number in 1-64.
fn worker_threads(value: Option<&str>) -> usize {
  value
    .and_then(|v| v.trim().parse::<usize>().ok())
    .filter(|n| (1..=64).contains(n))
    .unwrap_or(2)
}

pub fn spawn<F>(future: F)
where
  F: std::future::Future<Output = ()> + Send + 'static,
{
  RUNTIME.spawn(future);
}

#[cfg(test)]
mod tests {
  use super::worker_threads;

  #[test]
  fn worker_threads_from_the_environment() {
    assert_eq!(worker_threads(None), 2);
    assert_eq!(worker_threads(Some("1")), 1);
    assert_eq!(worker_threads(Some(" 4 ")), 4);
    assert_eq!(worker_threads(Some("0")), 2);
    assert_eq!(worker_threads(Some("65")), 2);
    assert_eq!(worker_threads(Some("two")), 2);
  }
}
