//! HTTP: the axum router, its middleware and handlers.

pub mod assets;
pub mod console;
pub mod error;
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

use crate::state::AppState;
use error::ApiError;

async fn api_not_found() -> impl IntoResponse {
    ApiError::not_found()
}

async fn method_not_allowed() -> impl IntoResponse {
    ApiError::method_not_allowed()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/verify", post(verify::verify).layer(DefaultBodyLimit::max(4 * 1024)))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed);

    let pages = generate_route_list(app::App);
    let options = state.leptos.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", api)
        .route("/pkg/{*path}", get(assets::serve))
        .route("/favicon.ico", get(assets::serve))
        .leptos_routes_with_context(&state, pages, console::context(&state), move || app::shell(options.clone()))
        .fallback(console::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(from_fn_with_state(state.clone(), headers::middleware))
        .layer(from_fn(request_id::middleware))
        .with_state(state)
}
