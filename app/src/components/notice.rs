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

/// The error a form post came back with (`?error=<code>&detail=<message>`), if any.
#[component]
pub fn QueryError() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || {
        let q = query.read();
        q.get("error").map(|code| {
            let detail = q.get("detail").filter(|d| !d.is_empty());
            view! {
                <p class="notice error" role="alert" data-code=code.clone()>
                    {explain(&code)}
                    {detail.map(|d| view! { " " <span class="detail">{d}</span> })}
                </p>
            }
        })
    }
}

/// A page's data once loaded; on error (signed out, forbidden, gone) the sign-in prompt or the
/// error instead.
pub fn loaded<T, V>(data: Resource<Result<T, AppError>>, show: impl Fn(T) -> V + Send + Sync + 'static) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                data.get()
                    .map(|r| match r {
                        Err(error) => view! { <NeedsSignIn error /> }.into_any(),
                        Ok(v) => show(v).into_any(),
                    })
            }}
        </Suspense>
    }
}

/// What a page shows when its data could not be loaded.
#[component]
pub fn NeedsSignIn(error: AppError) -> impl IntoView {
    let sign_in = matches!(error.code.as_str(), "unauthenticated" | "mfa_required");
    view! {
        <section class="panel narrow">
            <ErrorNotice error />
            {sign_in.then(|| view! { <p><a class="button primary" href="/login">"Sign in"</a></p> })}
        </section>
    }
}

/// An error box for a server function's error: its own message when it has one.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let text = if error.message.is_empty() { explain(&error.code).to_owned() } else { error.message.clone() };
    view! { <p class="notice error" role="alert" data-code=error.code.clone()>{text}</p> }
}
