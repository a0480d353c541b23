//! The Redis Streams backend. Writes go through one `ConnectionManager` per store (it
//! reconnects after a server restart); each reader blocks in XREAD on a connection of its own
//! (a blocked command would stall every other command queued on a shared multiplexed
//! connection); stop requests arrive on one pub/sub connection per store.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, IntoConnectionInfo, RedisError, Value};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::error::{redact_url, scrub, Result, StoreError};
use crate::memory::expired_gap;
use crate::model::{gap_between, Batch, Entry, LogId, Renewal, StoreConfig, Terminal};
use crate::scripts::Scripts;

/// Local producers by generation id, then epoch: where a stop message is dispatched.
type Producers = Arc<Mutex<HashMap<String, HashMap<u64, CancellationToken>>>>;

/// A reader's own connection, reachable from the store so that `close` can drop it even while
/// the reader sits idle between batches.
type ConnectionSlot = Arc<Mutex<Option<MultiplexedConnection>>>;

pub(crate) struct RedisStore {
  config: StoreConfig,
  client: redis::Client,
  manager: Mutex<Option<ConnectionManager>>,
  secrets: Vec<String>,
  closed: CancellationToken,
  producers: Producers,
  listener_started: AtomicBool,
  subscribed: watch::Sender<bool>,
  reader_connections: Mutex<Vec<Weak<Mutex<Option<MultiplexedConnection>>>>>,
  scripts: Scripts,
}

/// What the read script saw, atomically.
struct Snapshot {
  trimmed: Option<LogId>,
  entries: Vec<Entry>,
  live: bool,
}

pub(crate) struct Keys {
  log: String,
  meta: String,
  lease: String,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
  // Nothing panics while these locks are held; a poisoned lock still holds consistent data.
  mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn millis(duration: Duration) -> u64 {
  duration.as_millis().try_into().unwrap_or(u64::MAX).max(1)
}

/// The password as written in the URL (maybe percent-encoded), found without a URL parser so
/// that even a URL the redis crate rejects is scrubbed from its error.
fn url_password(url: &str) -> Option<String> {
  let rest = &url[url.find("://")? + 3..];
  let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
  let userinfo = &authority[..authority.rfind('@')?];
  let (_, password) = userinfo.split_once(':')?;
  (!password.is_empty()).then(|| password.to_string())
}

impl RedisStore {
  pub(crate) async fn connect(url: &str, config: StoreConfig) -> Result<Self> {
    let mut secrets: Vec<String> = url_password(url).into_iter().collect();
    let invalid = |error: RedisError, secrets: &[String]| {
      let mut message = error.to_string();
      for secret in secrets {
        message = scrub(message, Some(secret));
      }
      StoreError::InvalidOptions(format!("invalid store URL {}: {message}", redact_url(url)))
    };
    let info = url
      .into_connection_info()
      .map_err(|e| invalid(e, &secrets))?;
    if let Some(password) = info.redis_settings().password() {
      if !secrets.iter().any(|s| s == password) {
        secrets.push(password.to_string());
      }
    }
    let client = match &config.ca {
      None => redis::Client::open(info),
      Some(ca) => redis::Client::build_with_tls(
        info,
        redis::TlsCertificates {
          client_tls: None,
          root_cert: Some(ca.clone()),
        },
      ),
    }
    .map_err(|e| invalid(e, &secrets))?;
    let manager_config = ConnectionManagerConfig::new()
      .set_connection_timeout(Some(config.command_timeout))
      .set_response_timeout(Some(config.command_timeout))
      .set_number_of_retries(3)
      .set_max_delay(Duration::from_millis(500));
    let (subscribed, _) = watch::channel(false);
    let mut store = RedisStore {
      config,
      client: client.clone(),
      manager: Mutex::new(None),
      secrets,
      closed: CancellationToken::new(),
      producers: Arc::default(),
      listener_started: AtomicBool::new(false),
      subscribed,
      reader_connections: Mutex::default(),
      scripts: Scripts::new(),
    };
    let manager = store
      .bounded(ConnectionManager::new_with_config(client, manager_config))
      .await?;
    store.manager = Mutex::new(Some(manager));
    Ok(store)
  }

  pub(crate) fn config(&self) -> &StoreConfig {
    &self.config
  }

