//! Change requests in the console: the approvals inbox, "my requests", a request's detail, and
//! approve / reject / cancel / execute. The four-eyes rules are enforced by the services.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub environment: Option<String>,
    pub production: bool,
    pub summary: String,
    pub requester: String,
    pub reason: String,
    pub approvals: i64,
    pub approvals_required: i64,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRow {
    pub actor: String,
    pub decision: String,
    pub comment: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub row: RequestRow,
    /// `(field, before, after)`: what the change does.
    pub diff: Vec<(String, String, String)>,
    pub decisions: Vec<DecisionRow>,
    pub credential_id: Option<String>,
    /// The credential a rotation replaces.
    pub target_credential: Option<String>,
    pub is_requester: bool,
    pub can_decide: bool,
    pub can_execute: bool,
    pub step_up_fresh: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestListsView {
    /// Open requests waiting for this user's decision (admins).
    pub inbox: Vec<RequestRow>,
    pub mine: Vec<RequestRow>,
    /// Everything visible, newest first (recent history).
    pub recent: Vec<RequestRow>,
    pub is_approver: bool,
}

/// Slugs of production-tier environments, for colour coding.
#[cfg(feature = "ssr")]
pub async fn production_slugs(s: &latchkey_core::Services) -> Result<Vec<String>, AppError> {
    use latchkey_core::domain::environment::Tier;
    let envs = s.list_environments().await.map_err(crate::ssr::fail)?;
    Ok(envs.into_iter().filter(|e| e.tier == Tier::Production).map(|e| e.slug.to_string()).collect())
}

#[cfg(feature = "ssr")]
fn row(r: &latchkey_core::domain::request::ChangeRequest, prod: &[String]) -> RequestRow {
    RequestRow {
        id: r.id.to_string(),
        kind: r.kind.as_str().to_owned(),
        status: r.status.as_str().to_owned(),
        environment: r.environment.as_ref().map(ToString::to_string),
        production: r.environment.as_ref().is_some_and(|e| prod.iter().any(|p| p == e.as_str())),
        summary: r.summary.clone(),
        requester: r.requester_name.clone(),
        reason: r.reason.clone(),
        approvals: r.approvals,
        approvals_required: r.approvals_required,
        created_at: r.created_at.to_rfc3339(),
        expires_at: r.expires_at.to_rfc3339(),
    }
}

#[cfg(feature = "ssr")]
fn parse_id(id: &str) -> Result<latchkey_core::ids::ChangeRequestId, AppError> {
    latchkey_core::ids::ChangeRequestId::parse(id)
        .ok_or_else(|| crate::ssr::fail(latchkey_core::CoreError::validation("not a change request id")))
}

#[server(prefix = "/api/console", endpoint = "request_lists")]
pub async fn request_lists() -> Result<RequestListsView, AppError> {
    let (s, p, ctx) = crate::ssr::principal().await?;
    lists_for(&s, &p, &ctx).await
}

/// The lists for one caller (also the dashboard's source; no context lookups after this point).
#[cfg(feature = "ssr")]
pub async fn lists_for(
    s: &latchkey_core::Services,
    p: &latchkey_core::domain::authz::Principal,
    ctx: &latchkey_core::domain::audit::Ctx,
) -> Result<RequestListsView, AppError> {
    use crate::ssr::fail;
    use latchkey_core::Services;
    use latchkey_core::domain::authz::{Action, Scope};
    use latchkey_core::domain::request::RequestStatus;
    use latchkey_core::storage::requests::RequestFilter;
    p.require(Action::ViewMetadata, Scope::AnyEnvironment).map_err(fail)?;
    let me = ctx.actor.label();
    let prod = production_slugs(s).await?;
    let visible = p.visible_environments();
    let pending = RequestFilter {
        status: Some(RequestStatus::Pending),
        environments_in: visible.clone(),
        limit: 200,
        ..Default::default()
    };
    let inbox = s
        .list_requests(&pending)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|r| r.requester != me && !r.has_decided(&me) && Services::may_decide(p, r))
        .map(|r| row(&r, &prod))
        .collect();
    let mine = RequestFilter { requester: Some(me.clone()), limit: 100, ..Default::default() };
    let mine = s.list_requests(&mine).await.map_err(fail)?.iter().map(|r| row(r, &prod)).collect();
    let recent = RequestFilter { environments_in: visible, limit: 50, ..Default::default() };
    let recent = s.list_requests(&recent).await.map_err(fail)?.iter().map(|r| row(r, &prod)).collect();
    Ok(RequestListsView { inbox, mine, recent, is_approver: p.can(Action::Approve, Scope::AnyEnvironment) })
}

