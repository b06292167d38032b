//! The Latchkey console: Leptos components rendered on the server and hydrated in the browser.
//!
//! Built twice: with `ssr` into the server (where server functions reach `latchkey-core`), and with
//! `hydrate` into the wasm bundle, which must never contain server-only crates.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
pub mod routes;
pub mod shell;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use routes::App;
pub use shell::shell;

/// The browser entry point: attaches to the server-rendered DOM.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
