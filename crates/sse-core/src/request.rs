//! The reconnecting request: connect, stream, fail, wait, reconnect, end. A named `State` moves
//! through small transition functions; all decisions about retrying are in `retry.rs`, all parsing in
//! `parser.rs`, and everything the user sees goes through the `Sink`.

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorCode};
use crate::options::RequestConfig;
use crate::parser::{Event, Parser};
use crate::retry::{parse_retry_after, Decision, History, RetryPolicy};

/// How many bytes of a non-2xx response body are kept for `SseError.body`.
pub const ERROR_BODY_LIMIT: usize = 4096;

/// EventSource's readyState values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ReadyState {
  Connecting = 0,
  Open = 1,
  Closed = 2,
}

/// Where a request reports what happens. Implemented by the napi layer (batched delivery to JS) and
/// by tests. Calls come from the request's task, in order.
pub trait Sink: Send {
  /// For tracing: the napi layer's JS module derives readyState from the records themselves.
  fn state(&mut self, _state: ReadyState) {}
  fn open(&mut self, status: u16, headers: &HeaderMap);
  fn event(&mut self, event: Event<'_>);
  /// The last event id after each network read, so that one set by a block without data (an
  /// id-only block) is seen too; the sink compares it with the ids it already reported.
  fn last_event_id(&mut self, _id: &str) {}
  /// A failed attempt that will be retried (`will_retry` is always true here: the final failure is
  /// the `Outcome`).
  fn error(&mut self, err: &Error, attempt: u32);
  /// The end of one network read: hand over what is batched. Awaiting it is the back-pressure point.
  fn flush(&mut self) -> impl Future<Output = ()> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
  /// The body ended cleanly (or the response was 204 No Content).
  Closed,
  /// `doneData` arrived.
  Done,
  /// The final failure, with the attempt it happened on.
  Failed(Error, u32),
  Aborted,
}

enum State {
  Connecting,
  Open(reqwest::Response),
  Waiting(Duration),
  Closed(Outcome),
}

impl State {
  /// For tracing and test messages.
  #[cfg_attr(
    not(test),
    expect(dead_code, reason = "used by tests and debugging only")
  )]
  pub fn name(&self) -> &'static str {
    match self {
      State::Connecting => "connecting",
      State::Open(_) => "open",
      State::Waiting(_) => "waiting",
      State::Closed(_) => "closed",
    }
  }
}

/// How one attempt's body ended.
enum BodyEnd {
  Clean,
  Done,
  Failed(Error),
}

pub struct Request<S: Sink> {
  cfg: std::sync::Arc<RequestConfig>,
  client: reqwest::Client,
  sink: S,
  parser: Parser,
  policy: RetryPolicy,
  attempt: u32,
  history: History,
  /// Events delivered by the current attempt: one that delivered any resets the failure count.
  events_this_attempt: bool,
}

impl<S: Sink> Request<S> {
  pub fn new(cfg: std::sync::Arc<RequestConfig>, client: reqwest::Client, sink: S) -> Request<S> {
    let policy = RetryPolicy {
      reconnect_count: cfg.reconnect_count,
      retry_delay: cfg.retry_delay,
      reconnect_after_events: cfg.reconnect_after_events,
    };
    Request {
      parser: Parser::new(cfg.max_event_size),
      cfg,
      client,
      sink,
      policy,
      attempt: 0,
      history: History::default(),
      events_this_attempt: false,
    }
  }

  /// Runs to the end. Cancelling the token drops the in-flight future, which closes the socket at
  /// once; nothing is reported to the sink after that.
  pub async fn run(mut self, cancel: CancellationToken) -> (Outcome, S) {
    let outcome = tokio::select! {
      biased;
      _ = cancel.cancelled() => Outcome::Aborted,
      outcome = self.drive() => outcome,
    };
    (outcome, self.sink)
  }

  async fn drive(&mut self) -> Outcome {
    let mut state = State::Connecting;
    loop {
      state = match state {
        State::Connecting => self.connect().await,
        State::Open(response) => self.stream(response).await,
        State::Waiting(delay) => self.wait(delay).await,
        State::Closed(outcome) => {
          self.sink.state(ReadyState::Closed);
          return outcome;
        }
      };
    }
  }

  async fn connect(&mut self) -> State {
    self.sink.state(ReadyState::Connecting);
    self.events_this_attempt = false;
    match self.send().await {
      Ok(response) => State::Open(response),
      Err(err) => self.failed(err),
    }
  }

