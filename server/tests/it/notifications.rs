//! Webhook notifications against a real HTTP receiver on loopback: emergency revoke, approval
//! requests and decisions, expiry warnings; retry with backoff from the database; no secret in
//! any payload.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use latchkey_core::domain::user::Role;
use serde_json::{Value, json};

use crate::both_backends;

/// A Slack-like receiver: records every JSON body; answers 500 to the first `fail_first` calls.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Value>>>,
    fail_first: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> (Self, String) {
        let r = Self { fail_first: Arc::new(Mutex::new(fail_first)), ..Default::default() };
        let router = axum::Router::new().route(
            "/services/T000/B000/XXXXsecretpath",
            post(|State(r): State<Receiver>, body: String| async move {
                let mut fail = r.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                r.got.lock().unwrap().push(serde_json::from_str(&body).unwrap_or(Value::Null));
                StatusCode::OK
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/services/T000/B000/XXXXsecretpath", listener.local_addr().unwrap());
        let app = router.with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, url)
    }

    fn events(&self) -> Vec<Value> {
        self.got.lock().unwrap().clone()
    }
}

both_backends! {
    /// On-call emergency revoke: verify fails on the next call, the webhook receiver gets a
    /// Slack-compatible message, the audit log records it as an emergency. The webhook URL (a
    /// secret) is never shown back; the payload holds no token.
    async fn emergency_revoke_notifies_the_webhook(app: TestApp) {
        let (receiver, url) = Receiver::start(0).await;
        let mut admin = app.signed_in("hook-admin", Role::Admin, None).await;
        let r = admin.post("/api/v1/webhooks", json!({"name": "on-call", "url": url, "events": ["credential.emergency_revoke"]})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(!r.body.to_string().contains("secretpath"), "the URL is write-only: {}", r.body);
        assert_eq!(r.body["host"], "127.0.0.1");
        let a = app.create_application("leaky").await;
        let leaked = app.issue(&a, "staging").await;
        let mut oncall = app.signed_in("oncall", Role::Operator, None).await;
        let r = oncall.post(&format!("/api/v1/credentials/{}/revoke", leaked.credential.id),
            json!({"reason": "posted in a public gist", "emergency": true})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!app.is_valid(leaked.secret.expose(), "staging").await, "invalid on the very next call");

        assert_eq!(app.services.deliver_notifications().await.unwrap(), 1);
        let got = receiver.events();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0]["event"], "credential.emergency_revoke");
        let text = got[0]["text"].as_str().unwrap();
        assert!(text.contains("EMERGENCY") && text.contains("leaky") && text.contains("public gist"), "{text}");
        assert!(!got[0].to_string().contains(leaked.secret.expose()), "no token in a notification");
        assert_eq!(app.services.deliver_notifications().await.unwrap(), 0, "delivered once");

        let events = admin.get("/api/v1/audit?action=credential.emergency_revoke").await;
        assert_eq!(events.body["items"][0]["target_id"], leaked.credential.id.as_str());
        assert_eq!(events.body["items"][0]["details"]["emergency"], true);
        let hooks = admin.get("/api/v1/webhooks").await;
        assert_eq!((hooks.body["items"][0]["delivered"].as_i64(), hooks.body["items"][0]["pending"].as_i64()), (Some(1), Some(0)));
        let dump = String::from_utf8_lossy(&app.dump().await).to_string();
        assert!(!dump.contains("XXXXsecretpath"), "the webhook URL is sealed at rest");

        // Revoke all for the application in one environment, as an emergency: one message.
        let more = [app.issue(&a, "staging").await, app.issue(&a, "staging").await];
        let r = oncall.post(&format!("/api/v1/applications/{a}/revoke-all"),
            json!({"environment": "staging", "reason": "whole CI log leaked", "emergency": true})).await;
        assert_eq!((r.status, r.body["revoked"].as_i64()), (200, Some(2)), "{}", r.body);
        for m in &more {
            assert!(!app.is_valid(m.secret.expose(), "staging").await);
        }
        assert_eq!(app.services.deliver_notifications().await.unwrap(), 1);
        assert!(receiver.events()[1]["text"].as_str().unwrap().contains("REVOKE ALL"));
    }
}

