//! The audit log: paged, filtered reads and chain verification.

use axum::Json;
use axum::extract::{Query, State};
use latchkey_core::domain::audit::AuditEvent;
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::domain::time::Timestamp;
use latchkey_core::services::audit::ChainReport;
use latchkey_core::storage::audit::ListFilter;
use serde::Deserialize;

use super::{ErrorBody, Page, limit};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Auth;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Actor id (a user id).
    pub actor: Option<String>,
    /// Exact action, e.g. `credential.revoke`.
    pub action: Option<String>,
    /// Environment slug.
    pub environment: Option<String>,
    /// RFC 3339, inclusive.
    pub since: Option<String>,
    /// RFC 3339, exclusive.
    pub until: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn time(s: &Option<String>, what: &str) -> ApiResult<Option<Timestamp>> {
    s.as_deref()
        .map(|v| Timestamp::parse_rfc3339(v).ok_or_else(|| ApiError::validation(format!("{what} must be RFC 3339"))))
        .transpose()
}

/// Audit events, newest first. Readers scoped to environments see those environments' events.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEvent>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_audit@any"))))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    auth.principal.require(Action::ViewAudit, Scope::AnyEnvironment)?;
    let scope = auth.principal.audit_environments();
    if let (Some(allowed), Some(e)) = (&scope, &q.environment)
        && !allowed.contains(e)
    {
        return Err(latchkey_core::CoreError::Forbidden("your role does not allow this here".into()).into());
    }
    let before = q
        .cursor
        .as_deref()
        .map(|c| c.parse::<i64>().map_err(|_| ApiError::validation("malformed cursor")))
        .transpose()?;
    let f = ListFilter {
        actor_id: q.actor.clone(),
        action: q.action.clone(),
        environment: q.environment.clone(),
        target: None,
        since: time(&q.since, "since")?,
        until: time(&q.until, "until")?,
        before,
        environments_in: scope,
        limit: limit(q.limit),
    };
    let items = state.services.audit_list(&f).await?;
    let next_cursor = (items.len() as i64 == f.limit).then(|| items.last().map(|e| e.seq.to_string())).flatten();
    Ok(Json(Page { items, next_cursor }))
}

/// Recompute the hash chain and check the signed checkpoints.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = ChainReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_audit@global"))))]
pub async fn verify(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<ChainReport>> {
    auth.principal.require(Action::ViewAudit, Scope::Global)?;
    Ok(Json(state.services.audit_verify().await?))
}
