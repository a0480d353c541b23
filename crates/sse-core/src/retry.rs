//! When to reconnect and how long to wait. Pure decisions: the caller passes the facts (what failed,
//! what the server asked for, a jitter sample, the time `now`), so every rule is testable without a
//! clock or a socket. [`RetryState`] keeps the bookkeeping of one request (attempt number, the
//! reconnect budget, whether events went out, whether the server sent ids); the state machine in
//! `request.rs` only tells it what happened and sequences the attempts.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::options::ReconnectAfterEvents;

/// The longest backoff for consecutive failures (unless the server's own `retry` asks for more).
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured on 429 / 503: a server asking for minutes is treated as down.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest wait a server's `retry` field can ask for. `retry: 1000000000000000` used to park the
/// request for 31,700 years, holding the process alive; like `Retry-After`, a server asking for more
/// than a minute is treated as asking for a minute.
pub const MAX_SERVER_RETRY: Duration = MAX_RETRY_AFTER;
/// The shortest wait a server's `retry` field can ask for. `retry: 0` from a server that closes after
/// each event made a reconnect storm (1,329 connections in 2 s); with this floor and the backoff
/// below, such a server sees at most `reconnectCount + 1` connections, 100 ms or more apart.
/// The user's own `retryDelay` is not floored: it is the user's choice, and the budget bounds it.
pub const MIN_SERVER_RETRY: Duration = Duration::from_millis(100);
/// A connection that stayed open this long and delivered events counts as healthy: its failure
/// starts a fresh reconnect budget and backoff. Before that, an attempt that delivered events is
/// still part of the same outage (a server that sends one event and drops must not get a fresh
/// budget each time). It equals `MAX_BACKOFF`: a connection that outlived the longest backoff is no
/// longer part of the burst of failures that backoff was for.
pub const STABLE_INTERVAL: Duration = MAX_BACKOFF;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
  Retry(Duration),
  GiveUp,
}

/// What happened on the request so far, as the policy needs it.
#[derive(Debug, Clone, Copy, Default)]
pub struct History {
  /// Failures since the last healthy connection, including the one being decided (so at least 1).
  pub failures_in_a_row: u32,
  /// Events have been delivered to the user on this request (any attempt).
  pub delivered_events: bool,
  /// The server has sent an `id` field on this request: it speaks the Last-Event-ID resume protocol.
  pub saw_id: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
  pub reconnect_count: u32,
  pub retry_delay: Duration,
  pub reconnect_after_events: ReconnectAfterEvents,
  /// How long a connection must stay open (and deliver events) to reset the budget.
  pub stable_interval: Duration,
}

impl RetryPolicy {
  /// Decides after a failed attempt. `server_retry` is the last `retry` field of the stream (in
  /// ms, as the server sent it); `jitter` is a sample in [0, 1).
  pub fn decide(
    &self,
    err: &Error,
    history: History,
    server_retry: Option<u64>,
    jitter: f64,
  ) -> Decision {
    if !err.is_retryable()
      || history.failures_in_a_row > self.reconnect_count
      || !self.may_resend(history)
    {
      return Decision::GiveUp;
    }
    if let Some(after) = err.retry_after {
      return Decision::Retry(after.min(MAX_RETRY_AFTER));
    }
    Decision::Retry(self.backoff(history.failures_in_a_row, server_retry, jitter))
  }

  /// Re-sending a POST to an AI endpoint after tokens were delivered would start a second
  /// generation: only a server that sends ids (and so can resume from Last-Event-ID) is safe to
  /// reconnect to once events went out, unless the user says otherwise.
  fn may_resend(&self, history: History) -> bool {
    if !history.delivered_events {
      return true;
    }
    match self.reconnect_after_events {
      ReconnectAfterEvents::Always => true,
      ReconnectAfterEvents::Never => false,
      ReconnectAfterEvents::WithId => history.saw_id,
    }
  }

  /// The reconnection time: the server's `retry` held to [`MIN_SERVER_RETRY`, `MAX_SERVER_RETRY`],
  /// else the user's `retryDelay`.
  pub fn base_delay(&self, server_retry: Option<u64>) -> Duration {
    match server_retry {
      Some(ms) => Duration::from_millis(ms).clamp(MIN_SERVER_RETRY, MAX_SERVER_RETRY),
      None => self.retry_delay,
    }
  }

