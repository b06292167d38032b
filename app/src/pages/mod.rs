//! One module per console page.

pub mod account;
pub mod home;
pub mod login;
pub mod members;
pub mod not_found;
pub mod step_up;
