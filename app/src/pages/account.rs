//! `/account`: who I am, my roles, my MFA status, sign out.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::me;
use crate::components::notice::NeedsSignIn;
use crate::pages::login::SignOutLink;

#[component]
pub fn AccountPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| me());
    view! {
        <Title text="My account" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                me.get()
                    .map(|r| match r {
                        Err(e) => view! { <NeedsSignIn error=e /> }.into_any(),
                        Ok(m) => {
                            view! {
                                <section class="panel" aria-labelledby="account-title">
                                    <h1 id="account-title">{m.display_name.clone()}</h1>
                                    <dl class="facts">
                                        <dt>"Sign-in"</dt>
                                        <dd>
                                            {match (&m.username, &m.issuer) {
                                                (Some(u), _) => format!("local account {u}"),
                                                (None, Some(i)) => format!("single sign-on via {i}"),
                                                _ => "—".to_owned(),
                                            }}
                                        </dd>
                                        <dt>"E-mail"</dt>
                                        <dd>{m.email.clone().unwrap_or_else(|| "—".into())}</dd>
                                        <dt>"Recovery codes left"</dt>
                                        <dd data-testid="recovery-left">{m.recovery_codes_left}</dd>
                                        <dt>"Sensitive actions"</dt>
                                        <dd>
                                            {if m.step_up_fresh {
                                                format!("confirmed until {}", m.step_up_until)
                                            } else {
                                                "need a fresh code".to_owned()
                                            }} " " <a href="/step-up?next=/account">"Confirm now"</a>
                                        </dd>
                                    </dl>
                                    <h2>"Roles"</h2>
                                    {if m.grants.is_empty() {
                                        view! { <p>"No roles yet. An administrator grants them."</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="grants" data-testid="my-grants">
                                                {m
                                                    .grants
                                                    .iter()
                                                    .map(|g| {
                                                        view! {
                                                            <li>
                                                                <span class="badge">{g.role.clone()}</span>
                                                                " in "
                                                                {g.environment.clone().unwrap_or_else(|| "every environment".into())}
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        }
                                            .into_any()
                                    }}
                                    <SignOutLink />
                                </section>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
}
