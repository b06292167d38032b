//! Four-eyes change requests (SECURITY Z4–Z7, Z9), end grace, and the approval lifecycle as the
//! REST API exposes it.

use latchkey_core::domain::user::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::browser::Browser;

/// Production issue request by `b` for a fresh application; returns the request id.
async fn request_production_issue(app: &TestApp, b: &mut Browser, name: &str) -> String {
    let a = app.create_application(name).await;
    let r = b
        .post(
            "/api/v1/credentials",
            json!({"application_id": a.to_string(), "environment": "production", "name": "primary",
                "scopes": ["payments:write"], "expires_in_days": 90, "reason": "new partner integration"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let req = &r.body["request"];
    assert_eq!((req["status"].as_str(), req["kind"].as_str()), (Some("pending"), Some("issue")), "{req}");
    assert!(r.body.get("secret").is_none(), "no secret before approval");
    req["id"].as_str().unwrap().to_owned()
}

/// A POST carrying `b`'s session to `base` (another replica), for concurrent calls.
fn raw_post(
    b: &Browser,
    base: &str,
    path: &str,
    body: Value,
) -> impl std::future::Future<Output = (u16, Value)> + use<> {
    let r = b
        .http
        .post(format!("{base}{path}"))
        .header("cookie", b.cookie.clone().unwrap_or_default())
        .header("origin", base)
        .json(&body);
    async move {
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    let row = sqlx::query(sql).fetch_one(app.services.db.pool()).await.unwrap();
    row.try_get::<i64, _>(0).unwrap()
}

both_backends! {
    /// The requester cannot approve (403); one person counts once (409); approvals come from
    /// distinct administrators of the environment (SECURITY Z4).
    async fn z4_requester_cannot_approve_and_one_person_counts_once(app: TestApp) {
        app.sql("UPDATE environments SET issue_approvals = 2 WHERE slug = 'production'").await;
        let mut requester = app.signed_in("req-admin", Role::Admin, None).await;
        let mut second = app.signed_in("second-admin", Role::Admin, None).await;
        let mut third = app.signed_in("third-admin", Role::Admin, None).await;
        let mut staging_admin = app.signed_in("staging-admin", Role::Admin, Some("staging")).await;
        let mut operator = app.signed_in("z4-operator", Role::Operator, None).await;
        let id = request_production_issue(&app, &mut requester, "four-eyes").await;
        let approve = format!("/api/v1/requests/{id}/approve");

        let r = requester.post(&approve, json!({"comment": "mine"})).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (403, Some("forbidden")), "self-approval: {}", r.body);
        let r = operator.post(&approve, json!({})).await;
        assert_eq!(r.status, 403, "operators do not approve: {}", r.body);
        let r = staging_admin.post(&approve, json!({})).await;
        assert_eq!(r.status, 403, "an admin of another environment does not approve: {}", r.body);

        let r = second.post(&approve, json!({"comment": "looks right"})).await;
        assert_eq!((r.status, r.body["status"].as_str(), r.body["approvals"].as_i64()), (200, Some("pending"), Some(1)), "{}", r.body);
        let r = second.post(&approve, json!({"comment": "again"})).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (409, Some("conflict")), "second approval by the same person: {}", r.body);
        let r = requester.post(&format!("/api/v1/requests/{id}/execute"), json!({})).await;
        assert_eq!(r.status, 409, "one approval of two is not enough: {}", r.body);

        let r = third.post(&approve, json!({})).await;
        assert_eq!((r.status, r.body["status"].as_str(), r.body["approvals"].as_i64()), (200, Some("approved"), Some(2)), "{}", r.body);
        let mut names: Vec<&str> = r.body["decisions"].as_array().unwrap().iter().map(|d| d["actor_name"].as_str().unwrap()).collect();
        names.sort_unstable();
        assert_eq!(names, vec!["second-admin", "third-admin"]);

        let r = second.post(&format!("/api/v1/requests/{id}/execute"), json!({})).await;
        assert_eq!(r.status, 403, "only the requester executes: {}", r.body);
        let r = requester.post(&format!("/api/v1/requests/{id}/execute"), json!({})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let secret = r.body["secret"].as_str().unwrap().to_owned();
        assert!(app.is_valid(&secret, "production").await);
        assert_eq!(r.body["credential"]["created_via_request"], id.as_str());
        let detail = requester.get(&format!("/api/v1/requests/{id}")).await;
        assert_eq!(detail.body["status"], "executed");
        assert_eq!(detail.body["credential_id"], r.body["credential"]["id"]);
        assert!(!detail.body.to_string().contains(&secret), "the secret is returned once, never stored with the request");
        let r = requester.post(&format!("/api/v1/requests/{id}/execute"), json!({})).await;
        assert_eq!(r.status, 409, "executed once: {}", r.body);
    }
}

async fn approved_request(app: &TestApp, name: &str) -> (Browser, Browser, String) {
    let mut requester = app.signed_in(&format!("{name}-op"), Role::Operator, None).await;
    let mut admin = app.signed_in(&format!("{name}-admin"), Role::Admin, None).await;
    let id = request_production_issue(app, &mut requester, name).await;
    let r = admin.post(&format!("/api/v1/requests/{id}/approve"), json!({})).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("approved")), "{}", r.body);
    (requester, admin, id)
}

both_backends! {
    /// 50 concurrent approvals by one admin count once; 50 concurrent executions create exactly
    /// one credential, with one event each (SECURITY Z5).
    async fn z5_concurrent_approve_and_execute_yield_one_credential(app: TestApp) {
        let mut requester = app.signed_in("z5-op", Role::Operator, None).await;
        let admin = app.signed_in("z5-admin", Role::Admin, None).await;
        let id = request_production_issue(&app, &mut requester, "raced").await;
        let approve = format!("/api/v1/requests/{id}/approve");
        let calls: Vec<_> = (0..50).map(|_| tokio::spawn(raw_post(&admin, &app.base, &approve, json!({})))).collect();
        let mut statuses = Vec::new();
        for c in calls {
            statuses.push(c.await.unwrap().0);
        }
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 49, "{statuses:?}");

        let execute = format!("/api/v1/requests/{id}/execute");
        let calls: Vec<_> = (0..50).map(|_| tokio::spawn(raw_post(&requester, &app.base, &execute, json!({})))).collect();
        let mut results = Vec::new();
        for c in calls {
            results.push(c.await.unwrap());
        }
        let created: Vec<&Value> = results.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b).collect();
        assert_eq!(created.len(), 1, "{:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
        assert!(results.iter().all(|(s, _)| *s == 201 || *s == 409), "{:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
        assert!(app.is_valid(created[0]["secret"].as_str().unwrap(), "production").await);
        let q = format!("SELECT COUNT(*) FROM credentials WHERE created_via_request = '{id}'");
        assert_eq!(count(&app, &q).await, 1);
        for action in ["request.approve", "request.execute"] {
            let q = format!("SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND target_id = '{id}'");
            assert_eq!(count(&app, &q).await, 1, "{action}");
        }
        assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'credential.issue'").await, 1);
        assert!(app.services.audit_verify().await.unwrap().ok);
    }
}

/// Two server processes on one PostgreSQL database — this test's server and the real `latchkey`
/// binary, sharing the secrets — : 50 executions split across both create exactly one
/// credential (SECURITY Z5, "concurrent approvals, two replicas").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn z5_two_servers_on_one_postgres_execute_once() {
    use crate::cli::{BIN, Running, free_port, wait_healthy};
    let encoded = crate::support::encoded_test_keys();
    let opts = crate::support::Options { keys: Some(crate::support::keys_from(&encoded)), ..Default::default() };
    let Some(app) = TestApp::spawn_with(latchkey_core::storage::Backend::Postgres, opts).await else { return };
    // The other process reads the real clock: run this one on it too.
    app.clock.set(latchkey_core::domain::time::Timestamp::now_system());
    let (requester, _admin, id) = approved_request(&app, "two-processes").await;
    let dir = crate::support::TempDir::new("second-process");
    let port = free_port();
    let other_base = format!("http://127.0.0.1:{port}");
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("serve")
        .env_clear()
        .env("LATCHKEY_DATABASE_URL", &app.db_url)
        .env("LATCHKEY_LISTEN", format!("127.0.0.1:{port}"))
        .env("LATCHKEY_PUBLIC_URL", &other_base)
        .env("LATCHKEY_DATA_DIR", dir.0.to_string_lossy().to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in &encoded {
        cmd.env(k, v);
    }
    let _other = Running(cmd.spawn().unwrap());
    wait_healthy(&reqwest::Client::new(), &other_base).await;
    let probe =
        raw_post(&requester, &other_base, &format!("/api/v1/requests/{id}/cancel"), json!({"comment": 7})).await;
    assert_eq!(probe.0, 422, "the second process accepts this session: {probe:?}");
    let execute = format!("/api/v1/requests/{id}/execute");
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let base = if i % 2 == 0 { app.base.clone() } else { other_base.clone() };
            tokio::spawn(raw_post(&requester, &base, &execute, json!({})))
        })
        .collect();
    let mut statuses = Vec::new();
    for c in calls {
        statuses.push(c.await.unwrap().0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 49, "{statuses:?}");
    let q = format!("SELECT COUNT(*) FROM credentials WHERE created_via_request = '{id}'");
    assert_eq!(count(&app, &q).await, 1);
    assert!(app.services.audit_verify().await.unwrap().ok);
}

