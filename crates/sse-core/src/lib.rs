#![deny(clippy::all)]
//! The pure-Rust core of native-sse: no napi here, so everything is testable with `cargo test`.

pub mod accumulate;
pub mod decode;
pub mod dns;
pub mod encode;
pub mod error;
pub mod h2_shards;
pub mod http_client;
pub mod last_event_id;
pub mod options;
pub mod parser;
pub mod redact;
pub mod redirect;
pub mod request;
pub mod retry;
pub mod select;
pub mod tls;
pub mod upload;

pub use error::{Error, ErrorCode};
pub use options::{
  Body, ClientDefaults, ClientOptions, ReconnectAfterEvents, RequestConfig, RequestOptions,
};
pub use parser::{Event, Parser};
pub use request::{Outcome, Request, Sink};