both_backends! {
    /// A failing receiver is retried with backoff on the server's clock; the request that caused
    /// the notification never waited for it.
    async fn webhook_delivery_retries_with_backoff(app: TestApp) {
        let (receiver, url) = Receiver::start(2).await;
        let mut admin = app.signed_in("retry-admin", Role::Admin, None).await;
        assert_eq!(admin.post("/api/v1/webhooks", json!({"name": "approvals", "url": url})).await.status, 201);
        let mut op = app.signed_in("retry-op", Role::Operator, None).await;
        let a = app.create_application("retried").await;
        let r = op.post("/api/v1/credentials", json!({"application_id": a.to_string(), "environment": "production",
            "name": "primary", "reason": "go live"})).await;
        assert_eq!(r.status, 202, "{}", r.body);

        assert_eq!(app.services.deliver_notifications().await.unwrap(), 0, "first attempt fails");
        assert_eq!(app.services.deliver_notifications().await.unwrap(), 0, "not due again yet");
        app.clock.advance_secs(9);
        assert_eq!(app.services.deliver_notifications().await.unwrap(), 0, "backoff is 10 s");
        app.clock.advance_secs(1);
        assert_eq!(app.services.deliver_notifications().await.unwrap(), 0, "second attempt fails");
        let hooks = admin.get("/api/v1/webhooks").await;
        assert_eq!(hooks.body["items"][0]["last_error"], "HTTP 500");
        app.clock.advance_secs(60);
        assert_eq!(app.services.deliver_notifications().await.unwrap(), 1, "third attempt succeeds");
        let got = receiver.events();
        assert_eq!(got[0]["event"], "request.pending");
        assert!(got[0]["text"].as_str().unwrap().contains("Approval needed"), "{}", got[0]);

        // Decisions are announced too.
        let id = r.body["request"]["id"].as_str().unwrap();
        app.clock.advance_secs(30);
        let code = admin.code_at(&app, 0);
        assert_eq!(admin.post("/auth/step-up", json!({"code": code})).await.status, 200);
        assert_eq!(admin.post(&format!("/api/v1/requests/{id}/reject"), json!({"comment": "not this week"})).await.status, 200);
        assert_eq!(app.services.deliver_notifications().await.unwrap(), 1);
        assert_eq!(receiver.events()[1]["event"], "request.rejected");

        // A receiver that never answers well is given up on after the last backoff.
        let dead = "http://127.0.0.1:9/hook";
        assert_eq!(admin.post("/api/v1/webhooks", json!({"name": "dead", "url": dead, "events": ["webhook.test"]})).await.status, 201);
        let hooks = admin.get("/api/v1/webhooks").await;
        let dead_id = hooks.body["items"][1]["id"].as_str().unwrap().to_owned();
        assert_eq!(admin.post(&format!("/api/v1/webhooks/{dead_id}/test"), json!({})).await.status, 202);
        // Bad input is refused clearly.
        for bad in [json!({"name": "x", "url": "ftp://example.com"}), json!({"name": "x", "url": "not a url"}),
                    json!({"name": "", "url": "https://example.com"}), json!({"name": "x", "url": "https://e.com", "events": ["nope"]})] {
            assert_eq!(admin.post("/api/v1/webhooks", bad.clone()).await.status, 422, "{bad}");
        }
        for _ in 0..7 {
            app.services.deliver_notifications().await.unwrap();
            app.clock.advance_secs(6 * 3600 + 1);
        }
        let hooks = app.services.list_webhooks().await.unwrap();
        assert_eq!((hooks[1].failed, hooks[1].pending, hooks[1].delivered), (1, 0, 0), "{hooks:?}");
        assert_eq!(hooks[1].last_error.as_deref(), Some("could not connect"));
        assert_eq!(admin.sign_in(&app, "retry-admin").await.status, 200);
        assert_eq!(admin.request("DELETE", &format!("/api/v1/webhooks/{dead_id}"), None).await.status, 204);
        assert_eq!(admin.get("/api/v1/webhooks").await.body["items"].as_array().unwrap().len(), 1);
    }
}

both_backends! {
    /// "Credential expiring" goes out at 14, 7 and 1 days, once each, and only for credentials
    /// that can still expire (active ones).
    async fn expiry_warnings_go_out_once_per_threshold(app: TestApp) {
        let (receiver, url) = Receiver::start(0).await;
        let mut admin = app.signed_in("exp-admin", Role::Admin, None).await;
        assert_eq!(admin.post("/api/v1/webhooks", json!({"name": "expiry", "url": url, "events": ["credential.expiring"]})).await.status, 201);
        let a = app.create_application("expiring").await;
        let issued = app.issue(&a, "staging").await; // 30 days
        let revoked = app.issue(&a, "staging").await;
        app.services
            .revoke_credential(&app.ctx(), &revoked.credential.id, latchkey_core::services::credentials::RevokeRequest {
                reason: latchkey_core::domain::text::Reason::parse("r").unwrap(), emergency: false })
            .await
            .unwrap();
        assert_eq!(app.services.warn_expiring().await.unwrap(), 0, "30 days left: nothing yet");
        app.clock.advance_secs(17 * 86_400);
        assert_eq!(app.services.warn_expiring().await.unwrap(), 1, "13 days left: the 14-day warning");
        assert_eq!(app.services.warn_expiring().await.unwrap(), 0, "once");
        app.clock.advance_secs(7 * 86_400);
        assert_eq!(app.services.warn_expiring().await.unwrap(), 1, "6 days left: the 7-day warning");
        app.clock.advance_secs(5 * 86_400 + 3600);
        assert_eq!(app.services.warn_expiring().await.unwrap(), 1, "23 hours left: the 1-day warning");
        assert_eq!(app.services.warn_expiring().await.unwrap(), 0);
        assert_eq!(app.services.deliver_notifications().await.unwrap(), 3);
        let got = receiver.events();
        let thresholds: Vec<i64> = got.iter().map(|e| e["data"]["threshold_days"].as_i64().unwrap()).collect();
        assert_eq!(thresholds, vec![14, 7, 1]);
        assert_eq!(got[0]["data"]["credential_id"], issued.credential.id.as_str());
    }
}
