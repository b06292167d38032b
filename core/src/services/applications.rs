//! Applications: create, read, list.

use serde_json::json;

use super::Services;
use super::audit::append;
use crate::domain::application::{Application, NewApplication};
use crate::domain::audit::{Ctx, NewEvent};
use crate::error::{CoreError, CoreResult};
use crate::ids::ApplicationId;
use crate::storage::applications as repo;

impl Services {
    pub async fn create_application(&self, ctx: &Ctx, new: NewApplication) -> CoreResult<Application> {
        let now = self.clock.now();
        let app = Application {
            id: ApplicationId::generate()?,
            name: new.name,
            owner: new.owner,
            description: new.description,
            created_at: now,
            created_by: ctx.actor.label(),
        };
        let mut tx = self.db.begin().await?;
        repo::insert(&mut tx, &app).await.map_err(|e| match e {
            CoreError::Conflict { .. } => {
                CoreError::conflict(format!("an application named {} already exists", app.name))
            }
            other => other,
        })?;
        let ev = NewEvent::success("application.create", "application", app.id.as_str())
            .with_details(json!({ "name": app.name, "owner": app.owner, "description": app.description }));
        append(&mut tx, now, ctx, ev).await?;
        tx.commit().await?;
        Ok(app)
    }

    pub async fn application(&self, id: &ApplicationId) -> CoreResult<Application> {
        let mut conn = self.db.pool().acquire().await?;
        repo::by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("application"))
    }

    pub async fn list_applications(&self, after_name: Option<&str>, limit: i64) -> CoreResult<Vec<Application>> {
        let mut conn = self.db.pool().acquire().await?;
        repo::list(&mut conn, after_name, limit.clamp(1, 500)).await
    }
}
