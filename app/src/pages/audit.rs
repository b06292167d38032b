//! `/audit`: the audit log, newest first, filtered and paged, with the chain's status.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::audit::audit_page;
use crate::components::notice::loaded;
use crate::pages::credential::EventTable;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let data = Resource::new(
        move || (get("action"), get("environment"), get("actor"), get("before")),
        |(a, e, u, b)| audit_page(a, e, u, b),
    );
    view! {
        <Title text="Audit log" />
        <section class="panel" aria-labelledby="audit-title">
            <h1 id="audit-title">"Audit log"</h1>
            <form method="get" action="/audit" class="filters" role="search">
                <label for="f-action">"Action"</label>
                <input id="f-action" name="action" value=move || get("action") placeholder="credential.emergency_revoke" />
                <label for="f-env">"Environment"</label>
                <input id="f-env" name="environment" value=move || get("environment") />
                <label for="f-actor">"Actor id"</label>
                <input id="f-actor" name="actor" value=move || get("actor") />
                <button type="submit" class="button">"Filter"</button>
            </form>
            {loaded(data, move |p| {
                                let older = p.next_before.map(|b| {
                                    format!(
                                        "/audit?action={}&environment={}&actor={}&before={b}",
                                        get("action"),
                                        get("environment"),
                                        get("actor"),
                                    )
                                });
                                view! {
                                    <p class=if p.chain_ok { "notice ok" } else { "notice error" } data-testid="chain">
                                        {if p.chain_ok {
                                            format!("Chain verified through event {}.", p.last_seq)
                                        } else {
                                            "The chain does not verify: the log was altered. Run `latchkey audit verify`.".to_owned()
                                        }}
                                    </p>
                                    <EventTable events=p.events />
                                    {older.map(|href| view! { <p><a href=href>"Older events"</a></p> })}
                                }
            })}
        </section>
    }
}
