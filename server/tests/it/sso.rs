//! Single sign-on against a real OpenID Provider (`oidc-provider`) and a hostile one: SECURITY
//! rows O1–O5 and A6.

use std::sync::Arc;

use latchkey_core::domain::user::Role;
use serde_json::json;

use crate::both_backends;
use crate::support::browser::Browser;
use crate::support::rogue_idp::{self, Scenario};
use crate::support::{Options, Sso, TestApp};

async fn sso_app(backend: latchkey_core::storage::Backend, sso: Sso) -> Option<TestApp> {
    TestApp::spawn_with(backend, Options { sso: Some(sso), ..Options::default() }).await
}

macro_rules! sso_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident, $sso:expr) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn body($app: TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                body(sso_app(latchkey_core::storage::Backend::Sqlite, $sso).await.unwrap()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = sso_app(latchkey_core::storage::Backend::Postgres, $sso).await {
                    body(app).await
                }
            }
        }
    };
}

sso_test! {
    /// SSO alone gives nothing: after the IdP, the session is refused with `mfa_required` until
    /// TOTP is done (SECURITY A6); then it works. PKCE S256, state and nonce are in the request (O1).
    async fn a6_sso_then_totp(app, Sso::default()) {
        let mut b = Browser::new(&app);
        let url = b.sso_start().await;
        for p in ["code_challenge_method=S256", "code_challenge=", "state=", "nonce=", "scope=openid"] {
            assert!(url.contains(p), "{p} missing from {url}");
        }
        let back = crate::support::idp::authorize(&url, "newcomer").await;
        let r = b.sso_callback(&back).await;
        assert_eq!((r.status, r.refresh.as_deref()), (200, Some("/login?step=enroll")), "{}", r.body);
        assert!(b.sso_cookie.is_none(), "the flow cookie is cleared");
        for path in ["/api/v1/me", "/api/v1/applications", "/api/v1/credentials", "/api/v1/audit", "/api/v1/users"] {
            let r = b.get(path).await;
            assert_eq!((r.status, r.body["error"]["code"].as_str()), (401, Some("mfa_required")), "{path}");
        }
        let r = b.post("/api/v1/applications", json!({"name": "x", "owner": "y"})).await;
        assert_eq!(r.body["error"]["code"], "mfa_required");
        // Enroll TOTP, then the session is complete; a new user has no roles yet.
        let e = b.post("/auth/mfa/enroll/start", json!({})).await;
        b.totp = Some(crate::support::browser::authenticator(e.body["secret"].as_str().unwrap()));
        let code = b.code_at(&app, 0);
        assert_eq!(b.post("/auth/mfa/enroll/confirm", json!({"code": code})).await.status, 200);
        let me = b.get("/api/v1/me").await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["issuer"], crate::support::idp::issuer());
        assert_eq!(me.body["email"], "newcomer@example.com");
        assert_eq!(me.body["grants"], json!([]), "just-in-time users get no roles by default");
        assert_eq!(b.get("/api/v1/applications").await.status, 403);
    }
}

sso_test! {
    /// Missing, wrong and reused state → 400 (SECURITY O1).
    async fn o1_state_is_required_single_use_and_bound_to_the_browser(app, Sso::default()) {
        let mut b = Browser::new(&app);
        let url = b.sso_start().await;
        let back = crate::support::idp::authorize(&url, "stateful").await;
        // No flow cookie: another browser presenting this callback.
        let mut other = Browser::new(&app);
        let r = other.sso_callback(&back).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("validation_failed")), "{}", r.body);
        // Wrong state in this browser (and the flow is spent by the attempt).
        let forged = back.replace("state=", "state=x");
        let r = b.sso_callback(&forged).await;
        assert_eq!(r.status, 400, "{}", r.body);
        // A fresh flow works; replaying its callback afterwards is refused.
        let mut c = Browser::new(&app);
        let url = c.sso_start().await;
        let back = crate::support::idp::authorize(&url, "stateful").await;
        let cookie = c.sso_cookie.clone();
        assert_eq!(c.sso_callback(&back).await.status, 200);
        c.sso_cookie = cookie;
        let r = c.sso_callback(&back).await;
        assert_eq!(r.status, 400, "a reused state was accepted: {}", r.body);
        // Missing state.
        let mut d = Browser::new(&app);
        d.sso_start().await;
        let r = d.get("/auth/oidc/callback?code=abc").await;
        assert_eq!(r.status, 400);
    }
}

