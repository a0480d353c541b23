#![deny(clippy::all)]
//! The napi layer: JS values in, core types out, core events batched back to JS as records. No
//! parsing or retry logic lives here (see crates/sse-core), and no state a user can read: that is
//! the JS module's (index.js, lib/).

mod client;
mod context;
mod delivery;
mod env;
mod error;
mod follow;
mod handle;
mod instance;
mod log;
mod options;
mod parser;
mod records;
mod runtime;
mod select;
mod sink;
mod stats;
mod store;
