#![deny(clippy::all)]
//! The durable per-generation event log behind resumable relays.
//!
//! A relay that streams an upstream (an AI generation) to a browser appends each event to the
//! log of that generation. A browser that reconnects, maybe to another process behind a load
//! balancer, sends its Last-Event-ID; a [`Reader`] replays the entries after it and then
//! follows the log live until its terminal entry. Two backends behave the same:
//! [`Store::memory`] (one process) and [`Store::redis`] (Redis Streams, shared by processes).
//!
//! # Guarantees
//!
//! - One producer per generation. [`Store::begin`] fails with `GENERATION_EXISTS` while a log of
//!   that id exists (live, or finished and not yet expired). The producer holds a lease that it
//!   renews every `lease / 3` ([`Producer::spawn_keepalive`]). Every write checks the lease's
//!   epoch in the same atomic step, so a producer whose lease lapsed gets `STORE_FENCED` and
//!   writes nothing, even if it wakes up after a long pause.
//! - Ids are `<ms>-<seq>` and strictly increasing; a reader returns exactly the entries after its
//!   cursor, in order, with none skipped: if trimming (`max_len`, or `max_bytes` in memory)
//!   removed some of them the reader fails with `RESUME_GAP` instead.
//! - Every log ends with exactly one terminal entry ([`Terminal`]). If the producer dies, a
//!   reader waiting on the log notices the lapsed lease within `lease` + 1 s and appends an
//!   `interrupted` entry for it.
//! - A finished log stays readable for `ttl`, then expires. While live, keys expire after
//!   `ttl + lease` without renewals, so nothing outlives a crashed process for good.
//! - [`Store::stop`] reaches the producing process within milliseconds over pub/sub (Redis) or
//!   directly (memory), and within `lease / 3` through the renew loop if pub/sub is down.
//!
//! # Redis key layout
//!
//! Every key of a generation shares the hash tag `{<id>}`, so one script may touch them all on
//! Redis Cluster or Valkey ("all the keys ... must hash to the same slot", cluster spec):
//!
//! | key | type | content |
//! | --- | --- | --- |
//! | `{prefix}{<id>}:log` | stream | fields `e` (event name, when set), `d` (data), `t` (terminal kind, last entry only) |
//! | `{prefix}{<id>}:meta` | hash | `epoch`, `state` (`live`/`done`), `stop` (`0`/`1`), `trimmed` (newest removed id) |
//! | `{prefix}{<id>}:lease` | string | the producer's epoch, with a PX expiry of `lease` |
//!
//! Stop requests are published on `{prefix}stop` with the id as the message.
//!
//! # Why this is atomic
//!
//! Each operation is one Lua script (`scripts.rs`), sent with EVALSHA. Redis's "Scripting with
//! Lua" page: "Redis guarantees the script's atomic execution. While executing the script, all
//! server activities are blocked during its entire runtime." So the lease check and the writes
//! after it cannot interleave with another producer, a reader closing the log, or `stop`. The
//! command pages relied on besides:
//! - XADD: with `*`, "the first part is the Unix time in milliseconds of the Redis instance
//!   generating the ID. The second part is just a sequence number and is used in order to
//!   distinguish IDs generated in the same millisecond"; a new id is never below the stream's
//!   last one, so ids order the log.
//! - XTRIM: it "trims the stream by evicting older entries (entries with lower IDs)", exactly
//!   unless `~` is given. The removed entries are thus the first ones XRANGE returns, which is
//!   how the scripts record `trimmed`.
//! - XREAD: it returns "only entries with an ID greater than the last received ID reported by the
//!   caller", and BLOCK waits for such entries up to a timeout. A blocked command occupies its
//!   connection, which is why each reader has a connection of its own.
//! - EXPIRE/PEXPIRE: "After the timeout has expired, the key will automatically be deleted". A
//!   lease is a key SET with PX: it lapses without anyone running.
//!
//! The client is the redis crate's standalone client; the layout is ready for a cluster client
//! (every script names its keys in KEYS, all in one slot), but none is wired up yet.
//!
//! # Example
//!
//! ```
//! use sse_store::{Store, StoreConfig, Terminal};
//! use std::time::Duration;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = Store::memory(StoreConfig::default())?;
//! let producer = store.begin("gen-1").await?;
//! let _keepalive = producer.spawn_keepalive();
//! let ids = producer.append(&[(None, "hello"), (Some("usage"), "{}")]).await?;
//! producer.finish(Terminal::End, "").await?;
//!
//! // A browser that saw the first event resumes after it.
//! let mut reader = store.reader("gen-1", Some(ids[0].clone())).await?.expect("known id");
//! let batch = reader.next_batch(100, Duration::from_secs(1)).await?;
//! assert_eq!(batch.entries[0].data, "{}");
//! assert!(batch.finished);
//! # Ok::<(), sse_store::StoreError>(())
//! # }).unwrap();
//! ```

