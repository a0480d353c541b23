//! When to reconnect and how long to wait. Pure decisions: the caller passes the facts (what failed,
//! how many attempts in a row, what the server asked for, a jitter sample), so every rule is testable
//! without a clock or a socket.

use std::time::Duration;

use crate::error::Error;
use crate::options::ReconnectAfterEvents;

/// The longest backoff for consecutive failures (unless the server's own `retry` asks for more).
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured on 429 / 503: a server asking for minutes is treated as down.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
  Retry(Duration),
  GiveUp,
}

/// What happened on the request so far, as the policy needs it.
#[derive(Debug, Clone, Copy, Default)]
pub struct History {
  /// Reconnects already spent against `reconnect_count` (resets when an attempt delivered events).
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
}

impl RetryPolicy {
  /// Decides after a failed attempt. `failures_in_a_row` includes the failure just seen (so it is at
  /// least 1); `server_retry` is the last `retry` field of the stream; `jitter` is a sample in [0, 1).
  pub fn decide(
    &self,
    err: &Error,
    history: History,
    server_retry: Option<Duration>,
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

  /// The first reconnect waits exactly the reconnection time (the server's `retry`, else
  /// `retryDelay`), as EventSource does. Each further failure in a row doubles it, up to 30 s (or the
  /// base itself when the server asked for more), and takes a random 0-50 % off so that thousands of
  /// clients dropped by one server restart do not come back in lockstep.
  pub fn backoff(
    &self,
    failures_in_a_row: u32,
    server_retry: Option<Duration>,
    jitter: f64,
  ) -> Duration {
    let base = server_retry.unwrap_or(self.retry_delay);
    if failures_in_a_row <= 1 {
      return base;
    }
    let cap = base.max(MAX_BACKOFF);
    let exp = failures_in_a_row.saturating_sub(1).min(30);
    let grown = base.saturating_mul(1u32 << exp.min(31)).min(cap);
    let jitter = jitter.clamp(0.0, 1.0);
    grown.mul_f64(1.0 - jitter * 0.5)
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
    assert_eq!(
      p.backoff(1, Some(Duration::from_millis(50)), 0.9),
      Duration::from_millis(50)
    );
    // retry: 0 is honoured: the attempt budget, not the delay, bounds a server that asks for it.
    assert_eq!(p.backoff(1, Some(Duration::ZERO), 0.5), Duration::ZERO);
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
    assert_eq!(
      p.backoff(5, Some(Duration::from_secs(45)), 0.0),
      Duration::from_secs(45)
    );
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
