//! Local sign-in, TOTP, sessions, CSRF: SECURITY rows A1–A5, A7, S1–S5, C1, and A6 for the
//! password-only stage.

use latchkey_core::domain::user::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::browser::{Browser, PASSWORD};

fn without_request_id(mut v: Value) -> Value {
    if let Some(e) = v.get_mut("error").and_then(Value::as_object_mut) {
        e.remove("request_id");
    }
    v
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    app.services
        .audit_list(&latchkey_core::storage::audit::ListFilter { limit: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.outcome))
        .collect()
}

both_backends! {
    /// Unknown user, wrong password and disabled account get one identical answer; the password
    /// is stored as Argon2id.
    async fn a7_login_failures_answer_alike(app: TestApp) {
        let id = app.create_user("alice", Role::Operator, None).await;
        app.create_user("mallory", Role::Operator, None).await;
        let mut b = Browser::new(&app);
        let unknown = b.login("nobody", PASSWORD).await;
        let wrong = b.login("alice", "not the password at all").await;
        let mallory_id = latchkey_core::ids::UserId::parse(&app.services.user_by_username("mallory").await.unwrap().id.to_string()).unwrap();
        app.services.disable_user(&app.ctx(), &mallory_id).await.unwrap();
        let disabled = b.login("mallory", PASSWORD).await;
        assert_eq!(unknown.status, 401);
        assert_eq!(unknown.body["error"]["code"], "unauthenticated");
        for r in [&wrong, &disabled] {
            assert_eq!((r.status, without_request_id(r.body.clone())), (unknown.status, without_request_id(unknown.body.clone())));
        }
        assert!(b.cookie.is_none(), "no session for a failed login");
        let ok = b.login("alice", PASSWORD).await;
        assert_eq!((ok.status, ok.body["next"].as_str()), (200, Some("mfa_enroll")));
        let dump = app.dump().await;
        assert!(!dump.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()));
        let events = audit_actions(&app).await;
        assert!(events.iter().filter(|(a, o)| a == "auth.login" && o == "failure").count() >= 3, "{events:?}");
        assert!(events.iter().any(|(a, o)| a == "auth.login" && o == "success"));
        let _ = id;
    }
}

both_backends! {
    /// Before the second factor, the session gets `mfa_required` everywhere (SECURITY A6).
    async fn a6_password_alone_gives_nothing(app: TestApp) {
        app.create_user("bob", Role::Admin, None).await;
        let mut b = Browser::new(&app);
        b.login("bob", PASSWORD).await;
        let me = b.get("/api/v1/me").await;
        assert_eq!((me.status, me.body["error"]["code"].as_str()), (401, Some("mfa_required")), "{}", me.body);
        let step = b.post("/auth/step-up", json!({"code": "123456"})).await;
        assert_eq!(step.status, 401);
    }
}

both_backends! {
    /// A code is accepted once; the enrollment code cannot also sign in (SECURITY A1, A3).
    async fn a1_a3_totp_code_is_single_use_and_replay_is_audited(app: TestApp) {
        app.create_user("carol", Role::Operator, None).await;
        let mut b = Browser::new(&app);
        b.sign_in_enrolling(&app, "carol").await;
        let enrollment_code = b.code_at(&app, 0);
        // Sign out and back in within the same 30 s step: the enrollment code is spent.
        b.post("/auth/logout", json!({})).await;
        let r = b.login("carol", PASSWORD).await;
        assert_eq!(r.body["next"], "mfa");
        let replay = b.post("/auth/mfa", json!({ "code": enrollment_code })).await;
        assert_eq!((replay.status, replay.body["error"]["code"].as_str()), (401, Some("unauthenticated")));
        // The next step's code works once, and only once (also for step-up).
        app.clock.advance_secs(30);
        let code = b.code_at(&app, 0);
        assert_eq!(b.post("/auth/mfa", json!({ "code": code })).await.status, 200);
        let again = b.post("/auth/step-up", json!({ "code": code })).await;
        assert_eq!(again.status, 401, "{}", again.body);
        let events = audit_actions(&app).await;
        assert!(events.iter().filter(|(a, o)| a == "mfa.replay" && o == "denied").count() >= 2, "{events:?}");
        // Nothing secret in the events.
        let all = serde_json::to_string(&app.services.audit_list(&latchkey_core::storage::audit::ListFilter { limit: 1000, ..Default::default() }).await.unwrap()).unwrap();
        assert!(!all.contains(&code) && !all.contains(&enrollment_code) && !all.contains(PASSWORD));
    }
}

