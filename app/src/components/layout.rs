//! The page frame: header, main landmark, footer. Marks the document once hydration has run so
//! tests (and people debugging) can tell a live page from server-rendered HTML.

use leptos::prelude::*;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <div class="app" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"⌗"</span>
                    " Latchkey"
                </a>
            </header>
            <main id="main" class="content">{children()}</main>
            <footer class="footer">
                <span>"Latchkey — API credential control plane"</span>
            </footer>
        </div>
    }
}
