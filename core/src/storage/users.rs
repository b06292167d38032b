//! Users and role grants repository. Password hashes are read only by the login path.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Conn, b2i};
use crate::domain::environment::EnvironmentSlug;
use crate::domain::time::Timestamp;
use crate::domain::user::{Grant, Role, User};
use crate::error::CoreResult;
use crate::ids::{EnvironmentId, GrantId, UserId};

const COLUMNS: &str = "id, username, display_name, email, issuer, subject, disabled, created_at";

fn from_row(r: &AnyRow) -> CoreResult<User> {
    Ok(User {
        id: UserId::from_db(r.try_get("id")?),
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        issuer: r.try_get("issuer")?,
        subject: r.try_get("subject")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: Timestamp::from_millis(r.try_get("created_at")?),
        grants: Vec::new(),
    })
}

#[derive(Debug)]
pub struct NewUserRow<'a> {
    pub id: &'a UserId,
    pub username: Option<&'a str>,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub issuer: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub created_at: Timestamp,
}

pub async fn insert(conn: &mut Conn, u: &NewUserRow<'_>) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, username, display_name, email, issuer, subject, password_hash, disabled, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(u.id.as_str())
    .bind(u.username)
    .bind(u.display_name)
    .bind(u.email)
    .bind(u.issuer)
    .bind(u.subject)
    .bind(u.password_hash)
    .bind(b2i(false))
    .bind(u.created_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_id(conn: &mut Conn, id: &UserId) -> CoreResult<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(&mut *conn).await?;
    let Some(row) = row else { return Ok(None) };
    let mut user = from_row(&row)?;
    user.grants = grants_of(conn, &user.id).await?;
    Ok(Some(user))
}

pub async fn by_username(conn: &mut Conn, username: &str) -> CoreResult<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1");
    let row = sqlx::query(&sql).bind(username).fetch_optional(&mut *conn).await?;
    let Some(row) = row else { return Ok(None) };
    let mut user = from_row(&row)?;
    user.grants = grants_of(conn, &user.id).await?;
    Ok(Some(user))
}

pub async fn insert_grant(
    conn: &mut Conn,
    id: &GrantId,
    user_id: &UserId,
    role: Role,
    environment_id: Option<&EnvironmentId>,
    at: Timestamp,
    by: &str,
) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO role_grants (id, user_id, role, environment_id, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(user_id.as_str())
    .bind(role.as_str())
    .bind(environment_id.map(EnvironmentId::as_str))
    .bind(at.as_millis())
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn grants_of(conn: &mut Conn, user_id: &UserId) -> CoreResult<Vec<Grant>> {
    let rows = sqlx::query(
        "SELECT g.id, g.role, g.environment_id, e.slug, g.created_at FROM role_grants g \
         LEFT JOIN environments e ON e.id = g.environment_id WHERE g.user_id = $1 ORDER BY g.created_at, g.id",
    )
    .bind(user_id.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Grant {
                id: GrantId::from_db(r.try_get("id")?),
                role: Role::parse(r.try_get::<&str, _>("role")?)?,
                environment_id: r.try_get::<Option<String>, _>("environment_id")?.map(EnvironmentId::from_db),
                environment: r.try_get::<Option<&str>, _>("slug")?.map(EnvironmentSlug::parse).transpose()?,
                created_at: Timestamp::from_millis(r.try_get("created_at")?),
            })
        })
        .collect()
}

pub async fn count(conn: &mut Conn) -> CoreResult<i64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(conn).await?;
    Ok(n)
}

/// The login path's view of a local account: id, Argon2id hash, disabled flag.
pub async fn credentials_by_username(conn: &mut Conn, username: &str) -> CoreResult<Option<(UserId, String, bool)>> {
    let row =
        sqlx::query("SELECT id, password_hash, disabled FROM users WHERE username = $1 AND password_hash IS NOT NULL")
            .bind(username)
            .fetch_optional(conn)
            .await?;
    row.map(|r| {
        Ok((UserId::from_db(r.try_get("id")?), r.try_get("password_hash")?, r.try_get::<i64, _>("disabled")? != 0))
    })
    .transpose()
}

pub async fn set_disabled(conn: &mut Conn, user_id: &UserId, disabled: bool) -> CoreResult<bool> {
    let r = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
        .bind(user_id.as_str())
        .bind(b2i(disabled))
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn list(conn: &mut Conn) -> CoreResult<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
    let mut users: Vec<User> = rows.iter().map(from_row).collect::<CoreResult<_>>()?;
    for u in &mut users {
        u.grants = grants_of(conn, &u.id).await?;
    }
    Ok(users)
}

pub async fn delete_grant(conn: &mut Conn, user_id: &UserId, grant_id: &GrantId) -> CoreResult<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("DELETE FROM role_grants WHERE id = $1 AND user_id = $2 RETURNING role")
            .bind(grant_id.as_str())
            .bind(user_id.as_str())
            .fetch_optional(conn)
            .await?;
    role.map(|r| Role::parse(&r)).transpose()
}

/// Enabled users holding a global admin grant.
pub async fn count_global_admins(conn: &mut Conn) -> CoreResult<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT u.id) FROM users u JOIN role_grants g ON g.user_id = u.id \
         WHERE g.role = 'admin' AND g.environment_id IS NULL AND u.disabled = 0",
    )
    .fetch_one(conn)
    .await?;
    Ok(n)
}

pub async fn by_subject(conn: &mut Conn, issuer: &str, subject: &str) -> CoreResult<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE issuer = $1 AND subject = $2");
    let row = sqlx::query(&sql).bind(issuer).bind(subject).fetch_optional(&mut *conn).await?;
    let Some(row) = row else { return Ok(None) };
    let mut user = from_row(&row)?;
    user.grants = grants_of(conn, &user.id).await?;
    Ok(Some(user))
}

pub async fn update_profile(conn: &mut Conn, id: &UserId, display_name: &str, email: Option<&str>) -> CoreResult<()> {
    sqlx::query("UPDATE users SET display_name = $2, email = $3 WHERE id = $1")
        .bind(id.as_str())
        .bind(display_name)
        .bind(email)
        .execute(conn)
        .await?;
    Ok(())
}

/// Grants a given source created (e.g. the SSO group mapping), as (grant id, role, environment).
pub async fn grants_created_by(
    conn: &mut Conn,
    user_id: &UserId,
    created_by: &str,
) -> CoreResult<Vec<(GrantId, Role, Option<EnvironmentId>)>> {
    let rows = sqlx::query("SELECT id, role, environment_id FROM role_grants WHERE user_id = $1 AND created_by = $2")
        .bind(user_id.as_str())
        .bind(created_by)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                GrantId::from_db(r.try_get("id")?),
                Role::parse(r.try_get::<&str, _>("role")?)?,
                r.try_get::<Option<String>, _>("environment_id")?.map(EnvironmentId::from_db),
            ))
        })
        .collect()
}
