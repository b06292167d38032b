//! Latchkey core: the domain, storage over SQLite and PostgreSQL, and the services that run every
//! command in one transaction with its audit event.
//!
//! Server-only. This crate must never be compiled to wasm, and nothing in it may log, serialize
//! or return a secret except the single value a command hands to its caller once.

pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod ids;
pub mod random;
pub mod secrets;
pub mod services;
pub mod storage;

pub use error::{CoreError, CoreResult};
pub use services::Services;
