//! `/environments`: environments and their policies, with the policy editor (admins);
//! `/settings`: webhook notification sinks (admins).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::settings::{AddWebhook, EnvView, UpdatePolicy, WebhookAction, environments, settings};
use crate::components::bits::{EnvBadge, StepUpHint};
use crate::components::notice::{QueryError, loaded};

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(|| (), |_| environments());
    view! {
        <Title text="Environments" />
        <QueryError />
        {move || {
            query.read().get("saved").map(|e| view! { <p class="notice ok" role="status">{format!("The {e} policy is saved.")}</p> })
        }}
        {loaded(data, move |v| {
                            let fresh = v.step_up_fresh;
                            let any_manage = v.environments.iter().any(|e| e.can_manage);
                            view! {
                                <section class="panel" aria-labelledby="envs-title">
                                    <h1 id="envs-title">"Environments and policies"</h1>
                                    <p class="muted">
                                        "Tightening a policy applies at once. Loosening it — fewer approvals, longer lifetimes or grace, no step-up, optional blind delivery — becomes a change request another administrator must approve."
                                    </p>
                                    {(any_manage && !fresh).then(|| view! { <StepUpHint next="/environments".to_owned() /> })}
                                </section>
                                {v
                                    .environments
                                    .into_iter()
                                    .map(|env| view! { <PolicyEditor env /> })
                                    .collect_view()}
                            }
        })}
    }
}

