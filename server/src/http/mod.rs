//! HTTP: the axum router, its middleware and handlers.

pub mod api;
pub mod assets;
pub mod auth;
pub mod console;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod headers;
pub mod health;
pub mod json;
pub mod oidc;
pub mod rate_limit;
pub mod request_id;
pub mod verify;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
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

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Latchkey API",
        version = "1",
        description = "Issue, rotate, revoke and verify API credentials. The console's cookie session authenticates \
            these routes; state-changing requests must carry the console's Origin. Errors are \
            `{\"error\": {\"code\", \"message\", \"request_id\"}}`. Each operation's `x-latchkey-access` states who may call it."
    ),
    paths(verify::verify)
)]
struct BaseDoc;

/// The OpenAPI document, generated from the handlers' declarations.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        use utoipa::OpenApi;
        let mut doc = BaseDoc::openapi();
        doc.merge(api::router().merge(api::auth_router()).split_for_parts().1);
        doc
    })
}

async fn openapi_json() -> axum::Json<&'static utoipa::openapi::OpenApi> {
    axum::Json(openapi())
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api_routes, _) = api::router().merge(api::auth_router()).split_for_parts();
    let pages = generate_route_list(app::App);
    let options = state.leptos.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/verify", post(verify::verify).layer(DefaultBodyLimit::max(4 * 1024)))
        .route("/api/v1/openapi.json", get(openapi_json))
        .merge(api_routes)
        .route("/api/v1/{*rest}", any(api_not_found))
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