both_backends! {
    /// ±1 time step, no more (pinned clock).
    async fn a2_totp_accepts_one_step_either_side(app: TestApp) {
        app.create_user("dave", Role::Operator, None).await;
        let mut b = Browser::new(&app);
        b.sign_in_enrolling(&app, "dave").await;
        app.clock.advance_secs(300);
        for offset in [-60, 60] {
            let code = b.code_at(&app, offset);
            let r = b.post("/auth/step-up", json!({ "code": code })).await;
            assert_eq!(r.status, 401, "offset {offset} accepted");
        }
        for offset in [-30, 0, 30] {
            let code = b.code_at(&app, offset);
            let r = b.post("/auth/step-up", json!({ "code": code })).await;
            assert_eq!(r.status, 200, "offset {offset} refused: {}", r.body);
        }
    }
}

both_backends! {
    /// Guessing is throttled per account: a correct code inside the lockout is refused, another
    /// IP does not reset it, and it lifts after the lockout (SECURITY A4).
    async fn a4_guessing_is_throttled_per_account(app: TestApp) {
        app.create_user("erin", Role::Operator, None).await;
        let mut b = Browser::new(&app);
        b.sign_in_enrolling(&app, "erin").await;
        b.post("/auth/logout", json!({})).await;
        app.clock.advance_secs(60);
        b.login("erin", PASSWORD).await;
        for _ in 0..5 {
            let r = b.post("/auth/mfa", json!({ "code": "000000" })).await;
            assert_eq!(r.status, 401);
        }
        let right = b.code_at(&app, 0);
        let r = b.post("/auth/mfa", json!({ "code": right })).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (429, Some("rate_limited")), "{}", r.body);
        // From another address, with a fresh session: still locked.
        let mut other = Browser::from_ip(&app, Some("127.0.0.2".parse().unwrap()));
        other.totp = b.totp.clone();
        assert_eq!(other.login("erin", PASSWORD).await.status, 200);
        let r = other.post("/auth/mfa", json!({ "code": right })).await;
        assert_eq!(r.status, 429, "{}", r.body);
        // After the lockout, the right code (of a fresh step) works.
        app.clock.advance_secs(5 * 60);
        let code = b.code_at(&app, 0);
        assert_eq!(other.post("/auth/mfa", json!({ "code": code })).await.status, 200);
        let events = audit_actions(&app).await;
        assert!(events.iter().any(|(a, o)| a == "mfa.locked" && o == "denied"));
    }
}

both_backends! {
    /// Password guessing locks the account name, whether or not it exists.
    async fn a4_password_guessing_is_throttled_per_account(app: TestApp) {
        app.create_user("frank", Role::Operator, None).await;
        let mut b = Browser::new(&app);
        for _ in 0..10 {
            assert_eq!(b.login("frank", "wrong wrong wrong").await.status, 401);
            assert_eq!(b.login("ghost", "wrong wrong wrong").await.status, 401);
        }
        let mut other = Browser::from_ip(&app, Some("127.0.0.3".parse().unwrap()));
        let locked = other.login("frank", PASSWORD).await;
        let ghost = other.login("ghost", PASSWORD).await;
        assert_eq!(locked.status, 429, "{}", locked.body);
        assert_eq!(without_request_id(locked.body), without_request_id(ghost.body), "existing and unknown accounts answer alike");
        app.clock.advance_secs(15 * 60 + 1);
        assert_eq!(other.login("frank", PASSWORD).await.status, 200);
    }
}

both_backends! {
    /// TOTP seeds are encrypted at rest (SECURITY A5); recovery codes are stored hashed and work once.
    async fn a5_totp_seed_is_encrypted_at_rest(app: TestApp) {
        app.create_user("grace", Role::Operator, None).await;
        let mut b = Browser::new(&app);
        let codes = b.sign_in_enrolling(&app, "grace").await;
        assert_eq!(codes.len(), 10);
        let totp = b.totp.clone().unwrap();
        let seed = totp.secret().as_bytes().to_vec();
        assert!(seed.len() * 8 >= 160, "seed has {} bits", seed.len() * 8);
        let b32 = totp.secret().to_base32();
        let dump = app.dump().await;
        assert!(!dump.windows(seed.len()).any(|w| w == seed.as_slice()), "raw seed in the database");
        assert!(!dump.windows(b32.len()).any(|w| w == b32.as_bytes()), "base32 seed in the database");
        for c in &codes {
            let compact = c.replace('-', "");
            assert!(!dump.windows(compact.len()).any(|w| w == compact.as_bytes()), "recovery code stored in plaintext");
        }
        // A recovery code signs in once.
        b.post("/auth/logout", json!({})).await;
        b.login("grace", PASSWORD).await;
        assert_eq!(b.post("/auth/mfa", json!({ "code": codes[0] })).await.status, 200);
        b.post("/auth/logout", json!({})).await;
        b.login("grace", PASSWORD).await;
        assert_eq!(b.post("/auth/mfa", json!({ "code": codes[0] })).await.status, 401);
        let me_codes = {
            assert_eq!(b.post("/auth/mfa", json!({ "code": codes[1] })).await.status, 200);
            b.get("/api/v1/me").await.body["mfa"]["recovery_codes_left"].clone()
        };
        assert_eq!(me_codes, 8);
    }
}

