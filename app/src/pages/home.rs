//! `/`: for visitors, what Latchkey is and how to start; for signed-in users, where to go.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::{DashboardView, dashboard};
use crate::components::notice::{NeedsSignIn, QueryError};
use crate::pages::applications::CredTable;
use crate::pages::credential::EventTable;
use crate::pages::requests::RequestTable;

#[component]
pub fn HomePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| dashboard());
    view! {
        <Title text="Welcome" />
        <Suspense fallback=|| ()>
            {move || {
                data.get()
                    .map(|r| match r {
                        Ok(Some(d)) => view! { <DashboardBody d /> }.into_any(),
                        Ok(None) => view! { <Landing /> }.into_any(),
                        Err(error) => view! { <NeedsSignIn error /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// What each role needs first: admins the approvals waiting for them; operators their requests
/// and expiring credentials; auditors recent events and the chain's status.
#[component]
fn DashboardBody(d: DashboardView) -> impl IntoView {
    let admin = d.role == "admin";
    let auditor = d.role == "auditor";
    let approvals = admin.then(|| {
        view! {
            <section class="panel" aria-labelledby="dash-inbox">
                <h2 id="dash-inbox">"Waiting for your approval"</h2>
                <RequestTable rows=d.inbox.clone() empty="Nothing waits for you." testid="dash-inbox" />
            </section>
        }
    });
    let events = view! {
        <section class="panel" aria-labelledby="dash-events">
            <h2 id="dash-events">"Recent events"</h2>
            <p class=if d.chain_ok { "notice ok" } else { "notice error" } data-testid="dash-chain">
                {if d.chain_ok {
                    format!("Audit chain verified through event {}.", d.last_seq)
                } else {
                    "The audit chain does not verify: the log was altered.".to_owned()
                }}
            </p>
            <EventTable events=d.recent.clone() />
            <p>
                <a href="/audit">"The full audit log"</a>
            </p>
        </section>
    };
    let work = (!auditor).then(|| {
        view! {
            <section class="panel" aria-labelledby="dash-mine">
                <h2 id="dash-mine">"My open requests"</h2>
                <RequestTable rows=d.my_open.clone() empty="No open requests." testid="dash-mine" />
            </section>
            <section class="panel" aria-labelledby="dash-expiring">
                <h2 id="dash-expiring">"Expiring within 14 days"</h2>
                <CredTable rows=d.expiring.clone() empty="Nothing expires soon." />
            </section>
        }
    });
    view! {
        <section class="panel" aria-labelledby="home-title">
            <h1 id="home-title">"Welcome, " {d.name.clone()}</h1>
            <QueryError />
            {d.role.is_empty().then(|| view! { <p class="notice">"You have no role yet. Ask an administrator to grant you one."</p> })}
        </section>
        {approvals}
        {if auditor { view! { {events} {work} }.into_any() } else { view! { {work} {events} }.into_any() }}
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
