//! Users: local accounts (bootstrap and break-glass) and their role grants.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use serde_json::json;

use super::Services;
use super::audit::append;
use super::requests::{NewRequest, Submitted};
use crate::domain::audit::{Ctx, NewEvent};
use crate::domain::environment::{Environment, EnvironmentSlug};
use crate::domain::request::Change;
use crate::domain::text::Reason;
use crate::domain::time::Timestamp;
use crate::domain::user::{Password, Role, User, Username};
use crate::error::{CoreError, CoreResult};
use crate::ids::{ChangeRequestId, GrantId, UserId};
use crate::storage::{Conn, environments, users as repo};

/// Argon2id with the library's defaults (m = 19 MiB, t = 2, p = 1: the OWASP minimum).
pub fn hash_password(password: &Password) -> CoreResult<String> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CoreError::internal(format!("password hashing failed: {e}")))
}

#[derive(Debug)]
pub struct NewLocalUser {
    pub username: Username,
    pub password: Password,
    pub role: Role,
    /// `None` grants the role in every environment.
    pub environment: Option<EnvironmentSlug>,
}

impl Services {
    /// Creates a local account with one role grant (the CLI's `user create`).
    pub async fn create_local_user(&self, ctx: &Ctx, new: NewLocalUser) -> CoreResult<User> {
        // Hash before the transaction: it takes tens of milliseconds and holds no lock.
        let hash = hash_password(&new.password)?;
        let now = self.clock.now();
        let id = UserId::generate()?;
        let mut tx = self.db.begin().await?;
        let env = match &new.environment {
            Some(slug) => Some(environments::by_slug(&mut tx, slug).await?.ok_or_else(environments::missing)?),
            None => None,
        };
        repo::insert(
            &mut tx,
            &repo::NewUserRow {
                id: &id,
                username: Some(new.username.as_str()),
                display_name: new.username.as_str(),
                email: None,
                issuer: None,
                subject: None,
                password_hash: Some(&hash),
                created_at: now,
            },
        )
        .await
        .map_err(|e| match e {
            CoreError::Conflict { .. } => CoreError::conflict(format!("user {} already exists", new.username.as_str())),
            other => other,
        })?;
        let grant_id = GrantId::generate()?;
        repo::insert_grant(&mut tx, &grant_id, &id, new.role, env.as_ref().map(|e| &e.id), now, &ctx.actor.label())
            .await?;
        let mut ev = NewEvent::success("user.create", "user", id.as_str()).with_details(json!({
            "username": new.username,
            "kind": "local",
            "role": new.role,
            "environment": new.environment,
        }));
        if let Some(e) = &new.environment {
            ev = ev.in_env(e.as_str());
        }
        append(&mut tx, now, ctx, ev).await?;
        let user = repo::by_id(&mut tx, &id).await?.ok_or_else(|| CoreError::internal("user vanished"))?;
        tx.commit().await?;
        Ok(user)
    }
}

impl Services {
    pub async fn user_by_username(&self, username: &str) -> CoreResult<User> {
        let mut conn = self.db.pool().acquire().await?;
        repo::by_username(&mut conn, username).await?.ok_or(CoreError::NotFound("user"))
    }

    pub async fn user_count(&self) -> CoreResult<i64> {
        let mut conn = self.db.pool().acquire().await?;
        repo::count(&mut conn).await
    }
}

impl Services {
    pub async fn list_users(&self) -> CoreResult<Vec<User>> {
        let mut conn = self.db.pool().acquire().await?;
        repo::list(&mut conn).await
    }

