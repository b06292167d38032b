//! All integration tests, in one binary (one link on 2 cores). Every storage test runs on SQLite
//! and on PostgreSQL via `both_backends!`; tests are named after SECURITY.md rows where they
//! prove one.

// Test code: a failed expectation is a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod approvals;
mod audit_log;
mod authorization;
mod cli;
mod credentials;
mod identity;
mod notifications;
mod sso;
mod verify_api;
