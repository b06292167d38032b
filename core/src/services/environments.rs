//! Environments: the three defaults on first start, listing and lookup.

use serde_json::json;

use super::Services;
use super::audit::append;
use super::requests::{NewRequest, Submitted};
use crate::domain::audit::{Ctx, NewEvent};
use crate::domain::environment::{Environment, EnvironmentSlug, Policy, Tier};
use crate::domain::request::Change;
use crate::domain::text::Reason;
use crate::domain::time::Timestamp;
use crate::error::{CoreError, CoreResult};
use crate::ids::{ChangeRequestId, EnvironmentId};
use crate::storage::{Conn, environments as repo};

pub const DEFAULTS: [(&str, &str, Tier); 3] = [
    ("production", "Production", Tier::Production),
    ("staging", "Staging", Tier::NonProduction),
    ("test", "Test", Tier::NonProduction),
];

impl Services {
    /// Creates `production`, `staging` and `test` when no environment exists yet.
    pub(crate) async fn ensure_default_environments(&self) -> CoreResult<()> {
        let mut tx = self.db.begin().await?;
        if repo::count(&mut tx).await? > 0 {
            return Ok(());
        }
        let ctx = Ctx::system("bootstrap", "bootstrap".to_owned());
        let now = self.clock.now();
        for (slug, name, tier) in DEFAULTS {
            let env = Environment {
                id: EnvironmentId::generate()?,
                slug: EnvironmentSlug::parse(slug)?,
                name: name.to_owned(),
                tier,
                policy: Policy::default_for(tier),
                created_at: now,
            };
            repo::insert(&mut tx, &env).await?;
            let ev = NewEvent::success("environment.create", "environment", env.id.as_str())
                .in_env(slug)
                .with_details(json!({ "slug": slug, "tier": tier.as_str(), "policy": env.policy }));
            append(&mut tx, now, &ctx, ev).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_environments(&self) -> CoreResult<Vec<Environment>> {
        let mut conn = self.db.pool().acquire().await?;
        repo::list(&mut conn).await
    }

    /// Applies a stricter (or equal) policy at once. A looser one opens a change request that
    /// another administrator must approve (PRODUCT: weakening a control is itself a change request).
    pub async fn update_policy(
        &self,
        ctx: &Ctx,
        slug: &EnvironmentSlug,
        policy: Policy,
        reason: Option<&Reason>,
    ) -> CoreResult<Submitted<Environment>> {
        policy.validate()?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let env = repo::by_slug(&mut tx, slug).await?.ok_or_else(repo::missing)?;
        let weakened = env.policy.weakened_by(&policy);
        if !weakened.is_empty() {
            let reason = reason.ok_or_else(|| {
                CoreError::validation(format!(
                    "loosening {} needs a second administrator's approval: give a reason for the request",
                    weakened.join(", ")
                ))
            })?;
            let change = Change::Policy {
                before: env.policy.clone(),
                after: policy,
                weakened: weakened.iter().map(|w| (*w).to_owned()).collect(),
            };
            let new = NewRequest { env: Some(&env), change, reason, approvals: 1 };
            let id = self.open_request(&mut tx, ctx, new, now).await?;
            tx.commit().await?;
            self.notifier.wake();
            return Ok(Submitted::Pending(Box::new(self.request(&id).await?)));
        }
        if env.policy == policy {
            return Ok(Submitted::Done(env));
        }
        self.write_policy(&mut tx, ctx, &env, &policy, None, now).await?;
        let updated = repo::by_id(&mut tx, &env.id).await?.ok_or_else(repo::missing)?;
        tx.commit().await?;
        Ok(Submitted::Done(updated))
    }

    /// Writes a policy and its audit event inside the caller's transaction.
    pub(crate) async fn write_policy(
        &self,
        tx: &mut Conn,
        ctx: &Ctx,
        env: &Environment,
        policy: &Policy,
        via: Option<&ChangeRequestId>,
        now: Timestamp,
    ) -> CoreResult<()> {
        repo::update_policy(tx, &env.id, policy).await?;
        let ev = NewEvent::success("environment.policy_update", "environment", env.id.as_str())
            .in_env(env.slug.as_str())
            .with_details(json!({ "before": env.policy, "after": policy, "via_request": via }));
        append(tx, now, ctx, ev).await?;
        Ok(())
    }

    pub async fn environment_by_id(&self, id: &EnvironmentId) -> CoreResult<Environment> {
        let mut conn = self.db.pool().acquire().await?;
        repo::by_id(&mut conn, id).await?.ok_or_else(repo::missing)
    }

    pub async fn environment(&self, slug: &EnvironmentSlug) -> CoreResult<Environment> {
        let mut conn = self.db.pool().acquire().await?;
        repo::by_slug(&mut conn, slug).await?.ok_or_else(repo::missing)
    }
}