both_backends! {
    /// Execute before approval, approve after cancel or expiry, anything after reject: 409
    /// (SECURITY Z6). Requests expire after 24 hours on the server's clock.
    async fn z6_state_machine_cannot_be_skipped(app: TestApp) {
        let mut op = app.signed_in("z6-op", Role::Operator, None).await;
        let mut admin = app.signed_in("z6-admin", Role::Admin, None).await;
        let first = request_production_issue(&app, &mut op, "skipping").await;
        let r = op.post(&format!("/api/v1/requests/{first}/execute"), json!({})).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (409, Some("conflict")), "execute before approval: {}", r.body);
        let r = op.post(&format!("/api/v1/requests/{first}/cancel"), json!({"comment": "wrong scopes"})).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("cancelled")), "{}", r.body);
        let r = admin.post(&format!("/api/v1/requests/{first}/approve"), json!({})).await;
        assert_eq!(r.status, 409, "approve a cancelled request: {}", r.body);
        let r = op.post(&format!("/api/v1/requests/{first}/cancel"), json!({})).await;
        assert_eq!(r.status, 409, "cancel twice: {}", r.body);

        let second = request_production_issue(&app, &mut op, "rejected").await;
        let r = admin.post(&format!("/api/v1/requests/{second}/reject"), json!({"comment": "use staging"})).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("rejected")), "{}", r.body);
        let r = admin.post(&format!("/api/v1/requests/{second}/approve"), json!({})).await;
        assert_eq!(r.status, 409, "approve after reject: {}", r.body);
        for path in ["execute", "cancel"] {
            let r = op.post(&format!("/api/v1/requests/{second}/{path}"), json!({})).await;
            assert_eq!(r.status, 409, "{path} after reject: {}", r.body);
        }

        let third = request_production_issue(&app, &mut op, "expiring").await;
        let fourth = request_production_issue(&app, &mut op, "approved-then-expired").await;
        assert_eq!(admin.post(&format!("/api/v1/requests/{fourth}/approve"), json!({})).await.status, 200);
        app.clock.advance_secs(24 * 3600);
        // Sessions idle out long before requests expire: sign in again.
        assert_eq!(admin.sign_in(&app, "z6-admin").await.status, 200);
        let r = admin.post(&format!("/api/v1/requests/{third}/approve"), json!({})).await;
        assert_eq!(r.status, 409, "approve an expired request: {}", r.body);
        app.clock.advance_secs(30);
        assert_eq!(op.sign_in(&app, "z6-op").await.status, 200);
        let r = op.post(&format!("/api/v1/requests/{fourth}/execute"), json!({})).await;
        assert_eq!(r.status, 409, "execute an expired approval: {}", r.body);
        let listed = op.get("/api/v1/requests?status=expired").await;
        assert_eq!(listed.body["items"].as_array().unwrap().len(), 2, "{}", listed.body);
        assert_eq!(op.get("/api/v1/requests?status=pending").await.body["items"].as_array().unwrap().len(), 0);
        assert_eq!(op.get("/api/v1/requests?status=bogus").await.status, 422);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM credentials").await, 0, "no request produced a credential");
    }
}

