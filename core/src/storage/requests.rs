//! Change requests repository. State changes are conditional updates (`WHERE status = …`), so two
//! racing commands can never both move a request: the loser sees zero rows and answers 409.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Arg, Conn, bind_all};
use crate::domain::environment::EnvironmentSlug;
use crate::domain::request::{
    Change, ChangeRequest, Decision, DecisionKind, RequestStatus, StoredRequestStatus, effective_request_status,
};
use crate::domain::time::Timestamp;
use crate::error::{CoreError, CoreResult};
use crate::ids::{ChangeRequestId, CredentialId, EnvironmentId};

const COLUMNS: &str = "r.id, r.kind, r.status, r.environment_id, e.slug AS environment_slug, r.requester, \
     r.requester_name, r.reason, r.payload, r.summary, r.approvals_required, r.created_at, r.expires_at, \
     r.decided_at, r.executed_at, r.credential_id";
const FROM: &str = "FROM change_requests r LEFT JOIN environments e ON e.id = r.environment_id";

fn opt_ts(r: &AnyRow, col: &str) -> CoreResult<Option<Timestamp>> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(Timestamp::from_millis))
}

fn from_row(r: &AnyRow, now: Timestamp) -> CoreResult<ChangeRequest> {
    let stored = StoredRequestStatus::from_db(r.try_get::<&str, _>("status")?)?;
    let expires_at = Timestamp::from_millis(r.try_get("expires_at")?);
    let change: Change = serde_json::from_str(r.try_get::<&str, _>("payload")?)
        .map_err(|e| CoreError::internal(format!("stored change malformed: {e}")))?;
    Ok(ChangeRequest {
        id: ChangeRequestId::from_db(r.try_get("id")?),
        kind: change.kind(),
        status: effective_request_status(stored, expires_at, now),
        environment: r.try_get::<Option<&str>, _>("environment_slug")?.map(EnvironmentSlug::parse).transpose()?,
        environment_id: r.try_get::<Option<String>, _>("environment_id")?.map(EnvironmentId::from_db),
        requester: r.try_get("requester")?,
        requester_name: r.try_get("requester_name")?,
        reason: r.try_get("reason")?,
        summary: r.try_get("summary")?,
        change,
        approvals_required: r.try_get("approvals_required")?,
        approvals: 0,
        decisions: Vec::new(),
        created_at: Timestamp::from_millis(r.try_get("created_at")?),
        expires_at,
        decided_at: opt_ts(r, "decided_at")?,
        executed_at: opt_ts(r, "executed_at")?,
        credential_id: r.try_get::<Option<String>, _>("credential_id")?.map(CredentialId::from_db),
    })
}

#[derive(Debug)]
pub struct NewRequestRow<'a> {
    pub id: &'a ChangeRequestId,
    pub change: &'a Change,
    pub environment_id: Option<&'a EnvironmentId>,
    pub requester: &'a str,
    pub requester_name: &'a str,
    pub reason: &'a str,
    pub summary: &'a str,
    pub approvals_required: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

pub async fn insert(conn: &mut Conn, n: &NewRequestRow<'_>) -> CoreResult<()> {
    let payload = serde_json::to_string(n.change).map_err(|e| CoreError::internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO change_requests (id, kind, status, environment_id, requester, requester_name, reason, \
         payload, summary, approvals_required, created_at, expires_at) \
         VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(n.id.as_str())
    .bind(n.change.kind().as_str())
    .bind(n.environment_id.map(EnvironmentId::as_str))
    .bind(n.requester)
    .bind(n.requester_name)
    .bind(n.reason)
    .bind(payload)
    .bind(n.summary)
    .bind(n.approvals_required)
    .bind(n.created_at.as_millis())
    .bind(n.expires_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

async fn decisions(conn: &mut Conn, id: &str) -> CoreResult<Vec<Decision>> {
    let rows = sqlx::query(
        "SELECT actor, actor_name, decision, comment, at FROM request_decisions WHERE request_id = $1 ORDER BY at, actor",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Decision {
                actor: r.try_get("actor")?,
                actor_name: r.try_get("actor_name")?,
                decision: DecisionKind::from_db(r.try_get::<&str, _>("decision")?)?,
                comment: r.try_get("comment")?,
                at: Timestamp::from_millis(r.try_get("at")?),
            })
        })
        .collect()
}

async fn with_decisions(conn: &mut Conn, mut req: ChangeRequest) -> CoreResult<ChangeRequest> {
    req.decisions = decisions(conn, req.id.as_str()).await?;
    req.approvals = req.decisions.iter().filter(|d| d.decision == DecisionKind::Approve).count() as i64;
    Ok(req)
}

pub async fn by_id(conn: &mut Conn, id: &ChangeRequestId, now: Timestamp) -> CoreResult<Option<ChangeRequest>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE r.id = $1");
    let Some(row) = sqlx::query(&sql).bind(id.as_str()).fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let req = from_row(&row, now)?;
    Ok(Some(with_decisions(conn, req).await?))
}

#[derive(Debug, Default, Clone)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    /// Only this requester (`user:<id>`): "my requests".
    pub requester: Option<String>,
    /// Only these environments (a scoped reader); `None` means no restriction. Requests that
    /// belong to no environment (a global admin grant) are then left out.
    pub environments_in: Option<Vec<EnvironmentId>>,
    /// Keyset cursor: (created_at, id) of the last row of the previous page.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// Newest first. The status filter is judged against `now`, like the status it shows.
