//! The in-process backend: one map of logs behind a mutex, `Notify` for wakeups, `Instant` for
//! leases and expiry. Same rules as the Redis backend, so one test suite runs against both.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::{Result, StoreError};
use crate::model::{gap_between, Batch, Entry, LogId, Renewal, StoreConfig, Terminal};

/// Bytes charged per entry on top of its strings: the `Entry` struct, its `String` headers and
/// the deque slot. Without it a flood of empty events would be free.
const ENTRY_OVERHEAD: usize = 64;

pub(crate) struct MemoryStore {
  config: StoreConfig,
  state: Mutex<State>,
  closed: CancellationToken,
}

#[derive(Default)]
struct State {
  gens: HashMap<String, Generation>,
  next_epoch: u64,
}

struct Generation {
  entries: VecDeque<Entry>,
  /// `entries[i].id` parsed, kept alongside so lookups need no parsing.
  ids: VecDeque<LogId>,
  bytes: usize,
  epoch: u64,
  live: bool,
  stop: bool,
  lease_until: Instant,
  trimmed: Option<LogId>,
  last: LogId,
  expires_at: Option<Instant>,
  notify: Arc<Notify>,
  stop_token: CancellationToken,
}

fn entry_size(entry: &Entry) -> usize {
  entry.id.len() + entry.event.as_ref().map_or(0, String::len) + entry.data.len() + ENTRY_OVERHEAD
}

fn now_ms() -> u64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map_or(0, |d| d.as_millis() as u64)
}

impl Generation {
  /// Redis's rule for `XADD *`: the wall clock in ms, or the previous id's ms with the next
  /// sequence when the clock did not advance (or went back).
  fn mint_id(&mut self) -> LogId {
    let ms = now_ms();
    self.last = if ms > self.last.ms {
      LogId { ms, seq: 0 }
    } else {
      LogId {
        ms: self.last.ms,
        seq: self.last.seq + 1,
      }
    };
    self.last
  }

  fn push(
    &mut self,
    event: Option<&str>,
    data: &str,
    terminal: Option<Terminal>,
    config: &StoreConfig,
  ) -> String {
    let id = self.mint_id();
    let entry = Entry {
      id: id.to_string(),
      event: event.map(str::to_string),
      data: data.to_string(),
      terminal,
    };
    self.bytes += entry_size(&entry);
    self.entries.push_back(entry);
    self.ids.push_back(id);
    self.trim(config);
    id.to_string()
  }

  /// Drops the oldest entries past `max_len` or `max_bytes`, always keeping the newest one (a
  /// single oversized entry is kept: dropping it would lose the log's tail, which is worse than
  /// exceeding the bound by one entry).
  fn trim(&mut self, config: &StoreConfig) {
    while self.entries.len() > config.max_len
      || (self.bytes > config.max_bytes && self.entries.len() > 1)
    {
      let (Some(entry), Some(id)) = (self.entries.pop_front(), self.ids.pop_front()) else {
        break;
      };
      self.bytes -= entry_size(&entry);
      self.trimmed = Some(id);
    }
  }

  fn fenced(&self, epoch: u64, now: Instant) -> bool {
    self.epoch != epoch || !self.live || now >= self.lease_until
  }

  fn lapsed(&self, now: Instant) -> bool {
    self.live && now >= self.lease_until
  }

  /// Closes a log whose producer stopped renewing, on its behalf.
  fn reap(&mut self, now: Instant, config: &StoreConfig) {
    self.push(None, "", Some(Terminal::Interrupted), config);
    self.live = false;
    self.expires_at = Some(now + config.ttl);
    self.notify.notify_waiters();
  }

  fn after(&self, cursor: Option<LogId>, max: usize) -> Vec<Entry> {
    let start = match cursor {
      None => 0,
      Some(cursor) => self.ids.partition_point(|id| *id <= cursor),
    };
    self.entries.iter().skip(start).take(max).cloned().collect()
  }
}

