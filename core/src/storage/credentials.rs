//! Credentials repository. The stored secret hash is read only by the verifier cache loader
//! (`cache_rows*`); metadata reads never select it.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Conn;
use crate::domain::credential::{Credential, Status, StoredStatus, effective_status};
use crate::domain::environment::EnvironmentSlug;
use crate::domain::text::{CredentialName, Scopes};
use crate::domain::time::Timestamp;
use crate::domain::token::{KeyId, TokenHash};
use crate::error::{CoreError, CoreResult};
use crate::ids::{ApplicationId, CredentialId, EnvironmentId};

const META: &str = "c.id, c.key_id, c.application_id, a.name AS application_name, c.environment_id, \
     e.slug AS environment_slug, c.name, c.scopes, c.status, c.prefix, c.last4, c.created_at, \
     c.created_by, c.created_via_request, c.expires_at, c.grace_until, c.revoked_at, c.revoked_by, \
     c.revoked_reason, c.rotated_from, c.rotated_to, c.last_used_at, c.last_used_ip";
const FROM: &str = "FROM credentials c JOIN applications a ON a.id = c.application_id \
     JOIN environments e ON e.id = c.environment_id";

fn ts(r: &AnyRow, col: &str) -> CoreResult<Option<Timestamp>> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(Timestamp::from_millis))
}

fn meta_from_row(r: &AnyRow, now: Timestamp) -> CoreResult<Credential> {
    let stored = StoredStatus::from_db(r.try_get::<&str, _>("status")?)?;
    let expires_at = Timestamp::from_millis(r.try_get("expires_at")?);
    let grace_until = ts(r, "grace_until")?;
    Ok(Credential {
        id: CredentialId::from_db(r.try_get("id")?),
        key_id: r.try_get("key_id")?,
        application_id: ApplicationId::from_db(r.try_get("application_id")?),
        application: r.try_get("application_name")?,
        environment_id: EnvironmentId::from_db(r.try_get("environment_id")?),
        environment: EnvironmentSlug::parse(r.try_get::<&str, _>("environment_slug")?)?,
        name: CredentialName::from_db(r.try_get("name")?),
        scopes: Scopes::from_db(r.try_get::<&str, _>("scopes")?),
        status: effective_status(stored, expires_at, grace_until, now),
        prefix: r.try_get("prefix")?,
        last4: r.try_get("last4")?,
        created_at: Timestamp::from_millis(r.try_get("created_at")?),
        created_by: r.try_get("created_by")?,
        created_via_request: r.try_get("created_via_request")?,
        expires_at,
        grace_until,
        revoked_at: ts(r, "revoked_at")?,
        revoked_by: r.try_get("revoked_by")?,
        revoked_reason: r.try_get("revoked_reason")?,
        rotated_from: r.try_get::<Option<String>, _>("rotated_from")?.map(CredentialId::from_db),
        rotated_to: r.try_get::<Option<String>, _>("rotated_to")?.map(CredentialId::from_db),
        last_used_at: ts(r, "last_used_at")?,
        last_used_ip: r.try_get("last_used_ip")?,
    })
}

/// A credential row as first written.
#[derive(Debug)]
pub struct NewCredentialRow<'a> {
    pub id: &'a CredentialId,
    pub key_id: &'a KeyId,
    pub application_id: &'a ApplicationId,
    pub environment_id: &'a EnvironmentId,
    pub name: &'a CredentialName,
    pub scopes: &'a Scopes,
    pub secret_hash: &'a TokenHash,
    pub prefix: &'a str,
    pub last4: &'a str,
    pub created_at: Timestamp,
    pub created_by: &'a str,
    pub created_via_request: Option<&'a str>,
    pub expires_at: Timestamp,
    pub rotated_from: Option<&'a CredentialId>,
}