  fn keys(&self, id: &str) -> Keys {
    let prefix = &self.config.prefix;
    Keys {
      log: format!("{prefix}{{{id}}}:log"),
      meta: format!("{prefix}{{{id}}}:meta"),
      lease: format!("{prefix}{{{id}}}:lease"),
    }
  }

  fn stop_channel(&self) -> String {
    format!("{}stop", self.config.prefix)
  }

  fn manager(&self) -> Result<ConnectionManager> {
    lock(&self.manager).clone().ok_or(StoreError::Closed)
  }

  fn error(&self, error: RedisError) -> StoreError {
    let mut message = error.to_string();
    for secret in &self.secrets {
      message = scrub(message, Some(secret));
    }
    StoreError::Store(message)
  }

  /// Every command is bounded: a server that stopped answering must produce an error, not a hang.
  async fn bounded<T>(&self, call: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
    tokio::select! {
      _ = self.closed.cancelled() => Err(StoreError::Closed),
      result = tokio::time::timeout(self.config.command_timeout, call) => match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(self.error(error)),
        Err(_) => Err(StoreError::Store(format!(
          "no reply within the command timeout of {:?}",
          self.config.command_timeout
        ))),
      },
    }
  }

  /// Runs one of the scripts on a generation's three keys (every script takes them, in this order)
  /// with the arguments `args` adds, bounded like every command.
  async fn run_script(
    &self,
    script: &redis::Script,
    keys: &Keys,
    args: impl FnOnce(&mut redis::ScriptInvocation<'_>),
  ) -> Result<Value> {
    let mut manager = self.manager()?;
    let mut call = script.prepare_invoke();
    call.key(&keys.log).key(&keys.meta).key(&keys.lease);
    args(&mut call);
    self.bounded(call.invoke_async(&mut manager)).await
  }

  fn live_ttl_ms(&self) -> u64 {
    // While live, keys carry an expiry of ttl + lease, pushed forward on every renew: a producer
    // that dies with no reader ever coming still leaves nothing behind for good.
    millis(self.config.ttl + self.config.lease)
  }

  pub(crate) async fn begin(self: &Arc<Self>, id: &str, stop: CancellationToken) -> Result<u64> {
    self.ensure_stop_listener().await;
    let keys = self.keys(id);
    let epoch = fastrand::u64(1..);
    let outcome = self
      .run_script(&self.scripts.begin, &keys, |call| {
        call
          .arg(epoch.to_string())
          .arg(millis(self.config.lease))
          .arg(self.live_ttl_ms())
          .arg(millis(self.config.ttl))
          .arg(self.config.max_len);
      })
      .await?;
    match outcome {
      Value::Int(0) => {
        lock(&self.producers)
          .entry(id.to_string())
          .or_default()
          .insert(epoch, stop);
        Ok(epoch)
      }
      Value::Int(1) => Err(StoreError::Exists { live: true }),
      Value::Int(2) => Err(StoreError::Exists { live: false }),
      other => Err(StoreError::protocol(&format!("begin returned {other:?}"))),
    }
  }

  pub(crate) fn forget_producer(&self, id: &str, epoch: u64) {
    let mut producers = lock(&self.producers);
    if let Some(epochs) = producers.get_mut(id) {
      epochs.remove(&epoch);
      if epochs.is_empty() {
        producers.remove(id);
      }
    }
  }

  pub(crate) async fn append(
    &self,
    id: &str,
    epoch: u64,
    events: &[(Option<&str>, &str)],
  ) -> Result<Vec<String>> {
    let keys = self.keys(id);
    let outcome = self
      .run_script(&self.scripts.append, &keys, |call| {
        call
          .arg(epoch.to_string())
          .arg(self.config.max_len)
          .arg(self.live_ttl_ms());
        for (event, data) in events {
          match event {
            Some(name) => call.arg("1").arg(*name),
            None => call.arg("0").arg(""),
          };
          call.arg(*data);
        }
      })
      .await?;
    match outcome {
      Value::Int(0) => Err(StoreError::Fenced),
      Value::Array(ids) if ids.len() == events.len() => {
        ids.iter().map(|id| text(id, "entry id")).collect()
      }
      other => Err(StoreError::protocol(&format!("append returned {other:?}"))),
    }
  }

  pub(crate) async fn renew(&self, id: &str, epoch: u64) -> Result<Renewal> {
    let keys = self.keys(id);
    let outcome = self
      .run_script(&self.scripts.renew, &keys, |call| {
        call
          .arg(epoch.to_string())
          .arg(millis(self.config.lease))
          .arg(self.live_ttl_ms());
      })
      .await?;
    match outcome {
      Value::Int(-1) => Err(StoreError::Fenced),
      Value::Int(0) => Ok(Renewal::Continue),
      Value::Int(1) => Ok(Renewal::StopRequested),
      other => Err(StoreError::protocol(&format!("renew returned {other:?}"))),
    }
  }

  pub(crate) async fn finish(
    &self,
    id: &str,
    epoch: u64,
    terminal: Terminal,
    data: &str,
  ) -> Result<String> {
    let keys = self.keys(id);
    let outcome = self
      .run_script(&self.scripts.finish, &keys, |call| {
        call
          .arg(epoch.to_string())
          .arg(terminal.as_str())
          .arg(data)
          .arg(millis(self.config.ttl))
          .arg(self.config.max_len);
      })
      .await?;
    match outcome {
      Value::Int(0) => Err(StoreError::Fenced),
      other => text(&other, "terminal entry id"),
    }
  }

  pub(crate) async fn stop(&self, id: &str) -> Result<bool> {
    let keys = self.keys(id);
    let outcome = self
      .run_script(&self.scripts.stop, &keys, |call| {
        call.arg(self.stop_channel()).arg(id);
      })
      .await?;
    match outcome {
      Value::Int(0) => Ok(false),
      Value::Int(1) => Ok(true),
      other => Err(StoreError::protocol(&format!("stop returned {other:?}"))),
    }
  }

  /// One atomic look at the log: entries after the cursor (closing a producer-less log as
  /// interrupted when there are none), plus the trimmed id for the gap check. `None` for an
  /// unknown id.
  async fn read(
    &self,
    keys: &Keys,
    cursor: Option<LogId>,
    max_entries: usize,
    max_bytes: usize,
  ) -> Result<Option<Snapshot>> {
    let start = cursor.map_or_else(|| "-".to_string(), |c| format!("({c}"));
    let outcome = self
      .run_script(&self.scripts.read, keys, |call| {
        call
          .arg(start)
          .arg(max_entries.max(1))
          .arg(millis(self.config.ttl))
          .arg(self.config.max_len)
          .arg(max_bytes.max(1));
      })
      .await?;
    let Value::Array(parts) = outcome else {
      return Err(StoreError::protocol(&format!("read returned {outcome:?}")));
    };
    match parts.as_slice() {
      [Value::Int(0)] => Ok(None),
      [Value::Int(1), trimmed, entries, Value::Int(live)] => {
        let trimmed = text(trimmed, "trimmed id")?;
        let trimmed = if trimmed.is_empty() {
          None
        } else {
          Some(
            LogId::parse(&trimmed)
              .ok_or_else(|| StoreError::protocol("trimmed id is not a stream id"))?,
          )
        };
        Ok(Some(Snapshot {
          trimmed,
          entries: parse_entries(entries)?,
          live: *live == 1,
        }))
      }
      _ => Err(StoreError::protocol(&format!("read returned {parts:?}"))),
    }
  }

  /// Starts the stop listener on the first `begin` and waits (up to a second) for its
  /// subscription, so a `stop` right after `begin` is not published into the void. If the wait
  /// times out the renew loop still sees the stop flag.
  async fn ensure_stop_listener(self: &Arc<Self>) {
    if !self.listener_started.swap(true, Ordering::SeqCst) {
      tokio::spawn(run_stop_listener(
        self.client.clone(),
        self.stop_channel(),
        self.producers.clone(),
        self.closed.clone(),
        self.subscribed.clone(),
        self.config.command_timeout,
      ));
    }
    let mut subscribed = self.subscribed.subscribe();
    let _ = tokio::time::timeout(Duration::from_secs(1), subscribed.wait_for(|s| *s)).await;
  }

  pub(crate) fn close(&self) {
    self.closed.cancel();
    // Dropping the last clone of the manager closes its connection; the listener and readers
    // drop theirs when they see `closed`.
    lock(&self.manager).take();
    lock(&self.producers).clear();
    for slot in lock(&self.reader_connections).drain(..) {
      if let Some(slot) = slot.upgrade() {
        lock(&slot).take();
      }
    }
  }

  fn connection_slot(&self) -> ConnectionSlot {
    let slot = ConnectionSlot::default();
    let mut slots = lock(&self.reader_connections);
    slots.retain(|slot| slot.strong_count() > 0);
    slots.push(Arc::downgrade(&slot));
    slot
  }

  pub(crate) fn is_closed(&self) -> bool {
    self.closed.is_cancelled()
  }
}

impl Drop for RedisStore {
  /// The stop listener holds no handle on the store; without this, dropping every handle
  /// without `close` would leave it reconnecting forever.
  fn drop(&mut self) {
    self.closed.cancel();
  }
}

/// The store's only pub/sub connection: a stop published by any instance cancels the stop token
/// of the local producer of that id. Reconnects with a capped backoff; stops published while it
/// is down are caught by the producers' renew loop, which reads the stop flag.
async fn run_stop_listener(
  client: redis::Client,
  channel: String,
  producers: Producers,
  closed: CancellationToken,
  subscribed: watch::Sender<bool>,
  timeout: Duration,
) {
  let mut delay = Duration::from_millis(100);
  loop {
    let connect = async {
      let mut pubsub = client.get_async_pubsub().await?;
      pubsub.subscribe(&channel).await?;
      Ok::<_, RedisError>(pubsub)
    };
    let pubsub = tokio::select! {
      _ = closed.cancelled() => return,
      result = tokio::time::timeout(timeout, connect) => result,
    };
    if let Ok(Ok(pubsub)) = pubsub {
      subscribed.send_replace(true);
      delay = Duration::from_millis(100);
      let mut messages = pubsub.into_on_message();
      loop {
        let message = tokio::select! {
          _ = closed.cancelled() => return,
          message = messages.next() => message,
        };
        let Some(message) = message else { break };
        let Ok(id) = message.get_payload::<String>() else {
          continue;
        };
        if let Some(epochs) = lock(&producers).get(&id) {
          epochs.values().for_each(CancellationToken::cancel);
        }
      }
      subscribed.send_replace(false);
    }
    tokio::select! {
      _ = closed.cancelled() => return,
      _ = tokio::time::sleep(delay) => {}
    }
    delay = (delay * 2).min(Duration::from_secs(1));
  }
}

fn text(value: &Value, what: &str) -> Result<String> {
  match value {
    Value::BulkString(bytes) => String::from_utf8(bytes.clone())
      .map_err(|_| StoreError::protocol(&format!("{what} is not UTF-8"))),
    Value::SimpleString(s) => Ok(s.clone()),
    Value::VerbatimString { text, .. } => Ok(text.clone()),
    other => Err(StoreError::protocol(&format!("{what} is {other:?}"))),
  }
}

/// XRANGE's reply: `[[id, [field, value, ...]], ...]` (RESP2), or the fields as a map (RESP3).
fn parse_entries(value: &Value) -> Result<Vec<Entry>> {
  let Value::Array(items) = value else {
    return Err(StoreError::protocol(&format!("entries are {value:?}")));
  };
  items.iter().map(parse_entry).collect()
}

fn parse_entry(value: &Value) -> Result<Entry> {
  let Value::Array(parts) = value else {
    return Err(StoreError::protocol(&format!("entry is {value:?}")));
  };
  let [id, fields] = parts.as_slice() else {
    return Err(StoreError::protocol(&format!(
      "entry has {} parts",
      parts.len()
    )));
  };
  let pairs: Vec<(&Value, &Value)> = match fields {
    Value::Array(flat) if flat.len() % 2 == 0 => flat
      .chunks_exact(2)
      .map(|pair| (&pair[0], &pair[1]))
      .collect(),
    Value::Map(map) => map.iter().map(|(k, v)| (k, v)).collect(),
    other => return Err(StoreError::protocol(&format!("entry fields are {other:?}"))),
  };
  let mut entry = Entry {
    id: text(id, "entry id")?,
    event: None,
    data: String::new(),
    terminal: None,
  };
  for (field, value) in pairs {
    match text(field, "field name")?.as_str() {
      "e" => entry.event = Some(text(value, "event name")?),
      "d" => entry.data = text(value, "data")?,
      "t" => {
        let kind = text(value, "terminal kind")?;
        entry.terminal = Some(
          Terminal::parse(&kind)
            .ok_or_else(|| StoreError::protocol(&format!("unknown terminal kind {kind:?}")))?,
        );
      }
      // Fields this version does not write are ignored, so a newer writer can add some.
      _ => {}
    }
  }
  Ok(entry)
}

pub(crate) struct RedisReader {
  store: Arc<RedisStore>,
  keys: Keys,
  cursor: Option<LogId>,
  connection: ConnectionSlot,
}

impl RedisReader {
  /// `Ok(None)` for an unknown or expired id; a gap is reported at once.
  pub(crate) async fn open(
    store: Arc<RedisStore>,
    id: &str,
    cursor: Option<LogId>,
  ) -> Result<Option<Self>> {
    let keys = store.keys(id);
    let Some(snapshot) = store.read(&keys, cursor, 1, 1).await? else {
      return Ok(None);
    };
    if let Some(gap) = gap_between(cursor, snapshot.trimmed) {
      return Err(gap);
    }
    let connection = store.connection_slot();
    Ok(Some(RedisReader {
      store,
      keys,
      cursor,
      connection,
    }))
  }

