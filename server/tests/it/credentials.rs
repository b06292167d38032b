//! The credential lifecycle end to end: service commands, then verification over HTTP.

use latchkey_core::CoreError;
use latchkey_core::domain::credential::Status;
use latchkey_core::domain::environment::EnvironmentSlug;
use latchkey_core::domain::text::Reason;
use latchkey_core::services::credentials::{RevokeRequest, RotateRequest};
use latchkey_core::storage::credentials::ListFilter;
use serde_json::Value;

use crate::both_backends;
use crate::support::TestApp;

fn reason(s: &str) -> Reason {
    Reason::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

both_backends! {
    async fn issue_then_verify_is_valid_with_metadata(app: TestApp) {
        let a = app.create_application("payments-backend").await;
        let issued = app.issue(&a, "staging").await;
        let token = issued.secret.expose().to_owned();
        assert!(token.starts_with("lk_staging_"));
        let (status, body) = app.verify(&token, "staging").await;
        assert_eq!(status, 200);
        assert_eq!(body["valid"], true);
        assert_eq!(body["credential_id"], issued.credential.id.as_str());
        assert_eq!(body["application"], "payments-backend");
        assert_eq!(body["environment"], "staging");
        assert_eq!(body["status"], "active");
        assert_eq!(body["scopes"], serde_json::json!(["payments:read", "payments:write"]));
        assert!(body["expires_at"].as_str().is_some_and(|s| s.ends_with('Z')));
    }
}

both_backends! {
    /// Rotation: both keys verify during grace; the old one stops exactly at `grace_until`.
    async fn k9_rotate_grace_ends_exactly_when_stated(app: TestApp) {
        let a = app.create_application("partner-acme").await;
        let old = app.issue(&a, "staging").await;
        let rotated = app
            .services
            .rotate_credential(&app.ctx(), &old.credential.id, RotateRequest { grace_seconds: Some(600), reason: reason("scheduled") })
            .await
            .unwrap_or_else(|e| panic!("rotate: {e}"))
            .done()
            .unwrap();
        assert_eq!(rotated.previous.status, Status::Grace);
        assert_eq!(rotated.previous.rotated_to.as_ref(), Some(&rotated.credential.id));
        assert_eq!(rotated.credential.rotated_from.as_ref(), Some(&old.credential.id));
        assert_eq!(rotated.credential.scopes, old.credential.scopes);
        assert!(app.is_valid(old.secret.expose(), "staging").await, "old key valid during grace");
        assert!(app.is_valid(rotated.secret.expose(), "staging").await, "new key valid");
        let (_, body) = app.verify(old.secret.expose(), "staging").await;
        assert_eq!(body["status"], "grace");

        // One millisecond before the end of grace: still valid. At the end: invalid.
        app.clock.set(latchkey_core::domain::time::Timestamp::from_millis(crate::support::T0 + 600_000 - 1));
        assert!(app.is_valid(old.secret.expose(), "staging").await);
        app.clock.set(latchkey_core::domain::time::Timestamp::from_millis(crate::support::T0 + 600_000));
        assert!(!app.is_valid(old.secret.expose(), "staging").await, "old key invalid at grace_until");
        assert!(app.is_valid(rotated.secret.expose(), "staging").await, "new key still valid");
        assert_eq!(app.services.credential(&old.credential.id).await.map(|c| c.status).ok(), Some(Status::Expired));

        // A credential in grace cannot be rotated again.
        let again = app
            .services
            .rotate_credential(&app.ctx(), &old.credential.id, RotateRequest { grace_seconds: None, reason: reason("again") })
            .await;
        assert!(matches!(again, Err(CoreError::Conflict { .. })), "{again:?}");
    }
}

both_backends! {
    async fn k9_expiry_is_exact_and_never_resurrects(app: TestApp) {
        let a = app.create_application("expiring").await;
        let issued = app.issue(&a, "test").await; // 30 days
        let t = issued.credential.expires_at.as_millis();
        app.clock.set(latchkey_core::domain::time::Timestamp::from_millis(t - 1));
        assert!(app.is_valid(issued.secret.expose(), "test").await);
        app.clock.set(latchkey_core::domain::time::Timestamp::from_millis(t));
        assert!(!app.is_valid(issued.secret.expose(), "test").await);
        // The clock moving backwards does not matter once revoked (final).
        app.services
            .revoke_credential(&app.ctx(), &issued.credential.id, RevokeRequest { reason: reason("cleanup"), emergency: false })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        app.clock.set(latchkey_core::domain::time::Timestamp::from_millis(crate::support::T0));
        assert!(!app.is_valid(issued.secret.expose(), "test").await);
    }
}

both_backends! {
    /// Revocation takes effect on the very next verify on the same replica.
    async fn k7_revoke_is_enforced_on_the_next_call(app: TestApp) {
        let a = app.create_application("leaky").await;
        let issued = app.issue(&a, "staging").await;
        let other = app.issue(&a, "staging").await;
        assert!(app.is_valid(issued.secret.expose(), "staging").await);
        let revoked = app
            .services
            .revoke_credential(&app.ctx(), &issued.credential.id, RevokeRequest { reason: reason("leaked in a gist"), emergency: true })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(revoked.status, Status::Revoked);
        assert_eq!(revoked.revoked_reason.as_deref(), Some("leaked in a gist"));
        assert!(!app.is_valid(issued.secret.expose(), "staging").await);
        assert!(app.is_valid(other.secret.expose(), "staging").await, "other credentials unaffected");
        let twice = app
            .services
            .revoke_credential(&app.ctx(), &issued.credential.id, RevokeRequest { reason: reason("again"), emergency: false })
            .await;
        assert!(matches!(twice, Err(CoreError::Conflict { .. })), "{twice:?}");
    }
}

both_backends! {
    /// Revoke-all leaves no valid key of that application in that environment, and touches no other.
    async fn k7_revoke_all_leaves_zero_valid(app: TestApp) {
        let a = app.create_application("compromised").await;
        let b = app.create_application("bystander").await;
        let mut tokens = Vec::new();
        for _ in 0..5 {
            tokens.push(app.issue(&a, "staging").await.secret);
        }
        let in_test = app.issue(&a, "test").await.secret;
        let bystander = app.issue(&b, "staging").await.secret;
        let env = EnvironmentSlug::parse("staging").unwrap_or_else(|e| panic!("{e}"));
        let n = app.services.revoke_all(&app.ctx(), &a, &env, &reason("incident 42"), false).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 5);
        for t in &tokens {
            assert!(!app.is_valid(t.expose(), "staging").await);
        }
        assert!(app.is_valid(in_test.expose(), "test").await, "other environment untouched");
        assert!(app.is_valid(bystander.expose(), "staging").await, "other application untouched");
        let again = app.services.revoke_all(&app.ctx(), &a, &env, &reason("again"), false).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, 0);
        let listed = app
            .services
            .list_credentials(&ListFilter { application_id: Some(a.clone()), status: Some(Status::Revoked), limit: 100, ..Default::default() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(listed.len(), 5);
    }
}

both_backends! {
    /// A key is bound to its environment: a staging key at production verification is invalid.
    async fn k6_key_is_bound_to_its_environment(app: TestApp) {
        let a = app.create_application("bound").await;
        let issued = app.issue(&a, "staging").await;
        assert!(app.is_valid(issued.secret.expose(), "staging").await);
        assert!(!app.is_valid(issued.secret.expose(), "production").await);
        assert!(!app.is_valid(issued.secret.expose(), "test").await);
    }
}

both_backends! {
    /// Unknown, revoked, expired and wrong-environment keys get byte-identical answers.
    async fn k8_invalid_answers_are_identical(app: TestApp) {
        let a = app.create_application("answers").await;
        let revoked = app.issue(&a, "staging").await;
        app.services
            .revoke_credential(&app.ctx(), &revoked.credential.id, RevokeRequest { reason: reason("r"), emergency: false })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut short = app.issue_request(&a, "staging");
        short.expires_in_days = Some(1);
        let expired = app.services.issue_credential(&app.ctx(), short).await.unwrap_or_else(|e| panic!("{e}")).done().unwrap();
        let wrong_env = app.issue(&a, "test").await;
        // An unknown key with a valid checksum: a real token from another installation.
        let other = TestApp::spawn(latchkey_core::storage::Backend::Sqlite).await;
        let oa = other.create_application("elsewhere").await;
        let unknown = other.issue(&oa, "staging").await;
        app.clock.advance_secs(86_400 + 1);

        let mut bodies = Vec::new();
        for (token, env) in [
            (unknown.secret.expose(), "staging"),
            (revoked.secret.expose(), "staging"),
            (expired.secret.expose(), "staging"),
            (wrong_env.secret.expose(), "staging"),
            ("lk_staging_garbage", "staging"),
        ] {
            let r = app
                .http
                .post(format!("{}/api/v1/verify", app.base))
                .bearer_auth(token)
                .json(&serde_json::json!({ "environment": env }))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let status = r.status().as_u16();
            let ct = r.headers().get("content-type").cloned();
            bodies.push((status, ct, r.bytes().await.unwrap_or_default()));
        }
        for b in &bodies {
            assert_eq!(b, &bodies[0], "answers differ");
        }
        assert_eq!(bodies[0].0, 200);
        assert_eq!(serde_json::from_slice::<Value>(&bodies[0].2).unwrap_or_default(), serde_json::json!({"valid": false}));
    }
}

both_backends! {
    /// After a full workflow no token string is anywhere in a dump of the database.
    async fn k1_no_token_in_a_database_dump(app: TestApp) {
        let a = app.create_application("dumped").await;
        let first = app.issue(&a, "staging").await;
        let rotated = app
            .services
            .rotate_credential(&app.ctx(), &first.credential.id, RotateRequest { grace_seconds: Some(60), reason: reason("r") })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .done()
            .unwrap();
        app.services
            .revoke_credential(&app.ctx(), &rotated.credential.id, RevokeRequest { reason: reason("r"), emergency: true })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let dump = app.dump().await;
        assert!(dump.len() > 1000, "the dump is suspiciously small");
        for token in [first.secret.expose(), rotated.secret.expose()] {
            let secret_part = &token[token.len() - 38..token.len() - 6];
            for needle in [token, secret_part] {
                assert!(
                    !dump.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "a token or its secret part is stored in plaintext"
                );
            }
        }
        // The public prefix is stored (for display and search), which shows the dump is real.
        let prefix = first.secret.display_prefix().to_owned();
        assert!(dump.windows(prefix.len()).any(|w| w == prefix.as_bytes()), "dump lacks the display prefix");
    }
}

both_backends! {
    /// The secret is returned once: never in details, lists or the audit log (canary grep).
    async fn k2_secret_never_in_details_lists_or_audit(app: TestApp) {
        let a = app.create_application("canary").await;
        let issued = app.issue(&a, "staging").await;
        let token = issued.secret.expose().to_owned();
        let secret_part = token[token.len() - 38..token.len() - 6].to_owned();
        let detail = serde_json::to_string(&app.services.credential(&issued.credential.id).await.unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_default();
        let list = serde_json::to_string(
            &app.services.list_credentials(&ListFilter { limit: 100, ..Default::default() }).await.unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_default();
        let audit = serde_json::to_string(
            &app.services
                .audit_list(&latchkey_core::storage::audit::ListFilter { limit: 1000, ..Default::default() })
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_default();
        assert!(detail.contains(issued.credential.id.as_str()) && list.contains(issued.credential.id.as_str()));
        assert!(audit.contains("credential.issue"));
        for out in [&detail, &list, &audit] {
            assert!(!out.contains(&token) && !out.contains(&secret_part), "secret leaked: {out}");
        }
        // Debug formatting of the secret is redacted too.
        assert!(!format!("{issued:?}").contains(&secret_part));
    }
}

both_backends! {
    /// Lifetimes and grace periods outside the environment's policy are refused with 422.
    async fn policy_limits_are_enforced(app: TestApp) {
        let a = app.create_application("limits").await;
        let mut req = app.issue_request(&a, "staging");
        req.expires_in_days = Some(366);
        let r = app.services.issue_credential(&app.ctx(), req).await;
        assert!(matches!(r, Err(CoreError::Validation(_))), "{r:?}");
        let issued = app.issue(&a, "staging").await;
        let r = app
            .services
            .rotate_credential(&app.ctx(), &issued.credential.id, RotateRequest { grace_seconds: Some(8 * 86_400), reason: reason("r") })
            .await;
        assert!(matches!(r, Err(CoreError::Validation(_))), "{r:?}");
        // Production requires approval by default: the issue becomes a change request.
        let r = app.services.issue_credential(&app.ctx(), app.issue_request(&a, "production")).await.unwrap();
        let request = r.pending().expect("a change request");
        assert_eq!((request.approvals_required, request.approvals), (1, 0));
    }
}

both_backends! {
    /// A revocation on one replica is enforced by another replica on the same database.
    async fn k7_revocation_reaches_another_replica(app: TestApp) {
        let a = app.create_application("replicated").await;
        let issued = app.issue(&a, "staging").await;
        let replica = app.replica().await;
        assert!(replica.is_valid(issued.secret.expose(), "staging").await, "replica loaded the credential");
        app.services
            .revoke_credential(&app.ctx(), &issued.credential.id, RevokeRequest { reason: reason("leak"), emergency: true })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // The stated bound is the poll interval (50 ms); allow far more so a busy machine cannot fail it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if !replica.is_valid(issued.secret.expose(), "staging").await {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the replica still answers valid");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // A credential issued on the first replica becomes valid on the second without a restart.
        let fresh = app.issue(&a, "staging").await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !replica.is_valid(fresh.secret.expose(), "staging").await {
            assert!(std::time::Instant::now() < deadline, "the replica never saw the new credential");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
