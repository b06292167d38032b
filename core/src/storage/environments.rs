//! Environments repository.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Conn, b2i};
use crate::domain::environment::{BlindDelivery, Environment, EnvironmentSlug, Policy, Tier};
use crate::domain::time::Timestamp;
use crate::error::{CoreError, CoreResult};
use crate::ids::EnvironmentId;

const COLUMNS: &str = "id, slug, name, tier, issue_approvals, rotate_approvals, max_lifetime_days, \
     default_grace_seconds, max_grace_seconds, step_up_required, blind_delivery, created_at";

fn from_row(r: &AnyRow) -> CoreResult<Environment> {
    Ok(Environment {
        id: EnvironmentId::from_db(r.try_get("id")?),
        slug: EnvironmentSlug::parse(r.try_get::<&str, _>("slug")?)?,
        name: r.try_get("name")?,
        tier: Tier::parse(r.try_get::<&str, _>("tier")?)?,
        policy: Policy {
            issue_approvals: r.try_get("issue_approvals")?,
            rotate_approvals: r.try_get("rotate_approvals")?,
            max_lifetime_days: r.try_get("max_lifetime_days")?,
            default_grace_seconds: r.try_get("default_grace_seconds")?,
            max_grace_seconds: r.try_get("max_grace_seconds")?,
            step_up_required: r.try_get::<i64, _>("step_up_required")? != 0,
            blind_delivery: BlindDelivery::parse(r.try_get::<&str, _>("blind_delivery")?)?,
        },
        created_at: Timestamp::from_millis(r.try_get("created_at")?),
    })
}

pub async fn list(conn: &mut Conn) -> CoreResult<Vec<Environment>> {
    let sql = format!("SELECT {COLUMNS} FROM environments ORDER BY created_at, slug");
    let rows = sqlx::query(&sql).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

pub async fn by_slug(conn: &mut Conn, slug: &EnvironmentSlug) -> CoreResult<Option<Environment>> {
    let sql = format!("SELECT {COLUMNS} FROM environments WHERE slug = $1");
    let row = sqlx::query(&sql).bind(slug.as_str()).fetch_optional(conn).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(conn: &mut Conn, id: &EnvironmentId) -> CoreResult<Option<Environment>> {
    let sql = format!("SELECT {COLUMNS} FROM environments WHERE id = $1");
    let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(conn).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn insert(conn: &mut Conn, e: &Environment) -> CoreResult<()> {
    let p = &e.policy;
    sqlx::query(
        "INSERT INTO environments (id, slug, name, tier, issue_approvals, rotate_approvals, \
         max_lifetime_days, default_grace_seconds, max_grace_seconds, step_up_required, \
         blind_delivery, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(e.id.as_str())
    .bind(e.slug.as_str())
    .bind(&e.name)
    .bind(e.tier.as_str())
    .bind(p.issue_approvals)
    .bind(p.rotate_approvals)
    .bind(p.max_lifetime_days)
    .bind(p.default_grace_seconds)
    .bind(p.max_grace_seconds)
    .bind(b2i(p.step_up_required))
    .bind(p.blind_delivery.as_str())
    .bind(e.created_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_policy(conn: &mut Conn, id: &EnvironmentId, p: &Policy) -> CoreResult<()> {
    sqlx::query(
        "UPDATE environments SET issue_approvals = $2, rotate_approvals = $3, max_lifetime_days = $4, \
         default_grace_seconds = $5, max_grace_seconds = $6, step_up_required = $7, blind_delivery = $8 WHERE id = $1",
    )
    .bind(id.as_str())
    .bind(p.issue_approvals)
    .bind(p.rotate_approvals)
    .bind(p.max_lifetime_days)
    .bind(p.default_grace_seconds)
    .bind(p.max_grace_seconds)
    .bind(b2i(p.step_up_required))
    .bind(p.blind_delivery.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn count(conn: &mut Conn) -> CoreResult<i64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM environments").fetch_one(conn).await?;
    Ok(n)
}

pub(crate) fn missing() -> CoreError {
    CoreError::NotFound("environment")
}
