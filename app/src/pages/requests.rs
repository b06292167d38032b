//! `/requests`: the approvals inbox (admins), my requests, recent history. `/requests/:id`: one
//! request — requester, reason, what changes, the policy, approvals so far — and what the viewer
//! may do with it: approve or reject (step-up), cancel, execute.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::requests::{
    CancelRequest, DecideRequest, ExecuteRequest, RequestRow, RequestView, request_detail, request_lists,
};
use crate::components::bits::{EnvBadge, StatusBadge, StepUpHint, when};
use crate::components::notice::{QueryError, loaded};

#[component]
pub fn RequestTable(rows: Vec<RequestRow>, empty: &'static str, testid: &'static str) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted" data-testid=testid>{empty}</p> }.into_any();
    }
    view! {
        <table class="table" data-testid=testid>
            <thead>
                <tr>
                    <th scope="col">"Request"</th>
                    <th scope="col">"Environment"</th>
                    <th scope="col">"Requested by"</th>
                    <th scope="col">"Approvals"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Expires"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|r| {
                        view! {
                            <tr>
                                <th scope="row">
                                    <a href=format!("/requests/{}", r.id)>{r.summary}</a>
                                    <br />
                                    <span class="muted">{r.reason}</span>
                                </th>
                                <td>
                                    {r.environment.map(|e| view! { <EnvBadge slug=e production=r.production /> })}
                                </td>
                                <td>{r.requester}</td>
                                <td>{format!("{} of {}", r.approvals, r.approvals_required)}</td>
                                <td>
                                    <StatusBadge status=r.status />
                                </td>
                                <td>{when(&r.expires_at)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn RequestsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| request_lists());
    view! {
        <Title text="Requests" />
        {loaded(
            data,
            |l| {
                            view! {
                                {l
                                    .is_approver
                                    .then(|| {
                                        view! {
                                            <section class="panel" aria-labelledby="inbox-title">
                                                <h1 id="inbox-title">"Waiting for your approval"</h1>
                                                <RequestTable
                                                    rows=l.inbox.clone()
                                                    empty="Nothing waits for you."
                                                    testid="inbox"
                                                />
                                            </section>
                                        }
                                    })}
                                <section class="panel" aria-labelledby="mine-title">
                                    <h2 id="mine-title">"My requests"</h2>
                                    <RequestTable rows=l.mine empty="You have no requests." testid="mine" />
                                </section>
                                <section class="panel" aria-labelledby="recent-title">
                                    <h2 id="recent-title">"Recent requests"</h2>
                                    <RequestTable rows=l.recent empty="No requests yet." testid="recent" />
                                </section>
                            }
            },
        )}
    }
}

#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, request_detail);
    view! {
        <Title text="Change request" />
        <QueryError />
        {loaded(data, |d| view! { <RequestDetailView d /> })}
    }
}

#[component]
fn RequestDetailView(d: RequestView) -> impl IntoView {
    let decide = ServerAction::<DecideRequest>::new();
    let cancel = ServerAction::<CancelRequest>::new();
    let execute = ServerAction::<ExecuteRequest>::new();
    let r = d.row.clone();
    let id = r.id.clone();
    let (decide_id, execute_id, cancel_id) = (id.clone(), id.clone(), id.clone());
    let open = r.status == "pending" || r.status == "approved";
    let here = format!("/requests/{id}");
    view! {
        <section class="panel" aria-labelledby="req-title" data-status=r.status.clone()>
            <p class="crumbs">
                <a href="/requests">"Requests"</a>
            </p>
            <h1 id="req-title">{r.summary.clone()}</h1>
            <p>
                <StatusBadge status=r.status.clone() />
                " "
                {r.environment.clone().map(|e| view! { <EnvBadge slug=e production=r.production /> })}
            </p>
            <dl class="facts">
                <dt>"Requested by"</dt>
                <dd>{r.requester.clone()} " · " {when(&r.created_at)}</dd>
                <dt>"Reason"</dt>
                <dd>{r.reason.clone()}</dd>
                <dt>"Policy"</dt>
                <dd data-testid="approvals">
                    {format!(
                        "{} of {} approval(s) from administrators other than the requester",
                        r.approvals,
                        r.approvals_required,
                    )}
                </dd>
                <dt>"Expires"</dt>
                <dd>{when(&r.expires_at)}</dd>
                {d
                    .target_credential
                    .clone()
                    .map(|c| view! {
                        <dt>"Credential"</dt>
                        <dd>
                            <a href=format!("/credentials/{c}")>{c.clone()}</a>
                        </dd>
                    })}
                {d
                    .credential_id
                    .clone()
                    .map(|c| view! {
                        <dt>"Result"</dt>
                        <dd>
                            <a href=format!("/credentials/{c}")>"the credential it created"</a>
                        </dd>
                    })}
            </dl>
            <h2>"What changes"</h2>
            <table class="table diff">
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">"Now"</th>
                        <th scope="col">"After"</th>
                    </tr>
                </thead>
                <tbody>
                    {d
                        .diff
                        .iter()
                        .map(|(f, b, a)| {
                            view! {
                                <tr>
                                    <th scope="row">{f.clone()}</th>
                                    <td>{if b.is_empty() { "—".to_owned() } else { b.clone() }}</td>
                                    <td>{a.clone()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <h2>"Decisions"</h2>
            {if d.decisions.is_empty() {
                view! { <p class="muted">"None yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="decisions">
                        {d
                            .decisions
                            .iter()
                            .map(|x| {
                                view! {
                                    <li>
                                        <StatusBadge status=x.decision.clone() />
                                        {format!(" {} · {} {}", x.actor, when(&x.at), x.comment)}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
        {(d.can_decide || (d.is_requester && open))
            .then(|| {
                view! {
                    <section class="panel" aria-labelledby="decide-title">
                        <h2 id="decide-title">"Your decision"</h2>
                        {(d.can_decide && !d.step_up_fresh).then(|| view! { <StepUpHint next=here.clone() /> })}
                        {d
                            .can_decide
                            .then(|| {
                                view! {
                                    <ActionForm action=decide attr:class="form grid">
                                        <input type="hidden" name="id" value=decide_id.clone() />
                                        <label for="comment">"Comment"</label>
                                        <input id="comment" name="comment" />
                                        <div class="row">
                                            <button type="submit" name="decision" value="approve" class="button primary">
                                                "Approve"
                                            </button>
                                            <button type="submit" name="decision" value="reject" class="button danger">
                                                "Reject"
                                            </button>
                                        </div>
                                    </ActionForm>
                                }
                            })}
                        {d
                            .can_execute
                            .then(|| {
                                view! {
                                    <p>"Approved. Executing creates the credential and shows its secret to you once."</p>
                                    <ActionForm action=execute attr:class="inline">
                                        <input type="hidden" name="id" value=execute_id.clone() />
                                        <button type="submit" class="button primary">"Execute and show the secret"</button>
                                    </ActionForm>
                                }
                            })}
                        {(d.is_requester && open)
                            .then(|| {
                                view! {
                                    <ActionForm action=cancel attr:class="inline">
                                        <input type="hidden" name="id" value=cancel_id.clone() />
                                        <input type="hidden" name="comment" value="" />
                                        <button type="submit" class="button">"Cancel request"</button>
                                    </ActionForm>
                                }
                            })}
                    </section>
                }
            })}
    }
}
