use std::process::ExitCode;

use super::{CmdResult, describe, load_config, open};

pub async fn verify() -> CmdResult {
    let cfg = load_config()?;
    let s = open(&cfg).await?;
    let report = s.audit_verify().await.map_err(describe)?;
    s.db.close().await;
    println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    if report.ok {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "latchkey: the audit log is broken at seq {}: {}",
            report.first_broken_seq.unwrap_or_default(),
            report.problem.as_deref().unwrap_or("")
        );
        Ok(ExitCode::from(2))
    }
}
