//! Audit log repository: the chain head, events, checkpoints. Appends lock the head row, so on
//! both engines sequence order is commit order and the sequence has no gaps.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Conn;
use crate::domain::audit::{Actor, ActorKind, AuditEvent};
use crate::domain::time::Timestamp;
use crate::error::{CoreError, CoreResult};

/// Claims the next sequence number and returns it with the previous event's hash. Holds the head
/// row lock until the caller's transaction ends.
pub async fn claim_next(conn: &mut Conn) -> CoreResult<(i64, [u8; 32])> {
    let row =
        sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetch_one(conn).await?;
    let seq: i64 = row.try_get("seq")?;
    let prev = hash32(row.try_get::<Vec<u8>, _>("hash")?)?;
    Ok((seq, prev))
}

pub async fn set_head_hash(conn: &mut Conn, hash: &[u8; 32]) -> CoreResult<()> {
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(hash.to_vec()).execute(conn).await?;
    Ok(())
}

pub async fn head(conn: &mut Conn) -> CoreResult<(i64, [u8; 32])> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(conn).await?;
    Ok((row.try_get("seq")?, hash32(row.try_get::<Vec<u8>, _>("hash")?)?))
}

pub async fn insert(conn: &mut Conn, e: &AuditEvent, details_text: &str) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (seq, id, occurred_at, actor_kind, actor_id, actor_name, action, \
         target_type, target_id, environment, outcome, ip, user_agent, request_id, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(e.seq)
    .bind(&e.id)
    .bind(e.occurred_at.as_millis())
    .bind(e.actor.kind.as_str())
    .bind(e.actor.id.as_deref())
    .bind(&e.actor.name)
    .bind(&e.action)
    .bind(&e.target_type)
    .bind(&e.target_id)
    .bind(e.environment.as_deref())
    .bind(&e.outcome)
    .bind(e.ip.as_deref())
    .bind(e.user_agent.as_deref())
    .bind(&e.request_id)
    .bind(details_text)
    .bind(e.prev_hash.to_vec())
    .bind(e.hash.to_vec())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) fn hash32(v: Vec<u8>) -> CoreResult<[u8; 32]> {
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| CoreError::internal("stored hash is not 32 bytes"))
}

pub const EVENT_COLUMNS: &str = "seq, id, occurred_at, actor_kind, actor_id, actor_name, action, target_type, \
     target_id, environment, outcome, ip, user_agent, request_id, details, prev_hash, hash";

/// An event row with its details exactly as stored (the hash covers that text).
pub struct StoredEvent {
    pub event: AuditEvent,
    pub details_text: String,
}

pub fn event_from_row(r: &AnyRow) -> CoreResult<StoredEvent> {
    let details_text: String = r.try_get("details")?;
    let kind: &str = r.try_get("actor_kind")?;
    let event = AuditEvent {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        occurred_at: Timestamp::from_millis(r.try_get("occurred_at")?),
        actor: Actor {
            kind: ActorKind::parse(kind).unwrap_or(ActorKind::Anonymous),
            id: r.try_get("actor_id")?,
            name: r.try_get("actor_name")?,
        },
        action: r.try_get("action")?,
        target_type: r.try_get("target_type")?,
        target_id: r.try_get("target_id")?,
        environment: r.try_get("environment")?,
        outcome: r.try_get("outcome")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        request_id: r.try_get("request_id")?,
        // A row whose details no longer parse is still returned (verify will flag it if tampered).
        details: serde_json::from_str(&details_text).unwrap_or(serde_json::Value::Null),
        prev_hash: hash32(r.try_get::<Vec<u8>, _>("prev_hash")?).unwrap_or([0; 32]),
        hash: hash32(r.try_get::<Vec<u8>, _>("hash")?).unwrap_or([0; 32]),
    };
    Ok(StoredEvent { event, details_text })
}

/// Events with `seq > after`, ascending, at most `limit`.
pub async fn page_after(conn: &mut Conn, after: i64, limit: i64) -> CoreResult<Vec<StoredEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2");
    let rows = sqlx::query(&sql).bind(after).bind(limit).fetch_all(conn).await?;
    rows.iter().map(event_from_row).collect()
}

