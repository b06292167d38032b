//! Signing in from the console: password, TOTP enrollment and codes, recovery codes, step-up,
//! sign-out. Every function ends in a redirect to the page for the next step, so the forms work
//! the same with JavaScript off.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How far the visitor got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    Anonymous,
    /// First factor done; TOTP code next.
    Mfa,
    /// First factor done; no authenticator yet.
    Enroll,
    SignedIn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInView {
    pub stage: Stage,
    pub display_name: Option<String>,
    pub sso_enabled: bool,
    pub is_admin: bool,
    /// The strongest role held anywhere: `admin`, `operator`, `auditor` (empty when signed out).
    pub role: String,
    /// Open requests this user could approve (admins), for the navigation badge.
    pub pending_approvals: i64,
}

#[server(prefix = "/api/console", endpoint = "sign_in_state")]
pub async fn sign_in_state() -> Result<SignInView, AppError> {
    use crate::ssr::{services, session};
    use latchkey_core::services::auth::Stage as S;
    let s = services()?;
    let session = session().await?;
    let sso_enabled = s.sso_enabled();
    let anonymous = SignInView {
        stage: Stage::Anonymous,
        display_name: None,
        sso_enabled,
        is_admin: false,
        role: String::new(),
        pending_approvals: 0,
    };
    let Ok(auth) = s.session_auth(&session).await else { return Ok(anonymous) };
    let Some(user_id) = latchkey_core::ids::UserId::parse(&auth.user_id) else { return Ok(anonymous) };
    let Ok(user) = s.user(&user_id).await else { return Ok(anonymous) };
    let stage = match auth.stage {
        S::Complete => Stage::SignedIn,
        S::FirstFactor if s.mfa_enrolled(&user_id).await.unwrap_or(false) => Stage::Mfa,
        S::FirstFactor => Stage::Enroll,
    };
    let (mut is_admin, mut role, mut pending_approvals) = (false, String::new(), 0);
    if stage == Stage::SignedIn
        && let Ok(p) = s.principal(&session).await
    {
        use latchkey_core::domain::authz::{Action, Scope};
        is_admin = p.can(Action::ManageMembers, Scope::Global);
        role = p.user.grants.iter().map(|g| g.role).max().map(|r| r.as_str().to_owned()).unwrap_or_default();
        if p.can(Action::Approve, Scope::AnyEnvironment) {
            let envs: Option<Vec<_>> = p
                .user
                .grants
                .iter()
                .filter(|g| g.role.can(Action::Approve))
                .map(|g| g.environment_id.clone())
                .collect();
            pending_approvals = s.count_pending_requests(envs.as_deref()).await.unwrap_or(0);
        }
    }
    Ok(SignInView { stage, display_name: Some(user.display_name), sso_enabled, is_admin, role, pending_approvals })
}

#[server(prefix = "/api/console", endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<(), AppError> {
    use crate::ssr::{anonymous_ctx, fail, no_js_error_redirect, services, session};
    let s = services()?;
    let session = session().await?;
    let password = latchkey_core::domain::user::Password::presented(password);
    match s.login_local(&anonymous_ctx(), &session, &username, &password).await {
        Ok(_) => {
            leptos_axum::redirect("/login");
            Ok(())
        }
        Err(e) => {
            let e = fail(e);
            no_js_error_redirect("/login", &e);
            Err(e)
        }
    }
}

/// TOTP enrollment material, shown on the enrollment page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// The enrollment material; `None` once an authenticator is enrolled (the page is moving on).
#[server(prefix = "/api/console", endpoint = "enroll_start")]
pub async fn enroll_start() -> Result<Option<Enrollment>, AppError> {
    use crate::ssr::{fail, services, session};
    let s = services()?;
    let session = session().await?;
    match s.mfa_enroll_start(&session).await {
        Ok(e) => Ok(Some(Enrollment {
            secret: e.secret.clone(),
            otpauth_uri: e.otpauth_uri.clone(),
            qr_svg: e.qr_svg.clone(),
        })),
        Err(latchkey_core::CoreError::Conflict { .. }) => Ok(None),
        Err(e) => Err(fail(e)),
    }
}