pub async fn list(conn: &mut Conn, f: &RequestFilter, now: Timestamp) -> CoreResult<Vec<ChangeRequest>> {
    let mut cond: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let arg = |a: Arg, args: &mut Vec<Arg>| {
        args.push(a);
        format!("${}", args.len())
    };
    if let Some(status) = f.status {
        let c = match status {
            RequestStatus::Pending | RequestStatus::Approved => {
                let n = arg(Arg::I(now.as_millis()), &mut args);
                format!("r.status = '{}' AND r.expires_at > {n}", status.as_str())
            }
            RequestStatus::Expired => {
                let n = arg(Arg::I(now.as_millis()), &mut args);
                format!("r.status IN ('pending', 'approved') AND r.expires_at <= {n}")
            }
            other => format!("r.status = '{}'", other.as_str()),
        };
        cond.push(c);
    }
    if let Some(req) = &f.requester {
        let p = arg(Arg::S(req.clone()), &mut args);
        cond.push(format!("r.requester = {p}"));
    }
    if let Some(envs) = &f.environments_in {
        if envs.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = envs.iter().map(|e| arg(Arg::S(e.to_string()), &mut args)).collect();
        cond.push(format!("r.environment_id IN ({})", marks.join(", ")));
    }
    if let Some((ts, id)) = &f.after {
        let t = arg(Arg::I(*ts), &mut args);
        let i = arg(Arg::S(id.clone()), &mut args);
        cond.push(format!("(r.created_at < {t} OR (r.created_at = {t} AND r.id < {i}))"));
    }
    let limit = arg(Arg::I(f.limit), &mut args);
    let where_sql = if cond.is_empty() { String::new() } else { format!("WHERE {}", cond.join(" AND ")) };
    let sql = format!("SELECT {COLUMNS} {FROM} {where_sql} ORDER BY r.created_at DESC, r.id DESC LIMIT {limit}");
    let rows = bind_all(sqlx::query(&sql), &args).fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let req = from_row(r, now)?;
        out.push(with_decisions(conn, req).await?);
    }
    Ok(out)
}

/// Takes the request's row lock while it is still open (pending, or approved when `approved_too`)
/// and unexpired. Returns false when it is not, so the caller answers 409. Every state change
/// starts here, which serializes racing approvals, rejections, cancellations and executions of
/// one request on PostgreSQL (SQLite serializes whole write transactions anyway).
pub async fn lock_open(conn: &mut Conn, id: &ChangeRequestId, now: Timestamp, approved_too: bool) -> CoreResult<bool> {
    let statuses = if approved_too { "('pending', 'approved')" } else { "('pending')" };
    let sql = format!(
        "UPDATE change_requests SET status = status WHERE id = $1 AND status IN {statuses} AND expires_at > $2"
    );
    let r = sqlx::query(&sql).bind(id.as_str()).bind(now.as_millis()).execute(conn).await?;
    Ok(r.rows_affected() == 1)
}

/// Records one person's decision. The primary key refuses a second decision by the same person.
pub async fn insert_decision(
    conn: &mut Conn,
    id: &ChangeRequestId,
    actor: &str,
    actor_name: &str,
    decision: DecisionKind,
    comment: &str,
    at: Timestamp,
) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO request_decisions (request_id, actor, actor_name, decision, comment, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(actor)
    .bind(actor_name)
    .bind(decision.as_str())
    .bind(comment)
    .bind(at.as_millis())
    .execute(conn)
    .await
    .map_err(|e| match CoreError::from(e) {
        CoreError::Conflict { .. } => CoreError::conflict("you have already decided on this request"),
        other => other,
    })?;
    Ok(())
}

pub async fn count_approvals(conn: &mut Conn, id: &ChangeRequestId) -> CoreResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM request_decisions WHERE request_id = $1 AND decision = 'approve'")
        .bind(id.as_str())
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("n")?)
}

/// Moves an open request to `to`. Returns false when it was no longer in `from` (a racing
/// command won).
pub async fn transition(
    conn: &mut Conn,
    id: &ChangeRequestId,
    from: StoredRequestStatus,
    to: StoredRequestStatus,
    at: Timestamp,
) -> CoreResult<bool> {
    let column = if to == StoredRequestStatus::Executed { "executed_at" } else { "decided_at" };
    let sql = format!(
        "UPDATE change_requests SET status = $2, {column} = $3 WHERE id = $1 AND status = $4 AND expires_at > $3"
    );
    let r = sqlx::query(&sql)
        .bind(id.as_str())
        .bind(to.as_str())
        .bind(at.as_millis())
        .bind(from.as_str())
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_credential(conn: &mut Conn, id: &ChangeRequestId, credential: &CredentialId) -> CoreResult<()> {
    sqlx::query("UPDATE change_requests SET credential_id = $2 WHERE id = $1")
        .bind(id.as_str())
        .bind(credential.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Open requests awaiting a decision, for the navigation's count.
pub async fn count_pending(
    conn: &mut Conn,
    environments_in: Option<&[EnvironmentId]>,
    now: Timestamp,
) -> CoreResult<i64> {
    let mut args = vec![Arg::I(now.as_millis())];
    let mut sql = "SELECT COUNT(*) AS n FROM change_requests WHERE status = 'pending' AND expires_at > $1".to_owned();
    if let Some(envs) = environments_in {
        if envs.is_empty() {
            return Ok(0);
        }
        let mut marks = Vec::new();
        for e in envs {
            args.push(Arg::S(e.to_string()));
            marks.push(format!("${}", args.len()));
        }
        sql.push_str(&format!(" AND environment_id IN ({})", marks.join(", ")));
    }
    let row = bind_all(sqlx::query(&sql), &args).fetch_one(conn).await?;
    Ok(row.try_get("n")?)
}