pub async fn insert(conn: &mut Conn, c: &NewCredentialRow<'_>) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO credentials (id, key_id, application_id, environment_id, name, scopes, status, \
         secret_hash, prefix, last4, created_at, created_by, created_via_request, expires_at, \
         rotated_from) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(c.id.as_str())
    .bind(c.key_id.as_str())
    .bind(c.application_id.as_str())
    .bind(c.environment_id.as_str())
    .bind(c.name.as_str())
    .bind(c.scopes.to_db())
    .bind(c.secret_hash.as_bytes().to_vec())
    .bind(c.prefix)
    .bind(c.last4)
    .bind(c.created_at.as_millis())
    .bind(c.created_by)
    .bind(c.created_via_request)
    .bind(c.expires_at.as_millis())
    .bind(c.rotated_from.map(CredentialId::as_str))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_id(conn: &mut Conn, id: &CredentialId, now: Timestamp) -> CoreResult<Option<Credential>> {
    let sql = format!("SELECT {META} {FROM} WHERE c.id = $1");
    let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(conn).await?;
    row.as_ref().map(|r| meta_from_row(r, now)).transpose()
}

/// The credential holding a key id (the public part of a token), for "find a leaked token".
pub async fn id_by_key_id(conn: &mut Conn, key_id: &str) -> CoreResult<Option<CredentialId>> {
    let row = sqlx::query("SELECT id FROM credentials WHERE key_id = $1").bind(key_id).fetch_optional(conn).await?;
    row.map(|r| Ok(CredentialId::from_db(r.try_get("id")?))).transpose()
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub application_id: Option<ApplicationId>,
    pub environment_id: Option<EnvironmentId>,
    /// Only these environments (a scoped reader); `None` means no restriction.
    pub environments_in: Option<Vec<EnvironmentId>>,
    pub status: Option<Status>,
    /// Keyset cursor: (created_at, id) of the last row of the previous page.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// Newest first. The status filter is evaluated against `now`, so expiry needs no write. Only
/// the given conditions go into the SQL.
pub async fn list(conn: &mut Conn, f: &ListFilter, now: Timestamp) -> CoreResult<Vec<Credential>> {
    let mut cond: Vec<String> = Vec::new();
    let mut args: Vec<super::Arg> = Vec::new();
    let push = |c: String, a: super::Arg, cond: &mut Vec<String>, args: &mut Vec<super::Arg>| {
        args.push(a);
        cond.push(c.replace('?', &format!("${}", args.len())));
    };
    if let Some(a) = &f.application_id {
        push("c.application_id = ?".into(), super::Arg::S(a.to_string()), &mut cond, &mut args);
    }
    if let Some(e) = &f.environment_id {
        push("c.environment_id = ?".into(), super::Arg::S(e.to_string()), &mut cond, &mut args);
    }
    if let Some(envs) = &f.environments_in {
        if envs.is_empty() {
            return Ok(Vec::new());
        }
        let mut marks = Vec::new();
        for e in envs {
            args.push(super::Arg::S(e.to_string()));
            marks.push(format!("${}", args.len()));
        }
        cond.push(format!("c.environment_id IN ({})", marks.join(", ")));
    }
    if let Some(status) = f.status {
        let mut now_arg = || {
            args.push(super::Arg::I(now.as_millis()));
            format!("${}", args.len())
        };
        cond.push(match status {
            Status::Revoked => "c.status = 'revoked'".to_owned(),
            Status::Active => format!("c.status = 'active' AND c.expires_at > {}", now_arg()),
            Status::Grace => {
                let n = now_arg();
                format!("c.status = 'grace' AND c.expires_at > {n} AND c.grace_until > {n}")
            }
            Status::Expired => {
                let n = now_arg();
                format!(
                    "c.status <> 'revoked' AND (c.expires_at <= {n} OR (c.status = 'grace' AND c.grace_until <= {n}))"
                )
            }
        });
    }
    if let Some((ts, id)) = &f.after {
        args.push(super::Arg::I(*ts));
        let t = args.len();
        args.push(super::Arg::S(id.clone()));
        let i = args.len();
        cond.push(format!("(c.created_at < ${t} OR (c.created_at = ${t} AND c.id < ${i}))"));
    }
    args.push(super::Arg::I(f.limit));
    let limit = args.len();
    let where_sql = if cond.is_empty() { String::new() } else { format!("WHERE {}", cond.join(" AND ")) };
    let sql = format!("SELECT {META} {FROM} {where_sql} ORDER BY c.created_at DESC, c.id DESC LIMIT ${limit}");
    let rows = super::bind_all(sqlx::query(&sql), &args).fetch_all(conn).await?;
    rows.iter().map(|r| meta_from_row(r, now)).collect()
}

/// Puts an active credential into grace. Returns false when it was no longer active (a racing
/// command won), so callers never rotate twice.
pub async fn start_grace(
    conn: &mut Conn,
    id: &CredentialId,
    grace_until: Timestamp,
    rotated_to: &CredentialId,
) -> CoreResult<bool> {
    let r = sqlx::query(
        "UPDATE credentials SET status = 'grace', grace_until = $2, rotated_to = $3 \
         WHERE id = $1 AND status = 'active'",
    )
    .bind(id.as_str())
    .bind(grace_until.as_millis())
    .bind(rotated_to.as_str())
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends a grace period now. Returns false when the credential was no longer in grace.
pub async fn end_grace(conn: &mut Conn, id: &CredentialId, now: Timestamp) -> CoreResult<bool> {
    let r =
        sqlx::query("UPDATE credentials SET grace_until = $2 WHERE id = $1 AND status = 'grace' AND grace_until > $2")
            .bind(id.as_str())
            .bind(now.as_millis())
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes one credential unless it already is. Returns whether this call revoked it.
pub async fn revoke(conn: &mut Conn, id: &CredentialId, at: Timestamp, by: &str, reason: &str) -> CoreResult<bool> {
    let r = sqlx::query(
        "UPDATE credentials SET status = 'revoked', revoked_at = $2, revoked_by = $3, revoked_reason = $4 \
         WHERE id = $1 AND status <> 'revoked'",
    )
    .bind(id.as_str())
    .bind(at.as_millis())
    .bind(by)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes every not-yet-revoked credential of an application in one environment, in one
/// statement. Returns the `(id, key_id)` pairs it revoked.
pub async fn revoke_all(
    conn: &mut Conn,
    application_id: &ApplicationId,
    environment_id: &EnvironmentId,
    at: Timestamp,
    by: &str,
    reason: &str,
) -> CoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "UPDATE credentials SET status = 'revoked', revoked_at = $3, revoked_by = $4, revoked_reason = $5 \
         WHERE application_id = $1 AND environment_id = $2 AND status <> 'revoked' RETURNING id, key_id",
    )
    .bind(application_id.as_str())
    .bind(environment_id.as_str())
    .bind(at.as_millis())
    .bind(by)
    .bind(reason)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("key_id")?))).collect()
}

