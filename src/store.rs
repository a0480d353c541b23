//! The event-log store of a client, for resumable relays: the in-process store by default, Redis
//! Streams when a URL is given (`sse-store` does the work; this file turns the JS options into its
//! configuration and connects to Redis on first use).

use std::time::Duration;

use napi::bindgen_prelude::{Either, Uint8Array};
use napi_derive::napi;
use sse_core::Error;
use sse_store::{Store, StoreConfig, StoreError};
use tokio::sync::Mutex;

/// Where a client keeps the logs of resumable generations.
#[napi(object, object_to_js = false)]
pub struct StoreOptions {
  /// `redis://` or `rediss://` (TLS) URL, with `user:password@` for AUTH. None: the in-process
  /// store (one process only).
  pub url: Option<String>,
  /// Prefix of every key and of the stop channel (default 'nsse:').
  pub prefix: Option<String>,
  /// Milliseconds a finished log stays readable (default 300000, five minutes).
  pub ttl: Option<f64>,
  /// Entries kept in a running log; older ones are trimmed (default 10000).
  pub max_len: Option<f64>,
  /// Milliseconds a producer owns its generation without renewing its lease (default 3000).
  /// Readers learn that a producer died within `lease` + 1 s.
  pub lease: Option<f64>,
  /// In-process store only: bytes kept per log (default 64 MiB).
  pub max_bytes: Option<f64>,
  /// `rediss://` only: PEM certificates trusted as roots instead of the system's.
  pub ca: Option<Either<String, Uint8Array>>,
}

/// The client's store. Redis is connected on first use, and again after a failed attempt, so that
/// a Redis that was down when the client was made (or restarted since) serves later generations.
pub enum LogStore {
  Memory(Store),
  Redis {
    url: String,
    config: StoreConfig,
    /// `None` until connected; the lock also makes concurrent first uses share one connect.
    connected: Mutex<Option<Store>>,
    closed: std::sync::atomic::AtomicBool,
  },
}

impl LogStore {
  /// Validates the options (bad input throws INVALID_OPTIONS from the SSEClient constructor).
  pub fn new(options: Option<Either<String, StoreOptions>>) -> Result<LogStore, Error> {
    let options = match options {
      None => StoreOptions {
        url: None,
        prefix: None,
        ttl: None,
        max_len: None,
        lease: None,
        max_bytes: None,
        ca: None,
      },
      Some(Either::A(url)) => StoreOptions {
        url: Some(url),
        prefix: None,
        ttl: None,
        max_len: None,
        lease: None,
        max_bytes: None,
        ca: None,
      },
      Some(Either::B(options)) => options,
    };
    let mut config = StoreConfig::default();
    if let Some(prefix) = options.prefix {
      config.prefix = prefix;
    }
    if let Some(ms) = options.ttl {
      config.ttl = millis("store.ttl", ms)?;
    }
    if let Some(ms) = options.lease {
      config.lease = millis("store.lease", ms)?;
    }
    if let Some(n) = options.max_len {
      config.max_len = count("store.maxLen", n)?;
    }
    if let Some(n) = options.max_bytes {
      config.max_bytes = count("store.maxBytes", n)?;
    }
    if let Some(ca) = options.ca {
      let rediss = options
        .url
        .as_deref()
        .is_some_and(|u| u.starts_with("rediss://"));
      if !rediss {
        return Err(Error::invalid_options(
          "store.ca applies to a rediss:// (TLS) store URL only".to_string(),
        ));
      }
      config.ca = Some(match ca {
        Either::A(text) => text.into_bytes(),
        Either::B(bytes) => bytes.to_vec(),
      });
    }
    config.validate().map_err(invalid)?;
    match options.url {
      None => Ok(LogStore::Memory(Store::memory(config).map_err(invalid)?)),
      Some(url) if url == "memory" => Ok(LogStore::Memory(Store::memory(config).map_err(invalid)?)),
      Some(url) => {
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
          return Err(Error::invalid_options(format!(
            "store must be a redis:// or rediss:// URL, got {}",
            sse_store::redact_url(&url)
          )));
        }
        Ok(LogStore::Redis {
          url,
          config,
          connected: Mutex::new(None),
          closed: Default::default(),
        })
      }
    }
  }

  /// The store, connecting to Redis if it is not connected yet.
  pub async fn get(&self) -> Result<Store, StoreError> {
    match self {
      LogStore::Memory(store) => Ok(store.clone()),
      LogStore::Redis {
        url,
        config,
        connected,
        closed,
      } => {
        let mut slot = connected.lock().await;
        if closed.load(std::sync::atomic::Ordering::Acquire) {
          return Err(StoreError::Closed);
        }
        if let Some(store) = slot.as_ref() {
          return Ok(store.clone());
        }
        let store = Store::redis(url, config.clone()).await?;
        *slot = Some(store.clone());
        Ok(store)
      }
    }
  }

  /// Closes every connection; later uses fail with STORE_CLOSED.
  pub async fn close(&self) {
    match self {
      LogStore::Memory(store) => store.close().await,
      LogStore::Redis {
        connected, closed, ..
      } => {
        closed.store(true, std::sync::atomic::Ordering::Release);
        if let Some(store) = connected.lock().await.take() {
          store.close().await;
        }
      }
    }
  }
}

fn invalid(err: StoreError) -> Error {
  Error::invalid_options(err.to_string())
}

fn millis(name: &str, ms: f64) -> Result<Duration, Error> {
  if !ms.is_finite() || !(0.0..=1e12).contains(&ms) {
    return Err(Error::invalid_options(format!(
      "{name} must be a number of milliseconds, got {ms}"
    )));
  }
  Ok(Duration::from_micros((ms * 1000.0) as u64))
}

fn count(name: &str, n: f64) -> Result<usize, Error> {
  if !n.is_finite() || n < 1.0 || n.fract() != 0.0 || n > 9e15 {
    return Err(Error::invalid_options(format!(
      "{name} must be a whole number of at least 1, got {n}"
    )));
  }
  Ok(n as usize)
}
