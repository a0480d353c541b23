#![deny(clippy::all)]
//! The napi layer: JS values in, core types out, core events batched back to JS. No parsing or
//! retry logic lives here (see crates/sse-core).

mod callbacks;
mod client;
mod error;
mod options;
mod request;
mod runtime;
mod server_sent_events;
mod types;
