//! The reconnecting request against a real local TCP server (raw HTTP/1.1 written by hand, so every
//! fault is exact): attempts are counted at the server, not trusted from the client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use sse_core::http_client::build_http_client;
use sse_core::request::{Outcome, Request, Sink};
use sse_core::{ClientDefaults, ErrorCode, Event, RequestConfig, RequestOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Recorder {
  events: Vec<(String, String)>,
  errors: Vec<(ErrorCode, u32)>,
  opens: usize,
}

impl Sink for Recorder {
  fn open(&mut self, _status: u16, _version: http::Version, _headers: &HeaderMap) {
    self.opens += 1;
  }
  fn event(&mut self, event: Event<'_>) -> Result<(), sse_core::Error> {
    self
      .events
      .push((event.data.to_string(), event.id.to_string()));
    Ok(())
  }
  fn error(&mut self, err: &sse_core::Error, attempt: u32, _delay: std::time::Duration) {
    self.errors.push((err.code, attempt));
  }
  async fn flush(&mut self) {}
}

/// What the server saw: one entry per request, its head (request line and headers).
type Seen = Arc<Mutex<Vec<String>>>;

/// Serves each connection with `respond(attempt index, request head)` → raw bytes to write, then
/// closes (or, when the reply is None, holds the connection open without answering).
async fn serve(
  respond: impl Fn(usize, &str) -> Option<Vec<u8>> + Send + Sync + 'static,
) -> (String, Seen) {
  let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
  let url = format!("http://{}/stream", listener.local_addr().unwrap());
  let seen: Seen = Arc::default();
  let seen_by_server = Arc::clone(&seen);
  let respond = Arc::new(respond);
  tokio::spawn(async move {
    loop {
      let Ok((socket, _)) = listener.accept().await else {
        return;
      };
      let seen = Arc::clone(&seen_by_server);
      let respond = Arc::clone(&respond);
      tokio::spawn(async move { handle(socket, seen, respond).await });
    }
  });
  (url, seen)
}

async fn handle(
  mut socket: TcpStream,
  seen: Seen,
  respond: Arc<impl Fn(usize, &str) -> Option<Vec<u8>>>,
) {
  let mut buf = Vec::new();
  let mut chunk = [0u8; 4096];
  while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
    match socket.read(&mut chunk).await {
      Ok(0) | Err(_) => return,
      Ok(n) => buf.extend_from_slice(&chunk[..n]),
    }
  }
  let head = String::from_utf8_lossy(&buf).to_string();
  let attempt = {
    let mut seen = seen.lock().unwrap();
    seen.push(head.clone());
    seen.len() - 1
  };
  match respond(attempt, &head) {
    Some(reply) => {
      let _ = socket.write_all(&reply).await;
    }
    None => tokio::time::sleep(Duration::from_secs(60)).await,
  }
}

fn sse_response(body: &str) -> Vec<u8> {
  format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{body}")
    .into_bytes()
}

async fn run(url: &str, tweak: impl FnOnce(&mut RequestOptions)) -> (Outcome, Recorder) {
  let mut opts = RequestOptions {
    url: url.to_string(),
    retry_delay: Some(5.0),
    timeout: Some(2000.0),
    ..Default::default()
  };
  tweak(&mut opts);
  let cfg = Arc::new(RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap());
  let client = build_http_client(&Default::default()).unwrap();
  let request = Request::new(cfg, client, Recorder::default());
  tokio::time::timeout(
    Duration::from_secs(20),
    request.run(CancellationToken::new()),
  )
  .await
  .expect("the request ends by itself")
}

