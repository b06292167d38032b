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
    /// Per client IP, on sign-in and code endpoints (per-account limits live in the database).
    pub auth_limiter: Arc<RateLimiter>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos.clone()
    }
}

impl AppState {
    pub fn new(services: Services, public_url: &str, verify_rate_per_second: u32, verify_burst: u32) -> Self {
        Self {
            services,
            leptos: leptos_options(),
            http: Arc::new(HttpSettings { public_url: public_url.trim_end_matches('/').to_owned() }),
            verify_limiter: Arc::new(RateLimiter::new(verify_rate_per_second, verify_burst)),
            auth_limiter: Arc::new(RateLimiter::new(1, 30)),
        }
    }
}

/// Leptos options for the embedded console bundle (`/pkg/latchkey.js`, `latchkey_bg.wasm`).
pub fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder().output_name("latchkey").site_pkg_dir("pkg").build()
}
