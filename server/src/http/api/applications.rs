//! Applications, and revoking all of one application's credentials in an environment.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use latchkey_core::domain::application::{Application, NewApplication};
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::domain::environment::EnvironmentSlug;
use latchkey_core::domain::text::{ApplicationName, Description, Owner, Reason};
use latchkey_core::ids::ApplicationId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ErrorBody, Page, Paging, limit};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Auth;
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn parse_id(s: &str) -> ApiResult<ApplicationId> {
    ApplicationId::parse(s).ok_or_else(|| ApiError::validation("not an application id"))
}

/// Applications by name.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", params(Paging),
    responses((status = 200, body = Page<Application>), (status = 401, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_metadata@any"))))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Page<Application>>> {
    auth.principal.require(Action::ViewMetadata, Scope::AnyEnvironment)?;
    let n = limit(paging.limit);
    let items = state.services.list_applications(paging.cursor.as_deref(), n).await?;
    let next_cursor = (items.len() as i64 == n).then(|| items.last().map(|a| a.name.to_string())).flatten();
    Ok(Json(Page { items, next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// Unique, e.g. `payments-backend`.
    pub name: String,
    pub owner: String,
    #[serde(default)]
    pub description: String,
}

/// Create an application.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    request_body(content = CreateBody, example = json!({"name": "partner-acme", "owner": "team-partners", "description": "ACME's integration"})),
    responses((status = 201, body = Application), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("create_application@any"))))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<Application>)> {
    auth.principal.require(Action::CreateApplication, Scope::AnyEnvironment)?;
    let new = NewApplication {
        name: ApplicationName::parse(&body.name)?,
        owner: Owner::parse(&body.owner)?,
        description: Description::parse(&body.description)?,
    };
    Ok((StatusCode::CREATED, Json(state.services.create_application(&auth.ctx, new).await?)))
}

/// One application.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = String, Path)),
    responses((status = 200, body = Application), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_metadata@any"))))]
pub async fn get(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Application>> {
    auth.principal.require(Action::ViewMetadata, Scope::AnyEnvironment)?;
    Ok(Json(state.services.application(&parse_id(&id)?).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeAllBody {
    pub environment: String,
    pub reason: String,
    /// Marks the revocation as an emergency: audited as such and sent to webhooks.
    #[serde(default)]
    pub emergency: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RevokedCount {
    pub revoked: usize,
}

/// Revoke every credential of the application in one environment, at once. No approval needed.
#[utoipa::path(post, path = "/api/v1/applications/{id}/revoke-all", tag = "applications",
    params(("id" = String, Path)),
    request_body(content = RevokeAllBody, example = json!({"environment": "staging", "reason": "leaked CI logs", "emergency": true})),
    responses((status = 200, body = RevokedCount), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("revoke@env"))))]
pub async fn revoke_all(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevokeAllBody>,
) -> ApiResult<Json<RevokedCount>> {
    let s = &state.services;
    let slug = EnvironmentSlug::parse(&body.environment)?;
    let env = s.environment(&slug).await?;
    auth.principal.require(Action::Revoke, Scope::Environment(&env.id))?;
    let reason = Reason::parse(&body.reason)?;
    let revoked = s.revoke_all(&auth.ctx, &parse_id(&id)?, &slug, &reason, body.emergency).await?;
    Ok(Json(RevokedCount { revoked }))
}
