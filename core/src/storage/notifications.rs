//! Webhook sinks and the notification outbox. Rows are claimed by a conditional update on
//! `next_attempt_at`, so two replicas never send the same attempt twice at once.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Conn, b2i};
use crate::domain::time::Timestamp;
use crate::error::CoreResult;
use crate::ids::{NotificationId, WebhookId};

/// A webhook as the console shows it: never its URL, which may embed a secret.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: WebhookId,
    pub name: String,
    /// The receiver's host, for recognition. The full URL is sealed and never shown again.
    pub host: String,
    /// Notification kinds sent to it; empty means all.
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub created_by: String,
    pub delivered: i64,
    pub pending: i64,
    pub failed: i64,
    /// The last delivery error (status code or transport failure), if any.
    pub last_error: Option<String>,
}

const COLUMNS: &str = "w.id, w.name, w.url_host, w.events, w.enabled, w.created_at, w.created_by, \
     (SELECT COUNT(*) FROM notifications n WHERE n.webhook_id = w.id AND n.delivered_at IS NOT NULL) AS delivered, \
     (SELECT COUNT(*) FROM notifications n WHERE n.webhook_id = w.id AND n.delivered_at IS NULL AND n.failed_at IS NULL) AS pending, \
     (SELECT COUNT(*) FROM notifications n WHERE n.webhook_id = w.id AND n.failed_at IS NOT NULL) AS failed, \
     (SELECT n.last_error FROM notifications n WHERE n.webhook_id = w.id AND n.last_error IS NOT NULL \
        ORDER BY n.created_at DESC LIMIT 1) AS last_error";

fn split_events(s: &str) -> Vec<String> {
    s.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect()
}

fn from_row(r: &AnyRow) -> CoreResult<Webhook> {
    Ok(Webhook {
        id: WebhookId::from_db(r.try_get("id")?),
        name: r.try_get("name")?,
        host: r.try_get("url_host")?,
        events: split_events(r.try_get::<&str, _>("events")?),
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        created_at: Timestamp::from_millis(r.try_get("created_at")?),
        created_by: r.try_get("created_by")?,
        delivered: r.try_get("delivered")?,
        pending: r.try_get("pending")?,
        failed: r.try_get("failed")?,
        last_error: r.try_get("last_error")?,
    })
}

#[derive(Debug)]
pub struct NewWebhookRow<'a> {
    pub id: &'a WebhookId,
    pub name: &'a str,
    pub url_sealed: &'a [u8],
    pub url_host: &'a str,
    pub events: &'a [String],
    pub created_at: Timestamp,
    pub created_by: &'a str,
}

pub async fn insert_webhook(conn: &mut Conn, w: &NewWebhookRow<'_>) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO webhooks (id, name, url_sealed, url_host, events, enabled, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(w.id.as_str())
    .bind(w.name)
    .bind(w.url_sealed.to_vec())
    .bind(w.url_host)
    .bind(w.events.join(","))
    .bind(b2i(true))
    .bind(w.created_at.as_millis())
    .bind(w.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_webhooks(conn: &mut Conn) -> CoreResult<Vec<Webhook>> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks w ORDER BY w.created_at, w.id");
    let rows = sqlx::query(&sql).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

pub async fn webhook(conn: &mut Conn, id: &WebhookId) -> CoreResult<Option<Webhook>> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks w WHERE w.id = $1");
    let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// Deletes a webhook and its undelivered notifications; delivered ones go with it.
pub async fn delete_webhook(conn: &mut Conn, id: &WebhookId) -> CoreResult<bool> {
    sqlx::query("DELETE FROM notifications WHERE webhook_id = $1").bind(id.as_str()).execute(&mut *conn).await?;
    let r = sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id.as_str()).execute(conn).await?;
    Ok(r.rows_affected() == 1)
}

/// Enabled webhooks with their subscriptions.
pub async fn subscribers(conn: &mut Conn) -> CoreResult<Vec<(WebhookId, Vec<String>)>> {
    let rows = sqlx::query("SELECT id, events FROM webhooks WHERE enabled = 1").fetch_all(conn).await?;
    rows.iter()
        .map(|r| Ok((WebhookId::from_db(r.try_get("id")?), split_events(r.try_get::<&str, _>("events")?))))
        .collect()
}

pub async fn insert_notification(
    conn: &mut Conn,
    id: &NotificationId,
    webhook: &WebhookId,
    kind: &str,
    payload: &str,
    now: Timestamp,
) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO notifications (id, webhook_id, kind, payload, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $5)",
    )
    .bind(id.as_str())
    .bind(webhook.as_str())
    .bind(kind)
    .bind(payload)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// One outbox row ready to send.
