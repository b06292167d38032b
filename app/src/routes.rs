//! The console's routes.

use leptos::prelude::*;
use leptos_meta::{Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::components::layout::Layout;
use crate::pages::account::AccountPage;
use crate::pages::applications::{ApplicationPage, ApplicationsPage, CredentialsPage};
use crate::pages::audit::AuditLogPage;
use crate::pages::credential::CredentialPage;
use crate::pages::login::LoginPage;
use crate::pages::members::MembersPage;
use crate::pages::requests::{RequestPage, RequestsPage};
use crate::pages::settings::{EnvironmentsPage, SettingsPage};
use crate::pages::step_up::StepUpPage;
use crate::pages::{home::HomePage, not_found::NotFound};

/// Pages render completely on the server before they are sent (`SsrMode::Async`): every page
/// works with JavaScript off, and a page can still set its status and headers.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="latchkey" href="/pkg/latchkey.css" />
        <Title formatter=|t: String| if t.is_empty() { "Latchkey".to_owned() } else { format!("{t} · Latchkey") } />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") ssr=SsrMode::Async view=HomePage />
                    <Route path=StaticSegment("login") ssr=SsrMode::Async view=LoginPage />
                    <Route path=StaticSegment("step-up") ssr=SsrMode::Async view=StepUpPage />
                    <Route path=StaticSegment("account") ssr=SsrMode::Async view=AccountPage />
                    <Route path=StaticSegment("members") ssr=SsrMode::Async view=MembersPage />
                    <Route path=StaticSegment("applications") ssr=SsrMode::Async view=ApplicationsPage />
                    <Route
                        path=(StaticSegment("applications"), ParamSegment("id"))
                        ssr=SsrMode::Async
                        view=ApplicationPage
                    />
                    <Route path=StaticSegment("credentials") ssr=SsrMode::Async view=CredentialsPage />
                    <Route
                        path=(StaticSegment("credentials"), ParamSegment("id"))
                        ssr=SsrMode::Async
                        view=CredentialPage
                    />
                    <Route path=StaticSegment("requests") ssr=SsrMode::Async view=RequestsPage />
                    <Route path=(StaticSegment("requests"), ParamSegment("id")) ssr=SsrMode::Async view=RequestPage />
                    <Route path=StaticSegment("environments") ssr=SsrMode::Async view=EnvironmentsPage />
                    <Route path=StaticSegment("settings") ssr=SsrMode::Async view=SettingsPage />
                    <Route path=StaticSegment("audit") ssr=SsrMode::Async view=AuditLogPage />
                </Routes>
            </Layout>
        </Router>
    }
}
