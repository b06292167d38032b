//! Applications repository.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Conn;
use crate::domain::application::Application;
use crate::domain::text::{ApplicationName, Description, Owner};
use crate::domain::time::Timestamp;
use crate::error::CoreResult;
use crate::ids::ApplicationId;

const COLUMNS: &str = "id, name, owner, description, created_at, created_by";

fn from_row(r: &AnyRow) -> CoreResult<Application> {
    Ok(Application {
        id: ApplicationId::from_db(r.try_get("id")?),
        name: ApplicationName::from_db(r.try_get("name")?),
        owner: Owner::from_db(r.try_get("owner")?),
        description: Description::from_db(r.try_get("description")?),
        created_at: Timestamp::from_millis(r.try_get("created_at")?),
        created_by: r.try_get("created_by")?,
    })
}

pub async fn insert(conn: &mut Conn, a: &Application) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO applications (id, name, owner, description, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.id.as_str())
    .bind(a.name.as_str())
    .bind(a.owner.as_str())
    .bind(a.description.as_str())
    .bind(a.created_at.as_millis())
    .bind(&a.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_id(conn: &mut Conn, id: &ApplicationId) -> CoreResult<Option<Application>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// Applications ordered by name, `limit` at a time after `after_name` (keyset paging).
pub async fn list(conn: &mut Conn, after_name: Option<&str>, limit: i64) -> CoreResult<Vec<Application>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE name > $1 ORDER BY name LIMIT $2");
    let rows = sqlx::query(&sql).bind(after_name.unwrap_or("")).bind(limit).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}
