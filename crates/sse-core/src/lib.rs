#![deny(clippy::all)]
//! The pure-Rust core of native-sse: no napi here, so everything is testable with `cargo test`.

pub mod encode;
pub mod error;
pub mod http_client;
pub mod options;
pub mod parser;
pub mod request;
pub mod retry;

pub use error::{Error, ErrorCode};
pub use options::{
  Body, ClientDefaults, ClientOptions, ReconnectAfterEvents, RequestConfig, RequestOptions,
};
pub use parser::{Event, Parser};
pub use request::{Outcome, ReadyState, Request, Sink};