fn cookie_attributes(raw: &str) -> Vec<String> {
    raw.split(';').skip(1).map(|p| p.trim().to_ascii_lowercase()).collect()
}

both_backends! {
    /// The session cookie's attributes (SECURITY S2), and a new id at login, MFA and step-up with
    /// the old one dead (S1).
    async fn s1_s2_session_cookie_is_host_prefixed_and_cycled(app: TestApp) {
        app.create_user("heidi", Role::Operator, None).await;
        let mut b = Browser::new(&app);
        b.login("heidi", PASSWORD).await;
        let raw = b.last_set_cookie.clone().unwrap();
        assert!(raw.starts_with("__Host-latchkey="), "{raw}");
        let attrs = cookie_attributes(&raw);
        for want in ["secure", "httponly", "samesite=strict", "path=/"] {
            assert!(attrs.iter().any(|a| a == want), "missing {want} in {raw}");
        }
        assert!(!attrs.iter().any(|a| a.starts_with("domain")), "__Host- cookies have no Domain: {raw}");
        let after_login = b.cookie.clone().unwrap();
        let e = b.post("/auth/mfa/enroll/start", json!({})).await;
        b.totp = Some(crate::support::browser::authenticator(e.body["secret"].as_str().unwrap()));
        let code = b.code_at(&app, 0);
        assert_eq!(b.post("/auth/mfa/enroll/confirm", json!({ "code": code })).await.status, 200);
        let after_mfa = b.cookie.clone().unwrap();
        assert_ne!(after_login, after_mfa);
        app.clock.advance_secs(30);
        let code = b.code_at(&app, 0);
        assert_eq!(b.post("/auth/step-up", json!({ "code": code })).await.status, 200);
        let after_step_up = b.cookie.clone().unwrap();
        assert_ne!(after_mfa, after_step_up);
        assert_eq!(b.get("/api/v1/me").await.status, 200);
        for old in [after_login, after_mfa] {
            let mut stale = Browser::new(&app);
            stale.cookie = Some(old);
            let r = stale.get("/api/v1/me").await;
            assert_eq!(r.status, 401, "an old session id still works: {}", r.body);
        }
    }
}

both_backends! {
    /// Idle (30 min) and absolute (12 h) timeouts on the server's clock (SECURITY S3).
    async fn s3_idle_and_absolute_timeouts(app: TestApp) {
        let mut b = app.signed_in("ivan", Role::Auditor, None).await;
        app.clock.advance_secs(29 * 60);
        assert_eq!(b.get("/api/v1/me").await.status, 200, "active within the idle timeout");
        app.clock.advance_secs(30 * 60);
        let r = b.get("/api/v1/me").await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (401, Some("unauthenticated")));
        // Absolute: active every 20 minutes, still ends at 12 hours.
        app.clock.advance_secs(60);
        let mut c = Browser::new(&app);
        c.totp = b.totp.clone();
        assert_eq!(c.sign_in(&app, "ivan").await.status, 200);
        for _ in 0..35 {
            app.clock.advance_secs(20 * 60);
            assert_eq!(c.get("/api/v1/me").await.status, 200);
        }
        app.clock.advance_secs(20 * 60);
        assert_eq!(c.get("/api/v1/me").await.status, 401, "the absolute timeout was not enforced");
    }
}

both_backends! {
    /// Logout deletes the session server-side: the replayed cookie is dead (SECURITY S4).
    async fn s4_logout_deletes_the_session(app: TestApp) {
        let mut b = app.signed_in("judy", Role::Auditor, None).await;
        let cookie = b.cookie.clone().unwrap();
        assert_eq!(b.post("/auth/logout", json!({})).await.status, 200);
        let mut replay = Browser::new(&app);
        replay.cookie = Some(cookie);
        assert_eq!(replay.get("/api/v1/me").await.status, 401);
    }
}