    pub async fn user(&self, id: &UserId) -> CoreResult<User> {
        let mut conn = self.db.pool().acquire().await?;
        repo::by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("user"))
    }

    /// Grants a role. Granting admin lets someone act alone, so it opens a change request that
    /// another administrator must approve; other roles are granted at once.
    pub async fn grant_role(
        &self,
        ctx: &Ctx,
        user_id: &UserId,
        role: Role,
        environment: Option<&EnvironmentSlug>,
        reason: Option<&Reason>,
    ) -> CoreResult<Submitted<User>> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let user = repo::by_id(&mut tx, user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let env = match environment {
            Some(slug) => Some(environments::by_slug(&mut tx, slug).await?.ok_or_else(environments::missing)?),
            None => None,
        };
        let env_id = env.as_ref().map(|e| &e.id);
        if user.grants.iter().any(|g| g.role == role && g.environment_id.as_ref() == env_id) {
            return Err(CoreError::conflict("the user already holds this role there"));
        }
        if role == Role::Admin {
            let reason = reason.ok_or_else(|| {
                CoreError::validation("granting the admin role needs a second administrator's approval: give a reason")
            })?;
            let change = Change::GrantAdmin {
                user_id: user.id.to_string(),
                user: user.display_name.clone(),
                environment: environment.map(|e| e.to_string()),
            };
            let new = NewRequest { env: env.as_ref(), change, reason, approvals: 1 };
            let id = self.open_request(&mut tx, ctx, new, now).await?;
            tx.commit().await?;
            self.notifier.wake();
            return Ok(Submitted::Pending(Box::new(self.request(&id).await?)));
        }
        self.grant_in_tx(&mut tx, ctx, user_id, role, env.as_ref(), None, now).await?;
        let user = repo::by_id(&mut tx, user_id).await?.ok_or(CoreError::NotFound("user"))?;
        tx.commit().await?;
        Ok(Submitted::Done(user))
    }

    /// Inserts a grant and its audit event inside the caller's transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn grant_in_tx(
        &self,
        tx: &mut Conn,
        ctx: &Ctx,
        user_id: &UserId,
        role: Role,
        env: Option<&Environment>,
        via: Option<&ChangeRequestId>,
        now: Timestamp,
    ) -> CoreResult<()> {
        let user = repo::by_id(tx, user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let env_id = env.map(|e| &e.id);
        if user.grants.iter().any(|g| g.role == role && g.environment_id.as_ref() == env_id) {
            return Err(CoreError::conflict("the user already holds this role there"));
        }
        let grant_id = GrantId::generate()?;
        repo::insert_grant(tx, &grant_id, user_id, role, env_id, now, &ctx.actor.label()).await?;
        let slug = env.map(|e| e.slug.as_str());
        let mut ev = NewEvent::success("role.grant", "user", user_id.as_str())
            .with_details(json!({ "grant_id": grant_id, "role": role, "environment": slug, "via_request": via }));
        if let Some(e) = slug {
            ev = ev.in_env(e);
        }
        append(tx, now, ctx, ev).await?;
        Ok(())
    }

    /// Removes a grant. The last enabled global admin cannot lose that role.
    pub async fn revoke_grant(&self, ctx: &Ctx, user_id: &UserId, grant_id: &GrantId) -> CoreResult<User> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let user = repo::by_id(&mut tx, user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let grant = user.grants.iter().find(|g| &g.id == grant_id).ok_or(CoreError::NotFound("grant"))?.clone();
        repo::delete_grant(&mut tx, user_id, grant_id).await?;
        if grant.role == Role::Admin && grant.environment_id.is_none() && repo::count_global_admins(&mut tx).await? == 0
        {
            return Err(CoreError::conflict("the last administrator cannot be removed"));
        }
        let mut ev = NewEvent::success("role.revoke", "user", user_id.as_str())
            .with_details(json!({ "grant_id": grant_id, "role": grant.role, "environment": grant.environment }));
        if let Some(e) = &grant.environment {
            ev = ev.in_env(e.as_str());
        }
        append(&mut tx, now, ctx, ev).await?;
        let user = repo::by_id(&mut tx, user_id).await?.ok_or(CoreError::NotFound("user"))?;
        tx.commit().await?;
        Ok(user)
    }
}