/// What the verifier keeps in memory for one credential.
#[derive(Debug, Clone)]
pub struct CacheRow {
    pub key_id: KeyId,
    pub id: CredentialId,
    pub application_id: ApplicationId,
    pub application: String,
    pub environment: EnvironmentSlug,
    pub scopes: Scopes,
    pub status: StoredStatus,
    pub hash: TokenHash,
    pub expires_at: Timestamp,
    pub grace_until: Option<Timestamp>,
}

const CACHE_COLUMNS: &str = "c.key_id, c.id, c.application_id, a.name AS application_name, \
     e.slug AS environment_slug, c.scopes, c.status, c.secret_hash, c.expires_at, c.grace_until";

fn cache_from_row(r: &AnyRow) -> CoreResult<CacheRow> {
    let key_id = r.try_get::<&str, _>("key_id")?;
    let hash = r.try_get::<Vec<u8>, _>("secret_hash")?;
    Ok(CacheRow {
        key_id: KeyId::parse(key_id).ok_or_else(|| CoreError::internal("stored key id malformed"))?,
        id: CredentialId::from_db(r.try_get("id")?),
        application_id: ApplicationId::from_db(r.try_get("application_id")?),
        application: r.try_get("application_name")?,
        environment: EnvironmentSlug::parse(r.try_get::<&str, _>("environment_slug")?)?,
        scopes: Scopes::from_db(r.try_get::<&str, _>("scopes")?),
        status: StoredStatus::from_db(r.try_get::<&str, _>("status")?)?,
        hash: TokenHash::from_bytes(&hash).ok_or_else(|| CoreError::internal("stored hash malformed"))?,
        expires_at: Timestamp::from_millis(r.try_get("expires_at")?),
        grace_until: ts(r, "grace_until")?,
    })
}

/// Every credential that could still verify at or after `now`.
pub async fn cache_rows_live(conn: &mut Conn, now: Timestamp) -> CoreResult<Vec<CacheRow>> {
    let sql = format!("SELECT {CACHE_COLUMNS} {FROM} WHERE c.status <> 'revoked' AND c.expires_at > $1");
    let rows = sqlx::query(&sql).bind(now.as_millis()).fetch_all(conn).await?;
    rows.iter().map(cache_from_row).collect()
}

/// A credential and its rotation neighbours: a change to one (rotate) also changes the other.
pub async fn cache_rows_related(conn: &mut Conn, id: &str) -> CoreResult<Vec<CacheRow>> {
    let sql = format!("SELECT {CACHE_COLUMNS} {FROM} WHERE c.id = $1 OR c.rotated_to = $1 OR c.rotated_from = $1");
    let rows = sqlx::query(&sql).bind(id).fetch_all(conn).await?;
    rows.iter().map(cache_from_row).collect()
}

pub async fn cache_rows_of_application(conn: &mut Conn, application_id: &str) -> CoreResult<Vec<CacheRow>> {
    let sql = format!("SELECT {CACHE_COLUMNS} {FROM} WHERE c.application_id = $1");
    let rows = sqlx::query(&sql).bind(application_id).fetch_all(conn).await?;
    rows.iter().map(cache_from_row).collect()
}
