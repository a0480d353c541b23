//! The behaviour suite, run against both backends, then the Redis-only checks (command counts,
//! restarts, passwords, key TTLs).

mod support;

use std::time::{Duration, Instant};

use sse_store::{Batch, Entry, Renewal, Store, StoreConfig, StoreError, Terminal};
use support::Harness;

fn config() -> StoreConfig {
  StoreConfig::default()
}

fn short_lease() -> StoreConfig {
  StoreConfig {
    lease: Duration::from_millis(300),
    ..StoreConfig::default()
  }
}

const WAIT: Duration = Duration::from_secs(5);

/// Reads until the terminal entry (or fails the test after `WAIT` without progress).
async fn read_all(store: &Store, id: &str, after: Option<String>) -> Vec<Entry> {
  let mut reader = store
    .reader(id, after)
    .await
    .expect("reader")
    .expect("known id");
  let mut entries = Vec::new();
  loop {
    let Batch {
      entries: batch,
      finished,
    } = reader.next_batch(7, WAIT).await.expect("batch");
    assert!(!batch.is_empty() || finished, "no entry within {WAIT:?}");
    entries.extend(batch);
    if finished {
      return entries;
    }
  }
}

fn data(entries: &[Entry]) -> Vec<&str> {
  entries.iter().map(|e| e.data.as_str()).collect()
}

mod cases {
  use super::*;

  /// Writes `events` as one finished generation and reads it with a byte bound: the entries per batch.
  async fn batch_sizes(
    h: &Harness,
    id: &str,
    events: &[(Option<&str>, &str)],
    max_bytes: usize,
  ) -> Vec<usize> {
    let producer = h.store.begin(id).await.unwrap();
    producer.append(events).await.unwrap();
    producer.finish(Terminal::Done, "[DONE]").await.unwrap();
    let reader = h.store.reader(id, None).await.unwrap().unwrap();
    let mut reader = reader.with_max_bytes(max_bytes);
    let mut sizes = Vec::new();
    loop {
      let batch = reader.next_batch(256, WAIT).await.unwrap();
      sizes.push(batch.entries.len());
      if batch.finished {
        return sizes;
      }
    }
  }

  pub async fn a_batch_is_bounded_in_bytes_and_the_reader_still_gets_every_entry(h: Harness) {
    let big = "x".repeat(100 << 10);
    let events: Vec<(Option<&str>, &str)> = (0..20).map(|_| (None, big.as_str())).collect();
    // 100 KiB entries against 256 KiB: three per batch (the third reaches the bound), and the
    // terminal entry with the last two. Unbounded, all 21 came in one batch.
    assert_eq!(
      batch_sizes(&h, "gen-big", &events, 256 << 10).await,
      [3, 3, 3, 3, 3, 3, 3]
    );
    // One entry larger than the bound still comes, alone.
    let events = [(None, big.as_str()), (None, "small")];
    assert_eq!(batch_sizes(&h, "gen-huge", &events, 1000).await, [1, 2]);
  }

