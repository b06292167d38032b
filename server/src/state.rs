//! What every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use latchkey_core::Services;
use leptos::prelude::LeptosOptions;

use crate::http::rate_limit::RateLimiter;

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The console's origin, e.g. `https://latchkey.example.com`.
    pub public_url: String,
}

impl HttpSettings {
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub leptos: LeptosOptions,
    pub http: Arc<HttpSettings>,
    pub verify_limiter: Arc<RateLimiter>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos.clone()
    }
}
