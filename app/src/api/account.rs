//! "My account": who I am, my roles, my MFA status.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantView {
    pub id: String,
    pub role: String,
    /// `None`: every environment.
    pub environment: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<&latchkey_core::domain::user::Grant> for GrantView {
    fn from(g: &latchkey_core::domain::user::Grant) -> Self {
        Self {
            id: g.id.to_string(),
            role: g.role.as_str().to_owned(),
            environment: g.environment.as_ref().map(|e| e.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeView {
    pub id: String,
    pub display_name: String,
    pub username: Option<String>,
    pub email: Option<String>,
    /// The IdP, for SSO users.
    pub issuer: Option<String>,
    pub grants: Vec<GrantView>,
    pub recovery_codes_left: i64,
    /// RFC 3339: until when sensitive actions need no new code.
    pub step_up_until: String,
    pub step_up_fresh: bool,
    pub is_admin: bool,
}

#[server(prefix = "/api/console", endpoint = "me")]
pub async fn me() -> Result<MeView, AppError> {
    use crate::ssr::{fail, principal};
    use latchkey_core::domain::authz::{Action, STEP_UP_WINDOW_SECS, Scope};
    let (s, p, _) = principal().await?;
    let left = s.recovery_codes_left(&p.user.id).await.map_err(fail)?;
    let until = p.mfa_at.plus_secs(STEP_UP_WINDOW_SECS);
    Ok(MeView {
        id: p.user.id.to_string(),
        display_name: p.user.display_name.clone(),
        username: p.user.username.clone(),
        email: p.user.email.clone(),
        issuer: p.user.issuer.clone(),
        grants: p.user.grants.iter().map(GrantView::from).collect(),
        recovery_codes_left: left,
        step_up_until: until.to_rfc3339(),
        step_up_fresh: p.require_recent_mfa(s.clock.now()).is_ok(),
        is_admin: p.can(Action::ManageMembers, Scope::Global),
    })
}