  pub async fn begin_append_finish_replays_every_entry_in_order(h: Harness) {
    let producer = h.store.begin("gen-1").await.unwrap();
    let first = producer
      .append(&[(None, "a"), (Some("tool"), "b")])
      .await
      .unwrap();
    let second = producer.append(&[(None, "c")]).await.unwrap();
    let end = producer.finish(Terminal::Done, "[DONE]").await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(second.len(), 1);

    let entries = read_all(&h.store, "gen-1", None).await;
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
      ids,
      [&first[0], &first[1], &second[0], &end].map(String::as_str)
    );
    assert_eq!(data(&entries), ["a", "b", "c", "[DONE]"]);
    assert_eq!(entries[1].event.as_deref(), Some("tool"));
    assert_eq!(entries[0].event, None);
    assert_eq!(entries[3].terminal, Some(Terminal::Done));
    assert!(entries[..3].iter().all(|e| e.terminal.is_none()));
  }

  pub async fn a_reader_resumed_after_entry_k_gets_exactly_the_entries_after_it(h: Harness) {
    let producer = h.store.begin("cuts").await.unwrap();
    let mut ids = Vec::new();
    for i in 0..12 {
      ids.extend(producer.append(&[(None, &i.to_string())]).await.unwrap());
    }
    ids.push(producer.finish(Terminal::End, "").await.unwrap());
    for k in 0..ids.len() {
      if k + 1 == ids.len() {
        // Resuming after the terminal entry: nothing to replay, and the reader knows it is done.
        let mut reader = h
          .store
          .reader("cuts", Some(ids[k].clone()))
          .await
          .unwrap()
          .unwrap();
        let batch = reader.next_batch(10, WAIT).await.unwrap();
        assert_eq!(
          batch,
          Batch {
            entries: vec![],
            finished: true
          }
        );
        continue;
      }
      let entries = read_all(&h.store, "cuts", Some(ids[k].clone())).await;
      let got: Vec<&String> = entries.iter().map(|e| &e.id).collect();
      let want: Vec<&String> = ids[k + 1..].iter().collect();
      assert_eq!(got, want, "cut after entry {k}");
    }
  }

  pub async fn a_finished_generation_replays_and_then_stays_finished(h: Harness) {
    let producer = h.store.begin("done").await.unwrap();
    producer.append(&[(None, "x")]).await.unwrap();
    producer
      .finish(Terminal::Error, r#"{"code":"UPSTREAM"}"#)
      .await
      .unwrap();
    let mut reader = h.store.reader("done", None).await.unwrap().unwrap();
    let batch = reader.next_batch(100, WAIT).await.unwrap();
    assert!(batch.finished);
    assert_eq!(data(&batch.entries), ["x", r#"{"code":"UPSTREAM"}"#]);
    assert_eq!(batch.entries[1].terminal, Some(Terminal::Error));
    assert!(reader.is_finished());
    let again = reader.next_batch(100, WAIT).await.unwrap();
    assert_eq!(
      again,
      Batch {
        entries: vec![],
        finished: true
      }
    );
    assert_eq!(
      producer.append(&[(None, "late")]).await.unwrap_err(),
      StoreError::Fenced
    );
  }

  pub async fn an_unknown_id_has_no_reader(h: Harness) {
    assert!(h.store.reader("nobody", None).await.unwrap().is_none());
    assert!(!h.store.stop("nobody").await.unwrap());
  }

  pub async fn begin_on_an_existing_id_fails_with_generation_exists(h: Harness) {
    let producer = h.store.begin("twice").await.unwrap();
    let live = h.store.begin("twice").await.unwrap_err();
    assert_eq!(live, StoreError::Exists { live: true });
    assert_eq!(live.code(), "GENERATION_EXISTS");
    producer.finish(Terminal::End, "").await.unwrap();
    assert_eq!(
      h.store.begin("twice").await.unwrap_err(),
      StoreError::Exists { live: false }
    );
    // The losers wrote nothing.
    assert_eq!(read_all(&h.store, "twice", None).await.len(), 1);
  }

  pub async fn invalid_ids_and_cursors_are_rejected(h: Harness) {
    for id in ["", "a b", "{x}", "é"] {
      let error = h.store.begin(id).await.err().map(|e| e.code());
      assert_eq!(error, Some("INVALID_OPTIONS"), "{id:?}");
    }
    h.store.begin("ok").await.unwrap();
    let error = h
      .store
      .reader("ok", Some("not-an-id".into()))
      .await
      .err()
      .unwrap();
    assert_eq!(error.code(), "INVALID_OPTIONS");
    assert!(error.to_string().contains("not-an-id"), "{error}");
  }

  pub async fn a_producer_whose_lease_lapsed_is_fenced_and_writes_nothing(h: Harness) {
    // No keepalive: A's renewals are "blocked".
    let a = h.store.begin("fence").await.unwrap();
    a.append(&[(None, "before")]).await.unwrap();
    let mut reader = h.store.reader("fence", None).await.unwrap().unwrap();
    let mut seen = reader.next_batch(100, WAIT).await.unwrap().entries;
    let batch = reader.next_batch(100, WAIT).await.unwrap();
    assert!(batch.finished, "the reader closes the log: {batch:?}");
    seen.extend(batch.entries);
    assert_eq!(seen.last().unwrap().terminal, Some(Terminal::Interrupted));

    assert_eq!(
      a.append(&[(None, "after")]).await.unwrap_err().code(),
      "STORE_FENCED"
    );
    assert_eq!(a.renew().await.unwrap_err(), StoreError::Fenced);
    assert_eq!(
      a.finish(Terminal::End, "").await.unwrap_err(),
      StoreError::Fenced
    );
    assert_eq!(
      data(&read_all(&h.store, "fence", None).await),
      ["before", ""]
    );
    // The interrupted log keeps its id until it expires: no second producer can take it over.
    assert_eq!(
      h.store.begin("fence").await.unwrap_err(),
      StoreError::Exists { live: false }
    );
  }

  pub async fn a_producer_past_its_lease_is_fenced_before_any_reader_notices(h: Harness) {
    let a = h.store.begin("lapsed").await.unwrap();
    a.append(&[(None, "kept")]).await.unwrap();
    // No reader and no keepalive: nothing closes the log while the lease runs out.
    tokio::time::sleep(h.config.lease + Duration::from_millis(100)).await;
    assert_eq!(
      a.append(&[(None, "lost")]).await.unwrap_err(),
      StoreError::Fenced
    );
    assert_eq!(a.renew().await.unwrap_err(), StoreError::Fenced);
    // A later begin on the id closes the abandoned log as interrupted instead of taking it over.
    assert_eq!(
      h.store.begin("lapsed").await.unwrap_err(),
      StoreError::Exists { live: false }
    );
    let entries = read_all(&h.store, "lapsed", None).await;
    assert_eq!(data(&entries), ["kept", ""]);
    assert_eq!(entries[1].terminal, Some(Terminal::Interrupted));
  }

  pub async fn a_dropped_producer_is_reported_interrupted_within_lease_plus_one_second(h: Harness) {
    let producer = h.store.begin("dropped").await.unwrap();
    let keepalive = producer.spawn_keepalive();
    producer.append(&[(None, "1")]).await.unwrap();
    let mut reader = h.store.reader("dropped", None).await.unwrap().unwrap();
    assert_eq!(
      data(&reader.next_batch(10, WAIT).await.unwrap().entries),
      ["1"]
    );
    // The keepalive proves renewals work: the lease outlives three lease periods.
    tokio::time::sleep(h.config.lease * 3).await;
    assert!(!producer.lease_lost().is_cancelled());
    assert_eq!(producer.append(&[(None, "2")]).await.unwrap().len(), 1);

    drop(keepalive);
    drop(producer);
    let dropped_at = Instant::now();
    let mut entries = Vec::new();
    while !reader.is_finished() {
      entries.extend(reader.next_batch(10, WAIT).await.unwrap().entries);
    }
    let took = dropped_at.elapsed();
    assert_eq!(data(&entries), ["2", ""]);
    assert_eq!(entries[1].terminal, Some(Terminal::Interrupted));
    assert!(
      took <= h.config.lease + Duration::from_secs(1),
      "interrupted after {took:?}"
    );
    println!(
      "interrupted seen {took:?} after the drop (lease {:?})",
      h.config.lease
    );
  }

  pub async fn stop_reaches_the_producer_within_one_second(h: Harness) {
    let producer = h.store.begin("stop-me").await.unwrap();
    let _keepalive = producer.spawn_keepalive();
    let signal = producer.stop_requested();
    let other = h.second().await;
    let asked = Instant::now();
    assert!(other.stop("stop-me").await.unwrap());
    tokio::time::timeout(Duration::from_secs(1), signal.cancelled())
      .await
      .expect("stop signal within 1 s");
    println!("stop reached the producer in {:?}", asked.elapsed());
    assert_eq!(producer.renew().await.unwrap(), Renewal::StopRequested);
    producer.finish(Terminal::Stopped, "").await.unwrap();
    assert!(
      !other.stop("stop-me").await.unwrap(),
      "a finished generation cannot be stopped"
    );
    let entries = read_all(&h.store, "stop-me", None).await;
    assert_eq!(entries.last().unwrap().terminal, Some(Terminal::Stopped));
  }

  pub async fn trimming_to_max_len_turns_an_old_cursor_into_a_gap(h: Harness) {
    let producer = h.store.begin("trim").await.unwrap();
    let batch: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let events: Vec<(Option<&str>, &str)> = batch.iter().map(|d| (None, d.as_str())).collect();
    let ids = producer.append(&events).await.unwrap();
    // max_len 5: entries 0..=4 are gone, ids[4] is the newest trimmed one.
    for cursor in [None, Some(ids[0].clone()), Some(ids[3].clone())] {
      let error = h.store.reader("trim", cursor.clone()).await.err().unwrap();
      assert_eq!(error.code(), "RESUME_GAP", "{cursor:?}");
      assert!(error.to_string().contains(&ids[4]), "{error}");
    }
    let mut reader = h
      .store
      .reader("trim", Some(ids[4].clone()))
      .await
      .unwrap()
      .unwrap();
    let got = reader.next_batch(100, WAIT).await.unwrap();
    assert_eq!(data(&got.entries), ["5", "6", "7", "8", "9"]);
    // A reader that falls behind while the log is trimmed learns it too.
    let mut slow = h
      .store
      .reader("trim", Some(ids[6].clone()))
      .await
      .unwrap()
      .unwrap();
    producer.append(&events[..4]).await.unwrap();
    assert_eq!(
      slow.next_batch(100, WAIT).await.unwrap_err().code(),
      "RESUME_GAP"
    );
  }

  pub async fn a_finished_log_expires_after_its_ttl(h: Harness) {
    let producer = h.store.begin("ttl").await.unwrap();
    producer.append(&[(None, "x")]).await.unwrap();
    producer.finish(Terminal::End, "").await.unwrap();
    if let Some(server) = &h.server {
      let mut connection = server.connection().await;
      for key in ["nsse:{ttl}:log", "nsse:{ttl}:meta"] {
        let ttl = server.pttl(key).await;
        assert!(
          ttl > 0 && ttl <= h.config.ttl.as_millis() as i64,
          "{key} PTTL {ttl}"
        );
      }
      let lease: i64 = ::redis::cmd("EXISTS")
        .arg("nsse:{ttl}:lease")
        .query_async(&mut connection)
        .await
        .unwrap();
      assert_eq!(lease, 0, "the lease is deleted on finish");
    }
    assert!(h.store.reader("ttl", None).await.unwrap().is_some());
    let deadline = Instant::now() + h.config.ttl + Duration::from_secs(3);
    while h.store.reader("ttl", None).await.unwrap().is_some() {
      assert!(
        Instant::now() < deadline,
        "still readable long after its ttl"
      );
      tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The id is free again.
    h.store.begin("ttl").await.unwrap();
  }

  pub async fn a_blocked_reader_wakes_as_soon_as_an_entry_is_appended(h: Harness) {
    let producer = h.store.begin("live").await.unwrap();
    let _keepalive = producer.spawn_keepalive();
    let mut reader = h.store.reader("live", None).await.unwrap().unwrap();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
      ready_tx.send(()).unwrap();
      let batch = reader
        .next_batch(10, Duration::from_secs(30))
        .await
        .unwrap();
      (batch, Instant::now())
    });
    ready_rx.await.unwrap();
    let appended = Instant::now();
    producer.append(&[(None, "wake")]).await.unwrap();
    let (batch, woke) = tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    assert_eq!(data(&batch.entries), ["wake"]);
    let latency = woke - appended;
    // Well under the 1 s lease re-check: the reader was woken, not polling.
    assert!(
      latency < Duration::from_millis(300),
      "woke {latency:?} after the append"
    );
  }

  pub async fn ten_concurrent_readers_all_get_the_full_sequence(h: Harness) {
    let producer = h.store.begin("fan").await.unwrap();
    let _keepalive = producer.spawn_keepalive();
    let readers: Vec<_> = (0..10)
      .map(|_| {
        let store = h.store.clone();
        tokio::spawn(async move { read_all(&store, "fan", None).await })
      })
      .collect();
    let mut want = Vec::new();
    for batch in 0..20 {
      let payloads: Vec<String> = (0..5).map(|i| format!("{batch}.{i}")).collect();
      let events: Vec<(Option<&str>, &str)> = payloads.iter().map(|p| (None, p.as_str())).collect();
      producer.append(&events).await.unwrap();
      want.extend(payloads);
    }
    producer.finish(Terminal::End, "end").await.unwrap();
    want.push("end".into());
    for reader in readers {
      let entries = reader.await.unwrap();
      assert_eq!(
        data(&entries),
        want.iter().map(String::as_str).collect::<Vec<_>>()
      );
    }
  }

  pub async fn after_close_every_call_fails_with_store_closed(h: Harness) {
    let producer = h.store.begin("closing").await.unwrap();
    producer.append(&[(None, "x")]).await.unwrap();
    let mut idle = h.store.reader("closing", None).await.unwrap().unwrap();
    let mut blocked = h.store.reader("closing", None).await.unwrap().unwrap();
    blocked.next_batch(10, WAIT).await.unwrap();
    let waiting =
      tokio::spawn(async move { blocked.next_batch(10, Duration::from_secs(30)).await });
    tokio::task::yield_now().await;
    h.store.close().await;
    let waited = tokio::time::timeout(WAIT, waiting).await.unwrap().unwrap();
    assert_eq!(waited.unwrap_err(), StoreError::Closed);
    assert_eq!(
      h.store.begin("other").await.err().unwrap().code(),
      "STORE_CLOSED"
    );
    assert_eq!(
      producer.append(&[(None, "y")]).await.unwrap_err(),
      StoreError::Closed
    );
    assert_eq!(
      producer.finish(Terminal::End, "").await.unwrap_err(),
      StoreError::Closed
    );
    assert_eq!(
      idle.next_batch(10, WAIT).await.unwrap_err(),
      StoreError::Closed
    );
    assert_eq!(
      h.store.stop("closing").await.unwrap_err(),
      StoreError::Closed
    );
    assert_eq!(
      h.store.reader("closing", None).await.err().unwrap(),
      StoreError::Closed
    );
  }
}

macro_rules! suite {
  ($backend:ident: $($name:ident => $config:expr),* $(,)?) => {
    mod $backend {
      use super::*;
      $(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
          let Some(harness) = support::$backend($config).await else {
            support::skip(stringify!($name));
            return;
          };
          tokio::time::timeout(Duration::from_secs(60), cases::$name(harness))
            .await
            .expect("the case finishes within 60 s");
        }
      )*
    }
  };
}