impl MemoryStore {
  pub(crate) fn new(config: StoreConfig) -> Self {
    MemoryStore {
      config,
      state: Mutex::new(State::default()),
      closed: CancellationToken::new(),
    }
  }

  pub(crate) fn config(&self) -> &StoreConfig {
    &self.config
  }

  /// The lock is never held across an await, and no code under it panics, so a poisoned lock
  /// can only come from a panic elsewhere in the process; its data is still consistent.
  fn lock(&self) -> Result<MutexGuard<'_, State>> {
    if self.closed.is_cancelled() {
      return Err(StoreError::Closed);
    }
    Ok(
      self
        .state
        .lock()
        .unwrap_or_else(|poison| poison.into_inner()),
    )
  }

  /// Expired logs go away here and on access; live logs whose lease lapsed are closed as
  /// interrupted. O(generations), run on `begin` only.
  fn sweep(&self, state: &mut State, now: Instant) {
    state
      .gens
      .retain(|_, gen| gen.expires_at.is_none_or(|at| now < at));
    for gen in state.gens.values_mut() {
      if gen.lapsed(now) {
        gen.reap(now, &self.config);
      }
    }
  }

  /// The live generation `id` while `epoch` still owns it (its lease held), else `Fenced`.
  fn owned<'a>(
    &self,
    state: &'a mut State,
    id: &str,
    epoch: u64,
    now: Instant,
  ) -> Result<&'a mut Generation> {
    let gen = self.live_gen(state, id, now).ok_or(StoreError::Fenced)?;
    if gen.fenced(epoch, now) {
      return Err(StoreError::Fenced);
    }
    Ok(gen)
  }

  fn live_gen<'a>(
    &self,
    state: &'a mut State,
    id: &str,
    now: Instant,
  ) -> Option<&'a mut Generation> {
    if state
      .gens
      .get(id)
      .is_some_and(|gen| gen.expires_at.is_some_and(|at| now >= at))
    {
      state.gens.remove(id);
    }
    state.gens.get_mut(id)
  }

  pub(crate) fn begin(&self, id: &str, stop_token: CancellationToken) -> Result<u64> {
    let mut state = self.lock()?;
    let now = Instant::now();
    self.sweep(&mut state, now);
    if let Some(gen) = state.gens.get(id) {
      return Err(StoreError::Exists { live: gen.live });
    }
    state.next_epoch += 1;
    let epoch = state.next_epoch;
    state.gens.insert(
      id.to_string(),
      Generation {
        entries: VecDeque::new(),
        ids: VecDeque::new(),
        bytes: 0,
        epoch,
        live: true,
        stop: false,
        lease_until: now + self.config.lease,
        trimmed: None,
        last: LogId { ms: 0, seq: 0 },
        expires_at: None,
        notify: Arc::new(Notify::new()),
        stop_token,
      },
    );
    Ok(epoch)
  }

  pub(crate) fn append(
    &self,
    id: &str,
    epoch: u64,
    events: &[(Option<&str>, &str)],
  ) -> Result<Vec<String>> {
    let mut state = self.lock()?;
    let now = Instant::now();
    let gen = self.owned(&mut state, id, epoch, now)?;
    let ids = events
      .iter()
      .map(|(event, data)| gen.push(*event, data, None, &self.config))
      .collect();
    gen.notify.notify_waiters();
    Ok(ids)
  }

  pub(crate) fn renew(&self, id: &str, epoch: u64) -> Result<Renewal> {
    let mut state = self.lock()?;
    let now = Instant::now();
    let gen = self.owned(&mut state, id, epoch, now)?;
    gen.lease_until = now + self.config.lease;
    Ok(if gen.stop {
      Renewal::StopRequested
    } else {
      Renewal::Continue
    })
  }

  pub(crate) fn finish(
    &self,
    id: &str,
    epoch: u64,
    terminal: Terminal,
    data: &str,
  ) -> Result<String> {
    let mut state = self.lock()?;
    let now = Instant::now();
    let gen = self.owned(&mut state, id, epoch, now)?;
    let entry_id = gen.push(None, data, Some(terminal), &self.config);
    gen.live = false;
    gen.expires_at = Some(now + self.config.ttl);
    gen.notify.notify_waiters();
    Ok(entry_id)
  }

  pub(crate) fn stop(&self, id: &str) -> Result<bool> {
    let mut state = self.lock()?;
    let now = Instant::now();
    match self.live_gen(&mut state, id, now) {
      Some(gen) if gen.live => {
        gen.stop = true;
        gen.stop_token.cancel();
        Ok(true)
      }
      _ => Ok(false),
    }
  }

  /// `Ok(false)` for an unknown or expired id.
  pub(crate) fn check_reader(&self, id: &str, cursor: Option<LogId>) -> Result<bool> {
    let mut state = self.lock()?;
    match self.live_gen(&mut state, id, Instant::now()) {
      None => Ok(false),
      Some(gen) => match gen_gap(gen, cursor) {
        Some(error) => Err(error),
        None => Ok(true),
      },
    }
  }

  pub(crate) async fn next_batch(
    &self,
    id: &str,
    cursor: Option<LogId>,
    max_entries: usize,
    max_bytes: usize,
    max_wait: Duration,
  ) -> Result<Batch> {
    let deadline = Instant::now() + max_wait;
    loop {
      let notify = {
        let mut state = self.lock()?;
        let now = Instant::now();
        match self.live_gen(&mut state, id, now) {
          Some(gen) => gen.notify.clone(),
          None => return Err(expired_gap(cursor)),
        }
      };
      // Registered before the check below, so an append between the check and the await still
      // wakes this reader (tokio's documented pattern for `Notified::enable`).
      let notified = notify.notified();
      tokio::pin!(notified);
      notified.as_mut().enable();

      let lease_until = {
        let mut state = self.lock()?;
        let now = Instant::now();
        let Some(gen) = self.live_gen(&mut state, id, now) else {
          return Err(expired_gap(cursor));
        };
        if let Some(error) = gen_gap(gen, cursor) {
          return Err(error);
        }
        let mut entries = gen.after(cursor, max_entries.max(1));
        if entries.is_empty() && gen.lapsed(now) {
          gen.reap(now, &self.config);
          entries = gen.after(cursor, max_entries.max(1));
        }
        if !entries.is_empty() {
          crate::model::bound_bytes(&mut entries, max_bytes);
          let finished = entries.last().is_some_and(|e| e.terminal.is_some());
          return Ok(Batch { entries, finished });
        }
        if !gen.live {
          // A finished log ends with its terminal entry, so the cursor is at or past it.
          return Ok(Batch {
            entries,
            finished: true,
          });
        }
        if now >= deadline {
          return Ok(Batch::default());
        }
        gen.lease_until
      };
      // A live log is re-checked when its lease would lapse: that is when a dead producer shows.
      let wake = lease_until.min(deadline);
      tokio::select! {
        _ = &mut notified => {}
        _ = tokio::time::sleep_until(wake.into()) => {}
        _ = self.closed.cancelled() => return Err(StoreError::Closed),
      }
    }
  }

  pub(crate) fn close(&self) {
    self.closed.cancel();
    let mut state = self
      .state
      .lock()
      .unwrap_or_else(|poison| poison.into_inner());
    state.gens.clear();
  }
}

fn gen_gap(gen: &Generation, cursor: Option<LogId>) -> Option<StoreError> {
  gap_between(cursor, gen.trimmed)
}

/// The log expired under a reader that had not reached its end: what it missed is gone.
pub(crate) fn expired_gap(cursor: Option<LogId>) -> StoreError {
  StoreError::Gap {
    after: cursor.map(|c| c.to_string()).unwrap_or_default(),
    trimmed: "the whole log (it expired)".to_string(),
  }
}
