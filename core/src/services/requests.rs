//! Four-eyes change requests, enforced here and nowhere else: the console and the REST API both
//! call these commands. Every state change starts by taking the request's row lock while it is
//! still open, so racing approvals or executions serialize and exactly one of them wins.

use serde_json::json;

use super::Services;
use super::audit::append;
use super::credentials::{IssuePlan, Issued, Rotated};
use super::notify::enqueue;
use crate::domain::audit::{Ctx, NewEvent};
use crate::domain::authz::{Action, Principal, Scope};
use crate::domain::environment::{ChangeKind, Environment};
use crate::domain::request::{Change, ChangeRequest, DecisionKind, RequestKind, RequestStatus, StoredRequestStatus};
use crate::domain::text::{Comment, CredentialName, Reason, Scopes};
use crate::domain::time::Timestamp;
use crate::error::{CoreError, CoreResult};
use crate::ids::{ApplicationId, ChangeRequestId, CredentialId, EnvironmentId, UserId};
use crate::storage::requests::{self as repo, NewRequestRow, RequestFilter};
use crate::storage::{Conn, applications, environments};

/// The outcome of a command that policy may route through approval.
#[derive(Debug)]
pub enum Submitted<T> {
    /// Done at once.
    Done(T),
    /// Waiting for approval: a change request was opened.
    Pending(Box<ChangeRequest>),
}

impl<T> Submitted<T> {
    pub fn done(self) -> Option<T> {
        match self {
            Self::Done(t) => Some(t),
            Self::Pending(_) => None,
        }
    }

    pub fn pending(self) -> Option<ChangeRequest> {
        match self {
            Self::Done(_) => None,
            Self::Pending(r) => Some(*r),
        }
    }
}

/// What executing an approved credential request produced. The secret is in here once.
#[derive(Debug)]
pub enum Executed {
    Issued(Box<Issued>),
    Rotated(Box<Rotated>),
}

pub(crate) struct NewRequest<'a> {
    pub env: Option<&'a Environment>,
    pub change: Change,
    pub reason: &'a Reason,
    pub approvals: i64,
}

fn scope(req: &ChangeRequest) -> Scope<'_> {
    match &req.environment_id {
        Some(e) => Scope::Environment(e),
        None => Scope::Global,
    }
}

fn not_open(req: &ChangeRequest, what: &str) -> CoreError {
    CoreError::conflict(format!("this request is {}; it can no longer be {what}", req.status.as_str()))
}

/// Takes the request's row lock while it is open and unexpired, and returns it as locked; 409
/// naming its status when it is no longer open.
async fn lock(tx: &mut Conn, id: &ChangeRequestId, now: Timestamp, what: &str) -> CoreResult<ChangeRequest> {
    let locked = repo::lock_open(tx, id, now, true).await?;
    let req = repo::by_id(tx, id, now).await?.ok_or(CoreError::NotFound("change request"))?;
    if locked { Ok(req) } else { Err(not_open(&req, what)) }
}

/// The stored status of a request that was open when locked.
fn stored_open(req: &ChangeRequest) -> StoredRequestStatus {
    if req.status == RequestStatus::Approved { StoredRequestStatus::Approved } else { StoredRequestStatus::Pending }
}

fn forbidden(msg: &str) -> CoreError {
    CoreError::Forbidden(msg.to_owned())
}

impl Services {
    /// Opens a change request inside the caller's transaction: the row, its audit event and the
    /// "awaiting approval" notification commit together.
    pub(crate) async fn open_request(
        &self,
        tx: &mut Conn,
        ctx: &Ctx,
        new: NewRequest<'_>,
        now: Timestamp,
    ) -> CoreResult<ChangeRequestId> {
        let id = ChangeRequestId::generate()?;
        let env_slug = new.env.map(|e| &e.slug);
        let summary = new.change.summary(env_slug);
        let expires_at = now.plus_secs(self.request_ttl_secs);
        let requester = ctx.actor.label();
        repo::insert(
            tx,
            &NewRequestRow {
                id: &id,
                change: &new.change,
                environment_id: new.env.map(|e| &e.id),
                requester: &requester,
                requester_name: &ctx.actor.name,
                reason: new.reason.as_str(),
                summary: &summary,
                approvals_required: new.approvals,
                created_at: now,
                expires_at,
            },
        )
        .await?;
        let mut ev = NewEvent::success("request.create", "change_request", id.as_str()).with_details(json!({
            "kind": new.change.kind(),
            "summary": summary,
            "change": new.change,
            "reason": new.reason,
            "approvals_required": new.approvals,
            "expires_at": expires_at,
        }));
        if let Some(s) = env_slug {
            ev = ev.in_env(s.as_str());
        }
        append(tx, now, ctx, ev).await?;
        let text = format!(
            ":hourglass: Approval needed ({} of {}): {summary} — requested by {}. Reason: {}",
            new.approvals, new.approvals, ctx.actor.name, new.reason
        );
        let data = json!({ "request_id": id, "kind": new.change.kind(), "summary": summary,
            "environment": env_slug, "requester": ctx.actor.name, "reason": new.reason,
            "approvals_required": new.approvals, "expires_at": expires_at });
        enqueue(tx, now, "request.pending", &text, data).await?;
        Ok(id)
    }

