//! Environments and their policies.

use axum::Json;
use axum::extract::{Path, State};
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::domain::environment::{Environment, EnvironmentSlug, Policy};

use super::{ErrorBody, Page};
use crate::http::error::ApiResult;
use crate::http::extract::Auth;
use crate::http::json::ApiJson;
use crate::state::AppState;

/// All environments with their policies.
#[utoipa::path(get, path = "/api/v1/environments", tag = "environments",
    responses((status = 200, body = Page<Environment>), (status = 401, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_metadata@any"))))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Page<Environment>>> {
    auth.principal.require(Action::ViewMetadata, Scope::AnyEnvironment)?;
    Ok(Json(Page { items: state.services.list_environments().await?, next_cursor: None }))
}

/// Replace an environment's policy. Stricter policies apply at once; loosening any control
/// answers 409 `approval_required` (it needs a second admin). Needs step-up.
#[utoipa::path(put, path = "/api/v1/environments/{slug}/policy", tag = "environments",
    params(("slug" = String, Path, description = "environment slug")),
    request_body(content = Policy, example = json!({"issue_approvals": 2, "rotate_approvals": 2, "max_lifetime_days": 90,
        "default_grace_seconds": 3600, "max_grace_seconds": 86400, "step_up_required": true, "blind_delivery": "optional"})),
    responses((status = 200, body = Environment), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_environments@env"))))]
pub async fn update_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(slug): Path<String>,
    ApiJson(policy): ApiJson<Policy>,
) -> ApiResult<Json<Environment>> {
    let s = &state.services;
    let slug = EnvironmentSlug::parse(&slug)?;
    let env = s.environment(&slug).await?;
    auth.principal.require(Action::ManageEnvironments, Scope::Environment(&env.id))?;
    auth.principal.require_recent_mfa(s.clock.now())?;
    Ok(Json(s.update_policy(&auth.ctx, &slug, policy).await?))
}
