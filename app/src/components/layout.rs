//! The page frame: header with navigation, main landmark, footer. Marks the document once
//! hydration has run so tests (and people debugging) can tell a live page from server HTML.

use leptos::prelude::*;

use crate::api::signin::{Stage, sign_in_state};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_hydrated.set(true));
    // Re-read on every navigation: signing in or out changes what the header offers.
    let location = leptos_router::hooks::use_location();
    let state = Resource::new(move || location.pathname.get(), |_| sign_in_state());
    view! {
        <div class="app" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
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
                                        view! {
                                            {s.is_admin.then(|| view! { <a href="/members">"Members"</a> })}
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
