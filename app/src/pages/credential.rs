//! `/credentials/:id`: status, scopes, expiry, lineage, timeline; rotate (or request a rotation),
//! end grace, revoke, emergency revoke; the secret, once, right after it was created.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::credentials::{CredDetail, EndGrace, EventRow, RevokeCredential, RotateCredential, credential_detail};
use crate::components::bits::{EnvBadge, StatusBadge, when};
use crate::components::notice::{QueryError, loaded};

#[component]
pub fn CredentialPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, credential_detail);
    view! {
        <Title text="Credential" />
        <QueryError />
        {loaded(data, |d| view! { <Detail d /> })}
    }
}

/// The secret, this once: copy it into the consuming service's secret store now.
#[component]
fn SecretOnce(secret: String, id: String) -> impl IntoView {
    let secret_copy = secret.clone();
    view! {
        <section class="panel secret-once" role="alert" aria-labelledby="secret-title">
            <h2 id="secret-title">"Copy the secret now — it will not be shown again"</h2>
            <p>
                "Latchkey keeps only a hash. Put this in the consuming service's secret store; if it is lost, rotate."
            </p>
            <pre class="secret" data-testid="secret">{secret}</pre>
            <p class="row">
                <CopyButton value=secret_copy />
                <a class="button primary" href=format!("/credentials/{id}")>
                    "I have stored it"
                </a>
            </p>
        </section>
    }
}