  async fn send(&mut self) -> Result<reqwest::Response, Error> {
    let mut request = self
      .client
      .request(self.cfg.method.clone(), self.cfg.url.clone());
    let mut headers = self.cfg.headers.clone();
    if let Some(id) = self.resume_id() {
      // Validated: ids with NUL are dropped by the parser, CR/LF cannot be in a parsed line.
      if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert("last-event-id", value);
      }
    }
    request = request.headers(headers);
    if let Some(body) = &self.cfg.body {
      request = request.body(body.clone());
    }
    let response = with_timeout(self.cfg.timeout, request.send(), || {
      Error::new(
        ErrorCode::Timeout,
        format!(
          "no response headers within {} ms (timeout)",
          ms(self.cfg.timeout)
        ),
      )
    })
    .await?
    .map_err(|e| Error::from_reqwest(&e, "request failed"))?;
    self.check_response(response).await
  }

  /// The id to resume from: the server's last id once it sent one, else the user's `lastEventId`.
  fn resume_id(&self) -> Option<&str> {
    let id = if self.parser.saw_id() {
      self.parser.last_event_id()
    } else {
      self.cfg.last_event_id.as_deref().unwrap_or("")
    };
    (!id.is_empty()).then_some(id)
  }

  async fn check_response(&self, response: reqwest::Response) -> Result<reqwest::Response, Error> {
    let status = response.status();
    if !status.is_success() {
      let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
      let reason = status.canonical_reason().unwrap_or("");
      let body = read_error_body(response, self.cfg.timeout).await;
      return Err(Error::http_status(
        status.as_u16(),
        reason,
        body,
        retry_after,
      ));
    }
    if self.cfg.strict_content_type && status != http::StatusCode::NO_CONTENT {
      let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()));
      let is_sse = content_type.as_deref().is_some_and(is_event_stream);
      if !is_sse {
        let got = content_type.map_or_else(|| "no content-type".to_string(), |c| format!("{c:?}"));
        return Err(Error::new(
          ErrorCode::BadContentType,
          format!("expected content-type text/event-stream, got {got} (set strictContentType: false to accept it)"),
        ));
      }
    }
    Ok(response)
  }

  async fn stream(&mut self, response: reqwest::Response) -> State {
    self.parser.reset_stream();
    self.sink.state(ReadyState::Open);
    self
      .sink
      .open(response.status().as_u16(), response.headers());
    // 204 No Content is the server's way to say "stop": a clean end, never reconnected (WHATWG).
    if response.status() == http::StatusCode::NO_CONTENT {
      return State::Closed(Outcome::Closed);
    }
    match self.read_body(response).await {
      BodyEnd::Clean => State::Closed(Outcome::Closed),
      BodyEnd::Done => State::Closed(Outcome::Done),
      BodyEnd::Failed(err) => self.failed(err),
    }
  }

  async fn read_body(&mut self, response: reqwest::Response) -> BodyEnd {
    let mut body = response.bytes_stream();
    let far = Instant::now() + Duration::from_secs(86400 * 365);
    let idle_limit = self.cfg.timeout;
    let event_limit = self.cfg.event_timeout;
    let mut idle = pin!(tokio::time::sleep_until(deadline(idle_limit, far)));
    let mut quiet = pin!(tokio::time::sleep_until(deadline(event_limit, far)));
    loop {
      let chunk = tokio::select! {
        chunk = body.next() => chunk,
        _ = &mut idle => {
          return BodyEnd::Failed(Error::new(
            ErrorCode::Timeout,
            format!("no data for {} ms (timeout)", ms(idle_limit)),
          ));
        }
        _ = &mut quiet => {
          return BodyEnd::Failed(Error::new(
            ErrorCode::Timeout,
            format!("no event for {} ms (eventTimeout)", ms(event_limit)),
          ));
        }
      };
      let chunk = match chunk {
        None => return BodyEnd::Clean,
        Some(Ok(chunk)) => chunk,
        Some(Err(e)) => {
          return BodyEnd::Failed(Error::from_reqwest(
            &e,
            "connection dropped while reading the body",
          ))
        }
      };
      let (dispatched, done) = match self.feed(&chunk) {
        Ok(result) => result,
        Err(err) => return BodyEnd::Failed(err),
      };
      self.sink.last_event_id(self.parser.last_event_id());
      // The sink may hold us while JS catches up (back-pressure): that wait is ours, not the
      // server's silence, so the clocks start again after it.
      self.sink.flush().await;
      idle.as_mut().reset(deadline(idle_limit, far));
      if dispatched > 0 {
        quiet.as_mut().reset(deadline(event_limit, far));
      }
      if done {
        return BodyEnd::Done;
      }
    }
  }

  /// Parses one chunk into the sink. Returns how many events were dispatched and whether `doneData`
  /// was seen (events after it, even in the same chunk, are not delivered).
  fn feed(&mut self, chunk: &[u8]) -> Result<(usize, bool), Error> {
    let Request {
      parser, sink, cfg, ..
    } = self;
    let done_data = cfg.done_data.as_deref();
    let mut done = false;
    let mut delivered = 0usize;
    let dispatched = parser
      .feed(chunk, |event| {
        if done {
          return;
        }
        if done_data == Some(event.data) {
          done = true;
          return;
        }
        delivered += 1;
        sink.event(event);
      })
      .map_err(|e| Error::new(ErrorCode::EventTooLarge, e.to_string()))?;
    if delivered > 0 {
      self.events_this_attempt = true;
      self.history.delivered_events = true;
    }
    Ok((dispatched, done))
  }

  /// Decides what a failed attempt leads to: a wait before the next one, or the end.
  fn failed(&mut self, err: Error) -> State {
    if self.events_this_attempt {
      self.history.failures_in_a_row = 0;
    }
    self.history.failures_in_a_row += 1;
    self.history.saw_id = self.parser.saw_id();
    let server_retry = self.parser.reconnection_time().map(Duration::from_millis);
    match self
      .policy
      .decide(&err, self.history, server_retry, fastrand::f64())
    {
      Decision::Retry(delay) => {
        self.sink.error(&err, self.attempt);
        State::Waiting(delay)
      }
      Decision::GiveUp => State::Closed(Outcome::Failed(err, self.attempt)),
    }
  }

  async fn wait(&mut self, delay: Duration) -> State {
    self.sink.state(ReadyState::Connecting);
    self.sink.flush().await;
    tokio::time::sleep(delay).await;
    self.attempt += 1;
    State::Connecting
  }
}