both_backends! {
    /// Approving needs MFA within 10 minutes (SECURITY Z7).
    async fn z7_approving_needs_fresh_mfa(app: TestApp) {
        let mut op = app.signed_in("z7-op", Role::Operator, None).await;
        let mut admin = app.signed_in("z7-admin", Role::Admin, None).await;
        let id = request_production_issue(&app, &mut op, "stale").await;
        app.clock.advance_secs(11 * 60);
        let r = admin.post(&format!("/api/v1/requests/{id}/approve"), json!({})).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (401, Some("step_up_required")), "{}", r.body);
        let r = admin.post(&format!("/api/v1/requests/{id}/reject"), json!({})).await;
        assert_eq!(r.status, 401, "{}", r.body);
        let r = op.post(&format!("/api/v1/requests/{id}/execute"), json!({})).await;
        assert_eq!(r.status, 401, "production execution needs step-up too: {}", r.body);
        let code = admin.code_at(&app, 0);
        assert_eq!(admin.post("/auth/step-up", json!({"code": code})).await.status, 200);
        let r = admin.post(&format!("/api/v1/requests/{id}/approve"), json!({})).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("approved")), "{}", r.body);
    }
}

both_backends! {
    /// Loosening a policy and granting admin are change requests another admin must approve;
    /// the approval applies them (SECURITY Z9).
    async fn z9_weakening_a_control_needs_a_second_admin(app: TestApp) {
        let mut first = app.signed_in("z9-first", Role::Admin, None).await;
        let mut second = app.signed_in("z9-second", Role::Admin, None).await;
        let env = first.get("/api/v1/environments").await;
        let prod = env.body["items"].as_array().unwrap().iter().find(|e| e["slug"] == "production").unwrap().clone();
        let mut looser = prod["policy"].clone();
        looser["rotate_approvals"] = json!(0);
        looser["max_lifetime_days"] = json!(730);
        looser["reason"] = json!("automated rotation pipeline");
        let r = first.request("PUT", "/api/v1/environments/production/policy", Some(looser)).await;
        assert_eq!((r.status, r.body["request"]["kind"].as_str()), (202, Some("policy")), "{}", r.body);
        let policy_req = r.body["request"]["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["request"]["change"]["weakened"], json!(["rotate_approvals", "max_lifetime_days"]));
        let now = first.get("/api/v1/environments").await;
        let still = now.body["items"].as_array().unwrap().iter().find(|e| e["slug"] == "production").unwrap();
        assert_eq!(still["policy"], prod["policy"], "nothing changed before approval");
        let r = first.post(&format!("/api/v1/requests/{policy_req}/approve"), json!({})).await;
        assert_eq!(r.status, 403, "self-approval: {}", r.body);
        let r = second.post(&format!("/api/v1/requests/{policy_req}/approve"), json!({})).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("executed")), "{}", r.body);
        let now = first.get("/api/v1/environments").await;
        let applied = now.body["items"].as_array().unwrap().iter().find(|e| e["slug"] == "production").unwrap();
        assert_eq!((applied["policy"]["rotate_approvals"].as_i64(), applied["policy"]["max_lifetime_days"].as_i64()), (Some(0), Some(730)));

        let hopeful = app.create_user("z9-hopeful", Role::Operator, None).await;
        let r = first.post(&format!("/api/v1/users/{hopeful}/roles"), json!({"role": "admin", "reason": "new on-call lead"})).await;
        assert_eq!((r.status, r.body["request"]["kind"].as_str()), (202, Some("grant_admin")), "{}", r.body);
        let grant_req = r.body["request"]["id"].as_str().unwrap().to_owned();
        let users = first.get("/api/v1/users").await;
        let user = users.body["items"].as_array().unwrap().iter().find(|u| u["id"] == hopeful.as_str()).unwrap().clone();
        assert_eq!(user["grants"].as_array().unwrap().len(), 1, "not an admin yet");
        assert_eq!(first.post(&format!("/api/v1/requests/{grant_req}/approve"), json!({})).await.status, 403);
        let r = second.post(&format!("/api/v1/requests/{grant_req}/approve"), json!({})).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("executed")), "{}", r.body);
        let users = first.get("/api/v1/users").await;
        let user = users.body["items"].as_array().unwrap().iter().find(|u| u["id"] == hopeful.as_str()).unwrap().clone();
        assert!(user["grants"].as_array().unwrap().iter().any(|g| g["role"] == "admin"), "{user}");
        let events = first.get("/api/v1/audit?action=role.grant").await;
        assert_eq!(events.body["items"][0]["details"]["via_request"], grant_req.as_str());
        // A stricter policy still applies at once.
        let mut stricter = applied["policy"].clone();
        stricter["rotate_approvals"] = json!(2);
        let r = first.request("PUT", "/api/v1/environments/production/policy", Some(stricter)).await;
        assert_eq!((r.status, r.body["policy"]["rotate_approvals"].as_i64()), (200, Some(2)), "{}", r.body);
    }
}

