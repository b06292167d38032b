//! `/login`: every sign-in step on one page, chosen by the session's state — password or SSO,
//! then the authenticator code, or enrollment (QR code) for a first sign-in, then the recovery
//! codes, once. Works without JavaScript: each form posts, the server redirects back here.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::signin::{EnrollConfirm, Login, Mfa, Stage, enroll_start, recovery_codes, sign_in_state};
use crate::components::notice::{ErrorCode, ErrorNotice};

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    // The actions live here so the page re-reads the sign-in state after each step.
    let login = ServerAction::<Login>::new();
    let mfa = ServerAction::<Mfa>::new();
    let confirm = ServerAction::<EnrollConfirm>::new();
    let state = Resource::new(
        move || (login.version().get(), mfa.version().get(), confirm.version().get(), query.read().get("step")),
        |_| sign_in_state(),
    );
    let step = move || query.read().get("step");
    let error = move || query.read().get("error");
    view! {
        <Title text="Sign in" />
        <section class="panel narrow" aria-labelledby="login-title">
            {move || error().map(|code| view! { <ErrorCode code /> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    state
                        .get()
                        .map(|r| match r {
                            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                            Ok(s) if step().as_deref() == Some("codes") && s.stage == Stage::SignedIn => {
                                view! { <RecoveryCodes /> }.into_any()
                            }
                            Ok(s) => match s.stage {
                                Stage::Anonymous => view! { <PasswordStep sso=s.sso_enabled login /> }.into_any(),
                                Stage::Mfa => view! { <CodeStep mfa /> }.into_any(),
                                Stage::Enroll => view! { <EnrollStep confirm /> }.into_any(),
                                Stage::SignedIn => {
                                    view! {
                                        <h1 id="login-title">"You are signed in"</h1>
                                        <p>
                                            <a href="/">"Go to the console"</a>
                                        </p>
                                    }
                                        .into_any()
                                }
                            },
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn PasswordStep(sso: bool, login: ServerAction<Login>) -> impl IntoView {
    view! {
        <h1 id="login-title">"Sign in to Latchkey"</h1>
        {sso
            .then(|| {
                view! {
                    <a class="button primary wide" href="/auth/oidc/start" rel="external">
                        "Sign in with single sign-on"
                    </a>
                    <p class="divider">
                        <span>"or with a local account"</span>
                    </p>
                }
            })}
        <ActionForm action=login attr:class="form">
            <label for="username">"Username"</label>
            <input id="username" name="username" type="text" autocomplete="username" required autofocus />
            <label for="password">"Password"</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
            <button type="submit" class="button primary">
                "Sign in"
            </button>
        </ActionForm>
        {move || login.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
    }
}

#[component]
fn CodeStep(mfa: ServerAction<Mfa>) -> impl IntoView {
    view! {
        <h1 id="login-title">"Authentication code"</h1>
        <p>"Enter the 6-digit code from your authenticator app, or one of your recovery codes."</p>
        <ActionForm action=mfa attr:class="form">
            <label for="code">"Code"</label>
            <input
                id="code"
                name="code"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                required
                autofocus
            />
            <button type="submit" class="button primary">
                "Continue"
            </button>
        </ActionForm>
        {move || mfa.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        <SignOutLink />
    }
}

#[component]
fn EnrollStep(confirm: ServerAction<EnrollConfirm>) -> impl IntoView {
    let enrollment = Resource::new(|| (), |_| enroll_start());
    view! {
        <h1 id="login-title">"Set up your authenticator"</h1>
        <p>
            "Every account uses a second factor. Scan this code with an authenticator app (or enter the key), then type the 6-digit code it shows."
        </p>
        <Suspense fallback=|| view! { <p>"Preparing…"</p> }>
            {move || {
                enrollment
                    .get()
                    .map(|r| match r {
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Ok(Some(e)) => {
                            view! {
                                <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=e.qr_svg></div>
                                <p class="key">
                                    "Key: " <code data-testid="totp-secret">{e.secret}</code>
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
        <ActionForm action=confirm attr:class="form">
            <label for="code">"Code from the app"</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required />
            <button type="submit" class="button primary">
                "Confirm"
            </button>
        </ActionForm>
        {move || confirm.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
        <SignOutLink />
    }
}

#[component]
fn RecoveryCodes() -> impl IntoView {
    let codes = Resource::new(|| (), |_| recovery_codes());
    let stored = ServerAction::<crate::api::signin::RecoveryCodesStored>::new();
    view! {
        <h1 id="login-title">"Your recovery codes"</h1>
        <Suspense fallback=|| ()>
            {move || {
                codes
                    .get()
                    .map(|r| match r {
                        Ok(list) if !list.is_empty() => {
                            view! {
                                <p>
                                    "Store these somewhere safe. Each one signs you in once if you lose your authenticator. "
                                    <strong>"They are shown only now."</strong>
                                </p>
                                <ol class="codes" data-testid="recovery-codes">
                                    {list.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                                </ol>
                            }
                                .into_any()
                        }
                        Ok(_) => view! { <p>"Your recovery codes were shown once and cannot be shown again."</p> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    })
            }}
        </Suspense>
        <ActionForm action=stored attr:class="form">
            <button type="submit" class="button primary">
                "I have stored them — continue"
            </button>
        </ActionForm>
    }
}

#[component]
pub fn SignOutLink() -> impl IntoView {
    let logout = ServerAction::<crate::api::signin::Logout>::new();
    view! {
        <ActionForm action=logout attr:class="inline">
            <button type="submit" class="link">
                "Sign out"
            </button>
        </ActionForm>
    }
}