    pub async fn request(&self, id: &ChangeRequestId) -> CoreResult<ChangeRequest> {
        let mut conn = self.db.pool().acquire().await?;
        repo::by_id(&mut conn, id, self.clock.now()).await?.ok_or(CoreError::NotFound("change request"))
    }

    /// A request, if the principal may see it.
    pub async fn request_for(&self, principal: &Principal, id: &ChangeRequestId) -> CoreResult<ChangeRequest> {
        let req = self.request(id).await?;
        principal.require(Action::ViewMetadata, scope(&req))?;
        Ok(req)
    }

    pub async fn list_requests(&self, filter: &RequestFilter) -> CoreResult<Vec<ChangeRequest>> {
        let mut conn = self.db.pool().acquire().await?;
        let mut f = filter.clone();
        f.limit = f.limit.clamp(1, 500);
        repo::list(&mut conn, &f, self.clock.now()).await
    }

    /// Pending requests in the given environments (`None`: all), for the navigation badge.
    pub async fn count_pending_requests(&self, environments_in: Option<&[EnvironmentId]>) -> CoreResult<i64> {
        let mut conn = self.db.pool().acquire().await?;
        repo::count_pending(&mut conn, environments_in, self.clock.now()).await
    }

    /// Whether the principal could approve this request (ignoring step-up freshness).
    pub fn may_decide(principal: &Principal, req: &ChangeRequest) -> bool {
        let members = req.kind != RequestKind::GrantAdmin || principal.can(Action::ManageMembers, Scope::Global);
        members && principal.can(Action::Approve, scope(req))
    }

    /// Checks who decides (before any transaction, so a refused caller holds no lock or
    /// connection), locks the open request, records the decision, and returns the transaction
    /// with the request as it was when locked.
    async fn decide(
        &self,
        ctx: &Ctx,
        principal: &Principal,
        id: &ChangeRequestId,
        decision: DecisionKind,
        comment: &Comment,
        now: Timestamp,
    ) -> CoreResult<(crate::storage::Tx, ChangeRequest)> {
        let what = if decision == DecisionKind::Approve { "approved" } else { "rejected" };
        let seen = self.request(id).await?;
        if !Self::may_decide(principal, &seen) {
            return Err(forbidden("only an administrator of this environment can decide on this request"));
        }
        principal.require_recent_mfa(now)?;
        if seen.requester == ctx.actor.label() {
            return Err(forbidden("four eyes: the requester cannot decide on their own request"));
        }
        let mut tx = self.db.begin().await?;
        let req = lock(&mut tx, id, now, what).await?;
        let me = ctx.actor.label();
        if req.has_decided(&me) {
            return Err(CoreError::conflict("you have already decided on this request; one person counts once"));
        }
        repo::insert_decision(&mut tx, id, &me, &ctx.actor.name, decision, comment.as_str(), now).await?;
        Ok((tx, req))
    }

