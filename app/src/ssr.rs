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

/// The signed-in caller, who must be allowed `action` everywhere (instance-wide pages).
pub async fn principal_allowed(
    action: latchkey_core::domain::authz::Action,
) -> Result<(Services, Principal, Ctx), AppError> {
    let (s, p, ctx) = principal().await?;
    p.require(action, latchkey_core::domain::authz::Scope::Global).map_err(fail)?;
    Ok((s, p, ctx))
}

/// A form post wants a page, not a value: on error, send the browser back to `page` with the
/// error code and its public message, so the page can say what went wrong.
pub fn no_js_error_redirect(page: &str, e: &AppError) {
    let html = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html"))
        })
        .unwrap_or(false);
    if html {
        let sep = if page.contains('?') { '&' } else { '?' };
        let detail: String = e.message.chars().take(300).collect();
        leptos_axum::redirect(&format!("{page}{sep}error={}&detail={}", e.code, percent_encode(&detail)));
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Ends a form's server function: on success the browser goes to `to(&value)`; when a fresh MFA
/// is needed, to step-up and back to `back`; on another error, back to `back` with the error
/// code when JavaScript is off (the error is returned either way).
pub fn respond<T>(r: Result<T, CoreError>, back: &str, to: impl FnOnce(&T) -> String) -> Result<(), AppError> {
    match r {
        Ok(v) => {
            leptos_axum::redirect(&to(&v));
            Ok(())
        }
        Err(CoreError::StepUpRequired) => {
            leptos_axum::redirect(&format!("/step-up?next={back}"));
            Err(fail(CoreError::StepUpRequired))
        }
        Err(e) => {
            let e = fail(e);
            no_js_error_redirect(back, &e);
            Err(e)
        }
    }
}

const FLASH_SECRET: &str = "flash_secret";

/// Keeps a just-created secret for the next page of the same session, sealed with the data key.
/// It is shown once there: reading it removes it.
pub async fn flash_secret(s: &Services, credential_id: &str, secret: &str) -> Result<(), AppError> {
    let session = session().await?;
    let plain = format!("{credential_id} {secret}");
    let sealed = latchkey_core::crypto::seal(&s.keys.data_key, FLASH_SECRET, plain.as_bytes()).map_err(fail)?;
    session.insert(FLASH_SECRET, sealed).await.map_err(|e| fail(CoreError::Unavailable(e.to_string())))
}

/// The flashed secret of `credential_id`, removed as it is read.
pub async fn take_secret(s: &Services, credential_id: &str) -> Result<Option<String>, AppError> {
    let session = session().await?;
    let sealed: Option<Vec<u8>> =
        session.get(FLASH_SECRET).await.map_err(|e| fail(CoreError::Unavailable(e.to_string())))?;
    let Some(sealed) = sealed else { return Ok(None) };
    let plain = latchkey_core::crypto::open(&s.keys.data_key, FLASH_SECRET, &sealed).map_err(fail)?;
    let plain = String::from_utf8_lossy(&plain).into_owned();
    match plain.split_once(' ') {
        Some((id, secret)) if id == credential_id => {
            session.remove::<Vec<u8>>(FLASH_SECRET).await.map_err(|e| fail(CoreError::Unavailable(e.to_string())))?;
            Ok(Some(secret.to_owned()))
        }
        _ => Ok(None),
    }
}
