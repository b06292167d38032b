//! The console's routes.

use leptos::prelude::*;
use leptos_meta::{Stylesheet, Title, provide_meta_context};
use leptos_router::StaticSegment;
use leptos_router::components::{Route, Router, Routes};

use crate::components::layout::Layout;
use crate::pages::{home::HomePage, not_found::NotFound};

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="latchkey" href="/pkg/latchkey.css" />
        <Title formatter=|t: String| if t.is_empty() { "Latchkey".to_owned() } else { format!("{t} · Latchkey") } />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage />
                </Routes>
            </Layout>
        </Router>
    }
}
