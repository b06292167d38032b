//! `/step-up?next=…`: confirm with a fresh code before a sensitive action.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::signin::StepUp;
use crate::components::notice::{ErrorCode, ErrorNotice};

#[component]
pub fn StepUpPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/account".to_owned());
    let error = move || query.read().get("error");
    let step_up = ServerAction::<StepUp>::new();
    view! {
        <Title text="Confirm it is you" />
        <section class="panel narrow" aria-labelledby="step-up-title">
            <h1 id="step-up-title">"Confirm it is you"</h1>
            <p>
                "Changing roles, policies and approvals needs a fresh code from your authenticator (valid for 10 minutes)."
            </p>
            {move || error().map(|code| view! { <ErrorCode code /> })}
            <ActionForm action=step_up attr:class="form">
                <input type="hidden" name="next" value=next />
                <label for="code">"Authentication code"</label>
                <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus />
                <button type="submit" class="button primary">
                    "Confirm"
                </button>
            </ActionForm>
            {move || step_up.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        </section>
    }
}
