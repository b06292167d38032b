//! SSO flows in progress. Taking one deletes it, so a state can be used once.

use sqlx::Row;

use super::Conn;
use crate::error::CoreResult;

pub async fn insert(conn: &mut Conn, id_hash: &str, sealed: &[u8], now: i64) -> CoreResult<()> {
    sqlx::query("INSERT INTO oidc_flows (id_hash, data, created_at) VALUES ($1, $2, $3)")
        .bind(id_hash)
        .bind(sealed.to_vec())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes and returns a flow: `(sealed data, created_at)`.
pub async fn take(conn: &mut Conn, id_hash: &str) -> CoreResult<Option<(Vec<u8>, i64)>> {
    let row = sqlx::query("DELETE FROM oidc_flows WHERE id_hash = $1 RETURNING data, created_at")
        .bind(id_hash)
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((r.try_get("data")?, r.try_get("created_at")?))).transpose()
}

pub async fn delete_older_than(conn: &mut Conn, cutoff: i64) -> CoreResult<u64> {
    let r = sqlx::query("DELETE FROM oidc_flows WHERE created_at < $1").bind(cutoff).execute(conn).await?;
    Ok(r.rows_affected())
}