macro_rules! both {
  ($($name:ident => $config:expr),* $(,)?) => {
    suite!(memory: $($name => $config),*);
    suite!(redis: $($name => $config),*);
  };
}

both! {
  a_batch_is_bounded_in_bytes_and_the_reader_still_gets_every_entry => config(),
  begin_append_finish_replays_every_entry_in_order => config(),
  a_reader_resumed_after_entry_k_gets_exactly_the_entries_after_it => config(),
  a_finished_generation_replays_and_then_stays_finished => config(),
  an_unknown_id_has_no_reader => config(),
  begin_on_an_existing_id_fails_with_generation_exists => config(),
  invalid_ids_and_cursors_are_rejected => config(),
  a_producer_whose_lease_lapsed_is_fenced_and_writes_nothing => short_lease(),
  a_producer_past_its_lease_is_fenced_before_any_reader_notices => short_lease(),
  a_dropped_producer_is_reported_interrupted_within_lease_plus_one_second => short_lease(),
  stop_reaches_the_producer_within_one_second => StoreConfig { lease: Duration::from_secs(30), ..config() },
  trimming_to_max_len_turns_an_old_cursor_into_a_gap => StoreConfig { max_len: 5, ..config() },
  a_finished_log_expires_after_its_ttl => StoreConfig { ttl: Duration::from_millis(300), ..config() },
  a_blocked_reader_wakes_as_soon_as_an_entry_is_appended => StoreConfig { lease: Duration::from_secs(30), ..config() },
  ten_concurrent_readers_all_get_the_full_sequence => config(),
  after_close_every_call_fails_with_store_closed => config(),
}

