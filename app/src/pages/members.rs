//! `/members` (admins): every user, their roles; grant, remove, disable. Changes need step-up.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::members::{DisableMember, GrantRole, MemberView, RemoveGrant, members};
use crate::components::bits::StepUpHint;
use crate::components::notice::{QueryError, loaded};

#[component]
pub fn MembersPage() -> impl IntoView {
    let grant = ServerAction::<GrantRole>::new();
    let remove = ServerAction::<RemoveGrant>::new();
    let disable = ServerAction::<DisableMember>::new();
    let data = Resource::new(|| (), |_| members());
    view! {
        <Title text="Members" />
        {loaded(data, move |m| {
                            let envs = m.environments.clone();
                            view! {
                                <section class="panel" aria-labelledby="members-title">
                                    <h1 id="members-title">"Members and roles"</h1>
                                    {(!m.step_up_fresh).then(|| view! { <StepUpHint next="/members".to_owned() /> })}
                                    <QueryError />
                                    <table class="table" data-testid="members">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Member"</th>
                                                <th scope="col">"Roles"</th>
                                                <th scope="col">"Grant a role"</th>
                                                <th scope="col">
                                                    <span class="visually-hidden">"Account"</span>
                                                </th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {m
                                                .members
                                                .into_iter()
                                                .map(|member| view! { <MemberRow member envs=envs.clone() grant remove disable /> })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </section>
                            }
        })}
    }
}

#[component]
fn MemberRow(
    member: MemberView,
    envs: Vec<String>,
    grant: ServerAction<GrantRole>,
    remove: ServerAction<RemoveGrant>,
    disable: ServerAction<DisableMember>,
) -> impl IntoView {
    let id = member.id.clone();
    let grants: Vec<_> = member
        .grants
        .iter()
        .map(|g| {
            let label =
                format!("{} in {}", g.role, g.environment.clone().unwrap_or_else(|| "every environment".into()));
            (g.id.clone(), label)
        })
        .collect();
    let grant_items = {
        let id = id.clone();
        grants
            .into_iter()
            .map(move |(grant_id, label)| {
                let uid = id.clone();
                view! {
                    <li>
                        <span class="badge">{label.clone()}</span>
                        <ActionForm action=remove attr:class="inline">
                            <input type="hidden" name="user_id" value=uid />
                            <input type="hidden" name="grant_id" value=grant_id />
                            <button type="submit" class="link" aria-label=format!("Remove {label}")>
                                "remove"
                            </button>
                        </ActionForm>
                    </li>
                }
            })
            .collect_view()
    };
    let (role_id, env_id) = (format!("role-{id}"), format!("env-{id}"));
    let grant_uid = id.clone();
    let disable_uid = id.clone();
    view! {
        <tr data-member=member.login.clone() class:disabled=member.disabled>
            <th scope="row">
                {member.display_name.clone()} <span class="muted">" " {member.login.clone()}</span>
                {member.disabled.then(|| view! { <span class="badge revoked">"disabled"</span> })}
            </th>
            <td>
                <ul class="grants">{grant_items}</ul>
            </td>
            <td>
                <ActionForm action=grant attr:class="inline">
                    <input type="hidden" name="user_id" value=grant_uid />
                    <label class="visually-hidden" for=role_id.clone()>"Role"</label>
                    <select id=role_id name="role">
                        <option value="auditor">"auditor"</option>
                        <option value="operator">"operator"</option>
                        <option value="admin">"admin"</option>
                    </select>
                    <label class="visually-hidden" for=env_id.clone()>"Environment"</label>
                    <select id=env_id name="environment">
                        <option value="">"every environment"</option>
                        {envs.iter().map(|e| view! { <option value=e.clone()>{e.clone()}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="button">"Grant"</button>
                </ActionForm>
            </td>
            <td>
                {(!member.disabled)
                    .then(|| {
                        view! {
                            <ActionForm action=disable attr:class="inline">
                                <input type="hidden" name="user_id" value=disable_uid.clone() />
                                <button type="submit" class="button danger">"Disable"</button>
                            </ActionForm>
                        }
                    })}
            </td>
        </tr>
    }
}