sso_test! {
    /// An ID token whose nonce is not this sign-in's is refused (SECURITY O2): the authorization
    /// request is tampered with on its way to the real IdP, which then issues a token for the
    /// injected nonce.
    async fn o2_wrong_nonce_is_refused(app, Sso::default()) {
        let mut b = Browser::new(&app);
        let url = b.sso_start().await;
        let start = url.find("nonce=").unwrap() + "nonce=".len();
        let end = url[start..].find('&').map(|i| start + i).unwrap_or(url.len());
        let tampered = format!("{}injected-nonce-0123456789{}", &url[..start], &url[end..]);
        let back = crate::support::idp::authorize(&tampered, "victim").await;
        let r = b.sso_callback(&back).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (401, Some("unauthenticated")), "{}", r.body);
        assert!(b.cookie.is_none(), "no session for a refused sign-in");
    }
}

sso_test! {
    /// Expiry is judged on the server's clock: a callback after the sign-in window is refused,
    /// one inside the ID token's lifetime is accepted (the expired-token case itself is in
    /// `o3_o4_forged_id_tokens_are_refused`, where the IdP can mint one).
    async fn o3_sso_expiry_is_judged_on_the_server_clock(app, Sso::default()) {
        let real_now = latchkey_core::domain::time::Timestamp::now_system();
        app.clock.set(real_now);
        let mut b = Browser::new(&app);
        let url = b.sso_start().await;
        let back = crate::support::idp::authorize(&url, "slowpoke").await;
        app.clock.set(real_now.plus_secs(3600));
        let r = b.sso_callback(&back).await;
        assert_eq!(r.status, 400, "{}", r.body);
        app.clock.set(real_now);
        let mut c = Browser::new(&app);
        let url = c.sso_start().await;
        let back = crate::support::idp::authorize(&url, "slowpoke").await;
        app.clock.set(real_now.plus_secs(9 * 60 + 30));
        let r = c.sso_callback(&back).await;
        assert_eq!(r.status, 200, "a token inside its lifetime is accepted: {}", r.body);
    }
}

/// A test app whose SSO points at the rogue IdP.
async fn rogue_app(backend: latchkey_core::storage::Backend) -> Option<(TestApp, rogue_idp::RogueIdp)> {
    let clock = Arc::new(std::sync::Mutex::new(None::<latchkey_core::clock::ManualClock>));
    let c2 = clock.clone();
    let rogue = rogue_idp::start(
        "",
        Arc::new(move || {
            use latchkey_core::clock::Clock;
            c2.lock().unwrap().as_ref().map(|c| c.now().as_millis() / 1000).unwrap_or(0)
        }),
    )
    .await;
    let sso = Sso {
        issuer: Some(rogue.issuer.clone()),
        client: Some((rogue.client_id.clone(), rogue.client_secret.clone())),
        ..Sso::default()
    };
    let app = sso_app(backend, sso).await?;
    *clock.lock().unwrap() = Some(app.clock.clone());
    Some((app, rogue))
}

async fn rogue_sign_in(app: &TestApp) -> crate::support::browser::Resp {
    let mut b = Browser::new(app);
    let url = b.sso_start().await;
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    b.sso_callback(&back).await
}