#[tokio::test]
async fn a_clean_end_closes_without_reconnecting() {
  let (url, seen) = serve(|_, _| Some(sse_response("data: a\n\ndata: b\n\n"))).await;
  let (outcome, rec) = run(&url, |_| {}).await;
  assert_eq!(outcome, Outcome::Closed);
  assert_eq!(
    rec.events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
    ["a", "b"]
  );
  assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn makes_exactly_reconnect_count_plus_one_attempts() {
  let (url, seen) = serve(|_, _| {
    Some(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy".to_vec())
  })
  .await;
  let (outcome, rec) = run(&url, |o| o.reconnect_count = Some(3.0)).await;
  match outcome {
    Outcome::Failed(err, attempt) => {
      assert_eq!(err.code, ErrorCode::HttpStatus);
      assert_eq!(err.status, Some(503));
      assert_eq!(err.body.as_deref(), Some("busy"));
      assert_eq!(attempt, 3);
    }
    other => panic!("expected a failure, got {other:?}"),
  }
  assert_eq!(seen.lock().unwrap().len(), 4);
  assert_eq!(
    rec.errors,
    [
      (ErrorCode::HttpStatus, 0),
      (ErrorCode::HttpStatus, 1),
      (ErrorCode::HttpStatus, 2)
    ]
  );
}

#[tokio::test]
async fn other_statuses_fail_at_once() {
  let (url, seen) = serve(|_, _| {
    Some(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\n\r\nno".to_vec())
  })
  .await;
  let (outcome, _) = run(&url, |_| {}).await;
  assert!(matches!(outcome, Outcome::Failed(ref e, 0) if e.status == Some(500)));
  assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_body_that_ends_mid_event_ends_cleanly_without_the_partial_event() {
  // Close-delimited: the end of the connection is the end of the body, so this is a clean end and
  // the unterminated third event is discarded (WHATWG: pending data at end of stream is dropped).
  let (url, seen) = serve(|_, _| {
    Some(sse_response(
      "id: 1\ndata: one\n\nid: 2\ndata: two\n\ndata: thr",
    ))
  })
  .await;
  let (outcome, rec) = run(&url, |_| {}).await;
  assert_eq!(outcome, Outcome::Closed);
  assert_eq!(
    rec.events,
    [("one".into(), "1".into()), ("two".into(), "2".into())]
  );
  assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_truncated_chunked_body_reconnects_with_last_event_id() {
  let (url, seen) = serve(|attempt, _| match attempt {
    0 => Some(
      b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n\
        14\r\nid: 7\ndata: seven\n\n\r\n"
        .to_vec(),
    ),
    _ => Some(sse_response("id: 8\ndata: eight\n\n")),
  })
  .await;
  let (outcome, rec) = run(&url, |_| {}).await;
  assert_eq!(outcome, Outcome::Closed);
  assert_eq!(
    rec.events,
    [("seven".into(), "7".into()), ("eight".into(), "8".into())]
  );
  assert_eq!(rec.errors, [(ErrorCode::Network, 0)]);
  let seen = seen.lock().unwrap();
  assert_eq!(seen.len(), 2);
  assert!(
    seen[1].to_ascii_lowercase().contains("last-event-id: 7"),
    "{}",
    seen[1]
  );
}

#[tokio::test]
async fn without_ids_a_drop_after_events_is_not_resent() {
  let (url, seen) = serve(|_, _| {
    Some(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata: x\n\n\r\n".to_vec())
  })
  .await;
  let (outcome, rec) = run(&url, |_| {}).await;
  assert!(
    matches!(outcome, Outcome::Failed(ref e, 0) if e.code == ErrorCode::Network),
    "{outcome:?}"
  );
  assert_eq!(rec.events.len(), 1);
  assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn no_response_headers_is_a_timeout() {
  let (url, seen) = serve(|_, _| None).await;
  let (outcome, rec) = run(&url, |o| {
    o.timeout = Some(100.0);
    o.reconnect_count = Some(1.0);
  })
  .await;
  match outcome {
    Outcome::Failed(err, 1) => {
      assert_eq!(err.code, ErrorCode::Timeout);
      assert!(
        err.message.contains("no response headers within 100 ms"),
        "{}",
        err.message
      );
    }
    other => panic!("{other:?}"),
  }
  assert_eq!(rec.errors, [(ErrorCode::Timeout, 0)]);
  assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn done_data_ends_the_request_and_is_not_delivered() {
  let (url, _) = serve(|_, _| {
    // No end of body: the server would keep it open.
    Some(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n1e\r\ndata: a\n\ndata: [DONE]\n\ndata: b\n\n\r\n".to_vec())
  })
  .await;
  let (outcome, rec) = run(&url, |o| o.done_data = Some("[DONE]".into())).await;
  assert_eq!(outcome, Outcome::Done);
  assert_eq!(
    rec.events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
    ["a"]
  );
}

#[tokio::test]
async fn a_wrong_content_type_is_not_retried() {
  let (url, seen) = serve(|_, _| {
    Some(
      b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}".to_vec(),
    )
  })
  .await;
  let (outcome, _) = run(&url, |_| {}).await;
  match outcome {
    Outcome::Failed(err, 0) => {
      assert_eq!(err.code, ErrorCode::BadContentType);
      assert!(
        err.message.contains("\"application/json\""),
        "{}",
        err.message
      );
    }
    other => panic!("{other:?}"),
  }
  assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn cancelling_stops_a_hanging_request() {
  let (url, _) = serve(|_, _| None).await;
  let opts = RequestOptions {
    url,
    ..Default::default()
  };
  let cfg = Arc::new(RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap());
  let client = build_http_client(&Default::default()).unwrap();
  let cancel = CancellationToken::new();
  let task = tokio::spawn(Request::new(cfg, client, Recorder::default()).run(cancel.clone()));
  cancel.cancel();
  let (outcome, _) = tokio::time::timeout(Duration::from_secs(5), task)
    .await
    .unwrap()
    .unwrap();
  assert_eq!(outcome, Outcome::Aborted);
}

#[tokio::test]
async fn retry_zero_from_a_server_that_drops_after_each_event_is_bounded_by_the_budget() {
  // Issue 10: one event per connection with `retry: 0` used to give every attempt a fresh budget
  // (1,329 connections in 2 s with reconnectCount 2). Now: reconnectCount + 1 connections, the
  // reconnects at least MIN_SERVER_RETRY apart and backing off.
  let (url, seen) = serve(|attempt, _| {
    Some(
      format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n\
       {:x}\r\nretry: 0\nid: {attempt}\ndata: x\n\n\r\n",
        format!("retry: 0\nid: {attempt}\ndata: x\n\n").len()
      )
      .into_bytes(),
    )
  })
  .await;
  let started = std::time::Instant::now();
  let (outcome, rec) = run(&url, |o| {
    o.reconnect_count = Some(2.0);
    o.reconnect_after_events = Some("always".into());
  })
  .await;
  assert!(
    matches!(outcome, Outcome::Failed(ref e, 2) if e.code == ErrorCode::Network),
    "{outcome:?}"
  );
  assert_eq!(seen.lock().unwrap().len(), 3);
  assert_eq!(rec.events.len(), 3);
  // 100 ms, then 200 ms less at most 50 % jitter.
  assert!(
    started.elapsed() >= Duration::from_millis(200),
    "{:?}",
    started.elapsed()
  );
}

#[tokio::test]
async fn a_server_id_with_a_control_character_fails_the_reconnect_instead_of_repeating_events() {
  let (url, seen) = serve(|_, _| {
    let body = "id: a\u{1}b\ndata: one\n\n";
    Some(format!(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n",
      body.len()
    )
    .into_bytes())
  })
  .await;
  let (outcome, rec) = run(&url, |_| {}).await;
  match outcome {
    Outcome::Failed(err, 0) => {
      assert_eq!(err.code, ErrorCode::Network);
      assert!(
        err.message.contains(
          "not reconnecting: the server's last event id contains the control character U+0001"
        ),
        "{}",
        err.message
      );
    }
    other => panic!("{other:?}"),
  }
  assert_eq!(rec.events, [("one".into(), "a\u{1}b".into())]);
  assert!(
    rec.errors.is_empty(),
    "no willRetry error before the final one"
  );
  assert_eq!(seen.lock().unwrap().len(), 1, "not re-sent without the id");
}

/// A server that reads the request body slowly (128 KiB every 10 ms, through a 128 KiB receive
/// buffer: about 8 MB/s here) and answers once it has all of it. Returns the URL and the number of body bytes read.
async fn slow_reader() -> (String, Arc<Mutex<usize>>) {
  let socket = tokio::net::TcpSocket::new_v4().unwrap();
  socket.set_recv_buffer_size(128 * 1024).unwrap();
  socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
  let listener = socket.listen(16).unwrap();
  let url = format!("http://{}/upload", listener.local_addr().unwrap());
  let read = Arc::new(Mutex::new(0usize));
  let read_by_server = Arc::clone(&read);
  tokio::spawn(async move {
    let Ok((mut socket, _)) = listener.accept().await else {
      return;
    };
    let mut buf = vec![0u8; 128 * 1024];
    let mut head = Vec::new();
    let mut body = 0usize;
    let mut length = None;
    loop {
      let Ok(n) = socket.read(&mut buf).await else {
        return;
      };
      if n == 0 {
        return;
      }
      if length.is_none() {
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
          let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
          let cl = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
          length = Some(cl.expect("a content-length, not chunked encoding"));
          body = head.len() - end - 4;
        }
      } else {
        body += n;
      }
      *read_by_server.lock().unwrap() = body;
      if length.is_some_and(|l| body >= l) {
        let _ = socket.write_all(&sse_response("data: got it\n\n")).await;
        return;
      }
      tokio::time::sleep(Duration::from_millis(10)).await;
    }
  });
  (url, read)
}

#[tokio::test]
async fn an_upload_that_keeps_moving_is_not_cut_by_the_no_progress_timeout() {
  // 24 MiB at about 8 MB/s takes 2-3 s, far past the 700 ms timeout. The client sees progress in
  // bursts: the kernel lets it write again once half of its send buffer (up to 4 MiB) has drained,
  // about every 250 ms at this rate, so the timeout is well above the longest gap.
  let (url, read) = slow_reader().await;
  let size = 24 << 20;
  let started = std::time::Instant::now();
  let (outcome, rec) = run(&url, |o| {
    o.body = sse_core::Body::Bytes(bytes::Bytes::from(vec![b'x'; size]));
    o.timeout = Some(700.0);
    o.reconnect_count = Some(0.0);
  })
  .await;
  assert_eq!(
    outcome,
    Outcome::Closed,
    "after {:?}, {} bytes read",
    started.elapsed(),
    read.lock().unwrap()
  );
  assert_eq!(rec.events, [("got it".to_string(), String::new())]);
  assert_eq!(*read.lock().unwrap(), size);
  assert!(
    started.elapsed() > Duration::from_millis(1400),
    "the upload took at least twice the timeout: {:?}",
    started.elapsed()
  );
}

/// Counts the events of each hand-over (`flush`; `flush_piece` is the default, a flush).
#[derive(Default)]
struct HandOvers {
  since_flush: usize,
  events: usize,
  largest: usize,
  slowed: bool,
}

impl Sink for HandOvers {
  fn open(&mut self, _: u16, _: http::Version, _: &HeaderMap) {}
  fn event(&mut self, _: Event<'_>) -> Result<(), sse_core::Error> {
    self.since_flush += 1;
    self.events += 1;
    Ok(())
  }
  fn error(&mut self, _: &sse_core::Error, _: u32, _: Duration) {}
  async fn flush(&mut self) {
    self.largest = self.largest.max(self.since_flush);
    self.since_flush = 0;
    if !self.slowed {
      // A consumer that falls behind once: meanwhile the server's writes fill the socket, and
      // the reads after it are as large as hyper's buffer lets them be.
      self.slowed = true;
      tokio::time::sleep(Duration::from_millis(200)).await;
    }
  }
}

#[tokio::test]
async fn a_large_read_is_handed_over_in_pieces() {
  // 512 events of 1 KiB in one write: reads of tens of KiB. A sink that waits for its consumer
  // must hold one piece's events, not one read's (1,000 streams blocked in a flush held ~130 KiB
  // each when reads were parsed whole).
  const EVENT: usize = 1024;
  let event = format!("data: {}\n\n", "x".repeat(EVENT - 8));
  let body = event.repeat(512);
  let (url, _) = serve(move |_, _| Some(sse_response(&body))).await;
  let mut opts = RequestOptions {
    url,
    reconnect_count: Some(0.0),
    ..Default::default()
  };
  opts.timeout = Some(5000.0);
  let cfg = Arc::new(RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap());
  let client = build_http_client(&Default::default()).unwrap();
  let (outcome, sink) = Request::new(cfg, client, HandOvers::default())
    .run(CancellationToken::new())
    .await;
  assert_eq!(outcome, Outcome::Closed);
  assert_eq!(sink.events, 512);
  // PIECE is 4 KiB: four whole events, and one that began in the piece before.
  assert_eq!(sse_core::request::PIECE, 4096);
  let most = 4096 / EVENT + 1;
  assert!(
    sink.largest <= most,
    "one hand-over carried {} events (at most {most})",
    sink.largest
  );
}

/// Counts `flush` (the end of a network read) apart from `flush_piece` (a piece of one).
#[derive(Default)]
struct Flushes {
  events: usize,
  flushes: usize,
  pieces: usize,
}

impl Sink for Flushes {
  fn open(&mut self, _: u16, _: http::Version, _: &HeaderMap) {}
  fn event(&mut self, _: Event<'_>) -> Result<(), sse_core::Error> {
    self.events += 1;
    Ok(())
  }
  fn error(&mut self, _: &sse_core::Error, _: u32, _: Duration) {}
  async fn flush(&mut self) {
    self.flushes += 1;
  }
  async fn flush_piece(&mut self) {
    self.pieces += 1;
  }
}

#[tokio::test]
async fn a_compressed_read_is_one_hand_over_whatever_it_decodes_to() {
  // 2,048 events of 128 bytes (256 KiB decoded, eight of the decoder's 32 KiB steps) in a gzip
  // body of a few KiB: one or two network reads. Each read ends in one flush (one wake-up of JS);
  // the decoder's steps are pieces of it, as the 4 KiB pieces of a plain read are.
  use std::io::Write;
  let event = format!("data: {}\n\n", "y".repeat(128 - 8));
  let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
  gz.write_all(event.repeat(2048).as_bytes()).unwrap();
  let gz = gz.finish().unwrap();
  assert!(gz.len() < 8 << 10, "{} bytes compressed", gz.len());
  let (url, _) = serve(move |_, _| {
    let mut response = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\nconnection: close\r\n\r\n".to_vec();
    response.extend_from_slice(&gz);
    Some(response)
  })
  .await;
  let opts = RequestOptions {
    url,
    reconnect_count: Some(0.0),
    timeout: Some(5000.0),
    ..Default::default()
  };
  let cfg = Arc::new(RequestConfig::resolve(&ClientDefaults::default(), opts).unwrap());
  let client = build_http_client(&Default::default()).unwrap();
  let (outcome, sink) = Request::new(cfg, client, Flushes::default())
    .run(CancellationToken::new())
    .await;
  assert_eq!(outcome, Outcome::Closed);
  assert_eq!(sink.events, 2048);
  assert!(
    sink.flushes <= 3,
    "{} flushes and {} pieces for a body of one or two reads",
    sink.flushes,
    sink.pieces
  );
  assert!(sink.pieces >= 6, "{} pieces", sink.pieces);
}