  /// The first reconnect waits exactly the reconnection time, as EventSource does. Each further
  /// failure in a row doubles it, up to 30 s (or the base itself when it is longer), and takes a
  /// random 0-50 % off so that thousands of clients dropped by one server restart do not come back
  /// in lockstep. A zero `retryDelay` grows from 1 ms, so that backoff still backs off.
  pub fn backoff(
    &self,
    failures_in_a_row: u32,
    server_retry: Option<u64>,
    jitter: f64,
  ) -> Duration {
    let base = self.base_delay(server_retry);
    if failures_in_a_row <= 1 {
      return base;
    }
    let cap = base.max(MAX_BACKOFF);
    let exp = failures_in_a_row.saturating_sub(1).min(30);
    let grown = base
      .max(Duration::from_millis(1))
      .saturating_mul(1u32 << exp)
      .min(cap);
    let jitter = jitter.clamp(0.0, 1.0);
    grown.mul_f64(1.0 - jitter * 0.5)
  }
}

/// The retry bookkeeping of one request. The state machine reports what happened (`opened`,
/// `delivered`, `failed`, `reconnecting`) with the time it happened; the decisions are the policy's.
#[derive(Debug, Clone)]
pub struct RetryState {
  policy: RetryPolicy,
  /// 0 for the first try, 1.. for reconnects (`SseError.attempt`).
  attempt: u32,
  history: History,
  /// When the current attempt's response opened (None while connecting).
  opened_at: Option<Instant>,
  /// Events were delivered by the current attempt.
  delivered_this_attempt: bool,
}

impl RetryState {
  pub fn new(policy: RetryPolicy) -> RetryState {
    RetryState {
      policy,
      attempt: 0,
      history: History::default(),
      opened_at: None,
      delivered_this_attempt: false,
    }
  }

  /// The number of the current attempt: 0 for the first try, 1.. for reconnects.
  pub fn attempt(&self) -> u32 {
    self.attempt
  }

  /// Failures since the last healthy connection (for tests and tracing).
  pub fn failures_in_a_row(&self) -> u32 {
    self.history.failures_in_a_row
  }

  /// The response of the current attempt arrived (status and content-type accepted).
  pub fn opened(&mut self, now: Instant) {
    self.opened_at = Some(now);
  }

  /// The current attempt delivered at least one event to the user.
  pub fn delivered(&mut self) {
    self.delivered_this_attempt = true;
    self.history.delivered_events = true;
  }

  /// The server has sent an `id` field on this request.
  pub fn saw_id(&mut self) {
    self.history.saw_id = true;
  }

  /// Whether the current attempt stayed open long enough, with events, to count as healthy.
  fn was_healthy(&self, now: Instant) -> bool {
    self.delivered_this_attempt
      && self
        .opened_at
        .is_some_and(|at| now.saturating_duration_since(at) >= self.policy.stable_interval)
  }

  /// The current attempt failed at `now`: reconnect after a delay, or give up. A healthy attempt
  /// (see [`STABLE_INTERVAL`]) resets the budget first, so a long-lived stream that drops now and
  /// then keeps reconnecting, while one that fails fast, even after an event, runs out.
  pub fn failed(
    &mut self,
    err: &Error,
    now: Instant,
    server_retry: Option<u64>,
    jitter: f64,
  ) -> Decision {
    if self.was_healthy(now) {
      self.history.failures_in_a_row = 0;
    }
    self.history.failures_in_a_row = self.history.failures_in_a_row.saturating_add(1);
    self.opened_at = None;
    self.policy.decide(err, self.history, server_retry, jitter)
  }

  /// The wait is over: the next attempt starts.
  pub fn reconnecting(&mut self) {
    self.attempt = self.attempt.saturating_add(1);
    self.opened_at = None;
    self.delivered_this_attempt = false;
  }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
  let value = value.trim();
  if let Ok(secs) = value.parse::<u64>() {
    return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
  }
  let when = httpdate::parse_http_date(value).ok()?;
  Some(
    when
      .duration_since(now)
      .unwrap_or(Duration::ZERO)
      .min(MAX_RETRY_AFTER),
  )
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::error::ErrorCode;
  use std::time::SystemTime;

  fn policy(count: u32, after: ReconnectAfterEvents) -> RetryPolicy {
    RetryPolicy {
      reconnect_count: count,
      retry_delay: Duration::from_millis(1000),
      reconnect_after_events: after,
      stable_interval: STABLE_INTERVAL,
    }
  }

  fn history(failures: u32, delivered: bool, saw_id: bool) -> History {
    History {
      failures_in_a_row: failures,
      delivered_events: delivered,
      saw_id,
    }
  }

  fn timeout() -> Error {
    Error::new(ErrorCode::Timeout, "t")
  }

