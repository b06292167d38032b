//! Members: users, role grants, disabling.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::domain::environment::EnvironmentSlug;
use latchkey_core::domain::text::Reason;
use latchkey_core::domain::user::{Role, User};
use latchkey_core::ids::{GrantId, UserId};
use latchkey_core::services::requests::Submitted;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::requests::Requested;
use super::{ErrorBody, Page};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Auth;
use crate::http::json::ApiJson;
use crate::state::AppState;

fn parse_user(s: &str) -> ApiResult<UserId> {
    UserId::parse(s).ok_or_else(|| ApiError::validation("not a user id"))
}

/// Every user with their grants.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Page<User>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_members@global"))))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Page<User>>> {
    auth.principal.require(Action::ManageMembers, Scope::Global)?;
    Ok(Json(Page { items: state.services.list_users().await?, next_cursor: None }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    /// `admin`, `operator` or `auditor`. Granting `admin` opens a change request (202).
    pub role: String,
    /// Limit to one environment; absent means every environment.
    pub environment: Option<String>,
    /// Why; required when granting `admin`.
    pub reason: Option<String>,
}

/// Grant a role. Needs step-up; takes effect on the user's next request. Granting `admin` needs
/// a second administrator: it answers 202 with the change request.
#[utoipa::path(post, path = "/api/v1/users/{id}/roles", tag = "users", params(("id" = String, Path)),
    request_body(content = GrantBody, example = json!({"role": "operator", "environment": "staging"})),
    responses((status = 200, body = User), (status = 202, body = Requested), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_members@global"))))]
pub async fn grant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GrantBody>,
) -> ApiResult<Response> {
    auth.principal.require(Action::ManageMembers, Scope::Global)?;
    auth.principal.require_recent_mfa(state.services.clock.now())?;
    let role = Role::parse(&body.role)?;
    let env = body.environment.as_deref().map(EnvironmentSlug::parse).transpose()?;
    let reason = body.reason.as_deref().map(Reason::parse).transpose()?;
    Ok(match state.services.grant_role(&auth.ctx, &parse_user(&id)?, role, env.as_ref(), reason.as_ref()).await? {
        Submitted::Done(user) => Json(user).into_response(),
        Submitted::Pending(request) => Requested::accepted(*request),
    })
}

/// Remove a grant. The last administrator cannot be removed. Needs step-up.
#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{grant}", tag = "users",
    params(("id" = String, Path), ("grant" = String, Path)),
    responses((status = 200, body = User), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_members@global"))))]
pub async fn revoke_grant(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, grant)): Path<(String, String)>,
) -> ApiResult<Json<User>> {
    auth.principal.require(Action::ManageMembers, Scope::Global)?;
    auth.principal.require_recent_mfa(state.services.clock.now())?;
    let grant = GrantId::parse(&grant).ok_or_else(|| ApiError::validation("not a grant id"))?;
    Ok(Json(state.services.revoke_grant(&auth.ctx, &parse_user(&id)?, &grant).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Disabled {
    pub disabled: bool,
    pub sessions_ended: u64,
}

/// Disable a user and end all their sessions at once. Needs step-up.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = Disabled), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_members@global"))))]
pub async fn disable(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Disabled>> {
    auth.principal.require(Action::ManageMembers, Scope::Global)?;
    auth.principal.require_recent_mfa(state.services.clock.now())?;
    let ended = state.services.disable_user(&auth.ctx, &parse_user(&id)?).await?;
    Ok(Json(Disabled { disabled: true, sessions_ended: ended }))
}