both_backends! {
    /// Disabling a user ends all their sessions at once (SECURITY S5).
    async fn s5_disabling_a_user_ends_all_sessions(app: TestApp) {
        let mut first = app.signed_in("ken", Role::Operator, None).await;
        app.clock.advance_secs(30);
        let mut second = Browser::new(&app);
        second.totp = first.totp.clone();
        assert_eq!(second.sign_in(&app, "ken").await.status, 200);
        assert_eq!(first.get("/api/v1/me").await.status, 200);
        let id = latchkey_core::ids::UserId::parse(first.user_id.as_deref().unwrap()).unwrap();
        let ended = app.services.disable_user(&app.ctx(), &id).await.unwrap();
        assert_eq!(ended, 2);
        assert_eq!(first.get("/api/v1/me").await.status, 401);
        assert_eq!(second.get("/api/v1/me").await.status, 401);
        assert_eq!(first.login("ken", PASSWORD).await.status, 401, "a disabled user cannot sign in");
    }
}

both_backends! {
    /// Mutations need the console's own Origin; GET on a mutation is 405 (SECURITY C1).
    async fn c1_cross_origin_and_get_mutations_are_refused(app: TestApp) {
        app.create_user("leo", Role::Operator, None).await;
        let mut evil = Browser::new(&app);
        evil.origin = Some("https://evil.example".into());
        let r = evil.login("leo", PASSWORD).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (403, Some("csrf_rejected")), "{}", r.body);
        let mut no_origin = Browser::new(&app);
        no_origin.origin = None;
        assert_eq!(no_origin.login("leo", PASSWORD).await.status, 403);
        // A signed-in session's cookie does not help a cross-origin request.
        let mut b = app.signed_in("mia", Role::Operator, None).await;
        b.origin = Some("http://127.0.0.1:1".into());
        assert_eq!(b.post("/auth/logout", json!({})).await.status, 403);
        b.origin = Some(app.base.clone());
        assert_eq!(b.get("/api/v1/me").await.status, 200, "the refused logout changed nothing");
        for path in ["/auth/login", "/auth/logout", "/auth/mfa", "/auth/step-up"] {
            let r = b.get(path).await;
            assert_eq!(r.status, 405, "GET {path}");
        }
    }
}

both_backends! {
    /// Sign-in attempts are also limited per client address, whatever the account names.
    async fn a4_sign_in_attempts_are_limited_per_address(app: TestApp) {
        let mut b = Browser::from_ip(&app, Some("127.0.0.4".parse().unwrap()));
        let mut limited = false;
        for i in 0..40 {
            let r = b.login(&format!("spray-{i}"), "wrong wrong wrong").await;
            assert!(r.status == 401 || r.status == 429, "{} {}", r.status, r.body);
            if r.status == 429 {
                assert_eq!(r.body["error"]["code"], "rate_limited");
                limited = true;
                break;
            }
        }
        assert!(limited, "40 rapid sign-ins from one address were never limited");
        // Another address is not affected.
        let mut other = Browser::from_ip(&app, Some("127.0.0.5".parse().unwrap()));
        assert_eq!(other.login("someone", "wrong wrong wrong").await.status, 401);
    }
}

both_backends! {
    /// Expired sessions are purged from the database by the background task's sweep.
    async fn expired_sessions_are_purged(app: TestApp) {
        let mut b = app.signed_in("sweeper", Role::Auditor, None).await;
        app.sql("UPDATE sessions SET expires_at = 0").await;
        let purged = app.services.purge_expired().await.unwrap();
        assert!(purged >= 1, "{purged}");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(app.services.db.pool()).await.unwrap();
        assert_eq!(left, 0);
        assert_eq!(b.get("/api/v1/me").await.status, 401);
    }
}

both_backends! {
    /// Concurrent enrollment starts (a page rendered twice) agree on one seed, so the code the
    /// user types from whichever was shown is accepted.
    async fn concurrent_enrollment_starts_agree_on_one_seed(app: TestApp) {
        app.create_user("twice", Role::Auditor, None).await;
        let mut b = Browser::new(&app);
        b.login("twice", PASSWORD).await;
        let (first, second) = tokio::join!(
            b.http.post(format!("{}/auth/mfa/enroll/start", app.base)).header("cookie", b.cookie.clone().unwrap()).header("origin", &app.base).send(),
            b.http.post(format!("{}/auth/mfa/enroll/start", app.base)).header("cookie", b.cookie.clone().unwrap()).header("origin", &app.base).send(),
        );
        let first: serde_json::Value = first.unwrap().json().await.unwrap();
        let second: serde_json::Value = second.unwrap().json().await.unwrap();
        assert_eq!(first["secret"], second["secret"]);
        b.totp = Some(crate::support::browser::authenticator(first["secret"].as_str().unwrap()));
        let code = b.code_at(&app, 0);
        assert_eq!(b.post("/auth/mfa/enroll/confirm", json!({"code": code})).await.status, 200);
    }
}
