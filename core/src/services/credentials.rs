//! The credential lifecycle: issue, rotate with grace, revoke, revoke-all. Each command is one
//! transaction holding the change and its audit event. The plaintext token exists only in the
//! value returned to the caller, which hands it over once.

use serde_json::json;

use super::Services;
use super::audit::append;
use super::notify::enqueue;
use super::requests::{NewRequest, Submitted};
use crate::domain::application::Application;
use crate::domain::audit::{Ctx, NewEvent};
use crate::domain::credential::{Credential, Status};
use crate::domain::environment::{BlindDelivery, ChangeKind, Environment, EnvironmentSlug};
use crate::domain::request::Change;
use crate::domain::text::{CredentialName, Reason, Scopes};
use crate::domain::time::Timestamp;
use crate::domain::token::{self, KeyId, PlainToken};
use crate::error::{CoreError, CoreResult};
use crate::ids::{ApplicationId, ChangeRequestId, CredentialId};
use crate::storage::credentials::{self as repo, ListFilter, NewCredentialRow};
use crate::storage::{Conn, applications, environments};

#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub application_id: ApplicationId,
    pub environment: EnvironmentSlug,
    pub name: CredentialName,
    pub scopes: Scopes,
    pub expires_in_days: Option<i64>,
    pub reason: Reason,
}

/// A new credential and its secret, which the caller returns exactly once.
#[derive(Debug)]
pub struct Issued {
    pub credential: Credential,
    pub secret: PlainToken,
}

#[derive(Debug, Clone)]
pub struct RotateRequest {
    pub grace_seconds: Option<i64>,
    pub reason: Reason,
}

#[derive(Debug)]
pub struct Rotated {
    pub credential: Credential,
    pub secret: PlainToken,
    pub previous: Credential,
}

#[derive(Debug, Clone)]
pub struct RevokeRequest {
    pub reason: Reason,
    pub emergency: bool,
}

fn recipient_required(env: &Environment) -> CoreResult<()> {
    if env.policy.blind_delivery == BlindDelivery::Required {
        return Err(CoreError::Conflict {
            code: "recipient_required",
            message: format!(
                "the {} environment requires blind delivery and this application has no recipient key",
                env.slug
            ),
        });
    }
    Ok(())
}

fn parse_key_id(s: &str) -> CoreResult<KeyId> {
    KeyId::parse(s).ok_or_else(|| CoreError::internal("stored key id malformed"))
}

async fn load(conn: &mut Conn, id: &CredentialId, now: Timestamp) -> CoreResult<Credential> {
    repo::by_id(conn, id, now).await?.ok_or(CoreError::NotFound("credential"))
}

/// Inserts a fresh credential row and returns its token. Shared by issue and rotate.
#[allow(clippy::too_many_arguments)]
async fn insert_new(
    conn: &mut Conn,
    id: &CredentialId,
    application_id: &ApplicationId,
    env: &Environment,
    name: &CredentialName,
    scopes: &Scopes,
    expires_at: Timestamp,
    rotated_from: Option<&CredentialId>,
    via: Option<&ChangeRequestId>,
    now: Timestamp,
    ctx: &Ctx,
    s: &Services,
) -> CoreResult<PlainToken> {
    let (secret, key_id) = token::generate(&env.slug)?;
    let hash = s.keys.pepper.hash(secret.expose().as_bytes());
    let created_by = ctx.actor.label();
    repo::insert(
        conn,
        &NewCredentialRow {
            id,
            key_id: &key_id,
            application_id,
            environment_id: &env.id,
            name,
            scopes,
            secret_hash: &hash,
            prefix: secret.display_prefix(),
            last4: secret.last4(),
            created_at: now,
            created_by: &created_by,
            created_via_request: via.map(ChangeRequestId::as_str),
            expires_at,
            rotated_from,
        },
    )
    .await?;
    Ok(secret)
}

/// A validated issue, ready to run now or when its request is executed.
pub(crate) struct IssuePlan {
    pub env: Environment,
    pub app: Application,
    pub name: CredentialName,
    pub scopes: Scopes,
    pub days: i64,
    pub reason: Reason,
}

/// A validated rotation.
pub(crate) struct RotatePlan {
    pub old: Credential,
    pub env: Environment,
    pub grace: i64,
    pub reason: Reason,
}

