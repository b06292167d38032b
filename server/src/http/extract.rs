//! Extractors every API handler uses: who is calling (`Auth`), from where (`Meta`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use latchkey_core::domain::audit::{Actor, Ctx, RequestMeta};
use latchkey_core::domain::authz::Principal;
use tower_sessions::Session;

use super::error::ApiError;
use super::request_id::RequestId;
use crate::state::AppState;

/// Where the request came from, for audit events.
pub struct Meta(pub RequestMeta);

pub fn request_meta(parts: &Parts) -> RequestMeta {
    let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.to_string()).unwrap_or_else(|| "-".into());
    let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().filter(|c| !c.is_control()).take(256).collect());
    RequestMeta { request_id, ip, user_agent }
}

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(request_meta(parts)))
    }
}

/// The server-side session of this request.
pub async fn session(parts: &mut Parts) -> Result<Session, ApiError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| ApiError::from(latchkey_core::CoreError::internal("session layer missing")))
}

/// A signed-in user with completed MFA, and the audit context of their request. Extracting it is
/// authentication only: every handler still checks its action with `Principal::require`.
pub struct Auth {
    pub principal: Principal,
    pub ctx: Ctx,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session(parts).await?;
        let principal = state.services.principal(&session).await?;
        let actor = Actor::user(principal.user.id.as_str(), &principal.user.display_name);
        Ok(Self { ctx: Ctx { actor, meta: request_meta(parts) }, principal })
    }
}