    /// Approves a request (an administrator of its environment other than the requester, with
    /// fresh MFA). The approval that completes a control change applies it in the same
    /// transaction; a credential change then waits for its requester to execute it.
    pub async fn approve_request(
        &self,
        ctx: &Ctx,
        principal: &Principal,
        id: &ChangeRequestId,
        comment: &Comment,
    ) -> CoreResult<ChangeRequest> {
        let now = self.clock.now();
        let (mut tx, req) = self.decide(ctx, principal, id, DecisionKind::Approve, comment, now).await?;
        let approvals = repo::count_approvals(&mut tx, id).await?;
        let env = req.environment.as_ref().map(|e| e.as_str().to_owned());
        let with_env = |ev: NewEvent| match &env {
            Some(e) => ev.in_env(e),
            None => ev,
        };
        let ev = NewEvent::success("request.approve", "change_request", id.as_str()).with_details(json!({
            "kind": req.kind,
            "summary": req.summary,
            "approvals": approvals,
            "approvals_required": req.approvals_required,
            "comment": comment,
        }));
        append(&mut tx, now, ctx, with_env(ev)).await?;
        let complete = req.status == RequestStatus::Pending && approvals >= req.approvals_required;
        if complete {
            let to = if req.kind.executed_by_requester() {
                StoredRequestStatus::Approved
            } else {
                self.apply_control_change(&mut tx, ctx, &req, now).await?;
                StoredRequestStatus::Executed
            };
            if !repo::transition(&mut tx, id, StoredRequestStatus::Pending, to, now).await? {
                return Err(not_open(&req, "approved"));
            }
            let next = if req.kind.executed_by_requester() {
                format!("{} can now execute it.", req.requester_name)
            } else {
                "The change is in effect.".to_owned()
            };
            let text = format!(":white_check_mark: Approved: {} — by {}. {next}", req.summary, ctx.actor.name);
            let data = json!({ "request_id": id, "kind": req.kind, "summary": req.summary, "environment": env,
                "requester": req.requester_name, "approved_by": ctx.actor.name, "approvals": approvals });
            enqueue(&mut tx, now, "request.approved", &text, data).await?;
        }
        tx.commit().await?;
        if complete {
            self.notifier.wake();
        }
        self.request(id).await
    }

    /// Rejects a request: final.
    pub async fn reject_request(
        &self,
        ctx: &Ctx,
        principal: &Principal,
        id: &ChangeRequestId,
        comment: &Comment,
    ) -> CoreResult<ChangeRequest> {
        let now = self.clock.now();
        let (mut tx, req) = self.decide(ctx, principal, id, DecisionKind::Reject, comment, now).await?;
        if !repo::transition(&mut tx, id, stored_open(&req), StoredRequestStatus::Rejected, now).await? {
            return Err(not_open(&req, "rejected"));
        }
        let env = req.environment.as_ref().map(|e| e.as_str().to_owned());
        let mut ev = NewEvent::success("request.reject", "change_request", id.as_str())
            .with_details(json!({ "kind": req.kind, "summary": req.summary, "comment": comment }));
        if let Some(e) = &env {
            ev = ev.in_env(e);
        }
        append(&mut tx, now, ctx, ev).await?;
        let text = format!(":no_entry: Rejected: {} — by {}. {}", req.summary, ctx.actor.name, comment);
        let data = json!({ "request_id": id, "kind": req.kind, "summary": req.summary, "environment": env,
            "requester": req.requester_name, "rejected_by": ctx.actor.name, "comment": comment });
        enqueue(&mut tx, now, "request.rejected", &text, data).await?;
        tx.commit().await?;
        self.notifier.wake();
        self.request(id).await
    }

    /// Withdraws one's own open request.
    pub async fn cancel_request(
        &self,
        ctx: &Ctx,
        principal: &Principal,
        id: &ChangeRequestId,
        comment: &Comment,
    ) -> CoreResult<ChangeRequest> {
        let now = self.clock.now();
        let seen = self.request_for(principal, id).await?;
        if seen.requester != ctx.actor.label() {
            return Err(forbidden("only the requester can cancel a request"));
        }
        let mut tx = self.db.begin().await?;
        let req = lock(&mut tx, id, now, "cancelled").await?;
        if !repo::transition(&mut tx, id, stored_open(&req), StoredRequestStatus::Cancelled, now).await? {
            return Err(not_open(&req, "cancelled"));
        }
        let mut ev = NewEvent::success("request.cancel", "change_request", id.as_str())
            .with_details(json!({ "kind": req.kind, "summary": req.summary, "comment": comment }));
        if let Some(e) = &req.environment {
            ev = ev.in_env(e.as_str());
        }
        append(&mut tx, now, ctx, ev).await?;
        tx.commit().await?;
        self.request(id).await
    }

