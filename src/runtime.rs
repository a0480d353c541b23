//! The tokio runtime that runs every request of the process, off the JS thread.

use std::sync::LazyLock;

use tokio::runtime::{Builder, Runtime};

/// Two worker threads: the work is network I/O and parsing, and an SSR server's JS thread needs the
/// rest of a small machine.
static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
  Builder::new_multi_thread()
    .worker_threads(2)
    .thread_name("native-sse")
    .enable_all()
    .build()
    .unwrap_or_else(|e| panic!("native-sse cannot start its tokio runtime: {e}"))
});

pub fn spawn<F>(future: F)
where
  F: std::future::Future<Output = ()> + Send + 'static,
{
  RUNTIME.spawn(future);
}