  #[test]
  fn gives_up_after_reconnect_count_failures() {
    let p = policy(2, ReconnectAfterEvents::WithId);
    assert!(matches!(
      p.decide(&timeout(), history(1, false, false), None, 0.0),
      Decision::Retry(_)
    ));
    assert!(matches!(
      p.decide(&timeout(), history(2, false, false), None, 0.0),
      Decision::Retry(_)
    ));
    assert_eq!(
      p.decide(&timeout(), history(3, false, false), None, 0.0),
      Decision::GiveUp
    );
  }

  #[test]
  fn reconnect_count_zero_never_retries() {
    let p = policy(0, ReconnectAfterEvents::Always);
    assert_eq!(
      p.decide(&timeout(), history(1, false, false), None, 0.0),
      Decision::GiveUp
    );
  }

  #[test]
  fn non_retryable_errors_give_up_at_once() {
    let p = policy(5, ReconnectAfterEvents::Always);
    let err = Error::http_status(500, "", String::new(), None);
    assert_eq!(
      p.decide(&err, history(1, false, false), None, 0.0),
      Decision::GiveUp
    );
  }

  #[test]
  fn reconnect_after_events_table() {
    use ReconnectAfterEvents::*;
    // (setting, delivered events, saw id, retries?)
    let table = [
      (WithId, false, false, true),
      (WithId, true, false, false),
      (WithId, true, true, true),
      (Always, true, false, true),
      (Never, true, true, false),
      (Never, false, false, true),
    ];
    for (setting, delivered, saw_id, retries) in table {
      let d = policy(5, setting).decide(&timeout(), history(1, delivered, saw_id), None, 0.0);
      assert_eq!(
        matches!(d, Decision::Retry(_)),
        retries,
        "{setting:?} {delivered} {saw_id}"
      );
    }
  }

  #[test]
  fn first_reconnect_waits_exactly_the_reconnection_time() {
    let p = policy(5, ReconnectAfterEvents::WithId);
    assert_eq!(p.backoff(1, None, 0.9), Duration::from_millis(1000));
    assert_eq!(p.backoff(1, Some(150), 0.9), Duration::from_millis(150));
  }

  #[test]
  fn server_retry_is_held_between_the_floor_and_the_cap() {
    let p = policy(5, ReconnectAfterEvents::WithId);
    // (server retry ms, first reconnect waits)
    let table = [
      (0, MIN_SERVER_RETRY),
      (1, MIN_SERVER_RETRY),
      (100, Duration::from_millis(100)),
      (2500, Duration::from_millis(2500)),
      (60_000, MAX_SERVER_RETRY),
      (1_000_000_000_000_000, MAX_SERVER_RETRY),
      (u64::MAX, MAX_SERVER_RETRY),
    ];
    for (ms, wait) in table {
      assert_eq!(p.backoff(1, Some(ms), 0.0), wait, "retry: {ms}");
    }
    // retry: 0 backs off from the floor.
    assert_eq!(p.backoff(2, Some(0), 0.0), MIN_SERVER_RETRY * 2);
    assert_eq!(p.backoff(3, Some(0), 0.0), MIN_SERVER_RETRY * 4);
  }

  #[test]
  fn a_zero_retry_delay_still_backs_off() {
    let mut p = policy(5, ReconnectAfterEvents::WithId);
    p.retry_delay = Duration::ZERO;
    assert_eq!(p.backoff(1, None, 0.0), Duration::ZERO);
    assert_eq!(p.backoff(2, None, 0.0), Duration::from_millis(2));
    assert_eq!(p.backoff(4, None, 0.0), Duration::from_millis(8));
  }

  #[test]
  fn backoff_doubles_with_jitter_and_is_capped() {
    let p = policy(50, ReconnectAfterEvents::WithId);
    assert_eq!(p.backoff(2, None, 0.0), Duration::from_millis(2000));
    assert_eq!(p.backoff(3, None, 0.0), Duration::from_millis(4000));
    assert_eq!(p.backoff(3, None, 0.999_999).as_millis(), 2000);
    assert_eq!(p.backoff(20, None, 0.0), MAX_BACKOFF);
    assert_eq!(p.backoff(40, None, 0.0), MAX_BACKOFF);
    // A server asking for more than the cap gets what it asked for.
    assert_eq!(p.backoff(5, Some(45_000), 0.0), Duration::from_secs(45));
  }

  #[test]
  fn retry_after_wins_and_is_capped() {
    let p = policy(5, ReconnectAfterEvents::WithId);
    let mut err = Error::http_status(429, "", String::new(), Some(Duration::from_secs(2)));
    assert_eq!(
      p.decide(&err, history(1, false, false), None, 0.0),
      Decision::Retry(Duration::from_secs(2))
    );
    err.retry_after = Some(Duration::from_secs(3600));
    assert_eq!(
      p.decide(&err, history(1, false, false), None, 0.0),
      Decision::Retry(MAX_RETRY_AFTER)
    );
  }

