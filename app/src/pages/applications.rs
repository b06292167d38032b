//! `/applications`: search, create, and find a leaked token; `/applications/:id`: credentials per
//! environment, issue (or request) a credential, emergency revoke-all.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::credentials::{
    CreateApplication, CredRow, EnvBlock, FindCredential, IssueCredential, RevokeAll, application_detail, applications,
    credentials_page,
};
use crate::components::bits::{EnvBadge, StatusBadge, when};
use crate::components::notice::{QueryError, loaded};

/// The "paste a leaked token" box in the header of every page: the on-call engineer's way in.
#[component]
pub fn FindForm() -> impl IntoView {
    let find = ServerAction::<FindCredential>::new();
    view! {
        <ActionForm action=find attr:class="global-search" attr:role="search">
            <label for="find-q" class="visually-hidden">
                "Find a credential by token, prefix or key id"
            </label>
            <input
                id="find-q"
                name="q"
                type="search"
                placeholder="Find: paste a token or prefix"
                autocomplete="off"
                spellcheck="false"
                required
            />
            <button type="submit" class="button">"Find"</button>
        </ActionForm>
    }
}

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let data = Resource::new(q, applications);
    view! {
        <Title text="Applications" />
        <section class="panel" aria-labelledby="apps-title">
            <h1 id="apps-title">"Applications"</h1>
            <QueryError />
            <form method="get" action="/applications" class="search">
                <label for="apps-q">"Search applications"</label>
                <input id="apps-q" name="q" type="search" value=q />
                <button type="submit" class="button">"Search"</button>
            </form>
            {loaded(data, move |v| {
                                view! {
                                    <table class="table" data-testid="applications">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Owner"</th>
                                                <th scope="col">"Description"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {v
                                                .apps
                                                .into_iter()
                                                .map(|a| {
                                                    view! {
                                                        <tr>
                                                            <th scope="row">
                                                                <a href=format!("/applications/{}", a.id)>{a.name}</a>
                                                            </th>
                                                            <td>{a.owner}</td>
                                                            <td class="muted">{a.description}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                    {v.can_create.then(|| view! { <CreateForm /> })}
                                }
            })}
        </section>
    }
}

#[component]
fn CreateForm() -> impl IntoView {
    let create = ServerAction::<CreateApplication>::new();
    view! {
        <h2>"New application"</h2>
        <ActionForm action=create attr:class="form grid">
            <label for="app-name">"Name"</label>
            <input id="app-name" name="name" required pattern="[a-z0-9][a-z0-9._\\-]*" placeholder="payments-backend" />
            <label for="app-owner">"Owner"</label>
            <input id="app-owner" name="owner" required placeholder="team-payments" />
            <label for="app-desc">"Description"</label>
            <input id="app-desc" name="description" />
            <button type="submit" class="button primary">"Create application"</button>
        </ActionForm>
    }
}

#[component]
pub fn ApplicationPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, application_detail);
    view! {
        <Title text="Application" />
        {loaded(data, move |d| {
                            let app_id = d.app.id.clone();
                            view! {
                                <section class="panel" aria-labelledby="app-title">
                                    <p class="crumbs">
                                        <a href="/applications">"Applications"</a>
                                    </p>
                                    <h1 id="app-title">{d.app.name.clone()}</h1>
                                    <p class="muted">{d.app.owner.clone()} " · " {d.app.description.clone()}</p>
                                    <QueryError />
                                    {move || {
                                        query
                                            .read()
                                            .get("revoked")
                                            .map(|n| {
                                                view! {
                                                    <p class="notice ok" role="status">
                                                        {format!("Revoked {n} credential(s). They stop verifying now.")}
                                                    </p>
                                                }
                                            })
                                    }}
                                </section>
                                {d
                                    .envs
                                    .into_iter()
                                    .map(|env| view! { <EnvSection env app_id=app_id.clone() /> })
                                    .collect_view()}
                            }
        })}
    }
}

/// Credentials as a table, or `empty` when there are none.
#[component]
pub fn CredTable(rows: Vec<CredRow>, empty: &'static str) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Key"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Scopes"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Last used"</th>
                </tr>
            </thead>
            <tbody>{rows.into_iter().map(|c| view! { <CredLine c /> }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

/// A credential's row in a list.
#[component]
fn CredLine(c: CredRow) -> impl IntoView {
    view! {
        <tr data-key=c.key_id.clone()>
            <th scope="row">
                <a href=format!("/credentials/{}", c.id)>
                    <code>{c.prefix.clone()}</code>
                </a>
            </th>
            <td>{c.name.clone()}</td>
            <td>
                <StatusBadge status=c.status.clone() />
            </td>
            <td>{c.scopes.join(" ")}</td>
            <td>{when(&c.expires_at)}</td>
            <td>{c.last_used_at.as_deref().map(when).unwrap_or_else(|| "never".into())}</td>
        </tr>
    }
}

#[component]
fn EnvSection(env: EnvBlock, app_id: String) -> impl IntoView {
    let issue = ServerAction::<IssueCredential>::new();
    let revoke_all = ServerAction::<RevokeAll>::new();
    let query = use_query_map();
    // A replacement request after an emergency revoke arrives pre-filled.
    let prefill = |key: &str| {
        let q = query.read_untracked();
        (q.get("env").as_deref() == Some(env.slug.as_str())).then(|| q.get(key)).flatten().unwrap_or_default()
    };
    let live = env.credentials.iter().filter(|c| c.status == "active" || c.status == "grace").count();
    let slug = env.slug.clone();
    let (issue_app, issue_env, revoke_app) = (app_id.clone(), env.slug.clone(), app_id);
    let (name_id, scopes_id, days_id, reason_id) =
        (format!("name-{slug}"), format!("scopes-{slug}"), format!("days-{slug}"), format!("reason-{slug}"));
    let section_class = if env.production { "panel env-panel production" } else { "panel env-panel" };
    let name_prefill = prefill("name");
    let scopes_prefill = prefill("scopes");
    let open_issue = !name_prefill.is_empty();
    let (env_slug, production, approvals, max_days) =
        (env.slug.clone(), env.production, env.issue_approvals, env.max_lifetime_days);
    view! {
        <section class=section_class aria-label=format!("{env_slug} credentials") data-env=env_slug.clone()>
            <h2>
                <EnvBadge slug=env_slug.clone() production=production />
                " credentials"
            </h2>
            <CredTable rows=env.credentials empty="No credentials here yet." />
            {env
                .can_request
                .then(|| {
                    view! {
                        <details class="action" open=open_issue id="issue">
                            <summary class="button">
                                {if approvals > 0 { "Request a credential" } else { "Issue a credential" }}
                            </summary>
                            {(approvals > 0)
                                .then(|| {
                                    view! {
                                        <p class="notice">
                                            {format!(
                                                "{} needs {} approval(s) from another administrator: this creates a change request, and you execute it once approved.",
                                                issue_env,
                                                approvals,
                                            )}
                                        </p>
                                    }
                                })}
                            <ActionForm action=issue attr:class="form grid">
                                <input type="hidden" name="application_id" value=issue_app.clone() />
                                <input type="hidden" name="environment" value=issue_env.clone() />
                                <label for=name_id.clone()>"Name"</label>
                                <input id=name_id name="name" required value=name_prefill />
                                <label for=scopes_id.clone()>"Scopes (space-separated)"</label>
                                <input id=scopes_id name="scopes" value=scopes_prefill placeholder="payments:read" />
                                <label for=days_id.clone()>"Expires in (days)"</label>
                                <input
                                    id=days_id
                                    name="expires_in_days"
                                    type="number"
                                    min="1"
                                    max=max_days
                                    placeholder=max_days.to_string()
                                />
                                <label for=reason_id.clone()>"Reason"</label>
                                <input id=reason_id name="reason" required />
                                <button type="submit" class="button primary">
                                    {if approvals > 0 { "Submit request" } else { "Issue" }}
                                </button>
                            </ActionForm>
                        </details>
                    }
                })}
            {(env.can_revoke && live > 0)
                .then(|| {
                    let rid = format!("revoke-all-reason-{slug}");
                    let cid = format!("revoke-all-confirm-{slug}");
                    view! {
                        <details class="action danger-zone">
                            <summary class="button danger">{format!("Emergency: revoke all {live} in {slug}")}</summary>
                            <ActionForm action=revoke_all attr:class="form grid">
                                <input type="hidden" name="application_id" value=revoke_app.clone() />
                                <input type="hidden" name="environment" value=slug.clone() />
                                <label for=rid.clone()>"Reason"</label>
                                <input id=rid name="reason" required />
                                <label class="check" for=cid.clone()>
                                    <input id=cid.clone() type="checkbox" required />
                                    {format!(" Every credential of this application in {slug} stops working now.")}
                                </label>
                                <button type="submit" class="button danger">"Revoke all now"</button>
                            </ActionForm>
                        </details>
                    }
                })}
        </section>
    }
}

/// `/credentials`: every credential the caller may see, newest first, filtered and paged.
#[component]
pub fn CredentialsPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let data =
        Resource::new(move || (get("environment"), get("status"), get("after")), |(e, s, a)| credentials_page(e, s, a));
    view! {
        <Title text="Credentials" />
        <section class="panel" aria-labelledby="creds-title">
            <h1 id="creds-title">"Credentials"</h1>
            <QueryError />
            {loaded(data, move |p| {
                let env_now = get("environment");
                let status_now = get("status");
                let next = p.next.clone().map(|n| format!("/credentials?environment={env_now}&status={status_now}&after={n}"));
                view! {
                    <form method="get" action="/credentials" class="filters" role="search">
                        <label for="c-env">"Environment"</label>
                        <select id="c-env" name="environment">
                            <option value="">"all"</option>
                            {p.environments
                                .iter()
                                .map(|e| view! { <option value=e.clone() selected=*e == env_now>{e.clone()}</option> })
                                .collect_view()}
                        </select>
                        <label for="c-status">"Status"</label>
                        <select id="c-status" name="status">
                            {["", "active", "grace", "expired", "revoked"]
                                .into_iter()
                                .map(|s| {
                                    let label = if s.is_empty() { "any" } else { s };
                                    view! { <option value=s selected=s == status_now>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                        <button type="submit" class="button">"Filter"</button>
                    </form>
                    <CredTable rows=p.rows empty="No credentials match." />
                    {next.map(|href| view! { <p><a href=href>"Next page"</a></p> })}
                }
            })}
        </section>
    }
}