#[server(prefix = "/api/console", endpoint = "request_detail")]
pub async fn request_detail(id: String) -> Result<RequestView, AppError> {
    use crate::ssr::{fail, principal};
    use latchkey_core::Services;
    use latchkey_core::domain::request::{Change, RequestStatus};
    let (s, p, ctx) = principal().await?;
    let r = s.request_for(&p, &parse_id(&id)?).await.map_err(fail)?;
    let me = ctx.actor.label();
    let mut target_credential = None;
    let diff = match &r.change {
        Change::Issue { application, name, scopes, expires_in_days, .. } => vec![
            ("application".into(), String::new(), application.clone()),
            ("name".into(), String::new(), name.clone()),
            ("scopes".into(), String::new(), scopes.join(" ")),
            (
                "lifetime".into(),
                String::new(),
                expires_in_days.map(|d| format!("{d} days")).unwrap_or_else(|| "policy maximum".into()),
            ),
        ],
        Change::Rotate { credential_id, key_id, application, name, grace_seconds } => {
            target_credential = Some(credential_id.clone());
            vec![
                ("credential".into(), format!("{application} / {name} ({key_id})"), "a new key, same scopes".into()),
                (
                    "old key's grace".into(),
                    String::new(),
                    grace_seconds.map(|g| format!("{g} s")).unwrap_or_else(|| "policy default".into()),
                ),
            ]
        }
        Change::Policy { before, after, .. } => {
            let b = serde_json::to_value(before).unwrap_or_default();
            let a = serde_json::to_value(after).unwrap_or_default();
            let mut d = Vec::new();
            if let (Some(b), Some(a)) = (b.as_object(), a.as_object()) {
                for (k, v) in a {
                    let old = b.get(k).cloned().unwrap_or_default();
                    if &old != v {
                        d.push((k.clone(), old.to_string(), v.to_string()));
                    }
                }
            }
            d
        }
        Change::GrantAdmin { user, environment, .. } => vec![(
            "role".into(),
            String::new(),
            format!("admin for {user} in {}", environment.clone().unwrap_or_else(|| "every environment".into())),
        )],
    };
    Ok(RequestView {
        diff,
        decisions: r
            .decisions
            .iter()
            .map(|d| DecisionRow {
                actor: d.actor_name.clone(),
                decision: d.decision.as_str().to_owned(),
                comment: d.comment.clone(),
                at: d.at.to_rfc3339(),
            })
            .collect(),
        credential_id: r.credential_id.as_ref().map(ToString::to_string),
        target_credential,
        is_requester: r.requester == me,
        can_decide: r.status.is_open() && r.requester != me && !r.has_decided(&me) && Services::may_decide(&p, &r),
        can_execute: r.requester == me && r.status == RequestStatus::Approved && r.kind.executed_by_requester(),
        step_up_fresh: p.require_recent_mfa(s.clock.now()).is_ok(),
        row: row(&r, &production_slugs(&s).await?),
    })
}

/// Approve or reject (`decision`), with an optional comment. Needs step-up.
#[server(prefix = "/api/console", endpoint = "decide_request")]
pub async fn decide_request(id: String, decision: String, comment: String) -> Result<(), AppError> {
    use crate::ssr::{principal, respond};
    use latchkey_core::domain::text::Comment;
    let (s, p, ctx) = principal().await?;
    let rid = parse_id(&id)?;
    let back = format!("/requests/{rid}");
    let r = async {
        let comment = Comment::parse(&comment)?;
        match decision.as_str() {
            "approve" => s.approve_request(&ctx, &p, &rid, &comment).await,
            "reject" => s.reject_request(&ctx, &p, &rid, &comment).await,
            _ => Err(latchkey_core::CoreError::validation("decision must be approve or reject")),
        }
    }
    .await;
    respond(r, &back, |r| format!("/requests/{}", r.id))
}

#[server(prefix = "/api/console", endpoint = "cancel_request")]
pub async fn cancel_request(id: String, comment: String) -> Result<(), AppError> {
    use crate::ssr::{principal, respond};
    use latchkey_core::domain::text::Comment;
    let (s, p, ctx) = principal().await?;
    let rid = parse_id(&id)?;
    let back = format!("/requests/{rid}");
    let r = async { s.cancel_request(&ctx, &p, &rid, &Comment::parse(&comment)?).await }.await;
    respond(r, &back, |r| format!("/requests/{}", r.id))
}

/// Executes an approved request; the new secret is shown once on the credential's page.
#[server(prefix = "/api/console", endpoint = "execute_request")]
pub async fn execute_request(id: String) -> Result<(), AppError> {
    use crate::ssr::{flash_secret, principal, respond};
    use latchkey_core::services::requests::Executed;
    let (s, p, ctx) = principal().await?;
    let rid = parse_id(&id)?;
    let back = format!("/requests/{rid}");
    let r = s.execute_request(&ctx, &p, &rid).await;
    let created = match &r {
        Ok(Executed::Issued(i)) => Some((i.credential.id.to_string(), i.secret.expose().to_owned())),
        Ok(Executed::Rotated(r)) => Some((r.credential.id.to_string(), r.secret.expose().to_owned())),
        Err(_) => None,
    };
    if let Some((cid, secret)) = &created {
        flash_secret(&s, cid, secret).await?;
    }
    respond(r, &back, |_| created.map(|(cid, _)| format!("/credentials/{cid}")).unwrap_or_default())
}
