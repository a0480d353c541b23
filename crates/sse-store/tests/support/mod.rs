//! Test support: a real redis-server per test on a free loopback port, killed by its PID when
//! the guard drops, and a harness that hands the same cases a memory or a Redis store.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sse_store::{Store, StoreConfig};

pub struct RedisServer {
  pub port: u16,
  dir: PathBuf,
  password: Option<String>,
  child: Option<Child>,
}

pub fn redis_server_available() -> bool {
  Command::new("redis-server")
    .arg("--version")
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .status()
    .is_ok_and(|s| s.success())
}

pub fn skip(test: &str) {
  println!("skipped {test}: redis-server is not on PATH (apt-get install redis-server)");
}

impl RedisServer {
  /// `None` (after printing the skip line) when redis-server is not installed.
  pub fn start(password: Option<&str>) -> Option<RedisServer> {
    if !redis_server_available() {
      return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
      .and_then(|l| l.local_addr())
      .map(|a| a.port())
      .expect("a free port");
    let dir = std::env::temp_dir().join(format!("sse-store-redis-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut server = RedisServer {
      port,
      dir,
      password: password.map(str::to_string),
      child: None,
    };
    server.spawn();
    Some(server)
  }

  pub fn spawn(&mut self) {
    let mut command = Command::new("redis-server");
    command
      .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
      .args(["--save", "", "--appendonly", "no"])
      .arg("--dir")
      .arg(&self.dir)
      .stdout(Stdio::null())
      .stderr(Stdio::null());
    if let Some(password) = &self.password {
      command.args(["--requirepass", password]);
    }
    self.child = Some(command.spawn().expect("redis-server starts"));
    self.wait_ready();
  }

  /// Polls PING until the server answers: there is no other readiness signal to wait on.
  fn wait_ready(&self) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
      if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let ping = match &self.password {
          Some(p) => format!("AUTH {p}\r\nPING\r\n"),
          None => "PING\r\n".to_string(),
        };
        let mut reply = [0u8; 64];
        if stream.write_all(ping.as_bytes()).is_ok() {
          let mut seen = String::new();
          while let Ok(n) = stream.read(&mut reply) {
            if n == 0 {
              break;
            }
            seen.push_str(&String::from_utf8_lossy(&reply[..n]));
            if seen.contains("+PONG") || seen.contains("-") {
              break;
            }
          }
          if seen.contains("+PONG") {
            return;
          }
        }
      }
      std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server on port {} did not answer PING", self.port);
  }

  /// SIGKILL, as a crash would: no goodbye to clients.
  pub fn kill(&mut self) {
    if let Some(mut child) = self.child.take() {
      let _ = child.kill();
      let _ = child.wait();
    }
  }

  pub fn url(&self) -> String {
    match &self.password {
      Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
      None => format!("redis://127.0.0.1:{}", self.port),
    }
  }

  /// A key's PTTL in ms (-1: no expiry, -2: no key), as the server sees it.
  pub async fn pttl(&self, key: &str) -> i64 {
    redis::cmd("PTTL")
      .arg(key)
      .query_async(&mut self.connection().await)
      .await
      .expect("PTTL")
  }

  /// A plain connection for assertions on the server's own view (TTL, INFO).
  pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
    redis::Client::open(self.url())
      .expect("url")
      .get_multiplexed_async_connection()
      .await
      .expect("test connection")
  }
}

impl Drop for RedisServer {
  fn drop(&mut self) {
    self.kill();
    let _ = std::fs::remove_dir_all(&self.dir);
  }
}

pub struct Harness {
  pub store: Store,
  pub server: Option<RedisServer>,
  pub config: StoreConfig,
}

impl Harness {
  /// Another handle as a second process would have it: a new connection for Redis; the memory
  /// store is per process, so the same store.
  pub async fn second(&self) -> Store {
    match &self.server {
      Some(server) => Store::redis(&server.url(), self.config.clone())
        .await
        .expect("second store"),
      None => self.store.clone(),
    }
  }
}

pub async fn memory(config: StoreConfig) -> Option<Harness> {
  Some(Harness {
    store: Store::memory(config.clone()).expect("memory store"),
    server: None,
    config,
  })
}

pub async fn redis(config: StoreConfig) -> Option<Harness> {
  let server = RedisServer::start(None)?;
  let store = Store::redis(&server.url(), config.clone())
    .await
    .expect("redis store");
  Some(Harness {
    store,
    server: Some(server),
    config,
  })
}