impl Services {
    /// Issues a credential, or opens a change request when the environment's policy requires
    /// approvals (the secret is then generated when the approved request is executed).
    pub async fn issue_credential(&self, ctx: &Ctx, req: IssueRequest) -> CoreResult<Submitted<Issued>> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let env = environments::by_slug(&mut tx, &req.environment).await?.ok_or_else(environments::missing)?;
        let app = applications::by_id(&mut tx, &req.application_id).await?.ok_or(CoreError::NotFound("application"))?;
        recipient_required(&env)?;
        let days = env.policy.lifetime_days(req.expires_in_days)?;
        let approvals = env.policy.approvals_required(ChangeKind::Issue);
        if approvals > 0 {
            let change = Change::Issue {
                application_id: app.id.to_string(),
                application: app.name.to_string(),
                name: req.name.to_string(),
                scopes: req.scopes.as_slice().to_vec(),
                expires_in_days: req.expires_in_days,
            };
            let new = NewRequest { env: Some(&env), change, reason: &req.reason, approvals };
            let id = self.open_request(&mut tx, ctx, new, now).await?;
            tx.commit().await?;
            self.notifier.wake();
            return Ok(Submitted::Pending(Box::new(self.request(&id).await?)));
        }
        let plan = IssuePlan { env, app, name: req.name, scopes: req.scopes, days, reason: req.reason };
        let issued = self.issue_in_tx(&mut tx, ctx, &plan, None, now).await?;
        tx.commit().await?;
        self.verifier.after_change(&self.db).await;
        Ok(Submitted::Done(issued))
    }

    pub(crate) async fn issue_in_tx(
        &self,
        tx: &mut Conn,
        ctx: &Ctx,
        p: &IssuePlan,
        via: Option<&ChangeRequestId>,
        now: Timestamp,
    ) -> CoreResult<Issued> {
        let id = CredentialId::generate()?;
        let expires_at = now.plus_days(p.days);
        let secret =
            insert_new(tx, &id, &p.app.id, &p.env, &p.name, &p.scopes, expires_at, None, via, now, ctx, self).await?;
        let credential = load(tx, &id, now).await?;
        let ev = NewEvent::success("credential.issue", "credential", id.as_str())
            .in_env(p.env.slug.as_str())
            .with_details(json!({
                "application_id": p.app.id,
                "application": p.app.name,
                "name": credential.name,
                "scopes": credential.scopes,
                "key_id": credential.key_id,
                "prefix": credential.prefix,
                "expires_at": credential.expires_at,
                "reason": p.reason,
                "via_request": via,
            }));
        append(tx, now, ctx, ev).await?;
        Ok(Issued { credential, secret })
    }

    /// Checks that a credential can be rotated now and with what grace.
    pub(crate) async fn plan_rotation(
        &self,
        tx: &mut Conn,
        id: &CredentialId,
        grace_seconds: Option<i64>,
        reason: Reason,
        now: Timestamp,
    ) -> CoreResult<RotatePlan> {
        let old = load(tx, id, now).await?;
        if old.status != Status::Active {
            return Err(CoreError::conflict(format!(
                "only an active credential can be rotated; this one is {}",
                old.status.as_str()
            )));
        }
        let env = environments::by_slug(tx, &old.environment).await?.ok_or_else(environments::missing)?;
        recipient_required(&env)?;
        let grace = env.policy.grace_seconds(grace_seconds)?;
        Ok(RotatePlan { old, env, grace, reason })
    }

    /// Rotates a credential, or opens a change request when the policy requires approvals.
    pub async fn rotate_credential(
        &self,
        ctx: &Ctx,
        id: &CredentialId,
        req: RotateRequest,
    ) -> CoreResult<Submitted<Rotated>> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let plan = self.plan_rotation(&mut tx, id, req.grace_seconds, req.reason, now).await?;
        let approvals = plan.env.policy.approvals_required(ChangeKind::Rotate);
        if approvals > 0 {
            let change = Change::Rotate {
                credential_id: plan.old.id.to_string(),
                key_id: plan.old.key_id.clone(),
                application: plan.old.application.clone(),
                name: plan.old.name.to_string(),
                grace_seconds: req.grace_seconds,
            };
            let new = NewRequest { env: Some(&plan.env), change, reason: &plan.reason, approvals };
            let rid = self.open_request(&mut tx, ctx, new, now).await?;
            tx.commit().await?;
            self.notifier.wake();
            return Ok(Submitted::Pending(Box::new(self.request(&rid).await?)));
        }
        let rotated = self.rotate_in_tx(&mut tx, ctx, &plan, None, now).await?;
        tx.commit().await?;
        self.verifier.after_change(&self.db).await;
        Ok(Submitted::Done(rotated))
    }

    pub(crate) async fn rotate_in_tx(
        &self,
        tx: &mut Conn,
        ctx: &Ctx,
        p: &RotatePlan,
        via: Option<&ChangeRequestId>,
        now: Timestamp,
    ) -> CoreResult<Rotated> {
        let old = &p.old;
        // The successor lives as long as the original did, within today's policy maximum.
        let lifetime_ms = (old.expires_at.as_millis() - old.created_at.as_millis())
            .clamp(86_400_000, p.env.policy.max_lifetime_days * 86_400_000);
        let expires_at = Timestamp::from_millis(now.as_millis().saturating_add(lifetime_ms));
        let grace_until = now.plus_secs(p.grace).min(old.expires_at);
        let new_id = CredentialId::generate()?;
        let secret = insert_new(
            tx,
            &new_id,
            &old.application_id,
            &p.env,
            &old.name,
            &old.scopes,
            expires_at,
            Some(&old.id),
            via,
            now,
            ctx,
            self,
        )
        .await?;
        if !repo::start_grace(tx, &old.id, grace_until, &new_id).await? {
            return Err(CoreError::conflict("the credential was changed by another request; reload and retry"));
        }
        let credential = load(tx, &new_id, now).await?;
        let previous = load(tx, &old.id, now).await?;
        let ev = NewEvent::success("credential.rotate", "credential", new_id.as_str())
            .in_env(p.env.slug.as_str())
            .with_details(json!({
                "application_id": old.application_id,
                "application": old.application,
                "rotated_from": old.id,
                "previous_key_id": old.key_id,
                "key_id": credential.key_id,
                "prefix": credential.prefix,
                "grace_seconds": p.grace,
                "grace_until": grace_until,
                "expires_at": expires_at,
                "reason": p.reason,
                "via_request": via,
            }));
        append(tx, now, ctx, ev).await?;
        Ok(Rotated { credential, secret, previous })
    }

    pub async fn revoke_credential(&self, ctx: &Ctx, id: &CredentialId, req: RevokeRequest) -> CoreResult<Credential> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let cred = load(&mut tx, id, now).await?;
        if cred.status == Status::Revoked {
            return Err(CoreError::conflict("the credential is already revoked"));
        }
        if !repo::revoke(&mut tx, id, now, &ctx.actor.label(), req.reason.as_str()).await? {
            return Err(CoreError::conflict("the credential is already revoked"));
        }
        let action = if req.emergency { "credential.emergency_revoke" } else { "credential.revoke" };
        let ev = NewEvent::success(action, "credential", id.as_str()).in_env(cred.environment.as_str()).with_details(
            json!({
                "application_id": cred.application_id,
                "application": cred.application,
                "key_id": cred.key_id,
                "prefix": cred.prefix,
                "status_before": cred.status,
                "emergency": req.emergency,
                "reason": req.reason,
            }),
        );
        append(&mut tx, now, ctx, ev).await?;
        if req.emergency {
            let text = format!(
                ":rotating_light: EMERGENCY REVOKE in {}: credential \"{}\" ({}) of {} was revoked by {}. Reason: {}",
                cred.environment, cred.name, cred.key_id, cred.application, ctx.actor.name, req.reason
            );
            let data = json!({ "credential_id": cred.id, "key_id": cred.key_id, "application": cred.application,
                "environment": cred.environment, "revoked_by": ctx.actor.name, "reason": req.reason });
            enqueue(&mut tx, now, "credential.emergency_revoke", &text, data).await?;
        }
        let revoked = load(&mut tx, id, now).await?;
        tx.commit().await?;
        self.verifier.after_revocation(&self.db, &[parse_key_id(&cred.key_id)?]).await;
        if req.emergency {
            self.notifier.wake();
        }
        Ok(revoked)
    }

    /// Revokes every credential of an application in one environment. Returns how many.
    pub async fn revoke_all(
        &self,
        ctx: &Ctx,
        application_id: &ApplicationId,
        environment: &EnvironmentSlug,
        reason: &Reason,
        emergency: bool,
    ) -> CoreResult<usize> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let env = environments::by_slug(&mut tx, environment).await?.ok_or_else(environments::missing)?;
        let app = applications::by_id(&mut tx, application_id).await?.ok_or(CoreError::NotFound("application"))?;
        let revoked = repo::revoke_all(&mut tx, &app.id, &env.id, now, &ctx.actor.label(), reason.as_str()).await?;
        let ids: Vec<&str> = revoked.iter().map(|(id, _)| id.as_str()).collect();
        let ev = NewEvent::success("credential.revoke_all", "application", app.id.as_str())
            .in_env(env.slug.as_str())
            .with_details(json!({
                "application": app.name,
                "revoked": ids.len(),
                "credential_ids": ids,
                "emergency": emergency,
                "reason": reason,
            }));
        append(&mut tx, now, ctx, ev).await?;
        if emergency {
            let text = format!(
                ":rotating_light: EMERGENCY REVOKE ALL in {}: {} credential(s) of {} were revoked by {}. Reason: {}",
                env.slug,
                ids.len(),
                app.name,
                ctx.actor.name,
                reason
            );
            let data = json!({ "application_id": app.id, "application": app.name, "environment": env.slug,
                "revoked": ids.len(), "revoked_by": ctx.actor.name, "reason": reason });
            enqueue(&mut tx, now, "credential.emergency_revoke", &text, data).await?;
        }
        tx.commit().await?;
        let key_ids: Vec<KeyId> = revoked.iter().filter_map(|(_, k)| KeyId::parse(k)).collect();
        self.verifier.after_revocation(&self.db, &key_ids).await;
        if emergency {
            self.notifier.wake();
        }
        Ok(revoked.len())
    }

    /// Retires a credential in grace at once ("end grace now").
    pub async fn end_grace(&self, ctx: &Ctx, id: &CredentialId, reason: &Reason) -> CoreResult<Credential> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let cred = load(&mut tx, id, now).await?;
        if cred.status != Status::Grace {
            return Err(CoreError::conflict(format!(
                "only a credential in grace can have its grace ended; this one is {}",
                cred.status.as_str()
            )));
        }
        if !repo::end_grace(&mut tx, id, now).await? {
            return Err(CoreError::conflict("the credential was changed by another request; reload and retry"));
        }
        let ev = NewEvent::success("credential.end_grace", "credential", id.as_str())
            .in_env(cred.environment.as_str())
            .with_details(json!({
                "application_id": cred.application_id,
                "application": cred.application,
                "key_id": cred.key_id,
                "grace_until_before": cred.grace_until,
                "reason": reason,
            }));
        append(&mut tx, now, ctx, ev).await?;
        let ended = load(&mut tx, id, now).await?;
        tx.commit().await?;
        self.verifier.after_revocation(&self.db, &[]).await;
        Ok(ended)
    }

    /// Finds a credential from what an on-call engineer has in hand: a leaked token or its
    /// prefix (`lk_<env>_<key id>…`), a key id, or a credential id. Never logs the input.
    pub async fn find_credential(&self, q: &str) -> CoreResult<Credential> {
        let q = q.trim();
        if let Some(id) = CredentialId::parse(q) {
            return self.credential(&id).await;
        }
        let key_id = match q.strip_prefix("lk_").and_then(|rest| rest.split_once('_')) {
            Some((_, tail)) => tail.get(..token::KEY_ID_LEN).unwrap_or(tail),
            None => q,
        };
        let mut conn = self.db.pool().acquire().await?;
        let id = repo::id_by_key_id(&mut conn, key_id).await?.ok_or(CoreError::NotFound("credential"))?;
        load(&mut conn, &id, self.clock.now()).await
    }

    pub async fn credential(&self, id: &CredentialId) -> CoreResult<Credential> {
        let mut conn = self.db.pool().acquire().await?;
        load(&mut conn, id, self.clock.now()).await
    }

    pub async fn list_credentials(&self, filter: &ListFilter) -> CoreResult<Vec<Credential>> {
        let mut conn = self.db.pool().acquire().await?;
        let mut f = filter.clone();
        f.limit = f.limit.clamp(1, 500);
        repo::list(&mut conn, &f, self.clock.now()).await
    }
}
