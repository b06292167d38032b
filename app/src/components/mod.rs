//! Reusable pieces of the console.

pub mod bits;
pub mod layout;
pub mod notice;
