//! CLI subcommands. Each loads the configuration the same way the server does.

pub mod audit;
pub mod keys;
pub mod migrate;
pub mod serve;
pub mod user;

use std::sync::Arc;

use latchkey_core::clock::SystemClock;
use latchkey_core::config::Config;
use latchkey_core::storage::{Db, DbOptions};
use latchkey_core::{CoreError, Services};

pub type CmdResult = Result<std::process::ExitCode, String>;

pub fn describe(e: CoreError) -> String {
    match e {
        CoreError::Unavailable(d) | CoreError::Internal(d) => d,
        other => other.to_string(),
    }
}

/// Loads the configuration and prints what the operator must know about it.
pub fn load_config() -> Result<Config, String> {
    let (cfg, warnings) = Config::load(std::env::vars()).map_err(describe)?;
    for w in warnings.0 {
        eprintln!("latchkey: warning: {w}");
    }
    Ok(cfg)
}

/// Connects, migrates and starts the services.
pub async fn open(cfg: &Config) -> Result<Services, String> {
    let (keys, warnings) = cfg.resolve_keys().map_err(describe)?;
    for w in warnings.0 {
        eprintln!("\n{}\nlatchkey: WARNING: {w}\n{}\n", "!".repeat(78), "!".repeat(78));
    }
    let opts = DbOptions { max_connections: cfg.db_max_connections, ..DbOptions::default() };
    let db = Db::connect(&cfg.database_url, &opts).await.map_err(|e| {
        format!("cannot open the database {}: {}", latchkey_core::config::redact_url(&cfg.database_url), describe(e))
    })?;
    db.migrate().await.map_err(describe)?;
    let sso = latchkey_core::services::oidc::OidcSettings::from_config(cfg).map_err(describe)?;
    Services::start(db, Arc::new(SystemClock), keys)
        .await
        .and_then(|s| s.with_oidc(sso))
        .map(|s| s.with_request_ttl_hours(cfg.request_ttl_hours))
        .map_err(describe)
}
