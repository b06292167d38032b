//! Services: every command runs in one transaction that holds the change and its audit event, so
//! both commit or neither does. Services own transactions; repositories only run statements.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod credentials;
pub mod environments;
pub mod notify;
pub mod oidc;
pub mod requests;
pub mod session_store;
pub mod users;
pub mod verifier;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::error::CoreResult;
use crate::secrets::Keys;
use crate::storage::Db;
use verifier::Verifier;

/// Everything a command needs. Cheap to clone; shared by HTTP handlers and server functions.
#[derive(Debug, Clone)]
pub struct Services {
    pub db: Db,
    pub clock: SharedClock,
    pub keys: Arc<Keys>,
    pub verifier: Arc<Verifier>,
    /// Single sign-on, when configured.
    pub oidc: Option<Arc<oidc::Oidc>>,
    pub notifier: Arc<notify::Notifier>,
    /// How long a change request stays actionable (PRODUCT: 24 h by default).
    pub request_ttl_secs: i64,
}

impl Services {
    /// Builds the services over a migrated database and loads the verifier cache.
    pub async fn start(db: Db, clock: SharedClock, keys: Keys) -> CoreResult<Self> {
        let s = Self {
            db,
            clock,
            keys: Arc::new(keys),
            verifier: Arc::new(Verifier::default()),
            oidc: None,
            notifier: Arc::new(notify::Notifier::new()?),
            request_ttl_secs: crate::domain::request::DEFAULT_TTL_SECS,
        };
        s.ensure_default_environments().await?;
        s.verifier.load(&s.db, s.clock.now()).await?;
        Ok(s)
    }

    /// Sets how long change requests stay actionable.
    pub fn with_request_ttl_hours(mut self, hours: u64) -> Self {
        self.request_ttl_secs = i64::try_from(hours).unwrap_or(24).saturating_mul(3600);
        self
    }

    /// Enables single sign-on.
    pub fn with_oidc(mut self, settings: Option<oidc::OidcSettings>) -> CoreResult<Self> {
        self.oidc = settings.map(oidc::Oidc::new).transpose()?;
        Ok(self)
    }

    /// Deletes sessions past their expiry and abandoned SSO flows.
    pub async fn purge_expired(&self) -> CoreResult<u64> {
        let mut conn = self.db.pool().acquire().await?;
        let now = crate::domain::time::Timestamp::now_system().as_millis();
        let sessions = crate::storage::sessions::delete_expired(&mut conn, now).await?;
        let flows =
            crate::storage::oidc::delete_older_than(&mut conn, self.clock.now().as_millis() - oidc::FLOW_TTL_MS)
                .await?;
        Ok(sessions + flows)
    }

    /// Follows the change feed so revocations made on other replicas take effect here within
    /// `poll`. Runs until the process ends.
    pub fn spawn_background(&self, poll: Duration) -> tokio::task::JoinHandle<()> {
        self.spawn_notifications();
        let s = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_checkpoint = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                if let Err(e) = s.verifier.refresh(&s.db).await {
                    tracing::warn!(error = %e, "verifier refresh failed; will retry");
                }
                if last_checkpoint.elapsed() >= Duration::from_secs(60) {
                    last_checkpoint = tokio::time::Instant::now();
                    if let Err(e) = s.audit_checkpoint().await {
                        tracing::warn!(error = %e, "audit checkpoint failed; will retry");
                    }
                    if let Err(e) = s.purge_expired().await {
                        tracing::warn!(error = %e, "purging expired sessions failed; will retry");
                    }
                }
            }
        })
    }

    /// Sends queued notifications: at once when a commit wakes it, and every second for retries;
    /// queues expiry warnings every minute.
    pub fn spawn_notifications(&self) -> tokio::task::JoinHandle<()> {
        let s = self.clone();
        tokio::spawn(async move {
            let mut last_expiry_check: Option<tokio::time::Instant> = None;
            loop {
                if last_expiry_check.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                    last_expiry_check = Some(tokio::time::Instant::now());
                    if let Err(e) = s.warn_expiring().await {
                        tracing::warn!(error = %e, "expiry warnings failed; will retry");
                    }
                }
                if let Err(e) = s.deliver_notifications().await {
                    tracing::warn!(error = %e, "notification delivery failed; will retry");
                }
                let _ = tokio::time::timeout(Duration::from_secs(1), s.notifier.woken()).await;
            }
        })
    }
}
