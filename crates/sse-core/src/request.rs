//! The reconnecting request: connect, stream, fail, wait, reconnect, end. A named `State` moves
//! through small transition functions; all decisions about retrying are in `retry.rs`, all parsing in
//! `parser.rs`, and everything the user sees goes through the `Sink`.

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use http::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::decode::Decoder;
use crate::error::{Error, ErrorCode};
use crate::h2_shards::Lease;
use crate::http_client::Transport;
use crate::options::RequestConfig;
use crate::parser::{Event, Parser};
use crate::redirect;
use crate::retry::{parse_retry_after, Decision, RetryPolicy, RetryState, STABLE_INTERVAL};
use crate::upload;

/// The most of one network read that is parsed before its events are handed over (see read_body).
pub const PIECE: usize = 4 << 10;

/// How many bytes of a non-2xx response body are kept for `SseError.body`.
pub const ERROR_BODY_LIMIT: usize = 4096;

/// Where a request reports what happens. Implemented by the napi layer (batched delivery to JS) and
/// by tests. Calls come from the request's task, in order.
pub trait Sink: Send {
  /// The response of an attempt arrived (its status, HTTP version and headers).
  fn open(&mut self, status: u16, version: http::Version, headers: &HeaderMap);
  /// One event. An error fails the attempt (and the request, unless the error is retryable): an
  /// event the sink cannot carry, such as one too large to become a JS string once re-encoded.
  fn event(&mut self, event: Event<'_>) -> Result<(), Error>;
  /// The last event id after each network read, so that one set by a block without data (an
  /// id-only block) is seen too; the sink compares it with the ids it already reported.
  fn last_event_id(&mut self, _id: &str) {}
  /// A failed attempt that will be retried after `delay` (`will_retry` is always true here: the
  /// final failure is the `Outcome`).
  fn error(&mut self, err: &Error, attempt: u32, delay: Duration);
  /// A chunk of `bytes` body bytes (after content decoding) arrived, before it is parsed.
  fn received(&mut self, _bytes: usize) {}
  /// The end of one network read: hand over what is batched. Awaiting it is the back-pressure point.
  fn flush(&mut self) -> impl Future<Output = ()> + Send;
  /// The end of one piece of a network read that is parsed in pieces ([`PIECE`] bytes each), more
  /// of the same read to follow. A sink whose consumer is behind hands over what is batched and
  /// waits here (as in `flush`), so that a waiting request holds one piece's events, not a read's;
  /// otherwise it may do nothing and let the read's events gather.
  fn flush_piece(&mut self) -> impl Future<Output = ()> + Send {
    self.flush()
  }
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

/// How one attempt's body ended.
enum BodyEnd {
  Clean,
  Done,
  Failed(Error),
}

pub struct Request<S: Sink> {
  cfg: std::sync::Arc<RequestConfig>,
  transport: Transport,
  /// The HTTP/2 stream the current attempt counts on a shard (h2_shards.rs), until it ends.
  lease: Option<Lease>,
  sink: S,
  parser: Parser,
  /// Attempt numbers, the reconnect budget and what the policy needs to know about the request.
  retry: RetryState,
}

impl<S: Sink> Request<S> {
  pub fn new(cfg: std::sync::Arc<RequestConfig>, transport: Transport, sink: S) -> Request<S> {
    let policy = RetryPolicy {
      reconnect_count: cfg.reconnect_count,
      retry_delay: cfg.retry_delay,
      reconnect_after_events: cfg.reconnect_after_events,
      stable_interval: STABLE_INTERVAL,
    };
    Request {
      parser: Parser::new(cfg.max_event_size),
      cfg,
      transport,
      lease: None,
      sink,
      retry: RetryState::new(policy),
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
        State::Waiting(delay) => {
          self.lease = None;
          self.wait(delay).await
        }
        State::Closed(outcome) => {
          self.lease = None;
          return outcome;
        }
      };
    }
  }

  async fn connect(&mut self) -> State {
    match self.send().await {
      Ok(response) => State::Open(response),
      Err(err) => self.failed(err),
    }
  }

  async fn send(&mut self) -> Result<reqwest::Response, Error> {
    let mut headers = self.cfg.headers.clone();
    if let Some(id) = self.resume_id() {
      // Checked before this attempt was decided on (`failed`, and the option's validation).
      if let Ok(value) = crate::last_event_id::header_value(id) {
        headers.insert("last-event-id", value);
      }
    }
    let mut url = self.cfg.url.clone();
    let mut method = self.cfg.method.clone();
    let mut body = self.cfg.body.clone();
    let mut was_https = url.scheme() == "https";
    let mut followed = 0;
    loop {
      let (client, lease) = self.transport.client_for(&url, self.cfg.timeout).await;
      self.lease = lease;
      let mut request = client
        .request(method.clone(), url.clone())
        .headers(headers.clone());
      let progress = upload::Progress::new();
      match &body {
        Some(body) if body.len() > upload::SLICE => {
          let sliced = upload::SlicedBody::new(body.clone(), progress.clone());
          request = request.body(reqwest::Body::wrap(sliced));
        }
        Some(body) => request = request.body(body.clone()),
        None => {}
      }
      let response = until_no_progress(self.cfg.timeout, &progress, request.send(), || {
        let mut message = format!(
          "no response headers within {} ms (timeout)",
          ms(self.cfg.timeout)
        );
        // A name that is still being resolved is not a slow server.
        let host = url.host_str().unwrap_or("");
        if let Some(resolving) = crate::dns::SystemResolver::shared().resolving(host) {
          message.push_str(": ");
          message.push_str(&resolving.explain(host));
        }
        Error::new(ErrorCode::Timeout, message)
      })
      .await?
      .map_err(|e| Error::from_reqwest(&e, "request failed"))?;
      let hop = redirect::next_hop(
        response.status(),
        response.headers(),
        &url,
        &method,
        followed,
        was_https,
      )?;
      let Some(hop) = hop else {
        return self.check_response(response).await;
      };
      headers = redirect::next_headers(&headers, &url, &hop);
      if !hop.keep_body {
        body = None;
      }
      was_https |= hop.url.scheme() == "https";
      method = hop.method;
      url = hop.url;
      followed += 1;
    }
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
    self.retry.opened(std::time::Instant::now());
    self.parser.reset_stream();
    self.sink.open(
      response.status().as_u16(),
      response.version(),
      response.headers(),
    );
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
    let mut decoder = match Decoder::for_headers(response.headers()) {
      Ok(decoder) => decoder,
      Err(err) => return BodyEnd::Failed(err),
    };
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
        None => {
          return match decoder.as_mut() {
            None => BodyEnd::Clean,
            // What the decoders still hold, or the error of a compressed body cut short.
            Some(decoder) => self
              .decoded(decoder, true)
              .await
              .1
              .unwrap_or(BodyEnd::Clean),
          };
        }
        Some(Ok(chunk)) => chunk,
        Some(Err(e)) => {
          return BodyEnd::Failed(Error::from_reqwest(
            &e,
            "connection dropped while reading the body",
          ))
        }
      };
      // Bytes as they came off the wire (compressed, if they were): the sink's count.
      self.sink.received(chunk.len());
      if let Some(decoder) = decoder.as_mut() {
        decoder.push(&chunk);
        let (dispatched, end) = self.decoded(decoder, false).await;
        if let Some(end) = end {
          return end;
        }
        idle.as_mut().reset(deadline(idle_limit, far));
        if dispatched > 0 {
          quiet.as_mut().reset(deadline(event_limit, far));
        }
        continue;
      }
      // At most PIECE bytes are parsed before they are handed over: a stream that waits for JS
      // (blocked, or behind) then holds one piece's events, not one read's (hyper's reads grow to
      // ~400 KiB when they fill its buffer). 1,000 streams whose server wrote 64 KiB at a time grew
      // RSS by 127-145 MiB over a 4 s block with reads parsed whole. A sink that is not behind lets
      // the pieces gather (flush_piece), so JS still wakes once per read.
      let mut chunk = chunk;
      let mut dispatched = 0;
      while !chunk.is_empty() {
        let piece = chunk.split_to(chunk.len().min(PIECE));
        let fed = self.feed(&piece);
        drop(piece);
        let done = match fed {
          Ok((n, done)) => {
            dispatched += n;
            done
          }
          Err(err) => return BodyEnd::Failed(err),
        };
        self.sink.last_event_id(self.parser.last_event_id());
        if chunk.is_empty() || done {
          self.sink.flush().await;
        } else {
          self.sink.flush_piece().await;
        }
        if done {
          return BodyEnd::Done;
        }
      }
      // The sink may have held us while JS caught up (back-pressure): that wait was ours, not the
      // server's silence, so the clocks start again after it.
      idle.as_mut().reset(deadline(idle_limit, far));
      if dispatched > 0 {
        quiet.as_mut().reset(deadline(event_limit, far));
      }
    }
  }

  /// Parses what the decoder makes of the body so far, one bounded step at a time. Each step is a
  /// piece of the network read (`flush_piece`: held by back-pressure before the next is decoded
  /// when the consumer is behind) and the last one ends it (`flush`), so that a read wakes JS once
  /// whatever it decodes to (it woke JS once per 32 KiB step). Returns how many events were
  /// dispatched, and Some(end) when the body is over for the request: `doneData`, an error, or
  /// (with `ended`) the decoded end.
  async fn decoded(&mut self, decoder: &mut Decoder, ended: bool) -> (usize, Option<BodyEnd>) {
    let mut total = 0;
    let mut next = decoder.pull(ended);
    loop {
      let piece = match next {
        Ok(Some(piece)) => piece,
        Ok(None) => return (total, ended.then_some(BodyEnd::Clean)),
        Err(err) => return (total, Some(BodyEnd::Failed(err))),
      };
      let (dispatched, done) = match self.feed(&piece) {
        Ok(result) => result,
        Err(err) => return (total, Some(BodyEnd::Failed(err))),
      };
      drop(piece);
      total += dispatched;
      self.sink.last_event_id(self.parser.last_event_id());
      if done {
        self.sink.flush().await;
        return (total, Some(BodyEnd::Done));
      }
      // The next step is decoded before this one is handed over: whether it is the read's last
      // decides which hand-over this is.
      next = decoder.pull(ended);
      if matches!(next, Ok(Some(_))) {
        self.sink.flush_piece().await;
      } else {
        self.sink.flush().await;
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
    let mut refused = None;
    let mut delivered = 0usize;
    let dispatched = parser
      .feed(chunk, |event| {
        if done || refused.is_some() {
          return;
        }
        if done_data == Some(event.data) {
          done = true;
          return;
        }
        delivered += 1;
        if let Err(err) = sink.event(event) {
          refused = Some(err);
        }
      })
      .map_err(|e| Error::new(ErrorCode::EventTooLarge, e.to_string()))?;
    if let Some(err) = refused {
      return Err(err);
    }
    if delivered > 0 {
      self.retry.delivered();
    }
    Ok((dispatched, done))
  }

  /// Decides what a failed attempt leads to: a wait before the next one, or the end.
  fn failed(&mut self, err: Error) -> State {
    if self.parser.saw_id() {
      self.retry.saw_id();
    }
    let now = std::time::Instant::now();
    let server_retry = self.parser.reconnection_time();
    let attempt = self.retry.attempt();
    match self.retry.failed(&err, now, server_retry, fastrand::f64()) {
      Decision::Retry(delay) => {
        if let Err(why) = self.resume_header_ok() {
          let mut err = err;
          err.message = format!("{}; not reconnecting: {why}", err.message);
          return State::Closed(Outcome::Failed(err, attempt));
        }
        self.sink.error(&err, attempt, delay);
        State::Waiting(delay)
      }
      Decision::GiveUp => State::Closed(Outcome::Failed(err, attempt)),
    }
  }

  /// A reconnect without the server's id would restart the stream and repeat events: refuse it.
  fn resume_header_ok(&self) -> Result<(), String> {
    match self.resume_id() {
      Some(id) => crate::last_event_id::header_value(id)
        .map(drop)
        .map_err(|why| format!("the server's last event id {why}; without it the stream would start again and repeat events")),
      None => Ok(()),
    }
  }

  async fn wait(&mut self, delay: Duration) -> State {
    self.sink.flush().await;
    tokio::time::sleep(delay).await;
    self.retry.reconnecting();
    State::Connecting
  }
}

fn deadline(limit: Option<Duration>, far: Instant) -> Instant {
  limit.map_or(far, |d| Instant::now() + d)
}

fn ms(limit: Option<Duration>) -> u128 {
  limit.map_or(0, |d| d.as_millis())
}

/// Like `with_timeout`, but the clock restarts whenever the upload makes progress: `timeout` is the
/// longest wait with nothing moving, and a body being written is something moving.
async fn until_no_progress<T>(
  limit: Option<Duration>,
  progress: &upload::Progress,
  fut: impl Future<Output = T>,
  on_timeout: impl FnOnce() -> Error,
) -> Result<T, Error> {
  let Some(limit) = limit else {
    return Ok(fut.await);
  };
  let mut fut = pin!(fut);
  loop {
    // A limit too large to add to an Instant (`timeout: 1e300`) never fires.
    let Some(deadline) = progress.last().checked_add(limit) else {
      return Ok(fut.await);
    };
    tokio::select! {
      out = &mut fut => return Ok(out),
      _ = sleep_until(deadline) => {
        // Woken at the deadline of the last slice seen; a newer slice moves it on.
        if progress.last() == deadline - limit {
          return Err(on_timeout());
        }
      }
    }
  }
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
  // A compressed error body is decoded as far as it goes; one that cannot be is left out.
  let mut decoder = match Decoder::for_headers(response.headers()) {
    Ok(decoder) => decoder,
    Err(_) => return String::new(),
  };
  let mut stream = response.bytes_stream();
  let read = async {
    while let Some(Ok(chunk)) = stream.next().await {
      let chunk: bytes::Bytes = match decoder.as_mut() {
        None => chunk,
        Some(decoder) => {
          decoder.push(&chunk);
          let mut decoded = Vec::new();
          while let Ok(Some(piece)) = decoder.pull(false) {
            decoded.extend_from_slice(&piece);
            if decoded.len() >= ERROR_BODY_LIMIT {
              break;
            }
          }
          decoded.into()
        }
      };
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

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn a_timeout_spent_waiting_for_a_dns_slot_says_so() {
    use crate::http_client::build_http_client;
    use crate::options::{ClientDefaults, ClientOptions, RequestOptions};
    // Lookups of names that never answer hold every slot of the process-wide resolver.
    let held = crate::dns::SystemResolver::shared().hold_all_slots().await;
    let opts = ClientOptions::default();
    let defaults = ClientDefaults::from_options(&opts).unwrap();
    let mut req = RequestOptions {
      url: "http://localhost:9/".into(),
      ..RequestOptions::default()
    };
    req.timeout = Some(200.0);
    req.reconnect_count = Some(0.0);
    let cfg = RequestConfig::resolve(&defaults, req).unwrap();
    let http = build_http_client(&opts).unwrap();
    let (outcome, _) = Request::new(std::sync::Arc::new(cfg), http, NullSink)
      .run(CancellationToken::new())
      .await;
    drop(held);
    let Outcome::Failed(err, _) = outcome else {
      panic!("expected a timeout, got {outcome:?}");
    };
    assert_eq!(err.code, ErrorCode::Timeout);
    assert!(
      err.message.contains("no response headers"),
      "{}",
      err.message
    );
    assert!(err.message.contains("name resolution"), "{}", err.message);
    assert!(err.message.contains("\"localhost\""), "{}", err.message);
  }

  struct NullSink;

  impl Sink for NullSink {
    fn open(&mut self, _: u16, _: http::Version, _: &HeaderMap) {}
    fn event(&mut self, _: Event<'_>) -> Result<(), Error> {
      Ok(())
    }
    fn error(&mut self, _: &Error, _: u32, _: Duration) {}
    async fn flush(&mut self) {}
  }

  #[test]
  fn content_type_essence_is_matched() {
    assert!(is_event_stream("text/event-stream"));
    assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
    assert!(!is_event_stream("application/json"));
    assert!(!is_event_stream("text/event-streamx"));
  }
}
