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

    pub async fn environment(&self, slug: &EnvironmentSlug) -> CoreResult<Environment> {
        let mut conn = self.db.pool().acquire().await?;
        repo::by_slug(&mut conn, slug).await?.ok_or_else(repo::missing)
    }
}