  pub(crate) async fn next_batch(
    &mut self,
    max_entries: usize,
    max_bytes: usize,
    max_wait: Duration,
  ) -> Result<Batch> {
    let deadline = Instant::now() + max_wait;
    loop {
      if self.store.is_closed() {
        return Err(StoreError::Closed);
      }
      let Some(Snapshot {
        trimmed,
        entries,
        live,
      }) = self
        .store
        .read(&self.keys, self.cursor, max_entries, max_bytes)
        .await?
      else {
        return Err(expired_gap(self.cursor));
      };
      if let Some(gap) = gap_between(self.cursor, trimmed) {
        return Err(gap);
      }
      if entries.is_empty() && !live {
        // A finished log ends with its terminal entry, so the cursor is at or past it.
        return Ok(Batch {
          entries,
          finished: true,
        });
      }
      if let Some(last) = entries.last() {
        self.cursor = LogId::parse(&last.id).or(self.cursor);
        let finished = last.terminal.is_some();
        return Ok(Batch { entries, finished });
      }
      let now = Instant::now();
      if now >= deadline {
        return Ok(Batch::default());
      }
      // Wake at least every half lease (capped at 1 s) to run the read script again: that is
      // where a lapsed lease is noticed, so readers learn of a dead producer within lease + 1 s.
      let lease_check =
        (self.store.config.lease / 2).clamp(Duration::from_millis(20), Duration::from_secs(1));
      self.block((deadline - now).min(lease_check)).await?;
    }
  }

