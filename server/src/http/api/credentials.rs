//! Credentials: metadata, issue (secret returned once), rotate, revoke.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::domain::credential::{Credential, Status};
use latchkey_core::domain::environment::EnvironmentSlug;
use latchkey_core::domain::text::{CredentialName, Reason, Scopes};
use latchkey_core::ids::CredentialId;
use latchkey_core::services::credentials::{IssueRequest, RevokeRequest, RotateRequest};
use latchkey_core::services::requests::Submitted;
use latchkey_core::storage::credentials::ListFilter;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::applications::parse_id as parse_app_id;
use super::requests::Requested;
use super::{ErrorBody, Page, limit};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Auth;
use crate::http::json::ApiJson;
use crate::state::AppState;

fn parse_id(s: &str) -> ApiResult<CredentialId> {
    CredentialId::parse(s).ok_or_else(|| ApiError::validation("not a credential id"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Application id.
    pub application: Option<String>,
    /// Environment slug.
    pub environment: Option<String>,
    /// `active`, `grace`, `expired` or `revoked`.
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Credential metadata, newest first. Never the secret. Scoped readers see their environments.
#[utoipa::path(get, path = "/api/v1/credentials", tag = "credentials", params(ListQuery),
    responses((status = 200, body = Page<Credential>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_metadata@any"))))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<Credential>>> {
    auth.principal.require(Action::ViewMetadata, Scope::AnyEnvironment)?;
    let s = &state.services;
    let mut f = ListFilter { limit: limit(q.limit), ..Default::default() };
    if let Some(a) = &q.application {
        f.application_id = Some(parse_app_id(a)?);
    }
    if let Some(e) = &q.environment {
        let env = s.environment(&EnvironmentSlug::parse(e)?).await?;
        auth.principal.require(Action::ViewMetadata, Scope::Environment(&env.id))?;
        f.environment_id = Some(env.id);
    }
    f.environments_in = auth.principal.visible_environments();
    if let Some(st) = &q.status {
        f.status = Some(Status::parse(st)?);
    }
    if let Some(c) = &q.cursor {
        let (ts, id) = c.split_once('.').ok_or_else(|| ApiError::validation("malformed cursor"))?;
        let ts = ts.parse().map_err(|_| ApiError::validation("malformed cursor"))?;
        f.after = Some((ts, id.to_owned()));
    }
    let items = s.list_credentials(&f).await?;
    let next_cursor = (items.len() as i64 == f.limit)
        .then(|| items.last().map(|c| format!("{}.{}", c.created_at.as_millis(), c.id)))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

/// One credential's metadata.
#[utoipa::path(get, path = "/api/v1/credentials/{id}", tag = "credentials", params(("id" = String, Path)),
    responses((status = 200, body = Credential), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_metadata@env"))))]
pub async fn get(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Credential>> {
    let c = state.services.credential(&parse_id(&id)?).await?;
    auth.principal.require(Action::ViewMetadata, Scope::Environment(&c.environment_id))?;
    Ok(Json(c))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    pub application_id: String,
    pub environment: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Default: the environment's maximum lifetime.
    pub expires_in_days: Option<i64>,
    pub reason: String,
}

/// A new credential and its secret. The secret is in this response only, never again.
#[derive(Serialize, ToSchema)]
pub struct IssuedBody {
    pub credential: Credential,
    pub secret: String,
}

/// Issue a credential. 201 with the secret, once; or, where the environment's policy requires
/// approvals, 202 with the change request (its requester executes it once approved). Policies
/// with `step_up_required` need MFA within 10 minutes.
#[utoipa::path(post, path = "/api/v1/credentials", tag = "credentials",
    request_body(content = IssueBody, example = json!({"application_id": "app_…", "environment": "staging", "name": "primary",
        "scopes": ["payments:read"], "expires_in_days": 90, "reason": "new integration"})),
    responses((status = 201, body = IssuedBody), (status = 202, body = Requested), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("request_credential@env"))))]
pub async fn issue(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<IssueBody>,
) -> ApiResult<Response> {
    let s = &state.services;
    let slug = EnvironmentSlug::parse(&body.environment)?;
    let env = s.environment(&slug).await?;
    auth.principal.require(Action::RequestCredential, Scope::Environment(&env.id))?;
    if env.policy.step_up_required {
        auth.principal.require_recent_mfa(s.clock.now())?;
    }
    let req = IssueRequest {
        application_id: parse_app_id(&body.application_id)?,
        environment: slug,
        name: CredentialName::parse(&body.name)?,
        scopes: Scopes::parse(&body.scopes)?,
        expires_in_days: body.expires_in_days,
        reason: Reason::parse(&body.reason)?,
    };
    Ok(match s.issue_credential(&auth.ctx, req).await? {
        Submitted::Done(issued) => {
            let secret = issued.secret.expose().to_owned();
            (StatusCode::CREATED, Json(IssuedBody { credential: issued.credential, secret })).into_response()
        }
        Submitted::Pending(request) => Requested::accepted(*request),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// Default: the environment's default grace period. 0 retires the old key at once.
    pub grace_seconds: Option<i64>,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct RotatedBody {
    pub credential: Credential,
    pub secret: String,
    pub previous: Credential,
}

/// Rotate: a successor with the same application, environment, name and scopes (secret returned
/// once); the old key stays valid until `grace_until`. 202 with a change request where the
/// policy requires approvals.
#[utoipa::path(post, path = "/api/v1/credentials/{id}/rotate", tag = "credentials", params(("id" = String, Path)),
    request_body(content = RotateBody, example = json!({"grace_seconds": 3600, "reason": "scheduled rotation"})),
    responses((status = 201, body = RotatedBody), (status = 202, body = Requested), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("request_credential@env"))))]
pub async fn rotate(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RotateBody>,
) -> ApiResult<Response> {
    let s = &state.services;
    let id = parse_id(&id)?;
    let c = s.credential(&id).await?;
    auth.principal.require(Action::RequestCredential, Scope::Environment(&c.environment_id))?;
    let env = s.environment(&c.environment).await?;
    if env.policy.step_up_required {
        auth.principal.require_recent_mfa(s.clock.now())?;
    }
    let req = RotateRequest { grace_seconds: body.grace_seconds, reason: Reason::parse(&body.reason)? };
    Ok(match s.rotate_credential(&auth.ctx, &id, req).await? {
        Submitted::Done(r) => {
            let secret = r.secret.expose().to_owned();
            (StatusCode::CREATED, Json(RotatedBody { credential: r.credential, secret, previous: r.previous }))
                .into_response()
        }
        Submitted::Pending(request) => Requested::accepted(*request),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    pub reason: String,
    /// Marks the revocation as an emergency in the audit log and notifications.
    #[serde(default)]
    pub emergency: bool,
}

/// Revoke at once, with a reason. No approval needed: it only removes access.
#[utoipa::path(post, path = "/api/v1/credentials/{id}/revoke", tag = "credentials", params(("id" = String, Path)),
    request_body(content = RevokeBody, example = json!({"reason": "leaked in a public repository", "emergency": true})),
    responses((status = 200, body = Credential), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("revoke@env"))))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevokeBody>,
) -> ApiResult<Json<Credential>> {
    let s = &state.services;
    let id = parse_id(&id)?;
    let c = s.credential(&id).await?;
    auth.principal.require(Action::Revoke, Scope::Environment(&c.environment_id))?;
    let req = RevokeRequest { reason: Reason::parse(&body.reason)?, emergency: body.emergency };
    Ok(Json(s.revoke_credential(&auth.ctx, &id, req).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndGraceBody {
    pub reason: String,
}

/// End grace now: a rotated-out credential stops verifying at once.
#[utoipa::path(post, path = "/api/v1/credentials/{id}/end-grace", tag = "credentials", params(("id" = String, Path)),
    request_body(content = EndGraceBody, example = json!({"reason": "successor deployed everywhere"})),
    responses((status = 200, body = Credential), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("revoke@env"))))]
pub async fn end_grace(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EndGraceBody>,
) -> ApiResult<Json<Credential>> {
    let s = &state.services;
    let id = parse_id(&id)?;
    let c = s.credential(&id).await?;
    auth.principal.require(Action::Revoke, Scope::Environment(&c.environment_id))?;
    let reason = Reason::parse(&body.reason)?;
    Ok(Json(s.end_grace(&auth.ctx, &id, &reason).await?))
}