/// Filters for the auditor's list. Only the given conditions go into the SQL, so each filter can
/// use its index.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub environment: Option<String>,
    pub target: Option<(String, String)>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Return events with `seq < before` (newest first paging).
    pub before: Option<i64>,
    /// Only events of these environments (a scoped reader); `None` means no restriction.
    pub environments_in: Option<Vec<String>>,
    pub limit: i64,
}

pub async fn list(conn: &mut Conn, f: &ListFilter) -> CoreResult<Vec<StoredEvent>> {
    use super::Arg;
    let mut cond: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let mut add = |c: &str, a: Arg| {
        args.push(a);
        cond.push(format!("{c} ${}", args.len()));
    };
    if let Some(v) = &f.actor_id {
        add("actor_id =", Arg::S(v.clone()));
    }
    if let Some(v) = &f.action {
        add("action =", Arg::S(v.clone()));
    }
    if let Some(v) = &f.environment {
        add("environment =", Arg::S(v.clone()));
    }
    if let Some((t, id)) = &f.target {
        add("target_type =", Arg::S(t.clone()));
        add("target_id =", Arg::S(id.clone()));
    }
    if let Some(v) = f.since {
        add("occurred_at >=", Arg::I(v.as_millis()));
    }
    if let Some(v) = f.until {
        add("occurred_at <", Arg::I(v.as_millis()));
    }
    if let Some(v) = f.before {
        add("seq <", Arg::I(v));
    }
    if let Some(envs) = &f.environments_in {
        if envs.is_empty() {
            return Ok(Vec::new());
        }
        let mut marks = Vec::new();
        for e in envs {
            args.push(Arg::S(e.clone()));
            marks.push(format!("${}", args.len()));
        }
        cond.push(format!("environment IN ({})", marks.join(", ")));
    }
    args.push(Arg::I(f.limit));
    let limit_idx = args.len();
    let where_sql = if cond.is_empty() { String::new() } else { format!("WHERE {}", cond.join(" AND ")) };
    let sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events {where_sql} ORDER BY seq DESC LIMIT ${limit_idx}");
    let rows = super::bind_all(sqlx::query(&sql), &args).fetch_all(conn).await?;
    rows.iter().map(event_from_row).collect()
}

/// `(seq, target_type, target_id, action)` of events after `after`: the change feed replicas
/// follow to refresh their verifier caches.
pub async fn changes_after(conn: &mut Conn, after: i64, limit: i64) -> CoreResult<Vec<(i64, String, String, String)>> {
    let rows = sqlx::query(
        "SELECT seq, target_type, target_id, action FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("seq")?, r.try_get("target_type")?, r.try_get("target_id")?, r.try_get("action")?)))
        .collect()
}

#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: [u8; 32],
    pub created_at: Timestamp,
    pub public_key: Vec<u8>,
    pub signature: Vec<u8>,
}

pub async fn insert_checkpoint(conn: &mut Conn, c: &Checkpoint) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, created_at, public_key, signature) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (seq) DO NOTHING",
    )
    .bind(c.seq)
    .bind(c.hash.to_vec())
    .bind(c.created_at.as_millis())
    .bind(c.public_key.clone())
    .bind(c.signature.clone())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn checkpoints(conn: &mut Conn) -> CoreResult<Vec<Checkpoint>> {
    let rows = sqlx::query("SELECT seq, hash, created_at, public_key, signature FROM audit_checkpoints ORDER BY seq")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Checkpoint {
                seq: r.try_get("seq")?,
                hash: hash32(r.try_get::<Vec<u8>, _>("hash")?)?,
                created_at: Timestamp::from_millis(r.try_get("created_at")?),
                public_key: r.try_get("public_key")?,
                signature: r.try_get("signature")?,
            })
        })
        .collect()
}

pub async fn last_checkpoint_seq(conn: &mut Conn) -> CoreResult<i64> {
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_checkpoints").fetch_one(conn).await?;
    Ok(v.unwrap_or(0))
}