fn deadline(limit: Option<Duration>, far: Instant) -> Instant {
  limit.map_or(far, |d| Instant::now() + d)
}

fn ms(limit: Option<Duration>) -> u128 {
  limit.map_or(0, |d| d.as_millis())
}

async fn with_timeout<T>(
  limit: Option<Duration>,
  fut: impl Future<Output = T>,
  on_timeout: impl FnOnce() -> Error,
) -> Result<T, Error> {
  match limit {
    None => Ok(fut.await),
    Some(limit) => tokio::select! {
      out = fut => Ok(out),
      _ = sleep_until(Instant::now() + limit) => Err(on_timeout()),
    },
  }
}

/// `text/event-stream`, with any parameters, in any case.
fn is_event_stream(content_type: &str) -> bool {
  let essence = content_type.split(';').next().unwrap_or("").trim();
  essence.eq_ignore_ascii_case("text/event-stream")
}

/// The first bytes of an error body, for `SseError.body`: enough to show an API's JSON error, never
/// the whole of a large page, and never a wait past the timeout.
async fn read_error_body(response: reqwest::Response, limit: Option<Duration>) -> String {
  let mut body = Vec::new();
  let mut stream = response.bytes_stream();
  let read = async {
    while let Some(Ok(chunk)) = stream.next().await {
      let room = ERROR_BODY_LIMIT - body.len();
      body.extend_from_slice(&chunk[..chunk.len().min(room)]);
      if body.len() >= ERROR_BODY_LIMIT {
        break;
      }
    }
  };
  let _ = with_timeout(limit.map(|l| l.min(Duration::from_secs(5))), read, || {
    Error::new(ErrorCode::Timeout, "")
  })
  .await;
  String::from_utf8_lossy(&body).into_owned()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn content_type_essence_is_matched() {
    assert!(is_event_stream("text/event-stream"));
    assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
    assert!(!is_event_stream("application/json"));
    assert!(!is_event_stream("text/event-streamx"));
  }

  #[test]
  fn state_names_for_tracing() {
    assert_eq!(State::Connecting.name(), "connecting");
    assert_eq!(State::Waiting(Duration::ZERO).name(), "waiting");
    assert_eq!(State::Closed(Outcome::Aborted).name(), "closed");
  }
}
