//! The Leptos console: server-rendered pages and the context server functions run with.

use axum::extract::{Request, State};
use axum::response::Response;
use leptos::prelude::provide_context;

use crate::state::AppState;

/// What every page render and server function call gets in its reactive context.
pub fn context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let services = state.services.clone();
    move || {
        provide_context(services.clone());
        // A fresh nonce per response; the shell puts it in the CSP header and the script tag.
        leptos::nonce::provide_nonce();
    }
}

/// Any path no other route claims: the console renders its "not found" page with status 404.
pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let options = state.leptos.clone();
    let render = leptos_axum::render_app_to_stream_with_context(context(&state), move || app::shell(options.clone()));
    render(req).await
}
