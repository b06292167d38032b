//! Members and roles (admins): list users, grant and remove roles, disable accounts. Changing
//! who may do what needs step-up; granting admin needs a second admin.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::account::GrantView;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: String,
    pub display_name: String,
    pub login: String,
    pub disabled: bool,
    pub grants: Vec<GrantView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersView {
    pub members: Vec<MemberView>,
    pub environments: Vec<String>,
    pub step_up_fresh: bool,
}

#[server(prefix = "/api/console", endpoint = "members")]
pub async fn members() -> Result<MembersView, AppError> {
    use crate::ssr::fail;
    let (s, p, _) = crate::ssr::principal_allowed(latchkey_core::domain::authz::Action::ManageMembers).await?;
    let users = s.list_users().await.map_err(fail)?;
    let envs = s.list_environments().await.map_err(fail)?;
    Ok(MembersView {
        members: users
            .into_iter()
            .map(|u| MemberView {
                id: u.id.to_string(),
                login: u.username.clone().or(u.email.clone()).or(u.subject.clone()).unwrap_or_default(),
                display_name: u.display_name,
                disabled: u.disabled,
                grants: u.grants.iter().map(GrantView::from).collect(),
            })
            .collect(),
        environments: envs.into_iter().map(|e| e.slug.to_string()).collect(),
        step_up_fresh: p.require_recent_mfa(s.clock.now()).is_ok(),
    })
}

#[cfg(feature = "ssr")]
fn parse_user(s: &str) -> Result<latchkey_core::ids::UserId, AppError> {
    latchkey_core::ids::UserId::parse(s)
        .ok_or_else(|| crate::ssr::fail(latchkey_core::CoreError::validation("not a user id")))
}

#[cfg(feature = "ssr")]
fn done<T>(r: Result<T, latchkey_core::CoreError>) -> Result<(), AppError> {
    crate::ssr::respond(r, "/members", |_| "/members".to_owned())
}

/// Grants `role` in `environment` (empty: every environment). Granting admin opens a change
/// request for a second administrator, and the browser goes to it.
#[server(prefix = "/api/console", endpoint = "grant_role")]
pub async fn grant_role(
    user_id: String,
    role: String,
    environment: String,
    reason: Option<String>,
) -> Result<(), AppError> {
    use latchkey_core::domain::environment::EnvironmentSlug;
    use latchkey_core::domain::text::Reason;
    use latchkey_core::domain::user::Role;
    use latchkey_core::services::requests::Submitted;
    let (s, p, ctx) = crate::ssr::principal_allowed(latchkey_core::domain::authz::Action::ManageMembers).await?;
    let id = parse_user(&user_id)?;
    let result = async {
        p.require_recent_mfa(s.clock.now())?;
        let role = Role::parse(&role)?;
        let env = if environment.is_empty() { None } else { Some(EnvironmentSlug::parse(&environment)?) };
        let reason = reason.filter(|r| !r.trim().is_empty()).map(|r| Reason::parse(&r)).transpose()?;
        s.grant_role(&ctx, &id, role, env.as_ref(), reason.as_ref()).await
    }
    .await;
    if let Ok(Submitted::Pending(req)) = &result {
        leptos_axum::redirect(&format!("/requests/{}", req.id));
        return Ok(());
    }
    done(result)
}

#[server(prefix = "/api/console", endpoint = "remove_grant")]
pub async fn remove_grant(user_id: String, grant_id: String) -> Result<(), AppError> {
    let (s, p, ctx) = crate::ssr::principal_allowed(latchkey_core::domain::authz::Action::ManageMembers).await?;
    let id = parse_user(&user_id)?;
    let result = async {
        p.require_recent_mfa(s.clock.now())?;
        let grant = latchkey_core::ids::GrantId::parse(&grant_id)
            .ok_or_else(|| latchkey_core::CoreError::validation("not a grant id"))?;
        s.revoke_grant(&ctx, &id, &grant).await
    }
    .await;
    done(result)
}

#[server(prefix = "/api/console", endpoint = "disable_member")]
pub async fn disable_member(user_id: String) -> Result<(), AppError> {
    let (s, p, ctx) = crate::ssr::principal_allowed(latchkey_core::domain::authz::Action::ManageMembers).await?;
    let id = parse_user(&user_id)?;
    let result = async {
        p.require_recent_mfa(s.clock.now())?;
        if id == p.user.id {
            return Err(latchkey_core::CoreError::conflict("you cannot disable your own account"));
        }
        s.disable_user(&ctx, &id).await
    }
    .await;
    done(result)
}