#[component]
fn PolicyEditor(env: EnvView) -> impl IntoView {
    if !env.can_manage {
        return view! { <PolicyFacts env /> }.into_any();
    }
    let update = ServerAction::<UpdatePolicy>::new();
    let p = env.policy.clone();
    let slug = env.slug.clone();
    let f = move |name: &str| format!("{name}-{slug}");
    let class = if env.production { "panel env-panel production" } else { "panel env-panel" };
    let (env_slug, form_slug) = (env.slug.clone(), env.slug.clone());
    view! {
        <section class=class aria-label=format!("{env_slug} policy") data-env=env_slug.clone()>
            <h2>
                <EnvBadge slug=env.slug.clone() production=env.production />
                " "
                {env.name.clone()}
            </h2>
            <ActionForm action=update attr:class="form grid policy">
                <input type="hidden" name="slug" value=form_slug.clone() />
                <PolicyLimits
                    slug=env.slug.clone()
                    issue=p.issue_approvals
                    rotate=p.rotate_approvals
                    life=p.max_lifetime_days
                />
                <label for=f("dg")>"Default grace (seconds)"</label>
                <input id=f("dg") name="default_grace_seconds" type="number" min="0" value=p.default_grace_seconds />
                <label for=f("mg")>"Maximum grace (seconds)"</label>
                <input id=f("mg") name="max_grace_seconds" type="number" min="0" value=p.max_grace_seconds />
                <label for=f("bd")>"Blind delivery"</label>
                <select id=f("bd") name="blind_delivery">
                    <option value="optional" selected=p.blind_delivery == "optional">"optional"</option>
                    <option value="required" selected=p.blind_delivery == "required">"required"</option>
                </select>
                <label class="check" for=f("su")>
                    <input id=f("su") name="step_up_required" type="checkbox" checked=p.step_up_required
                        />
                    " Sensitive actions need a fresh authentication code"
                </label>
                <label for=f("why")>"Reason (required when loosening)"</label>
                <input id=f("why") name="reason" />
                <button type="submit" class="button primary">"Save policy"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

/// A policy as read-only facts, for those who may not change it.
#[component]
fn PolicyFacts(env: EnvView) -> impl IntoView {
    let p = env.policy;
    let class = if env.production { "panel env-panel production" } else { "panel env-panel" };
    view! {
        <section class=class aria-label=format!("{} policy", env.slug) data-env=env.slug.clone()>
            <h2>
                <EnvBadge slug=env.slug.clone() production=env.production />
                " "
                {env.name}
            </h2>
            <dl class="facts">
                <dt>"Approvals to issue"</dt>
                <dd>{p.issue_approvals}</dd>
                <dt>"Approvals to rotate"</dt>
                <dd>{p.rotate_approvals}</dd>
                <dt>"Maximum lifetime"</dt>
                <dd>{format!("{} days", p.max_lifetime_days)}</dd>
                <dt>"Grace (default / maximum)"</dt>
                <dd>{format!("{} s / {} s", p.default_grace_seconds, p.max_grace_seconds)}</dd>
                <dt>"Step-up for sensitive actions"</dt>
                <dd>{if p.step_up_required { "required" } else { "not required" }}</dd>
                <dt>"Blind delivery"</dt>
                <dd>{p.blind_delivery}</dd>
            </dl>
        </section>
    }
}

/// The approval and lifetime fields, with a live hint once the page is live: lowering approvals
/// or raising the lifetime will need a second administrator.
#[island]
fn PolicyLimits(slug: String, issue: i64, rotate: i64, life: i64) -> impl IntoView {
    let (new_issue, set_issue) = signal(issue);
    let (new_rotate, set_rotate) = signal(rotate);
    let (new_life, set_life) = signal(life);
    let loosens = move || new_issue.get() < issue || new_rotate.get() < rotate || new_life.get() > life;
    let num = |ev: leptos::ev::Event| event_target_value(&ev).parse::<i64>().unwrap_or(0);
    let f = move |name: &str| format!("{name}-{slug}");
    view! {
        <label for=f("ia")>"Approvals to issue"</label>
        <input id=f("ia") name="issue_approvals" type="number" min="0" max="5" value=issue
            on:input=move |ev| set_issue.set(num(ev)) />
        <label for=f("ra")>"Approvals to rotate"</label>
        <input id=f("ra") name="rotate_approvals" type="number" min="0" max="5" value=rotate
            on:input=move |ev| set_rotate.set(num(ev)) />
        <label for=f("life")>"Maximum lifetime (days)"</label>
        <input id=f("life") name="max_lifetime_days" type="number" min="1" max="3650" value=life
            on:input=move |ev| set_life.set(num(ev)) />
        <p class="hint" aria-live="polite" data-testid="loosen-hint">
            {move || {
                if loosens() {
                    "This loosens a control: saving creates a change request for a second administrator."
                } else {
                    "Lowering approvals or raising the lifetime will need a second administrator."
                }
            }}
        </p>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let act = ServerAction::<WebhookAction>::new();
    let data = Resource::new(|| (), |_| settings());
    view! {
        <Title text="Settings" />
        <QueryError />
        {loaded(data, move |v| {
                            view! {
                                <section class="panel" aria-labelledby="settings-title">
                                    <h1 id="settings-title">"Settings"</h1>
                                    <dl class="facts">
                                        <dt>"Single sign-on"</dt>
                                        <dd>{if v.sso_enabled { "configured" } else { "not configured (LATCHKEY_OIDC_ISSUER)" }}</dd>
                                    </dl>
                                    {(!v.step_up_fresh).then(|| view! { <StepUpHint next="/settings".to_owned() /> })}
                                </section>
                                <section class="panel" aria-labelledby="hooks-title">
                                    <h2 id="hooks-title">"Webhook notifications"</h2>
                                    <p class="muted">
                                        "Slack-compatible JSON for requests awaiting approval, decisions, emergency revokes and expiring credentials. Delivered with retries; a URL is never shown again once saved."
                                    </p>
                                    <table class="table" data-testid="webhooks">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Host"</th>
                                                <th scope="col">"Events"</th>
                                                <th scope="col">"Delivered / pending / failed"</th>
                                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {v
                                                .webhooks
                                                .into_iter()
                                                .map(|w| {
                                                    let (tid, did) = (w.id.clone(), w.id.clone());
                                                    view! {
                                                        <tr>
                                                            <th scope="row">{w.name}</th>
                                                            <td>{w.host}</td>
                                                            <td>{if w.events.is_empty() { "all".to_owned() } else { w.events.join(" ") }}</td>
                                                            <td>
                                                                {format!("{} / {} / {}", w.delivered, w.pending, w.failed)}
                                                                {w.last_error.map(|e| view! { <br /><span class="muted">{format!("last error: {e}")}</span> })}
                                                            </td>
                                                            <td>
                                                                <ActionForm action=act attr:class="inline">
                                                                    <input type="hidden" name="id" value=tid />
                                                                    <button type="submit" name="action" value="test" class="button">"Send test"</button>
                                                                </ActionForm>
                                                                <ActionForm action=act attr:class="inline">
                                                                    <input type="hidden" name="id" value=did />
                                                                    <button type="submit" name="action" value="delete" class="button danger">"Remove"</button>
                                                                </ActionForm>
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                    <h3>"Add a webhook"</h3>
                                    <ActionForm action=add attr:class="form grid">
                                        <label for="hook-name">"Name"</label>
                                        <input id="hook-name" name="name" required placeholder="on-call" />
                                        <label for="hook-url">"URL"</label>
                                        <input id="hook-url" name="url" type="url" required placeholder="https://hooks.slack.com/services/…" />
                                        <label for="hook-events">"Events (space-separated; empty for all)"</label>
                                        <input id="hook-events" name="events" placeholder=v.kinds.join(" ") />
                                        <button type="submit" class="button primary">"Add webhook"</button>
                                    </ActionForm>
                                </section>
                            }
        })}
    }
}
