//! `GET /auth/oidc/start` and `GET /auth/oidc/callback`: single sign-on in the browser.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::services::auth::NextStep;
use latchkey_core::services::oidc::{Callback, FLOW_COOKIE};
use serde::Deserialize;

use super::auth::Visitor;
use super::error::ApiResult;
use crate::state::AppState;

fn redirect(to: &str, cookie: String) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn flow_cookie(value: &str, max_age: i64) -> String {
    format!("{FLOW_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// Starts SSO: remembers PKCE verifier, state and nonce server-side under a random id held in a
/// short-lived `SameSite=Lax` cookie, and sends the browser to the identity provider.
#[utoipa::path(get, path = "/auth/oidc/start", tag = "auth",
    responses((status = 303, description = "to the identity provider"), (status = 404, body = super::api::ErrorBody)),
    extensions(("x-latchkey-access" = json!("public"))))]
pub async fn start(State(state): State<AppState>) -> ApiResult<Response> {
    let (url, flow_id) = state.services.oidc_start().await?;
    Ok(redirect(&url, flow_cookie(&flow_id, latchkey_core::services::oidc::FLOW_TTL_MS / 1000)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    /// RFC 9207 issuer identification (checked through the ID token's `iss`).
    pub iss: Option<String>,
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The identity provider's redirect back. 400 for a missing, wrong or reused state; 401 when the
/// ID token does not verify. On success, on to TOTP (or done, when the IdP's MFA is trusted).
#[utoipa::path(get, path = "/auth/oidc/callback", tag = "auth", params(CallbackQuery),
    responses((status = 200, description = "a page that moves on to the console's next sign-in step (meta refresh)"), (status = 400, body = super::api::ErrorBody),
        (status = 401, body = super::api::ErrorBody)),
    extensions(("x-latchkey-access" = json!("public"))))]
pub async fn callback(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let cb = Callback {
        flow_id: cookie_value(&headers, FLOW_COOKIE),
        code: q.code.as_deref(),
        state: q.state.as_deref(),
        error: q.error.as_deref(),
    };
    let _ = &q.iss;
    let next = state.services.oidc_callback(&v.ctx, &v.session, cb).await?;
    let to = match next {
        NextStep::Mfa => "/login?step=mfa",
        NextStep::MfaEnroll => "/login?step=enroll",
        NextStep::Done => "/",
    };
    Ok(continue_page(to, flow_cookie("", 0)))
}

/// The end of the IdP's redirect chain. A redirect here would keep the navigation cross-site,
/// and the browser would not send the new `SameSite=Strict` session cookie on it; a page that
/// moves on by itself (meta refresh, no script) starts a same-site navigation that carries it.
fn continue_page(to: &str, cookie: String) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={to}\">\
         <title>Signing in · Latchkey</title></head><body><p>Signing in… <a href=\"{to}\">Continue</a></p></body></html>"
    );
    let mut r = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