both_backends! {
    /// The rotation journey of the console through the API: an operator requests a production
    /// rotation, an admin approves, the operator executes and gets the secret once; the old key
    /// verifies during grace and stops at "end grace now".
    async fn approved_rotation_then_end_grace(app: TestApp) {
        app.sql("UPDATE environments SET issue_approvals = 0 WHERE slug = 'production'").await;
        let a = app.create_application("rotated").await;
        let old = app.issue(&a, "production").await;
        let mut op = app.signed_in("rot-op", Role::Operator, None).await;
        let mut admin = app.signed_in("rot-admin", Role::Admin, None).await;
        let r = op.post(&format!("/api/v1/credentials/{}/rotate", old.credential.id), json!({"grace_seconds": 3600, "reason": "quarterly"})).await;
        assert_eq!((r.status, r.body["request"]["kind"].as_str()), (202, Some("rotate")), "{}", r.body);
        let id = r.body["request"]["id"].as_str().unwrap().to_owned();
        let mine = op.get("/api/v1/requests?requester=me").await;
        assert_eq!(mine.body["items"][0]["id"], id.as_str());
        assert_eq!(admin.get("/api/v1/requests?requester=me").await.body["items"].as_array().unwrap().len(), 0);
        assert_eq!(admin.post(&format!("/api/v1/requests/{id}/approve"), json!({})).await.status, 200);
        let r = op.post(&format!("/api/v1/requests/{id}/execute"), json!({})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["previous"]["status"], "grace");
        let new_secret = r.body["secret"].as_str().unwrap().to_owned();
        assert!(app.is_valid(old.secret.expose(), "production").await, "old key valid in grace");
        assert!(app.is_valid(&new_secret, "production").await);

        let r = op.post(&format!("/api/v1/credentials/{}/end-grace", r.body["credential"]["id"].as_str().unwrap()), json!({"reason": "x"})).await;
        assert_eq!(r.status, 409, "an active credential has no grace to end: {}", r.body);
        let r = op.post(&format!("/api/v1/credentials/{}/end-grace", old.credential.id), json!({"reason": "deployed"})).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("expired")), "{}", r.body);
        assert!(!app.is_valid(old.secret.expose(), "production").await, "old key invalid on the very next call");
        assert!(app.is_valid(&new_secret, "production").await);
        let mut auditor = app.signed_in("rot-auditor", Role::Auditor, None).await;
        let r = auditor.post(&format!("/api/v1/credentials/{}/end-grace", old.credential.id), json!({"reason": "x"})).await;
        assert_eq!(r.status, 403);
    }
}
