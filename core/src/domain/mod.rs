//! The domain: types that make invalid states unrepresentable, and the rules that live on them.
//! No I/O here.

pub mod application;
pub mod audit;
pub mod authz;
pub mod credential;
pub mod environment;
pub mod request;
pub mod text;
pub mod time;
pub mod token;
pub mod user;
