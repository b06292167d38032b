//! Notifications to webhook sinks (Slack-compatible JSON). A command that has something to report
//! writes one outbox row per subscribed webhook in its own transaction; a background worker sends
//! them with retry and backoff. So a notification is never lost with a committed change, never
//! sent for a change that rolled back, and a slow or dead receiver never delays a request.

use std::time::Duration;

use serde_json::{Value, json};

use super::Services;
use super::audit::append;
use crate::crypto;
use crate::domain::audit::{Ctx, NewEvent};
use crate::domain::time::Timestamp;
use crate::error::{CoreError, CoreResult};
use crate::ids::{NotificationId, WebhookId};
use crate::storage::Conn;
use crate::storage::notifications::{self as repo, Webhook};

/// What a webhook can subscribe to.
pub const KINDS: [&str; 6] = [
    "request.pending",
    "request.approved",
    "request.rejected",
    "credential.emergency_revoke",
    "credential.expiring",
    "webhook.test",
];

/// Days before expiry at which a warning goes out.
pub const EXPIRY_WARNINGS: [i64; 3] = [14, 7, 1];

/// Delay before retry n (1-based); after the last, the notification is given up on.
const BACKOFF_SECS: [i64; 6] = [10, 60, 300, 1800, 7200, 21_600];

/// How long a claimed attempt is reserved for the claiming replica.
const LEASE_SECS: i64 = 60;

/// The sender's HTTP client and the wake-up signal for the worker.
#[derive(Debug)]
pub struct Notifier {
    http: reqwest::Client,
    wake: tokio::sync::Notify,
}

impl Notifier {
    pub fn new() -> CoreResult<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("latchkey-webhook/1")
            .build()
            .map_err(|e| CoreError::internal(format!("http client: {e}")))?;
        Ok(Self { http, wake: tokio::sync::Notify::new() })
    }

    /// Wakes the worker after a commit that queued notifications.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

/// A description of a transport failure that cannot contain the URL (which may hold a secret).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "request failed".into()
    }
}

fn owner(id: &WebhookId) -> String {
    format!("webhook:{id}")
}

/// Checks a webhook URL and returns its host.
fn check_url(url: &str) -> CoreResult<String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| CoreError::validation("url must be an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CoreError::validation("url must use https (or http)"));
    }
    parsed.host_str().map(str::to_owned).ok_or_else(|| CoreError::validation("url must name a host"))
}

/// Queues a notification for every enabled webhook subscribed to `kind`, inside the caller's
/// transaction. `text` is the Slack message; `data` the structured detail. Neither may hold a
/// secret: callers build them from metadata only.
pub(crate) async fn enqueue(conn: &mut Conn, now: Timestamp, kind: &str, text: &str, data: Value) -> CoreResult<usize> {
    let subs = repo::subscribers(conn).await?;
    let payload = json!({ "text": text, "event": kind, "occurred_at": now, "data": data }).to_string();
    let mut n = 0;
    for (hook, events) in subs {
        if events.is_empty() || events.iter().any(|e| e == kind) {
            repo::insert_notification(conn, &NotificationId::generate()?, &hook, kind, &payload, now).await?;
            n += 1;
        }
    }
    Ok(n)
}

impl Services {
    pub async fn list_webhooks(&self) -> CoreResult<Vec<Webhook>> {
        let mut conn = self.db.pool().acquire().await?;
        repo::list_webhooks(&mut conn).await
    }

