//! The audit log in the console: filtered, paged, newest first, with the chain's status.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::credentials::EventRow;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub events: Vec<EventRow>,
    /// `before` for the next (older) page.
    pub next_before: Option<i64>,
    pub chain_ok: bool,
    pub last_seq: i64,
}

/// Events matching the filters (empty: any), older than `before` when given.
#[server(prefix = "/api/console", endpoint = "audit_page")]
pub async fn audit_page(
    action: String,
    environment: String,
    actor: String,
    before: String,
) -> Result<AuditView, AppError> {
    let (s, p, _) = crate::ssr::principal().await?;
    page_for(&s, &p, &action, &environment, &actor, &before).await
}

/// One page of the log for one caller (also the dashboard's source).
#[cfg(feature = "ssr")]
pub async fn page_for(
    s: &latchkey_core::Services,
    p: &latchkey_core::domain::authz::Principal,
    action: &str,
    environment: &str,
    actor: &str,
    before: &str,
) -> Result<AuditView, AppError> {
    use crate::ssr::fail;
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::storage::audit::ListFilter;
    p.require(Action::ViewAudit, Scope::AnyEnvironment).map_err(fail)?;
    let some = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
    let limit = 50;
    let f = ListFilter {
        action: some(action),
        environment: some(environment),
        actor_id: some(actor),
        before: before.trim().parse().ok(),
        environments_in: p.audit_environments(),
        limit,
        ..Default::default()
    };
    let events = s.audit_list(&f).await.map_err(fail)?;
    let report = s.audit_verify().await.map_err(fail)?;
    let next_before = (events.len() as i64 == limit).then(|| events.last().map(|e| e.seq)).flatten();
    Ok(AuditView {
        events: events.iter().map(super::credentials::event_row).collect(),
        next_before,
        chain_ok: report.ok,
        last_seq: report.last_seq,
    })
}