mod redis_only {
  use super::*;
  use support::RedisServer;

  fn server(test: &str, password: Option<&str>) -> Option<RedisServer> {
    let server = RedisServer::start(password);
    if server.is_none() {
      support::skip(test);
    }
    server
  }

  /// Calls per command from INFO commandstats. Redis counts the commands a script runs there
  /// too (and in total_commands_processed), so round trips are told apart by command name.
  async fn calls(
    connection: &mut ::redis::aio::MultiplexedConnection,
  ) -> std::collections::HashMap<String, u64> {
    let info: String = ::redis::cmd("INFO")
      .arg("commandstats")
      .query_async(connection)
      .await
      .unwrap();
    info
      .lines()
      .filter_map(|line| {
        let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
        let calls = rest
          .strip_prefix("calls=")?
          .split(',')
          .next()?
          .parse()
          .ok()?;
        Some((name.to_string(), calls))
      })
      .collect()
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn appending_costs_one_command_per_batch() {
    let Some(server) = server("appending_costs_one_command_per_batch", None) else {
      return;
    };
    let store = Store::redis(&server.url(), config()).await.unwrap();
    let producer = store.begin("count").await.unwrap();
    let mut connection = server.connection().await;
    let payloads: Vec<String> = (0..10).map(|i| format!("token {i}")).collect();
    let events: Vec<(Option<&str>, &str)> = payloads.iter().map(|p| (None, p.as_str())).collect();
    // The first call may load the script (EVALSHA, NOSCRIPT, EVAL): warm it up outside the count.
    producer.append(&events).await.unwrap();

    let before = calls(&mut connection).await;
    for _ in 0..100 {
      producer.append(&events).await.unwrap();
    }
    let after = calls(&mut connection).await;
    let delta = |name: &str| after.get(name).unwrap_or(&0) - before.get(name).unwrap_or(&0);
    // What the append script runs inside Redis, not round trips.
    let in_script = [
      "xadd", "xlen", "xrange", "xtrim", "hset", "hget", "get", "pexpire",
    ];
    let round_trips: u64 = after
      .keys()
      .filter(|name| !in_script.contains(&name.as_str()))
      .map(|name| delta(name))
      .sum();
    println!(
      "1,000 events in 100 batches: {round_trips} round trips (evalsha {}, info {}), xadd {}",
      delta("evalsha"),
      delta("info"),
      delta("xadd")
    );
    assert_eq!(delta("evalsha"), 100);
    assert_eq!(delta("eval"), 0);
    assert_eq!(delta("xadd"), 1000);
    // + 1 for the first INFO, counted once it has run.
    assert!(
      round_trips <= 100 + 2,
      "{round_trips} round trips for 100 batches"
    );
    let len: u64 = ::redis::cmd("XLEN")
      .arg("nsse:{count}:log")
      .query_async(&mut connection)
      .await
      .unwrap();
    assert_eq!(len, 1010);
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn keys_follow_the_documented_layout() {
    let Some(server) = server("keys_follow_the_documented_layout", None) else {
      return;
    };
    let store = Store::redis(&server.url(), config()).await.unwrap();
    let producer = store.begin("layout").await.unwrap();
    producer
      .append(&[(Some("delta"), "x"), (None, "y")])
      .await
      .unwrap();
    let mut connection = server.connection().await;
    let meta: std::collections::HashMap<String, String> = ::redis::cmd("HGETALL")
      .arg("nsse:{layout}:meta")
      .query_async(&mut connection)
      .await
      .unwrap();
    assert_eq!(meta.get("state").map(String::as_str), Some("live"));
    assert_eq!(meta.get("stop").map(String::as_str), Some("0"));
    let epoch: String = ::redis::cmd("GET")
      .arg("nsse:{layout}:lease")
      .query_async(&mut connection)
      .await
      .unwrap();
    assert_eq!(meta.get("epoch"), Some(&epoch));
    let lease_ttl = server.pttl("nsse:{layout}:lease").await;
    assert!(lease_ttl > 0 && lease_ttl <= 3000, "lease PTTL {lease_ttl}");
    // No key lives without an expiry, whether an append created the log or added to it (a
    // producer that dies leaves nothing behind for good).
    producer.append(&[(None, "z")]).await.unwrap();
    for key in ["nsse:{layout}:log", "nsse:{layout}:meta"] {
      let ttl = server.pttl(key).await;
      assert!(ttl > 0, "{key} PTTL {ttl}");
    }
    let entries: ::redis::Value = ::redis::cmd("XRANGE")
      .arg("nsse:{layout}:log")
      .arg("-")
      .arg("+")
      .query_async(&mut connection)
      .await
      .unwrap();
    let text = format!("{entries:?}");
    assert!(text.contains("\"e\"") || text.contains("101"), "{text}");
    let fields: Vec<(String, Vec<(String, String)>)> = ::redis::from_redis_value(entries).unwrap();
    assert_eq!(
      fields[0].1,
      [
        ("e".to_string(), "delta".to_string()),
        ("d".into(), "x".into())
      ]
    );
    assert_eq!(fields[1].1, [("d".to_string(), "y".to_string())]);
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn a_killed_server_gives_store_errors_and_a_restarted_one_works_with_the_same_store() {
    let Some(mut server) = server("a_killed_server_gives_store_errors", None) else {
      return;
    };
    let config = StoreConfig {
      command_timeout: Duration::from_secs(1),
      ..config()
    };
    let store = Store::redis(&server.url(), config.clone()).await.unwrap();
    let producer = store.begin("crash").await.unwrap();
    producer.append(&[(None, "1")]).await.unwrap();
    let mut reader = store.reader("crash", None).await.unwrap().unwrap();
    assert_eq!(reader.next_batch(10, WAIT).await.unwrap().entries.len(), 1);

    server.kill();
    let started = Instant::now();
    let error = producer.append(&[(None, "2")]).await.unwrap_err();
    assert_eq!(error.code(), "STORE", "{error}");
    let error = reader
      .next_batch(10, Duration::from_millis(200))
      .await
      .unwrap_err();
    assert_eq!(error.code(), "STORE", "{error}");
    let error = store.begin("during").await.unwrap_err();
    assert_eq!(error.code(), "STORE", "{error}");
    // Each call is bounded by the command timeout (plus connection retries), never a hang.
    assert!(
      started.elapsed() < Duration::from_secs(10),
      "took {:?}",
      started.elapsed()
    );
    println!("three failing calls took {:?}: {error}", started.elapsed());

    server.spawn();
    let started = Instant::now();
    let producer = store.begin("after").await.unwrap();
    println!("first begin after the restart took {:?}", started.elapsed());
    let _keepalive = producer.spawn_keepalive();
    producer.append(&[(None, "back")]).await.unwrap();
    let other = Store::redis(&server.url(), config).await.unwrap();
    let signal = producer.stop_requested();
    assert!(other.stop("after").await.unwrap());
    tokio::time::timeout(Duration::from_secs(1), signal.cancelled())
      .await
      .expect("the stop listener resubscribed");
    producer.finish(Terminal::Stopped, "").await.unwrap();
    assert_eq!(data(&read_all(&store, "after", None).await), ["back", ""]);
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn a_password_in_the_url_works_and_never_appears_in_an_error() {
    let password = "s3cret-pw";
    let Some(mut server) = server("a_password_in_the_url_works", Some(password)) else {
      return;
    };
    let config = StoreConfig {
      command_timeout: Duration::from_secs(1),
      ..config()
    };
    let port = server.port;
    for url in [
      format!("redis://:{password}@127.0.0.1:{port}"),
      format!("redis://default:{password}@127.0.0.1:{port}/0"),
    ] {
      let store = Store::redis(&url, config.clone()).await.unwrap();
      let id = format!("pw-{}", url.len());
      let producer = store.begin(&id).await.unwrap();
      producer.append(&[(None, "ok")]).await.unwrap();
      producer.finish(Terminal::End, "").await.unwrap();
      assert_eq!(read_all(&store, &id, None).await.len(), 2);
    }

    let wrong = "wr0ng-pw";
    let error = Store::redis(
      &format!("redis://:{wrong}@127.0.0.1:{port}"),
      config.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), "STORE");
    assert!(!error.to_string().contains(wrong), "{error}");
    let error = Store::redis(
      &format!("redis://:{password}@127.0.0.1:notaport"),
      config.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), "INVALID_OPTIONS");
    assert!(!error.to_string().contains(password), "{error}");
    let error = Store::redis(&format!("ftp://:{password}@127.0.0.1"), config.clone())
      .await
      .unwrap_err();
    assert_eq!(error.code(), "INVALID_OPTIONS");
    assert!(!error.to_string().contains(password), "{error}");

    let store = Store::redis(&server.url(), config).await.unwrap();
    let producer = store.begin("outage").await.unwrap();
    server.kill();
    let error = producer.append(&[(None, "x")]).await.unwrap_err();
    assert_eq!(error.code(), "STORE");
    assert!(!error.to_string().contains(password), "{error}");
  }

  async fn connected_clients(connection: &mut ::redis::aio::MultiplexedConnection) -> u64 {
    let info: String = ::redis::cmd("INFO")
      .arg("clients")
      .query_async(connection)
      .await
      .unwrap();
    info
      .lines()
      .find_map(|line| line.strip_prefix("connected_clients:")?.trim().parse().ok())
      .unwrap()
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn close_drops_every_connection_the_store_opened() {
    let Some(server) = server("close_drops_every_connection_the_store_opened", None) else {
      return;
    };
    let mut connection = server.connection().await;
    let store = Store::redis(&server.url(), config()).await.unwrap();
    let producer = store.begin("conns").await.unwrap();
    producer.append(&[(None, "x")]).await.unwrap();
    let mut idle = store.reader("conns", None).await.unwrap().unwrap();
    idle.next_batch(10, WAIT).await.unwrap();
    // Nothing new: this call blocks in XREAD on the reader's own connection, then times out.
    assert!(idle
      .next_batch(10, Duration::from_millis(50))
      .await
      .unwrap()
      .entries
      .is_empty());
    let mut blocked = store
      .reader(
        "conns",
        Some(producer.append(&[(None, "y")]).await.unwrap()[0].clone()),
      )
      .await
      .unwrap()
      .unwrap();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let waiting = tokio::spawn(async move {
      ready_tx.send(()).unwrap();
      blocked.next_batch(10, Duration::from_secs(30)).await
    });
    ready_rx.await.unwrap();
    // test connection + command connection + stop listener + two readers.
    let deadline = Instant::now() + WAIT;
    while connected_clients(&mut connection).await < 5 {
      assert!(
        Instant::now() < deadline,
        "the store never opened its five connections"
      );
      tokio::time::sleep(Duration::from_millis(10)).await;
    }
    store.close().await;
    assert_eq!(waiting.await.unwrap().unwrap_err(), StoreError::Closed);
    let deadline = Instant::now() + WAIT;
    while connected_clients(&mut connection).await > 1 {
      assert!(
        Instant::now() < deadline,
        "connections left open after close"
      );
      tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
      idle.next_batch(10, WAIT).await.unwrap_err(),
      StoreError::Closed
    );
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn dropping_every_handle_without_close_releases_the_connections() {
    let Some(server) = server("dropping_every_handle_releases_the_connections", None) else {
      return;
    };
    let mut connection = server.connection().await;
    let store = Store::redis(&server.url(), config()).await.unwrap();
    let producer = store.begin("dropped-store").await.unwrap();
    // test connection + command connection + stop listener.
    assert_eq!(connected_clients(&mut connection).await, 3);
    drop(producer);
    drop(store);
    let deadline = Instant::now() + WAIT;
    while connected_clients(&mut connection).await > 1 {
      assert!(
        Instant::now() < deadline,
        "connections left open after the last handle dropped"
      );
      tokio::time::sleep(Duration::from_millis(10)).await;
    }
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn a_rediss_url_runs_a_rustls_handshake_and_reports_its_failure_as_store() {
    // A listener that answers the ClientHello with plain text: the handshake fails at once.
    // Reaching that failure shows rustls found its crypto provider (ring, the only one compiled
    // in) rather than panicking for want of one.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
      use std::io::Write;
      for stream in listener.incoming().take(8).flatten() {
        let mut stream = stream;
        let _ = stream.write_all(b"-ERR not TLS\r\n");
      }
    });
    let config = StoreConfig {
      command_timeout: Duration::from_secs(2),
      ..config()
    };
    let started = Instant::now();
    let error = Store::redis(&format!("rediss://:tls-pw@127.0.0.1:{port}"), config)
      .await
      .unwrap_err();
    assert_eq!(error.code(), "STORE", "{error}");
    assert!(!error.to_string().contains("tls-pw"), "{error}");
    assert!(
      started.elapsed() < Duration::from_secs(2),
      "the handshake failure was not seen: {error}"
    );
    assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    println!("rediss:// to a non-TLS peer: {error}");
  }
}

#[tokio::test]
async fn the_memory_store_bounds_each_log_in_bytes() {
  let config = StoreConfig {
    max_bytes: 4096,
    ..config()
  };
  let store = Store::memory(config).unwrap();
  let producer = store.begin("bytes").await.unwrap();
  let payload = "x".repeat(100);
  for _ in 0..100 {
    producer.append(&[(None, payload.as_str())]).await.unwrap();
  }
  let error = store.reader("bytes", None).await.unwrap_err();
  let StoreError::Gap { trimmed, .. } = error else {
    panic!("expected a gap, got {error:?}");
  };
  producer.finish(Terminal::End, "").await.unwrap();
  let kept = read_all(&store, "bytes", Some(trimmed)).await;
  let bytes: usize = kept.iter().map(|e| e.id.len() + e.data.len() + 64).sum();
  assert!(bytes <= 4096, "{bytes} bytes kept");
  assert!(kept.len() >= 20, "only {} entries kept", kept.len());
  assert_eq!(kept.last().unwrap().terminal, Some(Terminal::End));
}

#[test]
fn every_handle_can_move_between_tokio_tasks() {
  fn send_sync<T: Send + Sync + 'static>() {}
  send_sync::<Store>();
  send_sync::<sse_store::Producer>();
  send_sync::<sse_store::Reader>();
  send_sync::<sse_store::Keepalive>();
  send_sync::<StoreError>();
}