mod error;
mod memory;
mod model;
mod redis_store;
mod scripts;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

pub use error::{redact_url, Result, StoreError};
pub use model::{validate_id, Batch, Entry, Renewal, StoreConfig, Terminal};

use memory::MemoryStore;
use model::{parse_cursor, LogId};
use redis_store::{RedisReader, RedisStore};

/// A handle on a store; cheap to clone and shareable across tokio tasks.
#[derive(Clone)]
pub struct Store {
  backend: Backend,
}

#[derive(Clone)]
enum Backend {
  Memory(Arc<MemoryStore>),
  Redis(Arc<RedisStore>),
}

impl Store {
  /// An in-process store: logs live in this process's memory, bounded by `max_len` entries and
  /// `max_bytes` bytes per log.
  pub fn memory(config: StoreConfig) -> Result<Store> {
    config.validate()?;
    Ok(Store {
      backend: Backend::Memory(Arc::new(MemoryStore::new(config))),
    })
  }

  /// Connects to Redis at `url` (`redis://[user:password@]host[:port][/db]`, or `rediss://` for
  /// TLS). Fails with `INVALID_OPTIONS` for a bad URL and `STORE` when the server cannot be
  /// reached; neither message holds the password.
  pub async fn redis(url: &str, config: StoreConfig) -> Result<Store> {
    config.validate()?;
    let store = RedisStore::connect(url, config).await?;
    Ok(Store {
      backend: Backend::Redis(Arc::new(store)),
    })
  }

  /// The limits this store was built with.
  pub fn config(&self) -> &StoreConfig {
    match &self.backend {
      Backend::Memory(store) => store.config(),
      Backend::Redis(store) => store.config(),
    }
  }

  /// Creates the log of generation `id` and returns its only producer.
  pub async fn begin(&self, id: &str) -> Result<Producer> {
    validate_id(id)?;
    let signals = Arc::new(Signals::default());
    let (backend, epoch) = match &self.backend {
      Backend::Memory(store) => {
        let epoch = store.begin(id, signals.stop.clone())?;
        (ProducerBackend::Memory(store.clone()), epoch)
      }
      Backend::Redis(store) => {
        let epoch = store.begin(id, signals.stop.clone()).await?;
        (ProducerBackend::Redis(store.clone()), epoch)
      }
    };
    Ok(Producer {
      inner: Arc::new(ProducerInner {
        backend,
        id: id.to_string(),
        epoch,
        signals,
      }),
    })
  }

  /// Asks the producer of `id` to stop. `false` when the generation is unknown or finished.
  pub async fn stop(&self, id: &str) -> Result<bool> {
    validate_id(id)?;
    match &self.backend {
      Backend::Memory(store) => store.stop(id),
      Backend::Redis(store) => store.stop(id).await,
    }
  }

  /// A reader of `id` that returns the entries after `after` (a Last-Event-ID), or from the
  /// start. `None` for an unknown or expired id; `RESUME_GAP` when entries after `after` were
  /// trimmed.
  pub async fn reader(&self, id: &str, after: Option<String>) -> Result<Option<Reader>> {
    validate_id(id)?;
    let cursor = parse_cursor(after)?;
    let inner = match &self.backend {
      Backend::Memory(store) => {
        if !store.check_reader(id, cursor)? {
          return Ok(None);
        }
        ReaderBackend::Memory {
          store: store.clone(),
          id: id.to_string(),
          cursor,
        }
      }
      Backend::Redis(store) => match RedisReader::open(store.clone(), id, cursor).await? {
        Some(reader) => ReaderBackend::Redis(Box::new(reader)),
        None => return Ok(None),
      },
    };
    Ok(Some(Reader {
      max_bytes: BATCH_BYTES,
      inner,
      finished: false,
    }))
  }

