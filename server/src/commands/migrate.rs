use std::process::ExitCode;

use super::{CmdResult, load_config, open};

pub async fn run() -> CmdResult {
    let cfg = load_config()?;
    let s = open(&cfg).await?;
    let envs = s.list_environments().await.map_err(super::describe)?;
    println!(
        "migrated {} ({}); environments: {}",
        latchkey_core::config::redact_url(&cfg.database_url),
        s.db.backend().as_str(),
        envs.iter().map(|e| e.slug.as_str()).collect::<Vec<_>>().join(", ")
    );
    s.db.close().await;
    Ok(ExitCode::SUCCESS)
}
