//! The data plane: answers "is this token valid for this environment" from memory.
//!
//! The cache holds, per key id, the HMAC of the token and what the answer needs. It is filled at
//! start and then follows the audit log's change feed: every change to a credential writes an
//! event in the same transaction, and the head-row lock makes sequence order commit order, so
//! reading events after the last applied sequence misses nothing. All cache writes happen under
//! one async lock and read the database after taking it, so a slow refresh can never put back a
//! state older than one already applied.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::Mutex;

use crate::domain::credential::{Status, StoredStatus, effective_status};
use crate::domain::environment::EnvironmentSlug;
use crate::domain::text::Scopes;
use crate::domain::time::Timestamp;
use crate::domain::token::{self, KeyId, Pepper, TokenFormatError, TokenHash};
use crate::error::CoreResult;
use crate::ids::{ApplicationId, CredentialId};
use crate::storage::{Db, audit as audit_repo, credentials as repo};

/// What is known about one live credential.
#[derive(Debug)]
pub struct Entry {
    pub id: CredentialId,
    pub application_id: ApplicationId,
    pub application: String,
    pub environment: EnvironmentSlug,
    pub scopes: Scopes,
    status: StoredStatus,
    hash: TokenHash,
    pub expires_at: Timestamp,
    pub grace_until: Option<Timestamp>,
}

impl From<repo::CacheRow> for Entry {
    fn from(r: repo::CacheRow) -> Self {
        Self {
            id: r.id,
            application_id: r.application_id,
            application: r.application,
            environment: r.environment,
            scopes: r.scopes,
            status: r.status,
            hash: r.hash,
            expires_at: r.expires_at,
            grace_until: r.grace_until,
        }
    }
}

/// Why a token did not verify. Every variant gets the same answer on the wire; the reason is for
/// metrics and anomaly detectors only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Malformed(TokenFormatError),
    WrongEnvironment,
    UnknownKey,
    SecretMismatch,
    Revoked,
    Expired,
}

#[derive(Debug)]
pub enum Verdict {
    Valid { entry: Arc<Entry>, status: Status },
    Invalid { reason: Invalid, key_id: Option<KeyId> },
}

#[derive(Debug, Default)]
pub struct Verifier {
    map: RwLock<HashMap<KeyId, Arc<Entry>>>,
    applied_seq: AtomicI64,
    writer: Mutex<()>,
}

impl Verifier {
    /// Checks a presented token. Format and checksum are checked before the cache is consulted;
    /// nothing here touches the database.
    pub fn verify(&self, pepper: &Pepper, presented: &str, environment: &str, now: Timestamp) -> Verdict {
        let parsed = match token::parse(presented) {
            Ok(p) => p,
            Err(e) => return Verdict::Invalid { reason: Invalid::Malformed(e), key_id: None },
        };
        let key_id = Some(parsed.key_id);
        if parsed.environment != environment {
            return Verdict::Invalid { reason: Invalid::WrongEnvironment, key_id };
        }
        let entry = match self.map.read() {
            Ok(m) => m.get(&parsed.key_id).cloned(),
            Err(poisoned) => poisoned.into_inner().get(&parsed.key_id).cloned(),
        };
        let Some(entry) = entry else {
            return Verdict::Invalid { reason: Invalid::UnknownKey, key_id };
        };
        if !pepper.hash(parsed.token_bytes()).ct_eq(&entry.hash) {
            return Verdict::Invalid { reason: Invalid::SecretMismatch, key_id };
        }
        if entry.environment.as_str() != environment {
            return Verdict::Invalid { reason: Invalid::WrongEnvironment, key_id };
        }
        match effective_status(entry.status, entry.expires_at, entry.grace_until, now) {
            s @ (Status::Active | Status::Grace) => Verdict::Valid { entry, status: s },
            Status::Revoked => Verdict::Invalid { reason: Invalid::Revoked, key_id },
            Status::Expired => Verdict::Invalid { reason: Invalid::Expired, key_id },
        }
    }

    /// Number of credentials held.
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last change-feed sequence applied.
    pub fn applied_seq(&self) -> i64 {
        self.applied_seq.load(Ordering::SeqCst)
    }

    fn with_map<R>(&self, f: impl FnOnce(&mut HashMap<KeyId, Arc<Entry>>) -> R) -> R {
        match self.map.write() {
            Ok(mut m) => f(&mut m),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    fn apply(&self, rows: Vec<repo::CacheRow>) {
        self.with_map(|m| {
            for r in rows {
                if r.status == StoredStatus::Revoked {
                    m.remove(&r.key_id);
                } else {
                    m.insert(r.key_id, Arc::new(Entry::from(r)));
                }
            }
        });
    }

    /// Fills the cache with every credential that can still verify.
    pub async fn load(&self, db: &Db, now: Timestamp) -> CoreResult<()> {
        let _w = self.writer.lock().await;
        let mut conn = db.pool().acquire().await?;
        // Read the head first: changes committed after it are re-read by the next refresh.
        let (seq, _) = audit_repo::head(&mut conn).await?;
        let rows = repo::cache_rows_live(&mut conn, now).await?;
        self.with_map(|m| {
            m.clear();
            m.extend(rows.into_iter().map(|r| (r.key_id, Arc::new(Entry::from(r)))));
        });
        self.applied_seq.store(seq, Ordering::SeqCst);
        Ok(())
    }

    /// Applies every change committed since the last refresh. Returns how many events it read.
    pub async fn refresh(&self, db: &Db) -> CoreResult<usize> {
        let _w = self.writer.lock().await;
        self.refresh_locked(db).await
    }

    async fn refresh_locked(&self, db: &Db) -> CoreResult<usize> {
        const BATCH: i64 = 5000;
        let mut conn = db.pool().acquire().await?;
        let mut total = 0usize;
        loop {
            let after = self.applied_seq();
            let changes = audit_repo::changes_after(&mut conn, after, BATCH).await?;
            let Some(last) = changes.last().map(|c| c.0) else { break };
            let n = changes.len();
            let mut credentials: Vec<&str> = Vec::new();
            let mut applications: Vec<&str> = Vec::new();
            for (_, target_type, target_id, _) in &changes {
                match target_type.as_str() {
                    "credential" if !credentials.contains(&target_id.as_str()) => credentials.push(target_id),
                    "application" if !applications.contains(&target_id.as_str()) => applications.push(target_id),
                    _ => {}
                }
            }
            for app in applications {
                let rows = repo::cache_rows_of_application(&mut conn, app).await?;
                self.apply(rows);
            }
            for id in credentials {
                let rows = repo::cache_rows_related(&mut conn, id).await?;
                self.apply(rows);
            }
            self.applied_seq.store(last, Ordering::SeqCst);
            total += n;
            if (n as i64) < BATCH {
                break;
            }
        }
        Ok(total)
    }

    /// Called after a revocation commits on this replica: the next verify here must already
    /// answer invalid. Refreshes from the database; if that fails, drops the keys directly
    /// (revocation is final, so dropping can never be wrong).
    pub async fn after_revocation(&self, db: &Db, key_ids: &[KeyId]) {
        let _w = self.writer.lock().await;
        self.with_map(|m| {
            for k in key_ids {
                m.remove(k);
            }
        });
        if let Err(e) = self.refresh_locked(db).await {
            tracing::warn!(error = %e, "verifier refresh after revocation failed; keys were dropped locally");
        }
    }

    /// Called after an issue or rotation commits on this replica.
    pub async fn after_change(&self, db: &Db) {
        if let Err(e) = self.refresh(db).await {
            tracing::warn!(error = %e, "verifier refresh after change failed; the poller will retry");
        }
    }
}
