//! Server-side sessions. Stored under the SHA-256 of the id, so the table holds no cookie value.

use sqlx::Row;

use super::Conn;
use crate::error::CoreResult;

pub async fn insert(
    conn: &mut Conn,
    id_hash: &str,
    user_id: Option<&str>,
    data: &str,
    expires_at: i64,
    now: i64,
) -> CoreResult<bool> {
    let r = sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, data, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id_hash) DO NOTHING",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(data)
    .bind(expires_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Updates an existing session only: a session deleted meanwhile (logout, user disabled) stays
/// deleted even if a request that loaded it earlier finishes later.
pub async fn update(
    conn: &mut Conn,
    id_hash: &str,
    user_id: Option<&str>,
    data: &str,
    expires_at: i64,
    now: i64,
) -> CoreResult<()> {
    sqlx::query("UPDATE sessions SET user_id = $2, data = $3, expires_at = $4, updated_at = $5 WHERE id_hash = $1")
        .bind(id_hash)
        .bind(user_id)
        .bind(data)
        .bind(expires_at)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn load(conn: &mut Conn, id_hash: &str, now: i64) -> CoreResult<Option<(String, i64)>> {
    let row = sqlx::query("SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2")
        .bind(id_hash)
        .bind(now)
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((r.try_get("data")?, r.try_get("expires_at")?))).transpose()
}

pub async fn delete(conn: &mut Conn, id_hash: &str) -> CoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(conn).await?;
    Ok(())
}

/// Ends every session of a user. Returns how many.
pub async fn delete_for_user(conn: &mut Conn, user_id: &str) -> CoreResult<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(conn).await?;
    Ok(r.rows_affected())
}

pub async fn delete_expired(conn: &mut Conn, now: i64) -> CoreResult<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(conn).await?;
    Ok(r.rows_affected())
}