  fn network() -> Error {
    Error::new(ErrorCode::Network, "dropped")
  }

  /// One attempt as the state machine reports it: opened at `open_at` seconds (None: failed before
  /// the response), delivered events or not, failed at `fail_at` seconds.
  type Step = (Option<u64>, bool, u64);

  fn run_steps(p: RetryPolicy, steps: &[Step]) -> Vec<(u32, u32, bool)> {
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let mut state = RetryState::new(p);
    let mut out = Vec::new();
    for &(open_at, delivered, fail_at) in steps {
      if let Some(o) = open_at {
        state.opened(at(o));
      }
      if delivered {
        state.delivered();
        state.saw_id();
      }
      let decision = state.failed(&network(), at(fail_at), None, 0.0);
      let retries = matches!(decision, Decision::Retry(_));
      out.push((state.attempt(), state.failures_in_a_row(), retries));
      if !retries {
        break;
      }
      state.reconnecting();
    }
    out
  }

  #[test]
  fn attempts_are_numbered_from_zero_and_the_budget_is_spent_by_failures() {
    // (attempt, failures in a row, retries?) after each failure: reconnectCount 2 gives 3 attempts.
    let steps = [
      (None, false, 0),
      (None, false, 1),
      (None, false, 2),
      (None, false, 3),
    ];
    assert_eq!(
      run_steps(policy(2, ReconnectAfterEvents::Always), &steps),
      [(0, 1, true), (1, 2, true), (2, 3, false)]
    );
  }

  #[test]
  fn an_attempt_that_delivered_events_but_failed_fast_does_not_reset_the_budget() {
    // A server that sends one event and drops at once, each time: a reconnect storm.
    let steps = [
      (Some(0), true, 0),
      (Some(0), true, 0),
      (Some(0), true, 0),
      (Some(0), true, 0),
    ];
    assert_eq!(
      run_steps(policy(2, ReconnectAfterEvents::Always), &steps),
      [(0, 1, true), (1, 2, true), (2, 3, false)]
    );
  }

  #[test]
  fn budget_reset_table() {
    // (opened at, delivered, failed at) -> failures in a row after it, with a 30 s stable interval.
    let table: [(Step, u32); 5] = [
      ((Some(0), true, 30), 1),  // open 30 s with events: healthy, fresh budget
      ((Some(0), true, 29), 3),  // 29 s: not yet
      ((Some(0), false, 90), 3), // open long but silent (keep-alives only): not healthy
      ((None, false, 90), 3),    // never opened
      ((Some(10), true, 45), 1), // opened at 10 s, failed at 45 s: 35 s open, healthy
    ];
    for (i, (step, want)) in table.into_iter().enumerate() {
      // Two fast failures first, so that a reset is visible (3 without it, 1 with it).
      let steps = [(None, false, 0), (None, false, 0), step];
      let got = run_steps(policy(10, ReconnectAfterEvents::Always), &steps);
      assert_eq!(got.last().unwrap().1, want, "row {i}: {step:?}");
    }
  }

  #[test]
  fn the_backoff_restarts_after_a_healthy_connection() {
    let p = policy(10, ReconnectAfterEvents::Always);
    let t0 = Instant::now();
    let mut state = RetryState::new(p);
    let delays: Vec<Decision> = (0..3)
      .map(|_| {
        let d = state.failed(&network(), t0, None, 0.0);
        state.reconnecting();
        d
      })
      .collect();
    assert_eq!(
      delays,
      [1000, 2000, 4000].map(|ms| Decision::Retry(Duration::from_millis(ms)))
    );
    state.opened(t0);
    state.delivered();
    let after = state.failed(&network(), t0 + STABLE_INTERVAL, None, 0.0);
    assert_eq!(after, Decision::Retry(Duration::from_millis(1000)));
    assert_eq!(
      state.attempt(),
      3,
      "attempt numbers keep counting across a reset"
    );
  }

  #[test]
  fn parses_retry_after_seconds_and_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
    assert_eq!(parse_retry_after(" 120 ", now), Some(MAX_RETRY_AFTER));
    // RFC 9110's example date is 784111777 seconds after the epoch.
    assert_eq!(
      parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
      Some(Duration::ZERO)
    );
    let later = "Sun, 06 Nov 1994 08:49:47 GMT";
    assert_eq!(parse_retry_after(later, now), Some(Duration::from_secs(10)));
    assert_eq!(parse_retry_after("soon", now), None);
  }
}
