//! tower-sessions' store, backed by our database (both engines), so any replica serves any
//! session. Rows are keyed by the SHA-256 of the session id; `save` never resurrects a session
//! that was deleted meanwhile (logout, user disabled).

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::domain::audit::hex32;
use crate::domain::time::Timestamp;
use crate::storage::{Db, sessions as repo};

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

pub(crate) fn id_hash(id: &Id) -> String {
    hex32::encode(&Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry_ms(r: &Record) -> i64 {
    i64::try_from(r.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn user_of(r: &Record) -> Option<&str> {
    r.data.get(super::auth::SESSION_KEY).and_then(|v| v.get("user_id")).and_then(|v| v.as_str())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let mut conn = self.db.pool().acquire().await.map_err(backend)?;
        let now = Timestamp::now_system().as_millis();
        // Ids are 128 random bits; a collision is retried, never overwritten.
        for _ in 0..8 {
            if repo::insert(&mut conn, &id_hash(&record.id), user_of(record), &data, expiry_ms(record), now)
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(session_store::Error::Backend("could not allocate a session id".into()))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let mut conn = self.db.pool().acquire().await.map_err(backend)?;
        let now = Timestamp::now_system().as_millis();
        repo::update(&mut conn, &id_hash(&record.id), user_of(record), &data, expiry_ms(record), now)
            .await
            .map_err(backend)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let mut conn = self.db.pool().acquire().await.map_err(backend)?;
        let Some((data, expires)) =
            repo::load(&mut conn, &id_hash(session_id), Timestamp::now_system().as_millis()).await.map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires) * 1_000_000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *session_id, data, expiry_date }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let mut conn = self.db.pool().acquire().await.map_err(backend)?;
        repo::delete(&mut conn, &id_hash(session_id)).await.map_err(backend)
    }
}
