//! Server-only helpers for server functions: the services, the session, the caller. A server
//! function called during SSR skips route layers, so each one authenticates and authorizes in its
//! own body through these helpers.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use latchkey_core::domain::audit::{Actor, Ctx, RequestMeta};
use latchkey_core::domain::authz::Principal;
use latchkey_core::{CoreError, Services};
use leptos::prelude::*;
use tower_sessions::Session;

use crate::error::AppError;

/// Maps a core error to the server function error and sets the HTTP status to match the REST API.
pub fn fail(e: CoreError) -> AppError {
    let status = match &e {
        CoreError::BadRequest(_) => 400,
        CoreError::Validation(_) => 422,
        CoreError::Unauthenticated(_) | CoreError::MfaRequired | CoreError::StepUpRequired => 401,
        CoreError::Forbidden(_) => 403,
        CoreError::NotFound(_) => 404,
        CoreError::Conflict { .. } => 409,
        CoreError::RateLimited(_) => 429,
        CoreError::Unavailable(_) => 503,
        CoreError::Internal(_) => 500,
    };
    if status >= 500 {
        tracing_detail(&e);
    }
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(s) = http::StatusCode::from_u16(status)
    {
        resp.set_status(s);
    }
    AppError::new(e.code(), e.public_message())
}

fn tracing_detail(e: &CoreError) {
    leptos::logging::error!("server function failed: {e}");
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| fail(CoreError::internal("services missing from context")))
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| fail(CoreError::internal(format!("session: {e}"))))
}

/// Where the request came from, as the audit log records it.
pub fn meta() -> RequestMeta {
    let Some(parts) = use_context::<http::request::Parts>() else { return RequestMeta::default() };
    RequestMeta {
        request_id: parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned(),
        ip: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().filter(|c| !c.is_control()).take(256).collect()),
    }
}

pub fn anonymous_ctx() -> Ctx {
    Ctx { actor: Actor::anonymous(), meta: meta() }
}

/// The signed-in caller, or the 401 the REST API would give.
pub async fn principal() -> Result<(Services, Principal, Ctx), AppError> {
    let s = services()?;
    let session = session().await?;
    let p = s.principal(&session).await.map_err(fail)?;
    let ctx = Ctx { actor: Actor::user(p.user.id.as_str(), &p.user.display_name), meta: meta() };
    Ok((s, p, ctx))
}

/// A plain HTML form post (JavaScript off) wants a page, not a value: on error, send the browser
/// back to `page` with the error code so the page can say what went wrong.
pub fn no_js_error_redirect(page: &str, e: &AppError) {
    let html = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html"))
        })
        .unwrap_or(false);
    if html {
        let sep = if page.contains('?') { '&' } else { '?' };
        leptos_axum::redirect(&format!("{page}{sep}error={}", e.code));
    }
}