  /// Closes every connection (the command connection, the stop listener, every reader's own
  /// connection); every later call, on this handle or its clones, producers and readers, fails
  /// with `STORE_CLOSED`, and readers waiting in `next_batch` return it at once. Producers are
  /// not finished: their leases lapse, and readers elsewhere report them interrupted.
  pub async fn close(&self) {
    match &self.backend {
      Backend::Memory(store) => store.close(),
      Backend::Redis(store) => store.close(),
    }
  }
}

impl std::fmt::Debug for Store {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let kind = match &self.backend {
      Backend::Memory(_) => "memory",
      Backend::Redis(_) => "redis",
    };
    f.debug_struct("Store").field("backend", &kind).finish()
  }
}

/// What a producer learns from outside: a stop request, a lost lease, its own finish.
#[derive(Default)]
struct Signals {
  stop: CancellationToken,
  lost: CancellationToken,
  done: CancellationToken,
}

/// The one writer of a generation's log. Clones share the lease; when the last clone is dropped
/// without [`Producer::finish`], renewals stop and the lease lapses, which readers report as
/// [`Terminal::Interrupted`].
#[derive(Clone)]
pub struct Producer {
  inner: Arc<ProducerInner>,
}

enum ProducerBackend {
  Memory(Arc<MemoryStore>),
  Redis(Arc<RedisStore>),
}

struct ProducerInner {
  backend: ProducerBackend,
  id: String,
  epoch: u64,
  signals: Arc<Signals>,
}

impl Drop for ProducerInner {
  fn drop(&mut self) {
    if let ProducerBackend::Redis(store) = &self.backend {
      store.forget_producer(&self.id, self.epoch);
    }
  }
}

impl Producer {
  /// The generation id.
  pub fn id(&self) -> &str {
    &self.inner.id
  }

  /// Appends a batch of `(event name, data)` in one atomic step (one EVALSHA on Redis) and
  /// returns the new ids in order. `STORE_FENCED` when the lease is no longer this producer's;
  /// then nothing was written.
  pub async fn append(&self, events: &[(Option<&str>, &str)]) -> Result<Vec<String>> {
    let inner = &self.inner;
    match &inner.backend {
      ProducerBackend::Memory(store) => store.append(&inner.id, inner.epoch, events),
      ProducerBackend::Redis(store) => store.append(&inner.id, inner.epoch, events).await,
    }
  }

  /// Extends the lease and reports whether `stop(id)` was called (then
  /// [`Producer::stop_requested`] fires too).
  pub async fn renew(&self) -> Result<Renewal> {
    let inner = &self.inner;
    let renewal = match &inner.backend {
      ProducerBackend::Memory(store) => store.renew(&inner.id, inner.epoch),
      ProducerBackend::Redis(store) => store.renew(&inner.id, inner.epoch).await,
    }?;
    if renewal == Renewal::StopRequested {
      inner.signals.stop.cancel();
    }
    Ok(renewal)
  }

  /// Appends the terminal entry, marks the log finished and starts its `ttl`. Returns its id.
  pub async fn finish(&self, terminal: Terminal, data: &str) -> Result<String> {
    let inner = &self.inner;
    let id = match &inner.backend {
      ProducerBackend::Memory(store) => store.finish(&inner.id, inner.epoch, terminal, data),
      ProducerBackend::Redis(store) => store.finish(&inner.id, inner.epoch, terminal, data).await,
    }?;
    inner.signals.done.cancel();
    Ok(id)
  }

  /// Fires when `stop(id)` was called, from any process sharing the store.
  pub fn stop_requested(&self) -> CancellationToken {
    self.inner.signals.stop.clone()
  }