/// Copies a value to the clipboard (only once the page is live; the value is selectable anyway).
#[island]
fn CopyButton(value: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&value);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &value;
        copied.set(true);
    };
    view! {
        <button type="button" class="button" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

#[component]
fn Detail(d: CredDetail) -> impl IntoView {
    let query = use_query_map();
    let c = d.cred.clone();
    let live = c.status == "active" || c.status == "grace";
    let replacement = format!(
        "/applications/{}?env={}&name={}&scopes={}#issue",
        c.application_id,
        c.environment,
        c.name.replace(' ', "+"),
        c.scopes.join("+")
    );
    let cid = c.id.clone();
    view! {
        {d.secret.clone().map(|secret| view! { <SecretOnce secret id=cid.clone() /> })}
        {query
            .read_untracked()
            .get("revoked")
            .map(|_| {
                view! {
                    <p class="notice ok" role="status">
                        "Revoked: this key stops verifying on the very next call. "
                        <a href=replacement.clone() data-testid="replacement">
                            "Request a replacement"
                        </a>
                        " (it follows the normal approval policy)."
                    </p>
                }
            })}
        <section class="panel" aria-labelledby="cred-title" data-status=c.status.clone()>
            <p class="crumbs">
                <a href=format!("/applications/{}", c.application_id)>{c.application.clone()}</a>
            </p>
            <h1 id="cred-title">
                <code>{c.prefix.clone()}</code>
                " "
                <StatusBadge status=c.status.clone() />
            </h1>
            <dl class="facts">
                <dt>"Name"</dt>
                <dd>{c.name.clone()}</dd>
                <dt>"Environment"</dt>
                <dd>
                    <EnvBadge slug=c.environment.clone() production=c.production />
                </dd>
                <dt>"Scopes"</dt>
                <dd>{if c.scopes.is_empty() { "—".to_owned() } else { c.scopes.join(" ") }}</dd>
                <dt>"Created"</dt>
                <dd>
                    {when(&c.created_at)} " by " {d.created_by.clone()}
                    {d
                        .created_via_request
                        .clone()
                        .map(|r| {
                            view! {
                                " via "
                                <a href=format!("/requests/{r}")>"an approved request"</a>
                            }
                        })}
                </dd>
                <dt>"Expires"</dt>
                <dd>{when(&c.expires_at)}</dd>
                {c
                    .grace_until
                    .clone()
                    .map(|g| view! {
                        <dt>"Grace until"</dt>
                        <dd>{when(&g)}</dd>
                    })}
                <dt>"Last used"</dt>
                <dd>
                    {c.last_used_at.as_deref().map(when).unwrap_or_else(|| "never".into())}
                    {d.last_used_ip.clone().map(|ip| format!(" from {ip}"))}
                </dd>
                {d
                    .revoked
                    .clone()
                    .map(|(at, by, reason)| view! {
                        <dt>"Revoked"</dt>
                        <dd>{format!("{} by {by}: {reason}", when(&at))}</dd>
                    })}
                {d
                    .rotated_from
                    .clone()
                    .map(|p| view! {
                        <dt>"Replaces"</dt>
                        <dd>
                            <a href=format!("/credentials/{p}")>{p.clone()}</a>
                        </dd>
                    })}
                {d
                    .rotated_to
                    .clone()
                    .map(|n| view! {
                        <dt>"Replaced by"</dt>
                        <dd>
                            <a href=format!("/credentials/{n}")>{n.clone()}</a>
                        </dd>
                    })}
            </dl>
        </section>
        {(live && (d.can_request || d.can_revoke)).then(|| view! { <Actions d=d.clone() /> })}
        <section class="panel" aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Timeline"</h2>
            <EventTable events=d.timeline.clone() />
        </section>
    }
}

/// Forms are plain posts to server functions (pages are server-rendered): each ends in a redirect.
#[component]
fn Actions(d: CredDetail) -> impl IntoView {
    let rotate = ServerAction::<RotateCredential>::new();
    let end_grace = ServerAction::<EndGrace>::new();
    let revoke = ServerAction::<RevokeCredential>::new();
    let c = d.cred;
    let (rotate_id, grace_id, revoke_id) = (c.id.clone(), c.id.clone(), c.id.clone());
    view! {
        <section class="panel" aria-labelledby="actions-title">
            <h2 id="actions-title">"Actions"</h2>
            {(d.can_request && c.status == "active")
                .then(|| {
                    view! {
                        <details class="action">
                            <summary class="button">
                                {if d.rotate_approvals > 0 { "Request rotation" } else { "Rotate" }}
                            </summary>
                            {(d.rotate_approvals > 0)
                                .then(|| {
                                    view! {
                                        <p class="notice">
                                            {format!(
                                                "Rotation here needs {} approval(s): this creates a change request.",
                                                d.rotate_approvals,
                                            )}
                                        </p>
                                    }
                                })}
                            <ActionForm action=rotate attr:class="form grid">
                                <input type="hidden" name="credential_id" value=rotate_id.clone() />
                                <label for="grace">"Old key keeps working for (seconds)"</label>
                                <input id="grace" name="grace_seconds" type="number" min="0" value=d.default_grace_seconds />
                                <label for="rotate-reason">"Reason"</label>
                                <input id="rotate-reason" name="reason" required />
                                <button type="submit" class="button primary">
                                    {if d.rotate_approvals > 0 { "Submit request" } else { "Rotate now" }}
                                </button>
                            </ActionForm>
                        </details>
                    }
                })}
            {(d.can_revoke && c.status == "grace")
                .then(|| {
                    view! {
                        <ActionForm action=end_grace attr:class="form inline">
                            <input type="hidden" name="credential_id" value=grace_id.clone() />
                            <label for="end-grace-reason">"Reason"</label>
                            <input id="end-grace-reason" name="reason" required value="successor deployed" />
                            <button type="submit" class="button">"End grace now"</button>
                        </ActionForm>
                    }
                })}
            {d
                .can_revoke
                .then(|| {
                    view! {
                        <details class="action danger-zone">
                            <summary class="button danger" data-testid="emergency-revoke">
                                "Emergency revoke"
                            </summary>
                            <ActionForm action=revoke attr:class="form grid">
                                <input type="hidden" name="credential_id" value=revoke_id.clone() />
                                <input type="hidden" name="emergency" value="on" />
                                <label for="revoke-reason">"Reason"</label>
                                <input id="revoke-reason" name="reason" required placeholder="leaked in …" />
                                <label class="check" for="revoke-confirm">
                                    <input id="revoke-confirm" type="checkbox" required />
                                    " Stop this key now. Services using it fail on their next call; on-call is notified."
                                </label>
                                <button type="submit" class="button danger">"Revoke now"</button>
                            </ActionForm>
                        </details>
                    }
                })}
        </section>
    }
}

/// Audit events as a table (the credential timeline and the audit log page).
#[component]
pub fn EventTable(events: Vec<EventRow>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"No events."</p> }.into_any();
    }
    view! {
        <table class="table events" data-testid="events">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"Where"</th>
                    <th scope="col">"Details"</th>
                </tr>
            </thead>
            <tbody>
                {events
                    .into_iter()
                    .map(|e| {
                        let action = e.action.clone();
                        view! {
                            <tr data-action=action>
                                <td>{e.seq}</td>
                                <td>{when(&e.at)}</td>
                                <td>{e.actor}</td>
                                <td>
                                    <code>{e.action}</code>
                                    " "
                                    {(e.outcome != "success").then(|| view! { <StatusBadge status=e.outcome.clone() /> })}
                                    <br />
                                    <span class="muted">{e.target}</span>
                                </td>
                                <td>
                                    {e.environment.unwrap_or_default()}
                                    <br />
                                    <span class="muted">{e.ip.unwrap_or_default()}</span>
                                </td>
                                <td class="details">
                                    <code>{e.details}</code>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
        .into_any()
}
