//! Environments and their policies.

use axum::Json;
use axum::extract::{Path, State};
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::domain::environment::{BlindDelivery, Environment, EnvironmentSlug, Policy};
use serde::Deserialize;
use utoipa::ToSchema;

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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub issue_approvals: i64,
    pub rotate_approvals: i64,
    pub max_lifetime_days: i64,
    pub default_grace_seconds: i64,
    pub max_grace_seconds: i64,
    pub step_up_required: bool,
    /// `optional` or `required`.
    pub blind_delivery: String,
}

/// Replace an environment's policy. Stricter policies apply at once; loosening any control
/// answers 409 `approval_required` (it needs a second admin). Needs step-up.
#[utoipa::path(put, path = "/api/v1/environments/{slug}/policy", tag = "environments",
    params(("slug" = String, Path, description = "environment slug")),
    request_body(content = PolicyBody, example = json!({"issue_approvals": 2, "rotate_approvals": 2, "max_lifetime_days": 90,
        "default_grace_seconds": 3600, "max_grace_seconds": 86400, "step_up_required": true, "blind_delivery": "optional"})),
    responses((status = 200, body = Environment), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_environments@env"))))]
pub async fn update_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> ApiResult<Json<Environment>> {
    let s = &state.services;
    let slug = EnvironmentSlug::parse(&slug)?;
    let env = s.environment(&slug).await?;
    auth.principal.require(Action::ManageEnvironments, Scope::Environment(&env.id))?;
    auth.principal.require_recent_mfa(s.clock.now())?;
    let policy = Policy {
        issue_approvals: body.issue_approvals,
        rotate_approvals: body.rotate_approvals,
        max_lifetime_days: body.max_lifetime_days,
        default_grace_seconds: body.default_grace_seconds,
        max_grace_seconds: body.max_grace_seconds,
        step_up_required: body.step_up_required,
        blind_delivery: BlindDelivery::parse(&body.blind_delivery)?,
    };
    Ok(Json(s.update_policy(&auth.ctx, &slug, policy).await?))
}
