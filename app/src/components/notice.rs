//! Error and status messages, with the same wording whether they come from an action's result
//! (JavaScript on) or from `?error=<code>` after a plain form post (JavaScript off).

use leptos::prelude::*;

use crate::error::AppError;

/// Plain words for each error code.
pub fn explain(code: &str) -> &'static str {
    match code {
        "unauthenticated" => "That did not work. Check what you entered and try again.",
        "mfa_required" => "Finish signing in with your authentication code first.",
        "step_up_required" => "Confirm with a fresh authentication code, then try again.",
        "forbidden" => "Your role does not allow this.",
        "csrf_rejected" => "This request did not come from the console. Reload the page and try again.",
        "not_found" => "That no longer exists.",
        "approval_required" => "This change needs a second administrator's approval.",
        "conflict" => "That conflicts with the current state. Reload and try again.",
        "validation_failed" => "Some of what you entered is not valid.",
        "rate_limited" => "Too many attempts. Wait a few minutes, then try again.",
        "unavailable" => "The service is unavailable right now. Nothing was changed; try again shortly.",
        _ => "Something went wrong. Nothing was changed.",
    }
}

/// An error box for a code from the query string.
#[component]
pub fn ErrorCode(code: String) -> impl IntoView {
    view! { <p class="notice error" role="alert">{explain(&code)}</p> }
}

/// An error box for a server function's error: its own message when it has one.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let text = if error.message.is_empty() { explain(&error.code).to_owned() } else { error.message.clone() };
    view! { <p class="notice error" role="alert" data-code=error.code.clone()>{text}</p> }
}
