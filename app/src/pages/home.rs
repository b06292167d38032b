//! The landing page of a fresh installation: what Latchkey is and how to create the first admin.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Welcome" />
        <section class="panel" aria-labelledby="welcome-title">
            <h1 id="welcome-title">"Latchkey console"</h1>
            <p class="lead">
                "Issue, rotate and revoke API credentials per environment, with four-eyes approvals and a tamper-evident audit log."
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
                "Services verify credentials with " <code>"POST /api/v1/verify"</code>
                " and the token in the " <code>"Authorization: Bearer"</code> " header."
            </p>
        </section>
    }
}
