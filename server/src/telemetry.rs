//! Logging, set up once. Request logs carry the method, the path without its query string, the
//! status and the request id — never headers or bodies, so no token can reach a log line.

use latchkey_core::config::LogFormat;
use tracing_subscriber::EnvFilter;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("LATCHKEY_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower=warn,hyper=warn,leptos=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
