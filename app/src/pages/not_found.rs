//! The 404 page. Sets the HTTP status when rendered on the server.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <section class="panel">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/">"Back to the console"</a></p>
        </section>
    }
}
