//! The `latchkey` binary as a library, so integration tests start the real server in-process.
//!
//! `http` is the only place that knows about HTTP: routing, the JSON error shape, request ids,
//! security headers, and the data-plane verify endpoint. `commands` holds the CLI subcommands.

pub mod cli;
pub mod commands;
pub mod http;
pub mod state;
pub mod telemetry;
