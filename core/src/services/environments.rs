//! Environments: the three defaults on first start, listing and lookup.

use serde_json::json;

use super::Services;
use super::audit::append;
use crate::domain::audit::{Ctx, NewEvent};
use crate::domain::environment::{Environment, EnvironmentSlug, Policy, Tier};
use crate::error::CoreResult;
use crate::ids::EnvironmentId;
use crate::storage::environments as repo;

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

    /// Applies a stricter (or equal) policy at once. A looser one needs a second admin: refused
    /// with `approval_required` until change requests carry it.
    pub async fn update_policy(&self, ctx: &Ctx, slug: &EnvironmentSlug, policy: Policy) -> CoreResult<Environment> {
        policy.validate()?;
        let mut tx = self.db.begin().await?;
        let env = repo::by_slug(&mut tx, slug).await?.ok_or_else(repo::missing)?;
        let weakened = env.policy.weakened_by(&policy);
        if !weakened.is_empty() {
            return Err(crate::error::CoreError::Conflict {
                code: "approval_required",
                message: format!(
                    "loosening {} needs a second administrator's approval; submit it as a change request",
                    weakened.join(", ")
                ),
            });
        }
        if env.policy == policy {
            return Ok(env);
        }
        repo::update_policy(&mut tx, &env.id, &policy).await?;
        let ev = NewEvent::success("environment.policy_update", "environment", env.id.as_str())
            .in_env(slug.as_str())
            .with_details(json!({ "before": env.policy, "after": policy }));
        append(&mut tx, self.clock.now(), ctx, ev).await?;
        let updated = repo::by_id(&mut tx, &env.id).await?.ok_or_else(repo::missing)?;
        tx.commit().await?;
        Ok(updated)
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
