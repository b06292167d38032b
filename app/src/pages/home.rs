//! `/`: for visitors, what Latchkey is and how to start; for signed-in users, where to go.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::signin::{Stage, sign_in_state};

#[component]
pub fn HomePage() -> impl IntoView {
    let state = Resource::new(|| (), |_| sign_in_state());
    view! {
        <Title text="Welcome" />
        <Suspense fallback=|| ()>
            {move || {
                state
                    .get()
                    .map(|r| match r.ok().map(|s| (s.stage, s.display_name)) {
                        Some((Stage::SignedIn, name)) => {
                            view! {
                                <section class="panel" aria-labelledby="home-title">
                                    <h1 id="home-title">"Welcome, " {name.unwrap_or_default()}</h1>
                                    <p class="lead">"Latchkey console"</p>
                                    <ul class="links">
                                        <li>
                                            <a href="/account">"My account"</a>
                                        </li>
                                        <li>
                                            <a href="/members">"Members and roles"</a>
                                        </li>
                                    </ul>
                                </section>
                            }
                                .into_any()
                        }
                        _ => view! { <Landing /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn Landing() -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="welcome-title">
            <h1 id="welcome-title">"Latchkey console"</h1>
            <p class="lead">
                "Issue, rotate and revoke API credentials per environment, with four-eyes approvals and a tamper-evident audit log."
            </p>
            <p>
                <a class="button primary" href="/login">
                    "Sign in"
                </a>
            </p>
            <h2>"First start"</h2>
            <ol class="steps">
                <li>
                    "Create the first administrator on the server: "
                    <code>"latchkey user create --username admin --role admin --password-stdin"</code>
                </li>
                <li>"Sign in with that account and enrol an authenticator app (TOTP)."</li>
                <li>"Configure single sign-on, then invite your operators and auditors."</li>
            </ol>
            <p class="muted">
                "Services verify credentials with " <code>"POST /api/v1/verify"</code> " and the token in the "
                <code>"Authorization: Bearer"</code> " header."
            </p>
        </section>
    }
}
