//! Applications and credentials in the console: browse, issue (or request), rotate, end grace,
//! revoke and emergency revoke, find a leaked token. The rules are the services'; these functions
//! parse forms, call them, and say where the browser goes next.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredRow {
    pub id: String,
    pub key_id: String,
    pub prefix: String,
    pub name: String,
    pub application_id: String,
    pub application: String,
    pub environment: String,
    pub production: bool,
    /// `active`, `grace`, `expired`, `revoked`.
    pub status: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    pub grace_until: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvBlock {
    pub slug: String,
    pub production: bool,
    pub issue_approvals: i64,
    pub max_lifetime_days: i64,
    pub can_request: bool,
    pub can_revoke: bool,
    pub credentials: Vec<CredRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppDetail {
    pub app: AppRow,
    pub envs: Vec<EnvBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub environment: Option<String>,
    pub target: String,
    pub ip: Option<String>,
    pub request_id: String,
    /// The event's details as compact JSON (never a secret: events hold none).
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredDetail {
    pub cred: CredRow,
    pub created_by: String,
    pub created_via_request: Option<String>,
    pub revoked: Option<(String, String, String)>,
    pub rotated_from: Option<String>,
    pub rotated_to: Option<String>,
    pub last_used_ip: Option<String>,
    pub rotate_approvals: i64,
    pub default_grace_seconds: i64,
    pub can_request: bool,
    pub can_revoke: bool,
    pub timeline: Vec<EventRow>,
    /// The secret, on the one page view right after it was created.
    pub secret: Option<String>,
}

#[cfg(feature = "ssr")]
mod convert {
    use latchkey_core::domain::audit::AuditEvent;
    use latchkey_core::domain::credential::Credential;

    pub fn cred(c: &Credential, production: bool) -> super::CredRow {
        super::CredRow {
            id: c.id.to_string(),
            key_id: c.key_id.clone(),
            prefix: c.prefix.clone(),
            name: c.name.to_string(),
            application_id: c.application_id.to_string(),
            application: c.application.clone(),
            environment: c.environment.to_string(),
            production,
            status: c.status.as_str().to_owned(),
            scopes: c.scopes.as_slice().to_vec(),
            created_at: c.created_at.to_rfc3339(),
            expires_at: c.expires_at.to_rfc3339(),
            grace_until: c.grace_until.map(|t| t.to_rfc3339()),
            last_used_at: c.last_used_at.map(|t| t.to_rfc3339()),
        }
    }

    pub fn event(e: &AuditEvent) -> super::EventRow {
        super::EventRow {
            seq: e.seq,
            at: e.occurred_at.to_rfc3339(),
            actor: e.actor.name.clone(),
            action: e.action.clone(),
            outcome: e.outcome.clone(),
            environment: e.environment.clone(),
            target: format!("{} {}", e.target_type, e.target_id),
            ip: e.ip.clone(),
            request_id: e.request_id.clone(),
            details: e.details.to_string(),
        }
    }
}

#[cfg(feature = "ssr")]
pub use convert::{cred as cred_row, event as event_row};

/// A `created_by` / `revoked_by` label (`user:<id>`, `system:<name>`) as a person reads it.
#[cfg(feature = "ssr")]
async fn who(s: &latchkey_core::Services, label: &str) -> String {
    match label.strip_prefix("user:").and_then(latchkey_core::ids::UserId::parse) {
        Some(id) => s.user(&id).await.map(|u| u.display_name).unwrap_or_else(|_| label.to_owned()),
        None => label.to_owned(),
    }
}

#[cfg(feature = "ssr")]
fn bad(msg: &str) -> AppError {
    crate::ssr::fail(latchkey_core::CoreError::validation(msg))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppsView {
    pub apps: Vec<AppRow>,
    pub can_create: bool,
}

#[server(prefix = "/api/console", endpoint = "applications")]
pub async fn applications(q: String) -> Result<AppsView, AppError> {
    use crate::ssr::{fail, principal};
    use latchkey_core::domain::authz::{Action, Scope};
    let (s, p, _) = principal().await?;
    p.require(Action::ViewMetadata, Scope::AnyEnvironment).map_err(fail)?;
    let q = q.trim().to_lowercase();
    let apps = s.list_applications(None, 500).await.map_err(fail)?;
    let can_create = p.can(Action::CreateApplication, Scope::AnyEnvironment);
    let apps = apps
        .into_iter()
        .filter(|a| q.is_empty() || a.name.as_str().contains(&q) || a.owner.as_str().to_lowercase().contains(&q))
        .map(|a| AppRow {
            id: a.id.to_string(),
            name: a.name.to_string(),
            owner: a.owner.to_string(),
            description: a.description.to_string(),
        })
        .collect();
    Ok(AppsView { apps, can_create })
}

#[server(prefix = "/api/console", endpoint = "create_application")]
pub async fn create_application(name: String, owner: String, description: String) -> Result<(), AppError> {
    use crate::ssr::{fail, principal, respond};
    use latchkey_core::domain::application::NewApplication;
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::text::{ApplicationName, Description, Owner};
    let (s, p, ctx) = principal().await?;
    p.require(Action::CreateApplication, Scope::AnyEnvironment).map_err(fail)?;
    let r = async {
        let new = NewApplication {
            name: ApplicationName::parse(&name)?,
            owner: Owner::parse(&owner)?,
            description: Description::parse(&description)?,
        };
        s.create_application(&ctx, new).await
    }
    .await;
    respond(r, "/applications", |a| format!("/applications/{}", a.id))
}

#[server(prefix = "/api/console", endpoint = "application_detail")]
pub async fn application_detail(id: String) -> Result<AppDetail, AppError> {
    use crate::ssr::{fail, principal};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::environment::Tier;
    use latchkey_core::storage::credentials::ListFilter;
    let (s, p, _) = principal().await?;
    p.require(Action::ViewMetadata, Scope::AnyEnvironment).map_err(fail)?;
    let app_id = latchkey_core::ids::ApplicationId::parse(&id).ok_or_else(|| bad("not an application id"))?;
    let app = s.application(&app_id).await.map_err(fail)?;
    let mut envs = Vec::new();
    for env in s.list_environments().await.map_err(fail)? {
        if !p.can(Action::ViewMetadata, Scope::Environment(&env.id)) {
            continue;
        }
        let f = ListFilter {
            application_id: Some(app_id.clone()),
            environment_id: Some(env.id.clone()),
            limit: 200,
            ..Default::default()
        };
        let production = env.tier == Tier::Production;
        let creds = s.list_credentials(&f).await.map_err(fail)?;
        envs.push(EnvBlock {
            slug: env.slug.to_string(),
            production,
            issue_approvals: env.policy.issue_approvals,
            max_lifetime_days: env.policy.max_lifetime_days,
            can_request: p.can(Action::RequestCredential, Scope::Environment(&env.id)),
            can_revoke: p.can(Action::Revoke, Scope::Environment(&env.id)),
            credentials: creds.iter().map(|c| convert::cred(c, production)).collect(),
        });
    }
    Ok(AppDetail {
        app: AppRow {
            id: app.id.to_string(),
            name: app.name.to_string(),
            owner: app.owner.to_string(),
            description: app.description.to_string(),
        },
        envs,
    })
}

/// Issues a credential (its secret is shown once on the next page) or, where the policy requires
/// approvals, opens a change request (the browser goes to it).
#[server(prefix = "/api/console", endpoint = "issue_credential")]
pub async fn issue_credential(
    application_id: String,
    environment: String,
    name: String,
    scopes: String,
    expires_in_days: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::ssr::{flash_secret, principal, respond};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::environment::EnvironmentSlug;
    use latchkey_core::domain::text::{CredentialName, Reason, Scopes};
    use latchkey_core::services::credentials::IssueRequest;
    use latchkey_core::services::requests::Submitted;
    let (s, p, ctx) = principal().await?;
    let back = format!("/applications/{application_id}");
    let app_id =
        latchkey_core::ids::ApplicationId::parse(&application_id).ok_or_else(|| bad("not an application id"))?;
    let r = async {
        let slug = EnvironmentSlug::parse(&environment)?;
        let env = s.environment(&slug).await?;
        p.require(Action::RequestCredential, Scope::Environment(&env.id))?;
        if env.policy.step_up_required {
            p.require_recent_mfa(s.clock.now())?;
        }
        let scopes: Vec<&str> = scopes.split([' ', ',', '\n']).filter(|x| !x.is_empty()).collect();
        let days = match expires_in_days.trim() {
            "" => None,
            d => Some(d.parse::<i64>().map_err(|_| latchkey_core::CoreError::validation("expiry must be whole days"))?),
        };
        let req = IssueRequest {
            application_id: app_id,
            environment: slug,
            name: CredentialName::parse(&name)?,
            scopes: Scopes::parse(&scopes)?,
            expires_in_days: days,
            reason: Reason::parse(&reason)?,
        };
        s.issue_credential(&ctx, req).await
    }
    .await;
    if let Ok(Submitted::Done(issued)) = &r {
        flash_secret(&s, issued.credential.id.as_str(), issued.secret.expose()).await?;
    }
    respond(r, &back, |sub| match sub {
        Submitted::Done(i) => format!("/credentials/{}", i.credential.id),
        Submitted::Pending(req) => format!("/requests/{}", req.id),
    })
}

#[server(prefix = "/api/console", endpoint = "credential_detail")]
pub async fn credential_detail(id: String) -> Result<CredDetail, AppError> {
    use crate::ssr::{fail, principal, take_secret};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::environment::Tier;
    use latchkey_core::storage::audit::ListFilter;
    let (s, p, _) = principal().await?;
    let cid = latchkey_core::ids::CredentialId::parse(&id).ok_or_else(|| bad("not a credential id"))?;
    let c = s.credential(&cid).await.map_err(fail)?;
    p.require(Action::ViewMetadata, Scope::Environment(&c.environment_id)).map_err(fail)?;
    let env = s.environment(&c.environment).await.map_err(fail)?;
    // The timeline: this credential's own events, and the request that created it, if any.
    let mut timeline = Vec::new();
    if p.can(Action::ViewAudit, Scope::Environment(&c.environment_id)) {
        let mut targets = vec![("credential".to_owned(), c.id.to_string())];
        if let Some(r) = &c.created_via_request {
            targets.push(("change_request".to_owned(), r.clone()));
        }
        for target in targets {
            let f = ListFilter { target: Some(target), limit: 100, ..Default::default() };
            timeline.extend(s.audit_list(&f).await.map_err(fail)?.iter().map(convert::event));
        }
        // Its rotation is recorded on the successor.
        if let Some(next) = &c.rotated_to {
            let f = ListFilter {
                target: Some(("credential".to_owned(), next.to_string())),
                action: Some("credential.rotate".to_owned()),
                limit: 1,
                ..Default::default()
            };
            timeline.extend(s.audit_list(&f).await.map_err(fail)?.iter().map(convert::event));
        }
        timeline.sort_by_key(|e| std::cmp::Reverse(e.seq));
    }
    let secret = take_secret(&s, c.id.as_str()).await?;
    let revoked_by = who(&s, c.revoked_by.as_deref().unwrap_or_default()).await;
    Ok(CredDetail {
        cred: convert::cred(&c, env.tier == Tier::Production),
        created_by: who(&s, &c.created_by).await,
        created_via_request: c.created_via_request.clone(),
        revoked: c.revoked_at.map(|at| (at.to_rfc3339(), revoked_by, c.revoked_reason.clone().unwrap_or_default())),
        rotated_from: c.rotated_from.as_ref().map(ToString::to_string),
        rotated_to: c.rotated_to.as_ref().map(ToString::to_string),
        last_used_ip: c.last_used_ip.clone(),
        rotate_approvals: env.policy.rotate_approvals,
        default_grace_seconds: env.policy.default_grace_seconds,
        can_request: p.can(Action::RequestCredential, Scope::Environment(&c.environment_id)),
        can_revoke: p.can(Action::Revoke, Scope::Environment(&c.environment_id)),
        timeline,
        secret,
    })
}

/// Rotates (the new secret is shown once) or opens a rotation request.
#[server(prefix = "/api/console", endpoint = "rotate_credential")]
pub async fn rotate_credential(credential_id: String, grace_seconds: String, reason: String) -> Result<(), AppError> {
    use crate::ssr::{flash_secret, principal, respond};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::text::Reason;
    use latchkey_core::services::credentials::RotateRequest;
    use latchkey_core::services::requests::Submitted;
    let (s, p, ctx) = principal().await?;
    let cid = latchkey_core::ids::CredentialId::parse(&credential_id).ok_or_else(|| bad("not a credential id"))?;
    let back = format!("/credentials/{cid}");
    let r = async {
        let c = s.credential(&cid).await?;
        p.require(Action::RequestCredential, Scope::Environment(&c.environment_id))?;
        if s.environment(&c.environment).await?.policy.step_up_required {
            p.require_recent_mfa(s.clock.now())?;
        }
        let grace = match grace_seconds.trim() {
            "" => None,
            g => Some(
                g.parse::<i64>().map_err(|_| latchkey_core::CoreError::validation("grace must be whole seconds"))?,
            ),
        };
        s.rotate_credential(&ctx, &cid, RotateRequest { grace_seconds: grace, reason: Reason::parse(&reason)? }).await
    }
    .await;
    if let Ok(Submitted::Done(rotated)) = &r {
        flash_secret(&s, rotated.credential.id.as_str(), rotated.secret.expose()).await?;
    }
    respond(r, &back, |sub| match sub {
        Submitted::Done(r) => format!("/credentials/{}", r.credential.id),
        Submitted::Pending(req) => format!("/requests/{}", req.id),
    })
}

#[server(prefix = "/api/console", endpoint = "end_grace")]
pub async fn end_grace(credential_id: String, reason: String) -> Result<(), AppError> {
    use crate::ssr::{principal, respond};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::text::Reason;
    let (s, p, ctx) = principal().await?;
    let cid = latchkey_core::ids::CredentialId::parse(&credential_id).ok_or_else(|| bad("not a credential id"))?;
    let back = format!("/credentials/{cid}");
    let r = async {
        let c = s.credential(&cid).await?;
        p.require(Action::Revoke, Scope::Environment(&c.environment_id))?;
        s.end_grace(&ctx, &cid, &Reason::parse(&reason)?).await
    }
    .await;
    respond(r, &back, |c| format!("/credentials/{}", c.id))
}

/// Revokes at once. `emergency` (a checkbox, or the emergency dialog) marks it as such and
/// notifies; the page then offers a replacement request.
#[server(prefix = "/api/console", endpoint = "revoke_credential")]
pub async fn revoke_credential(
    credential_id: String,
    reason: String,
    emergency: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::{principal, respond};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::text::Reason;
    use latchkey_core::services::credentials::RevokeRequest;
    let (s, p, ctx) = principal().await?;
    let cid = latchkey_core::ids::CredentialId::parse(&credential_id).ok_or_else(|| bad("not a credential id"))?;
    let back = format!("/credentials/{cid}");
    let emergency = emergency.is_some_and(|e| !e.is_empty());
    let r = async {
        let c = s.credential(&cid).await?;
        p.require(Action::Revoke, Scope::Environment(&c.environment_id))?;
        s.revoke_credential(&ctx, &cid, RevokeRequest { reason: Reason::parse(&reason)?, emergency }).await
    }
    .await;
    respond(r, &back, |c| format!("/credentials/{}?revoked=1", c.id))
}

/// Emergency: revokes every credential of an application in one environment.
#[server(prefix = "/api/console", endpoint = "revoke_all")]
pub async fn revoke_all(application_id: String, environment: String, reason: String) -> Result<(), AppError> {
    use crate::ssr::{principal, respond};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::environment::EnvironmentSlug;
    use latchkey_core::domain::text::Reason;
    let (s, p, ctx) = principal().await?;
    let app_id =
        latchkey_core::ids::ApplicationId::parse(&application_id).ok_or_else(|| bad("not an application id"))?;
    let back = format!("/applications/{app_id}");
    let r = async {
        let slug = EnvironmentSlug::parse(&environment)?;
        let env = s.environment(&slug).await?;
        p.require(Action::Revoke, Scope::Environment(&env.id))?;
        s.revoke_all(&ctx, &app_id, &slug, &Reason::parse(&reason)?, true).await
    }
    .await;
    respond(r, &back, |n| format!("/applications/{app_id}?revoked={n}&env={environment}"))
}

/// Global search: a pasted token, prefix, key id or credential id → that credential's page.
#[server(prefix = "/api/console", endpoint = "find_credential")]
pub async fn find_credential(q: String) -> Result<(), AppError> {
    use crate::ssr::{principal, respond};
    use latchkey_core::domain::authz::{Action, Scope};
    let (s, p, _) = principal().await?;
    let r = async {
        let c = s.find_credential(&q).await?;
        p.require(Action::ViewMetadata, Scope::Environment(&c.environment_id))?;
        Ok(c)
    }
    .await;
    respond(r, "/", |c| format!("/credentials/{}", c.id))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsListView {
    pub rows: Vec<CredRow>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
    pub environments: Vec<String>,
}

/// Every credential the caller may see, newest first, 100 a page, filtered by environment and
/// status.
#[server(prefix = "/api/console", endpoint = "credentials_page")]
pub async fn credentials_page(
    environment: String,
    status: String,
    after: String,
) -> Result<CredentialsListView, AppError> {
    use crate::ssr::{fail, principal};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::credential::Status;
    use latchkey_core::domain::environment::{EnvironmentSlug, Tier};
    use latchkey_core::storage::credentials::ListFilter;
    let (s, p, _) = principal().await?;
    p.require(Action::ViewMetadata, Scope::AnyEnvironment).map_err(fail)?;
    let envs = s.list_environments().await.map_err(fail)?;
    let limit = 100;
    let mut f = ListFilter { limit, environments_in: p.visible_environments(), ..Default::default() };
    if !environment.trim().is_empty() {
        let env = s.environment(&EnvironmentSlug::parse(environment.trim()).map_err(fail)?).await.map_err(fail)?;
        p.require(Action::ViewMetadata, Scope::Environment(&env.id)).map_err(fail)?;
        f.environment_id = Some(env.id);
    }
    if !status.trim().is_empty() {
        f.status = Some(Status::parse(status.trim()).map_err(fail)?);
    }
    if let Some((ts, id)) = after.split_once('.') {
        f.after = Some((ts.parse().map_err(|_| bad("malformed page cursor"))?, id.to_owned()));
    }
    let prod: Vec<_> = envs.iter().filter(|e| e.tier == Tier::Production).map(|e| e.slug.clone()).collect();
    let items = s.list_credentials(&f).await.map_err(fail)?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| format!("{}.{}", c.created_at.as_millis(), c.id)))
        .flatten();
    Ok(CredentialsListView {
        rows: items.iter().map(|c| convert::cred(c, prod.contains(&c.environment))).collect(),
        next,
        environments: envs.iter().map(|e| e.slug.to_string()).collect(),
    })
}