  /// Fires when the keepalive found the lease taken or lapsed: stop producing, writes would be
  /// fenced.
  pub fn lease_lost(&self) -> CancellationToken {
    self.inner.signals.lost.clone()
  }

  /// Renews the lease every `lease / 3` on the current tokio runtime until [`Producer::finish`],
  /// the lease is lost, or the returned guard is dropped. A stop request fires
  /// [`Producer::stop_requested`]; a fenced renewal, or failures for a whole lease, fire
  /// [`Producer::lease_lost`].
  pub fn spawn_keepalive(&self) -> Keepalive {
    let producer = self.clone();
    let lease = match &self.inner.backend {
      ProducerBackend::Memory(store) => store.config().lease,
      ProducerBackend::Redis(store) => store.config().lease,
    };
    let task = tokio::spawn(async move {
      let signals = producer.inner.signals.clone();
      let mut renewed_at = Instant::now();
      loop {
        tokio::select! {
          _ = signals.done.cancelled() => return,
          _ = tokio::time::sleep(lease / 3) => {}
        }
        match producer.renew().await {
          Ok(_) => renewed_at = Instant::now(),
          Err(StoreError::Fenced | StoreError::Closed) => break,
          // A store outage shorter than the lease is ridden out: the lease is still ours.
          Err(_) if renewed_at.elapsed() < lease => {}
          Err(_) => break,
        }
      }
      if !signals.done.is_cancelled() {
        signals.lost.cancel();
      }
    });
    Keepalive { task }
  }
}

impl std::fmt::Debug for Producer {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Producer")
      .field("id", &self.inner.id)
      .field("epoch", &self.inner.epoch)
      .finish()
  }
}

/// Guard of the renew loop started by [`Producer::spawn_keepalive`]; dropping it stops renewing.
pub struct Keepalive {
  task: tokio::task::JoinHandle<()>,
}

impl Drop for Keepalive {
  fn drop(&mut self) {
    self.task.abort();
  }
}

/// Reads one generation's log from a cursor on: replay first, then live entries.
pub struct Reader {
  inner: ReaderBackend,
  finished: bool,
  max_bytes: usize,
}

/// The default bound of one batch in bytes of event data (see [`Reader::with_max_bytes`]).
pub const BATCH_BYTES: usize = 1 << 20;

enum ReaderBackend {
  Memory {
    store: Arc<MemoryStore>,
    id: String,
    cursor: Option<LogId>,
  },
  Redis(Box<RedisReader>),
}

impl std::fmt::Debug for Reader {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Reader")
      .field("finished", &self.finished)
      .finish_non_exhaustive()
  }
}

impl Reader {
  /// Up to `max_entries` entries after the cursor, waiting up to `max_wait` for the first one.
  /// An empty, unfinished batch means `max_wait` passed. After the terminal entry every call
  /// returns an empty, finished batch.
  /// Bounds each batch to about `max_bytes` of event data: a batch stops after the entry that
  /// reaches it (so it always holds at least one entry, however large). Default [`BATCH_BYTES`].
  pub fn with_max_bytes(mut self, max_bytes: usize) -> Reader {
    self.max_bytes = max_bytes.max(1);
    self
  }

  pub async fn next_batch(&mut self, max_entries: usize, max_wait: Duration) -> Result<Batch> {
    let max_bytes = self.max_bytes;
    if self.finished {
      return Ok(Batch {
        entries: Vec::new(),
        finished: true,
      });
    }
    let batch = match &mut self.inner {
      ReaderBackend::Memory { store, id, cursor } => {
        let batch = store
          .next_batch(id, *cursor, max_entries, max_bytes, max_wait)
          .await?;
        if let Some(last) = batch.entries.last() {
          *cursor = LogId::parse(&last.id).or(*cursor);
        }
        batch
      }
      ReaderBackend::Redis(reader) => reader.next_batch(max_entries, max_bytes, max_wait).await?,
    };
    self.finished = batch.finished;
    Ok(batch)
  }

  /// True once the terminal entry was returned.
  pub fn is_finished(&self) -> bool {
    self.finished
  }
}