async fn o3_o4_body(app: TestApp, rogue: rogue_idp::RogueIdp) {
    rogue.set(Scenario::Good);
    let r = rogue_sign_in(&app).await;
    assert_eq!(r.status, 200, "the rogue IdP's well-formed token is accepted: {}", r.body);
    for s in [
        Scenario::WrongIssuer,
        Scenario::WrongAudience,
        Scenario::Expired,
        Scenario::WrongNonce,
        Scenario::AlgNone,
        Scenario::Hs256WithPublicKey,
        Scenario::Hs256WithClientSecret,
    ] {
        rogue.set(s);
        let r = rogue_sign_in(&app).await;
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (401, Some("unauthenticated")),
            "{s:?} was not refused: {}",
            r.body
        );
    }
    let events = app
        .services
        .audit_list(&latchkey_core::storage::audit::ListFilter {
            action: Some("auth.login".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        events.iter().filter(|e| e.outcome == "failure" && e.details["reason"] == "id_token_invalid").count(),
        7
    );
}

/// `iss` exact, `aud` contains the client, `exp`, nonce; `alg: none` and HMAC (keyed with the
/// public key or the client secret) refused — each defect alone (SECURITY O3, O4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o3_o4_forged_id_tokens_are_refused_sqlite() {
    let (app, rogue) = rogue_app(latchkey_core::storage::Backend::Sqlite).await.unwrap();
    o3_o4_body(app, rogue).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o3_o4_forged_id_tokens_are_refused_postgres() {
    if let Some((app, rogue)) = rogue_app(latchkey_core::storage::Backend::Postgres).await {
        o3_o4_body(app, rogue).await;
    }
}

sso_test! {
    /// Users are keyed by (issuer, subject): the same e-mail with another subject is another
    /// user (SECURITY O5). The group mapping grants roles; TOTP follows unless the IdP's MFA is
    /// trusted.
    async fn o5_users_are_keyed_by_issuer_and_subject(app, Sso { role_mapping: "latchkey-admins=admin;latchkey-operators=operator@staging".into(), ..Sso::default() }) {
        let mut one = Browser::new(&app);
        assert_eq!(one.sso_sign_in("dana.1").await.status, 200);
        let mut two = Browser::new(&app);
        assert_eq!(two.sso_sign_in("dana.2").await.status, 200);
        let users = app.services.list_users().await.unwrap();
        let danas: Vec<_> = users.iter().filter(|u| u.email.as_deref() == Some("dana@example.com")).collect();
        assert_eq!(danas.len(), 2, "one user per subject, not per e-mail");
        assert_ne!(danas[0].id, danas[1].id);
        // Signing in again finds the same user.
        let mut again = Browser::new(&app);
        assert_eq!(again.sso_sign_in("dana.1").await.status, 200);
        assert_eq!(app.services.list_users().await.unwrap().len(), users.len());
        // Group mapping.
        let mut ops = Browser::new(&app);
        ops.sso_sign_in("ops-oncall").await;
        let u = app.services.list_users().await.unwrap().into_iter().find(|u| u.subject.as_deref() == Some("ops-oncall")).unwrap();
        assert_eq!(u.grants.len(), 1);
        assert_eq!((u.grants[0].role, u.grants[0].environment.as_ref().map(|e| e.as_str())), (Role::Operator, Some("staging")));
        let _ = (&mut one, &mut two);
    }
}

sso_test! {
    /// With `oidc_trust_idp_mfa`, an IdP that reports MFA (`amr`) completes the sign-in; one that
    /// does not still leads to TOTP.
    async fn sso_trusts_idp_mfa_only_when_configured_and_reported(app, Sso { trust_idp_mfa: true, ..Sso::default() }) {
        let mut b = Browser::new(&app);
        let r = b.sso_sign_in("mfa-user").await;
        assert_eq!(r.refresh.as_deref(), Some("/"), "{}", r.body);
        assert_eq!(b.get("/api/v1/me").await.status, 200);
        let mut c = Browser::new(&app);
        let r = c.sso_sign_in("plain-user").await;
        assert_eq!(r.refresh.as_deref(), Some("/login?step=enroll"));
        assert_eq!(c.get("/api/v1/me").await.body["error"]["code"], "mfa_required");
    }
}

both_backends! {
    /// Without SSO configured, the SSO routes answer 404 in the error shape.
    async fn sso_not_configured_is_404(app: TestApp) {
        let mut b = Browser::new(&app);
        let r = b.get("/auth/oidc/start").await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (404, Some("not_found")));
    }
}
