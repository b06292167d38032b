//! Environments and their policies.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::domain::environment::{Environment, EnvironmentSlug, Policy};
use latchkey_core::domain::text::Reason;
use latchkey_core::services::requests::Submitted;
use serde::Deserialize;
use utoipa::ToSchema;

use super::requests::Requested;
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

/// A new policy, and why (required when it loosens a control).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PolicyChange {
    #[serde(flatten)]
    pub policy: Policy,
    pub reason: Option<String>,
}

/// Replace an environment's policy. Stricter policies apply at once (200); loosening any control
/// opens a change request another administrator must approve (202), and then needs `reason`.
/// Needs step-up.
#[utoipa::path(put, path = "/api/v1/environments/{slug}/policy", tag = "environments",
    params(("slug" = String, Path, description = "environment slug")),
    request_body(content = PolicyChange, example = json!({"issue_approvals": 2, "rotate_approvals": 2, "max_lifetime_days": 90,
        "default_grace_seconds": 3600, "max_grace_seconds": 86400, "step_up_required": true, "blind_delivery": "optional"})),
    responses((status = 200, body = Environment), (status = 202, body = Requested), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_environments@env"))))]
pub async fn update_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<PolicyChange>,
) -> ApiResult<Response> {
    let s = &state.services;
    let slug = EnvironmentSlug::parse(&slug)?;
    let env = s.environment(&slug).await?;
    auth.principal.require(Action::ManageEnvironments, Scope::Environment(&env.id))?;
    auth.principal.require_recent_mfa(s.clock.now())?;
    let reason = body.reason.as_deref().map(Reason::parse).transpose()?;
    Ok(match s.update_policy(&auth.ctx, &slug, body.policy, reason.as_ref()).await? {
        Submitted::Done(env) => Json(env).into_response(),
        Submitted::Pending(request) => Requested::accepted(*request),
    })
}
