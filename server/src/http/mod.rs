//! HTTP: the axum router, its middleware and handlers.

pub mod assets;
pub mod auth;
pub mod console;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod headers;
pub mod health;
pub mod json;
pub mod rate_limit;
pub mod request_id;
pub mod verify;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use leptos_axum::{LeptosRoutes, generate_route_list};

use latchkey_core::services::session_store::DbSessionStore;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::state::AppState;
use error::ApiError;

async fn api_not_found() -> impl IntoResponse {
    ApiError::not_found()
}

async fn method_not_allowed() -> impl IntoResponse {
    ApiError::method_not_allowed()
}

/// Server-side sessions in our database: `__Host-` cookie, Secure, HttpOnly, SameSite=Strict,
/// Path=/ (SECURITY S2). Idle and absolute timeouts are enforced on our clock by the services.
pub fn session_layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(DbSessionStore::new(state.services.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::minutes(30)))
}

pub const SESSION_COOKIE: &str = "__Host-latchkey";

/// The whole application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/verify", post(verify::verify).layer(DefaultBodyLimit::max(4 * 1024)))
        .route("/me", get(auth::me))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed);

    let pages = generate_route_list(app::App);
    let options = state.leptos.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", api)
        .route("/auth/login", post(auth::login))
        .route("/auth/mfa/enroll/start", post(auth::enroll_start))
        .route("/auth/mfa/enroll/confirm", post(auth::enroll_confirm))
        .route("/auth/mfa", post(auth::mfa))
        .route("/auth/step-up", post(auth::step_up))
        .route("/auth/logout", post(auth::logout))
        .route("/pkg/{*path}", get(assets::serve))
        .route("/favicon.ico", get(assets::serve))
        .leptos_routes_with_context(&state, pages, console::context(&state), move || app::shell(options.clone()))
        .fallback(console::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(session_layer(&state))
        .layer(from_fn_with_state(state.clone(), csrf::middleware))
        .layer(from_fn_with_state(state.clone(), headers::middleware))
        .layer(from_fn(request_id::middleware))
        .with_state(state)
}
