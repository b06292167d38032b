//! Environments and their policies; webhook notification sinks. Admin pages: changes need
//! step-up, and loosening a policy becomes a change request for a second administrator.

// A policy form has one field per setting; the server function mirrors it.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView {
    pub issue_approvals: i64,
    pub rotate_approvals: i64,
    pub max_lifetime_days: i64,
    pub default_grace_seconds: i64,
    pub max_grace_seconds: i64,
    pub step_up_required: bool,
    pub blind_delivery: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvView {
    pub slug: String,
    pub name: String,
    pub production: bool,
    pub policy: PolicyView,
    pub can_manage: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentsView {
    pub environments: Vec<EnvView>,
    pub step_up_fresh: bool,
}

#[server(prefix = "/api/console", endpoint = "environments")]
pub async fn environments() -> Result<EnvironmentsView, AppError> {
    use crate::ssr::{fail, principal};
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::environment::Tier;
    let (s, p, _) = principal().await?;
    p.require(Action::ViewMetadata, Scope::AnyEnvironment).map_err(fail)?;
    let envs = s.list_environments().await.map_err(fail)?;
    Ok(EnvironmentsView {
        environments: envs
            .into_iter()
            .map(|e| EnvView {
                can_manage: p.can(Action::ManageEnvironments, Scope::Environment(&e.id)),
                slug: e.slug.to_string(),
                name: e.name,
                production: e.tier == Tier::Production,
                policy: PolicyView {
                    issue_approvals: e.policy.issue_approvals,
                    rotate_approvals: e.policy.rotate_approvals,
                    max_lifetime_days: e.policy.max_lifetime_days,
                    default_grace_seconds: e.policy.default_grace_seconds,
                    max_grace_seconds: e.policy.max_grace_seconds,
                    step_up_required: e.policy.step_up_required,
                    blind_delivery: e.policy.blind_delivery.as_str().to_owned(),
                },
            })
            .collect(),
        step_up_fresh: p.require_recent_mfa(s.clock.now()).is_ok(),
    })
}

/// Saves a policy: stricter applies at once; looser opens a change request (the browser goes to it).
#[server(prefix = "/api/console", endpoint = "update_policy")]
pub async fn update_policy(
    slug: String,
    issue_approvals: String,
    rotate_approvals: String,
    max_lifetime_days: String,
    default_grace_seconds: String,
    max_grace_seconds: String,
    step_up_required: Option<String>,
    blind_delivery: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::ssr::{principal, respond};
    use latchkey_core::CoreError;
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::environment::{BlindDelivery, EnvironmentSlug, Policy};
    use latchkey_core::domain::text::Reason;
    use latchkey_core::services::requests::Submitted;
    let (s, p, ctx) = principal().await?;
    let r = async {
        let slug = EnvironmentSlug::parse(&slug)?;
        let env = s.environment(&slug).await?;
        p.require(Action::ManageEnvironments, Scope::Environment(&env.id))?;
        p.require_recent_mfa(s.clock.now())?;
        let num = |v: &str, what: &str| {
            v.trim().parse::<i64>().map_err(|_| CoreError::validation(format!("{what} must be a whole number")))
        };
        let policy = Policy {
            issue_approvals: num(&issue_approvals, "issue approvals")?,
            rotate_approvals: num(&rotate_approvals, "rotate approvals")?,
            max_lifetime_days: num(&max_lifetime_days, "maximum lifetime")?,
            default_grace_seconds: num(&default_grace_seconds, "default grace")?,
            max_grace_seconds: num(&max_grace_seconds, "maximum grace")?,
            step_up_required: step_up_required.is_some_and(|v| !v.is_empty()),
            blind_delivery: BlindDelivery::parse(&blind_delivery)?,
        };
        let reason = if reason.trim().is_empty() { None } else { Some(Reason::parse(&reason)?) };
        s.update_policy(&ctx, &slug, policy, reason.as_ref()).await
    }
    .await;
    respond(r, "/environments", |sub| match sub {
        Submitted::Done(env) => format!("/environments?saved={}", env.slug),
        Submitted::Pending(req) => format!("/requests/{}", req.id),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: String,
    pub name: String,
    pub host: String,
    pub events: Vec<String>,
    pub delivered: i64,
    pub pending: i64,
    pub failed: i64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub webhooks: Vec<WebhookView>,
    pub kinds: Vec<String>,
    pub sso_enabled: bool,
    pub step_up_fresh: bool,
}

#[server(prefix = "/api/console", endpoint = "settings")]
pub async fn settings() -> Result<SettingsView, AppError> {
    use crate::ssr::fail;
    let (s, p, _) = crate::ssr::principal_allowed(latchkey_core::domain::authz::Action::ManageSettings).await?;
    let hooks = s.list_webhooks().await.map_err(fail)?;
    Ok(SettingsView {
        webhooks: hooks
            .into_iter()
            .map(|w| WebhookView {
                id: w.id.to_string(),
                name: w.name,
                host: w.host,
                events: w.events,
                delivered: w.delivered,
                pending: w.pending,
                failed: w.failed,
                last_error: w.last_error,
            })
            .collect(),
        kinds: latchkey_core::services::notify::KINDS.iter().map(|k| (*k).to_owned()).collect(),
        sso_enabled: s.sso_enabled(),
        step_up_fresh: p.require_recent_mfa(s.clock.now()).is_ok(),
    })
}

/// Adds a webhook. `events`: kinds separated by spaces or commas; empty for all.
#[server(prefix = "/api/console", endpoint = "add_webhook")]
pub async fn add_webhook(name: String, url: String, events: String) -> Result<(), AppError> {
    use crate::ssr::respond;
    let (s, p, ctx) = crate::ssr::principal_allowed(latchkey_core::domain::authz::Action::ManageSettings).await?;
    let r = async {
        p.require_recent_mfa(s.clock.now())?;
        let events: Vec<String> = events.split([' ', ',']).filter(|e| !e.is_empty()).map(str::to_owned).collect();
        s.create_webhook(&ctx, &name, &url, &events).await
    }
    .await;
    respond(r, "/settings", |_| "/settings".to_owned())
}

#[server(prefix = "/api/console", endpoint = "webhook_action")]
pub async fn webhook_action(id: String, action: String) -> Result<(), AppError> {
    use crate::ssr::respond;
    let (s, p, ctx) = crate::ssr::principal_allowed(latchkey_core::domain::authz::Action::ManageSettings).await?;
    let r = async {
        let id = latchkey_core::ids::WebhookId::parse(&id)
            .ok_or_else(|| latchkey_core::CoreError::validation("not a webhook id"))?;
        match action.as_str() {
            "test" => s.test_webhook(&ctx, &id).await,
            "delete" => {
                p.require_recent_mfa(s.clock.now())?;
                s.delete_webhook(&ctx, &id).await
            }
            _ => Err(latchkey_core::CoreError::validation("action must be test or delete")),
        }
    }
    .await;
    respond(r, "/settings", |_| "/settings".to_owned())
}
