//! Small shared pieces: environment and status badges, the step-up hint, timestamps.

use leptos::prelude::*;

/// An environment's name; production is unmistakable wherever it appears.
#[component]
pub fn EnvBadge(slug: String, production: bool) -> impl IntoView {
    let class = if production { "env env-production" } else { "env" };
    let title = if production { "production environment" } else { "non-production environment" };
    view! { <span class=class title=title>{slug}</span> }
}

/// `active`, `grace`, `expired`, `revoked`, or a request status.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let class = format!("status status-{status}");
    view! { <span class=class>{status}</span> }
}

/// Shown where the next action needs a fresh authentication code.
#[component]
pub fn StepUpHint(next: String) -> impl IntoView {
    view! {
        <p class="notice">
            "This needs a fresh authentication code. "
            <a href=format!("/step-up?next={next}")>"Confirm it is you"</a>
        </p>
    }
}

/// An RFC 3339 instant shown to the minute, in UTC (the audit log's time zone).
pub fn when(ts: &str) -> String {
    ts.get(..16).map(|s| format!("{} UTC", s.replace('T', " "))).unwrap_or_else(|| ts.to_owned())
}
