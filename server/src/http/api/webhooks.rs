//! Webhook notification sinks (Slack-compatible JSON). Admins only, with step-up. The URL is
//! write-only: it often embeds a secret, so it is sealed at rest and only its host is shown.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::ids::WebhookId;
use latchkey_core::storage::notifications::Webhook;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ErrorBody, Page};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Auth;
use crate::http::json::ApiJson;
use crate::state::AppState;

fn parse_id(s: &str) -> ApiResult<WebhookId> {
    WebhookId::parse(s).ok_or_else(|| ApiError::validation("not a webhook id"))
}

/// Configured webhooks with their delivery counts.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "settings",
    responses((status = 200, body = Page<Webhook>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_settings@global"))))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Page<Webhook>>> {
    auth.principal.require(Action::ManageSettings, Scope::Global)?;
    Ok(Json(Page { items: state.services.list_webhooks().await?, next_cursor: None }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    pub name: String,
    /// `https://…`; never shown again.
    pub url: String,
    /// Kinds to send: `request.pending`, `request.approved`, `request.rejected`,
    /// `credential.emergency_revoke`, `credential.expiring`. Empty or absent: all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// Add a webhook. Needs step-up.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "settings",
    request_body(content = WebhookBody, example = json!({"name": "on-call", "url": "https://hooks.example.com/services/T0/B0/x",
        "events": ["credential.emergency_revoke", "request.pending"]})),
    responses((status = 201, body = Webhook), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_settings@global"))))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<WebhookBody>,
) -> ApiResult<(StatusCode, Json<Webhook>)> {
    auth.principal.require(Action::ManageSettings, Scope::Global)?;
    auth.principal.require_recent_mfa(state.services.clock.now())?;
    let hook = state.services.create_webhook(&auth.ctx, &body.name, &body.url, &body.events).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

/// Remove a webhook and its undelivered notifications. Needs step-up.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "settings", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_settings@global"))))]
pub async fn delete(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    auth.principal.require(Action::ManageSettings, Scope::Global)?;
    auth.principal.require_recent_mfa(state.services.clock.now())?;
    state.services.delete_webhook(&auth.ctx, &parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queue a test message to a webhook.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "settings", params(("id" = String, Path)),
    responses((status = 202), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("manage_settings@global"))))]
pub async fn test(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    auth.principal.require(Action::ManageSettings, Scope::Global)?;
    state.services.test_webhook(&auth.ctx, &parse_id(&id)?).await?;
    Ok(StatusCode::ACCEPTED)
}
