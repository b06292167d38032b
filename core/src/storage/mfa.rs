//! MFA state: encrypted TOTP seeds, the single-use step marker, failure throttling, recovery codes.

use sqlx::Row;

use super::{Conn, b2i};
use crate::error::CoreResult;

#[derive(Debug, Clone)]
pub struct MfaState {
    pub seed: Option<Vec<u8>>,
    pub pending_seed: Option<Vec<u8>>,
    pub enabled: bool,
    pub last_step: i64,
    pub failures: i64,
    pub locked_until: i64,
}

pub async fn state(conn: &mut Conn, user_id: &str) -> CoreResult<Option<MfaState>> {
    let row = sqlx::query(
        "SELECT totp_seed, totp_pending_seed, totp_enabled, totp_last_step, mfa_failures, mfa_locked_until \
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(MfaState {
            seed: r.try_get("totp_seed")?,
            pending_seed: r.try_get("totp_pending_seed")?,
            enabled: r.try_get::<i64, _>("totp_enabled")? != 0,
            last_step: r.try_get("totp_last_step")?,
            failures: r.try_get("mfa_failures")?,
            locked_until: r.try_get("mfa_locked_until")?,
        })
    })
    .transpose()
}

/// Stores a pending seed unless one is already there, and returns the one that is stored: two
/// concurrent enrollment starts agree on a single seed.
pub async fn pending_seed_or_insert(conn: &mut Conn, user_id: &str, sealed: &[u8]) -> CoreResult<Option<Vec<u8>>> {
    sqlx::query("UPDATE users SET totp_pending_seed = $2 WHERE id = $1 AND totp_pending_seed IS NULL")
        .bind(user_id)
        .bind(sealed.to_vec())
        .execute(&mut *conn)
        .await?;
    let stored: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT totp_pending_seed FROM users WHERE id = $1").bind(user_id).fetch_one(conn).await?;
    Ok(stored)
}

/// Makes the pending seed the active one and records the step of the code that confirmed it.
pub async fn activate_pending(conn: &mut Conn, user_id: &str, step: i64) -> CoreResult<bool> {
    let r = sqlx::query(
        "UPDATE users SET totp_seed = totp_pending_seed, totp_pending_seed = NULL, totp_enabled = $2, \
         totp_last_step = $3, mfa_failures = 0, mfa_locked_until = 0 \
         WHERE id = $1 AND totp_pending_seed IS NOT NULL AND totp_last_step < $3",
    )
    .bind(user_id)
    .bind(b2i(true))
    .bind(step)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Claims a time step for this user. False when this or a later step was already used: the
/// database decides, so two replicas cannot both accept one code.
pub async fn claim_step(conn: &mut Conn, user_id: &str, step: i64) -> CoreResult<bool> {
    let r = sqlx::query(
        "UPDATE users SET totp_last_step = $2, mfa_failures = 0, mfa_locked_until = 0 \
         WHERE id = $1 AND totp_last_step < $2",
    )
    .bind(user_id)
    .bind(step)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts a failed code; at `max` failures the account's MFA is locked until `lock_until`.
pub async fn record_failure(conn: &mut Conn, user_id: &str, max: i64, lock_until: i64) -> CoreResult<i64> {
    let failures: i64 = sqlx::query_scalar(
        "UPDATE users SET mfa_failures = mfa_failures + 1, \
         mfa_locked_until = CASE WHEN mfa_failures + 1 >= $2 THEN $3 ELSE mfa_locked_until END \
         WHERE id = $1 RETURNING mfa_failures",
    )
    .bind(user_id)
    .bind(max)
    .bind(lock_until)
    .fetch_one(conn)
    .await?;
    Ok(failures)
}

pub async fn clear_failures(conn: &mut Conn, user_id: &str) -> CoreResult<()> {
    sqlx::query("UPDATE users SET mfa_failures = 0, mfa_locked_until = 0 WHERE id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// After a lockout ends, failures start again from zero.
pub async fn reset_failures_if_unlocked(conn: &mut Conn, user_id: &str, now: i64) -> CoreResult<()> {
    sqlx::query(
        "UPDATE users SET mfa_failures = 0, mfa_locked_until = 0 WHERE id = $1 AND mfa_locked_until > 0 \
         AND mfa_locked_until <= $2",
    )
    .bind(user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn replace_recovery_codes(conn: &mut Conn, user_id: &str, hashes: &[[u8; 32]], now: i64) -> CoreResult<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for h in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(h.to_vec())
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Marks an unused recovery code used. False when there is no such unused code.
pub async fn use_recovery_code(conn: &mut Conn, user_id: &str, hash: &[u8; 32], now: i64) -> CoreResult<bool> {
    let r =
        sqlx::query("UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
            .bind(user_id)
            .bind(hash.to_vec())
            .bind(now)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn unused_recovery_codes(conn: &mut Conn, user_id: &str) -> CoreResult<i64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(conn)
        .await?;
    Ok(n)
}

/// Login throttling per account name. Returns `(failures, locked_until)` after counting one more
/// failure in the window.
pub async fn login_failure(
    conn: &mut Conn,
    key: &str,
    now: i64,
    window_ms: i64,
    max: i64,
    lock_ms: i64,
) -> CoreResult<(i64, i64)> {
    let row = sqlx::query("SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    let (mut failures, mut start) = match &row {
        Some(r) => (r.try_get::<i64, _>("failures")?, r.try_get::<i64, _>("window_start")?),
        None => (0, now),
    };
    if now - start > window_ms {
        failures = 0;
        start = now;
    }
    failures += 1;
    let locked_until = if failures >= max { now + lock_ms } else { 0 };
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET failures = $2, window_start = $3, locked_until = $4",
    )
    .bind(key)
    .bind(failures)
    .bind(start)
    .bind(locked_until)
    .execute(conn)
    .await?;
    Ok((failures, locked_until))
}

pub async fn login_locked_until(conn: &mut Conn, key: &str) -> CoreResult<i64> {
    let v: Option<i64> = sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await?;
    Ok(v.unwrap_or(0))
}

pub async fn login_success(conn: &mut Conn, key: &str) -> CoreResult<()> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(conn).await?;
    Ok(())
}