#[derive(Debug)]
pub struct Due {
    pub id: NotificationId,
    pub webhook_id: WebhookId,
    pub payload: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub url_sealed: Vec<u8>,
}

pub async fn due(conn: &mut Conn, now: Timestamp, limit: i64) -> CoreResult<Vec<Due>> {
    let rows = sqlx::query(
        "SELECT n.id, n.webhook_id, n.payload, n.attempts, n.next_attempt_at, w.url_sealed \
         FROM notifications n JOIN webhooks w ON w.id = n.webhook_id \
         WHERE n.delivered_at IS NULL AND n.failed_at IS NULL AND n.next_attempt_at <= $1 AND w.enabled = 1 \
         ORDER BY n.next_attempt_at, n.id LIMIT $2",
    )
    .bind(now.as_millis())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Due {
                id: NotificationId::from_db(r.try_get("id")?),
                webhook_id: WebhookId::from_db(r.try_get("webhook_id")?),
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
                next_attempt_at: r.try_get("next_attempt_at")?,
                url_sealed: r.try_get("url_sealed")?,
            })
        })
        .collect()
}

/// Claims an attempt: moves `next_attempt_at` to `lease_until` if nobody else did first.
pub async fn claim(conn: &mut Conn, id: &NotificationId, seen_next: i64, lease_until: Timestamp) -> CoreResult<bool> {
    let r = sqlx::query(
        "UPDATE notifications SET next_attempt_at = $3, attempts = attempts + 1 \
         WHERE id = $1 AND next_attempt_at = $2 AND delivered_at IS NULL AND failed_at IS NULL",
    )
    .bind(id.as_str())
    .bind(seen_next)
    .bind(lease_until.as_millis())
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn mark_delivered(conn: &mut Conn, id: &NotificationId, at: Timestamp) -> CoreResult<()> {
    sqlx::query("UPDATE notifications SET delivered_at = $2, last_error = NULL WHERE id = $1")
        .bind(id.as_str())
        .bind(at.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt: retried at `next`, or given up on when `next` is `None`.
pub async fn mark_failed_attempt(
    conn: &mut Conn,
    id: &NotificationId,
    error: &str,
    next: Option<Timestamp>,
    now: Timestamp,
) -> CoreResult<()> {
    match next {
        Some(next) => {
            sqlx::query("UPDATE notifications SET next_attempt_at = $2, last_error = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(next.as_millis())
                .bind(error)
                .execute(conn)
                .await?
        }
        None => {
            sqlx::query("UPDATE notifications SET failed_at = $2, last_error = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(now.as_millis())
                .bind(error)
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

/// A credential nearing its expiry.
#[derive(Debug)]
pub struct Expiring {
    pub id: String,
    pub key_id: String,
    pub name: String,
    pub application: String,
    pub environment: String,
    pub expires_at: Timestamp,
    /// The smallest warning (in days) already sent.
    pub warned: Option<i64>,
}

/// Active credentials expiring within `horizon`, with the smallest warning already sent for each.
pub async fn expiring(conn: &mut Conn, now: Timestamp, horizon: Timestamp) -> CoreResult<Vec<Expiring>> {
    let rows = sqlx::query(
        "SELECT c.id, c.key_id, c.name, a.name AS application, e.slug, c.expires_at, \
         (SELECT MIN(w.days) FROM expiry_warnings w WHERE w.credential_id = c.id) AS warned \
         FROM credentials c JOIN applications a ON a.id = c.application_id JOIN environments e ON e.id = c.environment_id \
         WHERE c.status = 'active' AND c.expires_at > $1 AND c.expires_at <= $2",
    )
    .bind(now.as_millis())
    .bind(horizon.as_millis())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Expiring {
                id: r.try_get("id")?,
                key_id: r.try_get("key_id")?,
                name: r.try_get("name")?,
                application: r.try_get("application")?,
                environment: r.try_get("slug")?,
                expires_at: Timestamp::from_millis(r.try_get("expires_at")?),
                warned: r.try_get("warned")?,
            })
        })
        .collect()
}

/// Records a warning; false when another replica recorded it first.
pub async fn record_warning(conn: &mut Conn, credential_id: &str, days: i64, now: Timestamp) -> CoreResult<bool> {
    let r =
        sqlx::query("INSERT INTO expiry_warnings (credential_id, days, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(credential_id)
            .bind(days)
            .bind(now.as_millis())
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}
