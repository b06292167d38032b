//! Storage: one layer over sqlx's `Any` driver that runs the same SQL on SQLite (embedded default)
//! and PostgreSQL (production, several replicas). Repository functions take a connection so the
//! calling service owns the transaction; this layer never decides what commits together.

pub mod applications;
pub mod audit;
pub mod credentials;
pub mod environments;
pub mod mfa;
pub mod notifications;
pub mod oidc;
pub mod requests;
pub mod sessions;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::{CoreError, CoreResult};

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;
pub type Conn = sqlx::AnyConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> CoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(CoreError::validation("database_url must start with sqlite:// or postgres://"))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A connection pool and the engine behind it.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout: Duration::from_secs(5) }
    }
}

impl Db {
    pub async fn connect(url: &str, opts: &DbOptions) -> CoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url_creating_file(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let connect = AnyConnectOptions::from_str(&url)
            .map_err(|_| CoreError::validation("database_url is not a valid database URL"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the single writer; FULL sync makes an
                        // acknowledged revocation survive power loss; foreign keys are off by default.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies the migrations for this engine.
    pub async fn migrate(&self) -> CoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => CoreError::from(inner),
            other => CoreError::internal(format!("migration failed: {other}")),
        })
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads then writes fails with "busy" under concurrency instead
    /// of waiting.
    pub async fn begin(&self) -> CoreResult<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// A cheap round trip for readiness checks.
    pub async fn ping(&self) -> CoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sqlite://path` → `sqlite://path?mode=rwc`, creating the parent directory.
fn sqlite_url_creating_file(url: &str) -> CoreResult<String> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (file, query) = path.split_once('?').unwrap_or((path, ""));
    if let Some(parent) = Path::new(file).parent().filter(|p| file != ":memory:" && !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            CoreError::Unavailable(format!("cannot create database directory {}: {e}", parent.display()))
        })?;
    }
    if query.contains("mode=") {
        Ok(url.to_owned())
    } else if query.is_empty() {
        Ok(format!("sqlite://{file}?mode=rwc"))
    } else {
        Ok(format!("sqlite://{file}?{query}&mode=rwc"))
    }
}

/// A bind value for queries assembled at run time (filters with optional conditions).
#[derive(Debug, Clone)]
pub enum Arg {
    S(String),
    I(i64),
}

pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &'q [Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::S(s) => q.bind(s.as_str()),
            Arg::I(i) => q.bind(*i),
        };
    }
    q
}

/// Booleans are stored as 0/1 so the Any driver reads them on both engines.
pub(crate) fn b2i(b: bool) -> i64 {
    i64::from(b)
}