    /// Adds a webhook. The URL is sealed under the data key and never returned.
    pub async fn create_webhook(&self, ctx: &Ctx, name: &str, url: &str, events: &[String]) -> CoreResult<Webhook> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(CoreError::validation("name must be 1-64 characters"));
        }
        let host = check_url(url)?;
        for e in events {
            if !KINDS.contains(&e.as_str()) {
                return Err(CoreError::validation(format!("unknown event {e:?}; known: {}", KINDS.join(", "))));
            }
        }
        let id = WebhookId::generate()?;
        let sealed = crypto::seal(&self.keys.data_key, &owner(&id), url.trim().as_bytes())?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        repo::insert_webhook(
            &mut tx,
            &repo::NewWebhookRow {
                id: &id,
                name,
                url_sealed: &sealed,
                url_host: &host,
                events,
                created_at: now,
                created_by: &ctx.actor.label(),
            },
        )
        .await?;
        let ev = NewEvent::success("webhook.create", "webhook", id.as_str())
            .with_details(json!({ "name": name, "host": host, "events": events }));
        append(&mut tx, now, ctx, ev).await?;
        let hook = repo::webhook(&mut tx, &id).await?.ok_or(CoreError::NotFound("webhook"))?;
        tx.commit().await?;
        Ok(hook)
    }

    pub async fn delete_webhook(&self, ctx: &Ctx, id: &WebhookId) -> CoreResult<()> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let hook = repo::webhook(&mut tx, id).await?.ok_or(CoreError::NotFound("webhook"))?;
        repo::delete_webhook(&mut tx, id).await?;
        let ev = NewEvent::success("webhook.delete", "webhook", id.as_str())
            .with_details(json!({ "name": hook.name, "host": hook.host }));
        append(&mut tx, now, ctx, ev).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues a test message to one webhook.
    pub async fn test_webhook(&self, ctx: &Ctx, id: &WebhookId) -> CoreResult<()> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let hook = repo::webhook(&mut tx, id).await?.ok_or(CoreError::NotFound("webhook"))?;
        let payload = json!({
            "text": format!("Latchkey test notification for \"{}\"", hook.name),
            "event": "webhook.test",
            "occurred_at": now,
            "data": { "webhook_id": id, "requested_by": ctx.actor.name },
        })
        .to_string();
        repo::insert_notification(&mut tx, &NotificationId::generate()?, id, "webhook.test", &payload, now).await?;
        tx.commit().await?;
        self.notifier.wake();
        Ok(())
    }

    /// Sends every notification that is due. Returns how many were delivered.
    pub async fn deliver_notifications(&self) -> CoreResult<usize> {
        let now = self.clock.now();
        let due = {
            let mut conn = self.db.pool().acquire().await?;
            repo::due(&mut conn, now, 50).await?
        };
        let mut delivered = 0;
        for d in due {
            let mut conn = self.db.pool().acquire().await?;
            if !repo::claim(&mut conn, &d.id, d.next_attempt_at, now.plus_secs(LEASE_SECS)).await? {
                continue;
            }
            let url = crypto::open(&self.keys.data_key, &owner(&d.webhook_id), &d.url_sealed)?;
            let url = String::from_utf8_lossy(&url).into_owned();
            let sent = self
                .notifier
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(d.payload.clone())
                .send()
                .await;
            let failure = match sent {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
                Err(e) => Some(describe(&e)),
            };
            let at = self.clock.now();
            match failure {
                None => {
                    repo::mark_delivered(&mut conn, &d.id, at).await?;
                    delivered += 1;
                }
                Some(err) => {
                    let attempt = d.attempts + 1;
                    let next = BACKOFF_SECS.get((attempt - 1) as usize).map(|s| at.plus_secs(*s));
                    tracing::warn!(webhook = %d.webhook_id, attempt, error = %err, "webhook delivery failed");
                    repo::mark_failed_attempt(&mut conn, &d.id, &err, next, at).await?;
                }
            }
        }
        Ok(delivered)
    }

    /// Queues "credential expiring" warnings at 14, 7 and 1 days. Each threshold is sent once per
    /// credential (recorded in the database, so replicas agree); a credential that starts inside
    /// a threshold gets only the nearest one.
    pub async fn warn_expiring(&self) -> CoreResult<usize> {
        let now = self.clock.now();
        let horizon = now.plus_days(EXPIRY_WARNINGS[0]);
        let mut tx = self.db.begin().await?;
        let mut sent = 0;
        for c in repo::expiring(&mut tx, now, horizon).await? {
            let left_ms = c.expires_at.as_millis() - now.as_millis();
            let Some(days) = EXPIRY_WARNINGS.iter().rev().copied().find(|d| left_ms <= d * 86_400_000) else {
                continue;
            };
            if c.warned.is_some_and(|w| w <= days) || !repo::record_warning(&mut tx, &c.id, days, now).await? {
                continue;
            }
            let hours = left_ms / 3_600_000;
            let text = format!(
                "Credential \"{}\" ({}) of {} in {} expires in {} h — rotate it before {}",
                c.name,
                c.key_id,
                c.application,
                c.environment,
                hours,
                c.expires_at.to_rfc3339()
            );
            let data = json!({ "credential_id": c.id, "key_id": c.key_id, "application": c.application,
                "environment": c.environment, "expires_at": c.expires_at, "threshold_days": days });
            enqueue(&mut tx, now, "credential.expiring", &text, data).await?;
            sent += 1;
        }
        tx.commit().await?;
        if sent > 0 {
            self.notifier.wake();
        }
        Ok(sent)
    }
}
