//! `POST /api/v1/verify`: the data plane. The token comes only in `Authorization: Bearer`; the
//! environment the caller serves comes in the body. Unknown, revoked, expired, wrong-environment
//! and malformed tokens all get the same answer, `{"valid": false}`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Uri, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::json::ApiJson;
use crate::state::AppState;
use latchkey_core::services::verifier::Verdict;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    pub environment: String,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Verify a presented credential for the environment the caller serves. The token goes in
/// `Authorization: Bearer`, never in the URL. Answers `{"valid": true, ...}` or `{"valid": false}`
/// (one answer for every invalid token). Rate-limited per client.
#[utoipa::path(post, path = "/api/v1/verify", tag = "data plane",
    request_body(content = VerifyBody, example = json!({"environment": "staging"})),
    responses((status = 200, description = "`{\"valid\": true, \"credential_id\", \"application_id\", \"application\", \"environment\", \"scopes\", \"status\", \"expires_at\", \"grace_until\"}` or `{\"valid\": false}`"),
        (status = 401, body = crate::http::api::ErrorBody), (status = 422, body = crate::http::api::ErrorBody),
        (status = 429, body = crate::http::api::ErrorBody)),
    extensions(("x-latchkey-access" = json!("public"))))]
pub async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    ApiJson(body): ApiJson<VerifyBody>,
) -> ApiResult<Json<Value>> {
    if let Err(wait) = state.verify_limiter.check(peer.ip()) {
        return Err(ApiError::rate_limited(wait));
    }
    if uri.query().is_some() {
        // SECURITY S6: a token in a URL ends up in proxy and server logs. Refuse, do not read it.
        return Err(ApiError::validation(
            "credentials must not be sent in the URL; use the Authorization: Bearer header",
        ));
    }
    let token = bearer(&headers).ok_or_else(|| {
        ApiError::unauthenticated("send the credential in the Authorization header as: Bearer <token>")
    })?;
    latchkey_core::domain::environment::EnvironmentSlug::check(&body.environment)?;
    let s = &state.services;
    let verdict = s.verifier.verify(&s.keys.pepper, token, &body.environment, s.clock.now());
    Ok(Json(match verdict {
        Verdict::Valid { entry, status } => json!({
            "valid": true,
            "credential_id": entry.id,
            "application_id": entry.application_id,
            "application": entry.application,
            "environment": entry.environment,
            "scopes": entry.scopes,
            "status": status,
            "expires_at": entry.expires_at,
            "grace_until": entry.grace_until,
        }),
        Verdict::Invalid { .. } => json!({ "valid": false }),
    }))
}
