//! The signed-in home page: what each role needs first. Admins: requests waiting for their
//! approval; operators: their open requests and credentials about to expire; auditors: recent
//! events and whether the chain verifies.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::credentials::{CredRow, EventRow};
use super::requests::RequestRow;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub name: String,
    /// The strongest role held: `admin`, `operator` or `auditor` (empty: none yet).
    pub role: String,
    pub inbox: Vec<RequestRow>,
    pub my_open: Vec<RequestRow>,
    /// Active credentials expiring within 14 days, soonest first.
    pub expiring: Vec<CredRow>,
    pub recent: Vec<EventRow>,
    pub chain_ok: bool,
    pub last_seq: i64,
}

/// The dashboard, or `None` for a visitor who has not finished signing in (the home page then
/// shows the landing text). One resource for the whole page: nothing nested to race.
#[server(prefix = "/api/console", endpoint = "dashboard")]
pub async fn dashboard() -> Result<Option<DashboardView>, AppError> {
    use crate::ssr::{fail, meta, services, session};
    use latchkey_core::CoreError;
    use latchkey_core::domain::audit::{Actor, Ctx};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::credential::Status;
    use latchkey_core::storage::credentials::ListFilter;
    let s = services()?;
    // Not signed in is not an error here (and must not set a 401 on the landing page).
    let p = match s.principal(&session().await?).await {
        Ok(p) => p,
        Err(CoreError::Unauthenticated(_) | CoreError::MfaRequired) => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    let ctx = Ctx { actor: Actor::user(p.user.id.as_str(), &p.user.display_name), meta: meta() };
    let role = p.user.grants.iter().map(|g| g.role).max().map(|r| r.as_str().to_owned()).unwrap_or_default();
    let mut view = DashboardView {
        name: p.user.display_name.clone(),
        role,
        inbox: Vec::new(),
        my_open: Vec::new(),
        expiring: Vec::new(),
        recent: Vec::new(),
        chain_ok: true,
        last_seq: 0,
    };
    if p.can(Action::ViewMetadata, Scope::AnyEnvironment) {
        let lists = super::requests::lists_for(&s, &p, &ctx).await?;
        view.inbox = lists.inbox.into_iter().take(10).collect();
        view.my_open =
            lists.mine.into_iter().filter(|r| r.status == "pending" || r.status == "approved").take(10).collect();
        let horizon = s.clock.now().plus_days(14).to_rfc3339();
        let prod = super::requests::production_slugs(&s).await?;
        let f = ListFilter {
            status: Some(Status::Active),
            environments_in: p.visible_environments(),
            limit: 500,
            ..Default::default()
        };
        let mut soon: Vec<CredRow> = s
            .list_credentials(&f)
            .await
            .map_err(fail)?
            .iter()
            .map(|c| super::credentials::cred_row(c, prod.iter().any(|e| e == c.environment.as_str())))
            .filter(|c| c.expires_at <= horizon)
            .collect();
        soon.sort_by(|a, b| a.expires_at.cmp(&b.expires_at));
        view.expiring = soon.into_iter().take(10).collect();
    }
    if p.can(Action::ViewAudit, Scope::AnyEnvironment) {
        let page = super::audit::page_for(&s, &p, "", "", "", "").await?;
        view.recent = page.events.into_iter().take(10).collect();
        view.chain_ok = page.chain_ok;
        view.last_seq = page.last_seq;
    }
    Ok(Some(view))
}