#[cfg(feature = "ssr")]
const FLASH_CODES: &str = "flash_recovery_codes";

#[server(prefix = "/api/console", endpoint = "enroll_confirm")]
pub async fn enroll_confirm(code: String) -> Result<(), AppError> {
    use crate::ssr::{anonymous_ctx, fail, no_js_error_redirect, services, session};
    let s = services()?;
    let session = session().await?;
    match s.mfa_enroll_confirm(&anonymous_ctx(), &session, &code).await {
        Ok(codes) => {
            // Shown once on the next page: kept in the session sealed with the data key, removed
            // when read.
            let plain =
                serde_json::to_vec(&codes).map_err(|e| fail(latchkey_core::CoreError::internal(e.to_string())))?;
            let sealed = latchkey_core::crypto::seal(&s.keys.data_key, FLASH_CODES, &plain).map_err(fail)?;
            session
                .insert(FLASH_CODES, sealed)
                .await
                .map_err(|e| fail(latchkey_core::CoreError::Unavailable(e.to_string())))?;
            leptos_axum::redirect("/login?step=codes");
            Ok(())
        }
        Err(e) => {
            let e = fail(e);
            no_js_error_redirect("/login", &e);
            Err(e)
        }
    }
}

/// The recovery codes just generated, until the user confirms they stored them.
#[server(prefix = "/api/console", endpoint = "recovery_codes")]
pub async fn recovery_codes() -> Result<Vec<String>, AppError> {
    use crate::ssr::{fail, services, session};
    let s = services()?;
    let session = session().await?;
    let sealed: Option<Vec<u8>> =
        session.get(FLASH_CODES).await.map_err(|e| fail(latchkey_core::CoreError::Unavailable(e.to_string())))?;
    let Some(sealed) = sealed else { return Ok(Vec::new()) };
    let plain = latchkey_core::crypto::open(&s.keys.data_key, FLASH_CODES, &sealed).map_err(fail)?;
    serde_json::from_slice(&plain).map_err(|e| fail(latchkey_core::CoreError::internal(e.to_string())))
}

/// "I have stored them": the codes are forgotten and never shown again.
#[server(prefix = "/api/console", endpoint = "recovery_codes_stored")]
pub async fn recovery_codes_stored() -> Result<(), AppError> {
    use crate::ssr::{fail, session};
    let session = session().await?;
    session
        .remove::<Vec<u8>>(FLASH_CODES)
        .await
        .map_err(|e| fail(latchkey_core::CoreError::Unavailable(e.to_string())))?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/console", endpoint = "mfa")]
pub async fn mfa(code: String) -> Result<(), AppError> {
    use crate::ssr::{anonymous_ctx, fail, no_js_error_redirect, services, session};
    let s = services()?;
    let session = session().await?;
    match s.mfa_verify(&anonymous_ctx(), &session, &code).await {
        Ok(()) => {
            leptos_axum::redirect("/");
            Ok(())
        }
        Err(e) => {
            let e = fail(e);
            no_js_error_redirect("/login", &e);
            Err(e)
        }
    }
}

/// Fresh MFA for sensitive actions; then back to `next` (a path on this console).
#[server(prefix = "/api/console", endpoint = "step_up")]
pub async fn step_up(code: String, next: String) -> Result<(), AppError> {
    use crate::ssr::{fail, no_js_error_redirect, principal, session};
    let (s, _, ctx) = principal().await?;
    let session = session().await?;
    let next = if next.starts_with('/') && !next.starts_with("//") { next } else { "/account".to_owned() };
    match s.step_up(&ctx, &session, &code).await {
        Ok(()) => {
            leptos_axum::redirect(&next);
            Ok(())
        }
        Err(e) => {
            let e = fail(e);
            no_js_error_redirect(&format!("/step-up?next={next}"), &e);
            Err(e)
        }
    }
}

#[server(prefix = "/api/console", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr::{anonymous_ctx, fail, services, session};
    let s = services()?;
    let session = session().await?;
    s.logout(&anonymous_ctx(), &session).await.map_err(fail)?;
    leptos_axum::redirect("/login");
    Ok(())
}