  /// XREAD BLOCK on this reader's own connection: returns when an entry after the cursor is
  /// added or `wait` passes ("XREAD ... BLOCK ... returns as soon as data is available or the
  /// timeout expires", XREAD docs). The entries themselves are re-read by the read script, which
  /// also checks for a gap.
  async fn block(&mut self, wait: Duration) -> Result<()> {
    let existing = lock(&self.connection).clone();
    let connection = match existing {
      Some(connection) => connection,
      None => {
        // No response timeout on this connection: our own bound below covers BLOCK + margin.
        let config = AsyncConnectionConfig::new()
          .set_connection_timeout(Some(self.store.config.command_timeout))
          .set_response_timeout(None);
        let connection = self
          .store
          .bounded(
            self
              .store
              .client
              .get_multiplexed_async_connection_with_config(&config),
          )
          .await?;
        *lock(&self.connection) = Some(connection.clone());
        if self.store.is_closed() {
          // `close` ran while this connection was being made and could not see it.
          lock(&self.connection).take();
          return Err(StoreError::Closed);
        }
        connection
      }
    };
    let mut connection = connection;
    let cursor = self
      .cursor
      .map_or_else(|| "0-0".to_string(), |c| c.to_string());
    let mut command = redis::cmd("XREAD");
    command
      .arg("COUNT")
      .arg(1)
      .arg("BLOCK")
      .arg(millis(wait))
      .arg("STREAMS")
      .arg(&self.keys.log)
      .arg(cursor);
    let bound = wait + self.store.config.command_timeout;
    let result = tokio::select! {
      _ = self.store.closed.cancelled() => Err(StoreError::Closed),
      result = tokio::time::timeout(bound, command.query_async::<Value>(&mut connection)) => match result {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(self.store.error(error)),
        Err(_) => Err(StoreError::Store(format!("XREAD gave no reply within {bound:?}"))),
      },
    };
    if result.is_err() {
      // The connection may still owe the reply of the abandoned command: start afresh.
      lock(&self.connection).take();
    }
    result
  }
}
