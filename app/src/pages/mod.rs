//! One module per console page.

pub mod account;
pub mod applications;
pub mod audit;
pub mod credential;
pub mod home;
pub mod login;
pub mod members;
pub mod not_found;
pub mod requests;
pub mod settings;
pub mod step_up;
