//! The page frame: header with navigation, main landmark, footer. Pages are server-rendered HTML
//! (Leptos islands): only the interactive islands ship to the browser. A marker island sets
//! `data-hydrated` once they are live, so tests (and people debugging) can tell.

use leptos::prelude::*;

use crate::api::signin::{Stage, sign_in_state};
use crate::pages::applications::FindForm;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // Re-read on every navigation: signing in or out changes what the header offers.
    let location = leptos_router::hooks::use_location();
    let state = Resource::new(move || location.pathname.get(), |_| sign_in_state());
    view! {
        <div class="app" data-hydrated="false">
            <HydrationMarker />
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"⌗"</span>
                    " Latchkey"
                </a>
                <nav aria-label="Main">
                    <Suspense fallback=|| ()>
                        {move || {
                            state
                                .get()
                                .and_then(Result::ok)
                                .map(|s| match s.stage {
                                    Stage::SignedIn => {
                                        let approver = s.role == "admin";
                                        let pending = s.pending_approvals;
                                        view! {
                                            <FindForm />
                                            <a href="/applications">"Applications"</a>
                                            <a href="/credentials">"Credentials"</a>
                                            <a href="/requests" data-testid="nav-requests">
                                                {if approver { "Approvals" } else { "Requests" }}
                                                {(approver && pending > 0)
                                                    .then(|| {
                                                        view! {
                                                            " "
                                                            <span class="count" aria-label=format!("{pending} waiting")>
                                                                {pending}
                                                            </span>
                                                        }
                                                    })}
                                            </a>
                                            <a href="/audit">"Audit"</a>
                                            <a href="/environments">"Environments"</a>
                                            {s.is_admin.then(|| view! {
                                                <a href="/members">"Members"</a>
                                                <a href="/settings">"Settings"</a>
                                            })}
                                            <a href="/account">{s.display_name.unwrap_or_default()}</a>
                                        }
                                            .into_any()
                                    }
                                    _ => view! { <a href="/login">"Sign in"</a> }.into_any(),
                                })
                        }}
                    </Suspense>
                </nav>
            </header>
            <main id="main" class="content">{children()}</main>
            <footer class="footer">
                <span>"Latchkey — API credential control plane"</span>
            </footer>
        </div>
    }
}

/// Runs only in the browser, once the islands have hydrated.
#[island]
fn HydrationMarker() -> impl IntoView {
    Effect::new(move |_| {
        if let Ok(Some(app)) = document().query_selector(".app") {
            let _ = app.set_attribute("data-hydrated", "true");
        }
    });
}
