//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// The process is up. Touches nothing else (the baseline for the verify benchmark).
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers: this replica can serve.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.db.ping().await {
        Ok(()) => Json(json!({
            "status": "ready",
            "storage": state.services.db.backend().as_str(),
            "credentials_cached": state.services.verifier.len(),
        }))
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable" }))).into_response()
        }
    }
}
