//! `/auth/*`: local sign-in, TOTP enrollment, the second factor, step-up, logout; and
//! `GET /api/v1/me`.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use latchkey_core::domain::audit::{Actor, Ctx};
use latchkey_core::domain::user::Password;
use latchkey_core::services::auth::{Enrollment, NextStep};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::api::ErrorBody;
use super::error::{ApiError, ApiResult};
use super::extract::{Auth, request_meta, session};
use super::json::ApiJson;
use crate::state::AppState;

/// The session and request context of a not-yet-authenticated request.
pub struct Visitor {
    pub session: Session,
    pub ctx: Ctx,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self { session: session(parts).await?, ctx: Ctx { actor: Actor::anonymous(), meta: request_meta(parts) } })
    }
}

fn throttle(state: &AppState, v: &Visitor) -> ApiResult<()> {
    let ip = v.ctx.meta.ip.as_deref().and_then(|s| s.parse().ok());
    match ip.map(|ip| state.auth_limiter.check(ip)) {
        Some(Err(wait)) => Err(ApiError::rate_limited(wait)),
        _ => Ok(()),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

/// Local sign-in, first factor. One generic 401 for every failure.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body(content = LoginBody, example = json!({"username": "admin", "password": "a long passphrase"})),
    responses((status = 200, description = "`{\"next\": \"mfa\"}` or `{\"next\": \"mfa_enroll\"}`"),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("public"))))]
pub async fn login(
    State(state): State<AppState>,
    v: Visitor,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Json<Value>> {
    throttle(&state, &v)?;
    let password = Password::presented(body.password);
    let next = state.services.login_local(&v.ctx, &v.session, &body.username, &password).await?;
    Ok(Json(json!({ "next": next })))
}

/// Start TOTP enrollment (after the first factor, before any authenticator is enrolled).
#[utoipa::path(post, path = "/auth/mfa/enroll/start", tag = "auth",
    responses((status = 200, body = Enrollment), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("public"))))]
pub async fn enroll_start(State(state): State<AppState>, v: Visitor) -> ApiResult<Json<Enrollment>> {
    Ok(Json(state.services.mfa_enroll_start(&v.session).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// Confirm enrollment with the first code: signs in and returns the recovery codes, once.
#[utoipa::path(post, path = "/auth/mfa/enroll/confirm", tag = "auth",
    request_body(content = CodeBody, example = json!({"code": "123456"})),
    responses((status = 200, description = "`{\"recovery_codes\": [...]}`"), (status = 401, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("public"))))]
pub async fn enroll_confirm(
    State(state): State<AppState>,
    v: Visitor,
    ApiJson(body): ApiJson<CodeBody>,
) -> ApiResult<Json<Value>> {
    throttle(&state, &v)?;
    let codes = state.services.mfa_enroll_confirm(&v.ctx, &v.session, &body.code).await?;
    Ok(Json(json!({ "recovery_codes": codes, "next": NextStep::Done })))
}

/// The second factor: a TOTP code or a recovery code.
#[utoipa::path(post, path = "/auth/mfa", tag = "auth",
    request_body(content = CodeBody, example = json!({"code": "123456"})),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("public"))))]
pub async fn mfa(
    State(state): State<AppState>,
    v: Visitor,
    ApiJson(body): ApiJson<CodeBody>,
) -> ApiResult<Json<Value>> {
    throttle(&state, &v)?;
    state.services.mfa_verify(&v.ctx, &v.session, &body.code).await?;
    Ok(Json(json!({ "next": NextStep::Done })))
}

/// Fresh MFA for sensitive actions (valid 10 minutes); a new session id.
#[utoipa::path(post, path = "/auth/step-up", tag = "auth",
    request_body(content = CodeBody, example = json!({"code": "123456"})),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("signed_in"))))]
pub async fn step_up(
    State(state): State<AppState>,
    v: Visitor,
    ApiJson(body): ApiJson<CodeBody>,
) -> ApiResult<Json<Value>> {
    throttle(&state, &v)?;
    state.services.step_up(&v.ctx, &v.session, &body.code).await?;
    let until = state.services.clock.now().plus_secs(latchkey_core::domain::authz::STEP_UP_WINDOW_SECS);
    Ok(Json(json!({ "step_up_until": until })))
}

/// End the session on the server.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 200)),
    extensions(("x-latchkey-access" = json!("public"))))]
pub async fn logout(State(state): State<AppState>, v: Visitor) -> ApiResult<Json<Value>> {
    state.services.logout(&v.ctx, &v.session).await?;
    Ok(Json(json!({ "signed_out": true })))
}

/// The signed-in user, their grants and MFA status.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200), (status = 401, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("signed_in"))))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let p = &auth.principal;
    let left = state.services.recovery_codes_left(&p.user.id).await?;
    let step_up_until = p.mfa_at.plus_secs(latchkey_core::domain::authz::STEP_UP_WINDOW_SECS);
    Ok(Json(json!({
        "id": p.user.id,
        "username": p.user.username,
        "display_name": p.user.display_name,
        "email": p.user.email,
        "issuer": p.user.issuer,
        "grants": p.user.grants,
        "mfa": { "last_at": p.mfa_at, "step_up_until": step_up_until, "recovery_codes_left": left },
    })))
}