    /// Executes an approved credential request: its requester, once. The secret is generated
    /// here and returned to the caller only.
    pub async fn execute_request(
        &self,
        ctx: &Ctx,
        principal: &Principal,
        id: &ChangeRequestId,
    ) -> CoreResult<Executed> {
        let now = self.clock.now();
        let seen = self.request(id).await?;
        principal.require(Action::RequestCredential, scope(&seen))?;
        if seen.requester != ctx.actor.label() {
            return Err(forbidden("only the requester can execute a request"));
        }
        if !seen.kind.executed_by_requester() {
            return Err(CoreError::conflict(
                "this kind of request takes effect when approved; there is nothing to execute",
            ));
        }
        let mut tx = self.db.begin().await?;
        let env_id =
            seen.environment_id.clone().ok_or_else(|| CoreError::internal("credential request without environment"))?;
        let env = environments::by_id(&mut tx, &env_id).await?.ok_or_else(environments::missing)?;
        if env.policy.step_up_required {
            principal.require_recent_mfa(now)?;
        }
        let req = lock(&mut tx, id, now, "executed").await?;
        let kind = if req.kind == RequestKind::Issue { ChangeKind::Issue } else { ChangeKind::Rotate };
        let needed = req.approvals_required.max(env.policy.approvals_required(kind));
        if req.status != RequestStatus::Approved || req.approvals < needed {
            return Err(CoreError::conflict(format!(
                "this request has {} of {needed} approval(s); it can be executed once approved",
                req.approvals
            )));
        }
        if !repo::transition(&mut tx, id, StoredRequestStatus::Approved, StoredRequestStatus::Executed, now).await? {
            return Err(not_open(&req, "executed"));
        }
        let reason = Reason::parse(&req.reason)?;
        let (executed, credential_id) = match &req.change {
            Change::Issue { application_id, name, scopes, expires_in_days, .. } => {
                let app_id =
                    ApplicationId::parse(application_id).ok_or_else(|| CoreError::internal("stored application id"))?;
                let app = applications::by_id(&mut tx, &app_id).await?.ok_or(CoreError::NotFound("application"))?;
                let days = env.policy.lifetime_days(*expires_in_days)?;
                let plan = IssuePlan {
                    env,
                    app,
                    name: CredentialName::parse(name)?,
                    scopes: Scopes::parse(scopes)?,
                    days,
                    reason,
                };
                let issued = self.issue_in_tx(&mut tx, ctx, &plan, Some(id), now).await?;
                let cid = issued.credential.id.clone();
                (Executed::Issued(Box::new(issued)), cid)
            }
            Change::Rotate { credential_id, grace_seconds, .. } => {
                let cid =
                    CredentialId::parse(credential_id).ok_or_else(|| CoreError::internal("stored credential id"))?;
                let plan = self.plan_rotation(&mut tx, &cid, *grace_seconds, reason, now).await?;
                let rotated = self.rotate_in_tx(&mut tx, ctx, &plan, Some(id), now).await?;
                let new_id = rotated.credential.id.clone();
                (Executed::Rotated(Box::new(rotated)), new_id)
            }
            _ => return Err(CoreError::internal("control change reached execute")),
        };
        repo::set_credential(&mut tx, id, &credential_id).await?;
        let ev = NewEvent::success("request.execute", "change_request", id.as_str())
            .in_env(env_id_slug(&req))
            .with_details(json!({ "kind": req.kind, "summary": req.summary, "credential_id": credential_id }));
        append(&mut tx, now, ctx, ev).await?;
        tx.commit().await?;
        self.verifier.after_change(&self.db).await;
        Ok(executed)
    }

    /// Applies an approved policy loosening or admin grant, inside the approving transaction.
    async fn apply_control_change(
        &self,
        tx: &mut Conn,
        ctx: &Ctx,
        req: &ChangeRequest,
        now: Timestamp,
    ) -> CoreResult<()> {
        match &req.change {
            Change::Policy { before, after, .. } => {
                let env_id = req
                    .environment_id
                    .as_ref()
                    .ok_or_else(|| CoreError::internal("policy request without environment"))?;
                let env = environments::by_id(tx, env_id).await?.ok_or_else(environments::missing)?;
                if &env.policy != before {
                    return Err(CoreError::conflict(
                        "the policy changed since this request was made; reject it and submit a new one",
                    ));
                }
                self.write_policy(tx, ctx, &env, after, Some(&req.id), now).await
            }
            Change::GrantAdmin { user_id, .. } => {
                let uid = UserId::parse(user_id).ok_or_else(|| CoreError::internal("stored user id"))?;
                let env = match &req.environment_id {
                    Some(e) => Some(environments::by_id(tx, e).await?.ok_or_else(environments::missing)?),
                    None => None,
                };
                self.grant_in_tx(tx, ctx, &uid, crate::domain::user::Role::Admin, env.as_ref(), Some(&req.id), now)
                    .await
            }
            _ => Err(CoreError::internal("credential change reached apply")),
        }
    }
}

fn env_id_slug(req: &ChangeRequest) -> &str {
    req.environment.as_ref().map(|e| e.as_str()).unwrap_or_default()
}
