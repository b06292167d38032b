use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use latchkey_core::Services;
use latchkey_core::config::Config;

use super::{CmdResult, describe, load_config, open};
use crate::state::AppState;

pub fn state(services: Services, cfg: &Config) -> AppState {
    AppState::new(services, &cfg.public_url, cfg.verify_rate_per_second, cfg.verify_burst)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

pub async fn run() -> CmdResult {
    let cfg = load_config()?;
    crate::telemetry::init(cfg.log_format);
    let services = open(&cfg).await?;
    services.spawn_background(Duration::from_millis(cfg.revocation_poll_ms));
    let listener =
        tokio::net::TcpListener::bind(cfg.listen).await.map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    let users = services.user_count().await.map_err(describe)?;
    tracing::info!(
        listen = %cfg.listen,
        storage = services.db.backend().as_str(),
        credentials_cached = services.verifier.len(),
        console_bundle = crate::http::assets::has_bundle(),
        "Latchkey is listening on {}",
        cfg.public_url
    );
    if users == 0 {
        eprintln!(
            "\nNo users yet. Create the first administrator in another terminal:\n  \
             printf '%s' 'a long passphrase' | latchkey user create --username admin --role admin --password-stdin\n"
        );
    }
    let app = crate::http::router(state(services.clone(), &cfg));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    services.db.close().await;
    Ok(ExitCode::SUCCESS)
}
