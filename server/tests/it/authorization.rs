//! Authorization: the route × role matrix generated from the OpenAPI document (SECURITY Z1), and
//! the rows Z2, Z3, Z7, Z8.

use latchkey_core::domain::authz::Action;
use latchkey_core::domain::user::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::browser::{Browser, PASSWORD};

fn action(name: &str) -> Option<Action> {
    Action::ALL.into_iter().find(|a| serde_json::to_value(a).ok().as_ref().and_then(Value::as_str) == Some(name))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    Public,
    SignedIn,
    /// The action in the scope; with `true`, only the requester of the change request too.
    Needs(Action, ScopeKind, bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ScopeKind {
    Any,
    Env,
    Global,
}

fn parse_rule(s: &str) -> Option<Rule> {
    match s {
        "public" => Some(Rule::Public),
        "signed_in" => Some(Rule::SignedIn),
        _ => {
            let (a, scope) = s.split_once('@')?;
            let (scope, requester_only) = match scope.strip_suffix("+requester") {
                Some(sc) => (sc, true),
                None => (scope, false),
            };
            let scope = match scope {
                "any" => ScopeKind::Any,
                "env" => ScopeKind::Env,
                "global" => ScopeKind::Global,
                _ => return None,
            };
            Some(Rule::Needs(action(a)?, scope, requester_only))
        }
    }
}

/// Who calls: `None` is anonymous; `wrong_env` is an operator granted only in `test` acting on
/// objects in `staging`. The global operator is the requester of the change request under test.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    Global(Role),
    WrongEnvironment,
}

fn expected_allowed(rule: Rule, caller: Caller) -> bool {
    match (rule, caller) {
        (Rule::Public, _) => true,
        (_, Caller::Anonymous) => false,
        (Rule::SignedIn, _) => true,
        (Rule::Needs(a, _, true), Caller::Global(r)) => r == Role::Operator && r.can(a),
        (Rule::Needs(a, _, false), Caller::Global(r)) => r.can(a),
        (Rule::Needs(a, ScopeKind::Any, _), Caller::WrongEnvironment) => Role::Operator.can(a),
        (Rule::Needs(_, _, _), Caller::WrongEnvironment) => false,
    }
}

struct Operation {
    method: String,
    path: String,
    rule: Rule,
    example: Option<Value>,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let rule = op["x-latchkey-access"].as_str().unwrap_or_else(|| panic!("{method} {path} has no access rule"));
            let rule = parse_rule(rule).unwrap_or_else(|| panic!("{method} {path}: unknown access rule {rule:?}"));
            let example = op["requestBody"]["content"]["application/json"]["example"].clone();
            ops.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                rule,
                example: (!example.is_null()).then_some(example),
            });
        }
    }
    // Session-ending operations go last, so they do not sign the caller out mid-matrix.
    ops.sort_by_key(|o| if o.path == "/auth/logout" { 2 } else { u8::from(o.path.ends_with("/disable")) });
    ops
}

both_backends! {
    /// Every operation × {anonymous, auditor, operator, admin, wrong environment}: 401 without a
    /// session, 403 where the role table says no, neither where it says yes, never a 5xx. An
    /// operation without a rule fails the test (SECURITY Z1).
    async fn z1_route_role_matrix(app: TestApp) {
        let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base)).await.unwrap().json().await.unwrap();
        let ops = operations(&doc);
        assert!(ops.len() >= 25, "the document lists {} operations", ops.len());

        let app_id = app.create_application("matrix").await;
        let creds: Vec<String> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(app.issue(&app_id, "staging").await.credential.id.to_string());
            }
            v
        };
        let target = app.create_user("target", Role::Operator, Some("staging")).await;
        let target_user = app.services.user(&latchkey_core::ids::UserId::parse(&target).unwrap()).await.unwrap();
        let target_grant = target_user.grants[0].id.to_string();

        let mut callers: Vec<(Caller, Browser)> = vec![(Caller::Anonymous, Browser::new(&app))];
        callers.push((Caller::Global(Role::Auditor), app.signed_in("auditor", Role::Auditor, None).await));
        callers.push((Caller::Global(Role::Operator), app.signed_in("operator", Role::Operator, None).await));
        callers.push((Caller::WrongEnvironment, app.signed_in("test-operator", Role::Operator, Some("test")).await));
        callers.push((Caller::Global(Role::Admin), app.signed_in("admin", Role::Admin, None).await));
        // A staging change request by the global operator: the target of the /requests routes.
        app.sql("UPDATE environments SET issue_approvals = 1 WHERE slug = 'staging'").await;
        let requested = callers[2]
            .1
            .post("/api/v1/credentials", json!({"application_id": app_id.to_string(), "environment": "staging", "name": "m", "reason": "matrix"}))
            .await;
        assert_eq!(requested.status, 202, "{}", requested.body);
        let request_id = requested.body["request"]["id"].as_str().unwrap().to_owned();
        // A fresh TOTP step: the enrollment codes are spent.
        app.clock.advance_secs(30);

        let mut checked = 0;
        for (caller, browser) in &mut callers {
            for (i, op) in ops.iter().enumerate() {
                let cred = &creds[i % creds.len()];
                let path = op
                    .path
                    .replace("/applications/{id}", &format!("/applications/{app_id}"))
                    .replace("/credentials/{id}", &format!("/credentials/{cred}"))
                    .replace("/users/{id}", &format!("/users/{target}"))
                    .replace("/requests/{id}", &format!("/requests/{request_id}"))
                    .replace("{grant}", &target_grant)
                    .replace("{slug}", "staging");
                let mut body = op.example.clone();
                if let Some(b) = body.as_mut().and_then(Value::as_object_mut) {
                    if b.contains_key("application_id") {
                        b.insert("application_id".into(), json!(app_id.to_string()));
                    }
                    // Step-up gets the caller's real code, so only authorization can fail.
                    if op.path == "/auth/step-up" && browser.totp.is_some() {
                        b.insert("code".into(), json!(browser.code_at(&app, 0)));
                    }
                }
                let method = op.method.as_str();
                let r = browser.request(method, &path, body.or(if method == "GET" { None } else { Some(json!({})) })).await;
                let allowed = expected_allowed(op.rule, *caller);
                assert!(r.status < 500, "{caller:?} {method} {path}: {} {}", r.status, r.body);
                if op.rule == Rule::Public {
                    assert_ne!(r.status, 403, "{caller:?} {method} {path}: {}", r.body);
                } else if allowed {
                    assert!(r.status != 401 && r.status != 403, "{caller:?} {method} {path} should be allowed: {} {}", r.status, r.body);
                } else if matches!(caller, Caller::Anonymous) {
                    assert_eq!(r.status, 401, "{caller:?} {method} {path}: {}", r.body);
                } else {
                    assert_eq!((r.status, r.body["error"]["code"].as_str()), (403, Some("forbidden")), "{caller:?} {method} {path}");
                }
                checked += 1;
            }
        }
        assert_eq!(checked, ops.len() * 5);
    }
}

both_backends! {
    /// Every server function of the console × the same five callers, by the rules in
    /// `app::api::RULES`; a registered server function without a rule fails the test (SECURITY Z1).
    async fn z1_server_function_matrix(app: TestApp) {
        let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.to_owned()).collect();
        assert!(registered.len() >= 10, "{registered:?}");
        for path in &registered {
            assert!(app::api::RULES.iter().any(|(p, _, _)| p == path), "server function {path} has no access rule");
        }
        for (path, _, _) in app::api::RULES {
            assert!(registered.iter().any(|p| p == path), "rule for unknown server function {path}");
        }
        let mut rules: Vec<(&str, Rule, &str)> = app::api::RULES
            .iter()
            .map(|(p, r, body)| (*p, parse_rule(r).unwrap_or_else(|| panic!("{p}: bad rule {r}")), *body))
            .collect();
        rules.sort_by_key(|(p, _, _)| if p.ends_with("/logout") { 2 } else { u8::from(p.ends_with("/disable_member")) });
        let target = app.create_user("sf-target", Role::Operator, None).await;
        let mut callers: Vec<(Caller, Browser)> = vec![(Caller::Anonymous, Browser::new(&app))];
        callers.push((Caller::Global(Role::Auditor), app.signed_in("sf-auditor", Role::Auditor, None).await));
        callers.push((Caller::Global(Role::Operator), app.signed_in("sf-operator", Role::Operator, None).await));
        callers.push((Caller::WrongEnvironment, app.signed_in("sf-test-op", Role::Operator, Some("test")).await));
        callers.push((Caller::Global(Role::Admin), app.signed_in("sf-admin", Role::Admin, None).await));
        // Real targets: an application with staging credentials, a staging change request by
        // the global operator, a webhook.
        let sf_app = app.create_application("sf-matrix").await;
        let app_id = sf_app.to_string();
        let cred = app.issue(&sf_app, "staging").await.credential.id.to_string();
        app.sql("UPDATE environments SET rotate_approvals = 1 WHERE slug = 'staging'").await;
        let requested = callers[2].1.post(&format!("/api/v1/credentials/{cred}/rotate"), json!({"reason": "sf matrix"})).await;
        assert_eq!(requested.status, 202, "{}", requested.body);
        let request_id = requested.body["request"]["id"].as_str().unwrap().to_owned();
        let hook = callers[4].1.post("/api/v1/webhooks", json!({"name": "sf", "url": "https://hooks.example.com/x"})).await;
        assert_eq!(hook.status, 201, "{}", hook.body);
        let hook_id = hook.body["id"].as_str().unwrap().to_owned();
        app.clock.advance_secs(30);
        for (caller, browser) in &mut callers {
            for (path, rule, body) in &rules {
                let mut body = body
                    .replace("usr_00000000000000000000", &target)
                    .replace("APP", &app_id)
                    .replace("CRED", &cred)
                    .replace("REQ", &request_id)
                    .replace("HOOK", &hook_id);
                if path.ends_with("/step_up") && browser.totp.is_some() {
                    body = body.replace("000000", &browser.code_at(&app, 0));
                }
                let r = browser.server_fn(path, &body).await;
                let allowed = expected_allowed(*rule, *caller);
                assert!(r.status < 500, "{caller:?} {path}: {} {}", r.status, r.body);
                if *rule == Rule::Public {
                    assert_ne!(r.status, 403, "{caller:?} {path}: {}", r.body);
                } else if allowed {
                    assert!(r.status != 401 && r.status != 403, "{caller:?} {path} should be allowed: {} {}", r.status, r.body);
                } else if matches!(caller, Caller::Anonymous) {
                    assert_eq!(r.status, 401, "{caller:?} {path}: {}", r.body);
                } else {
                    assert_eq!((r.status, r.body["code"].as_str()), (403, Some("forbidden")), "{caller:?} {path}: {}", r.body);
                }
            }
        }
    }
}

both_backends! {
    /// A staging-only operator cannot touch a production key (SECURITY Z2).
    async fn z2_scoped_operator_cannot_rotate_a_production_key(app: TestApp) {
        app.sql("UPDATE environments SET issue_approvals = 0, rotate_approvals = 0 WHERE slug = 'production'").await;
        let a = app.create_application("scoped").await;
        let prod = app.issue(&a, "production").await;
        let staging = app.issue(&a, "staging").await;
        let mut op = app.signed_in("stage-op", Role::Operator, Some("staging")).await;
        let body = json!({"grace_seconds": 0, "reason": "try"});
        let r = op.post(&format!("/api/v1/credentials/{}/rotate", prod.credential.id), body.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (403, Some("forbidden")), "{}", r.body);
        let r = op.post(&format!("/api/v1/credentials/{}/revoke", prod.credential.id), json!({"reason": "x"})).await;
        assert_eq!(r.status, 403);
        assert_eq!(op.get(&format!("/api/v1/credentials/{}", prod.credential.id)).await.status, 403);
        assert_eq!(op.get("/api/v1/credentials?environment=production").await.status, 403);
        let listed = op.get("/api/v1/credentials").await;
        let ids: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![staging.credential.id.as_str()], "a scoped reader sees only its environment");
        let r = op.post(&format!("/api/v1/credentials/{}/rotate", staging.credential.id), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(app.is_valid(prod.secret.expose(), "production").await, "the production key is untouched");
    }
}

both_backends! {
    /// When the authorization lookup fails, the request fails (5xx) and nothing changes (SECURITY Z3).
    async fn z3_authorization_fails_closed(app: TestApp) {
        let a = app.create_application("fail-closed").await;
        let issued = app.issue(&a, "staging").await;
        let mut op = app.signed_in("fc-op", Role::Operator, None).await;
        app.sql("ALTER TABLE role_grants RENAME TO role_grants_gone").await;
        let r = op.post(&format!("/api/v1/credentials/{}/revoke", issued.credential.id), json!({"reason": "x"})).await;
        assert!(r.status >= 500, "{} {}", r.status, r.body);
        assert!(r.body["error"]["request_id"].is_string());
        assert!(!r.body.to_string().contains("role_grants"), "internal detail leaked: {}", r.body);
        app.sql("ALTER TABLE role_grants_gone RENAME TO role_grants").await;
        assert!(app.is_valid(issued.secret.expose(), "staging").await, "nothing changed");
        let c = app.services.credential(&issued.credential.id).await.unwrap();
        assert_eq!(c.status, latchkey_core::domain::credential::Status::Active);
    }
}

both_backends! {
    /// Approve-class actions and production changes need MFA within 10 minutes (SECURITY Z7).
    async fn z7_sensitive_actions_need_fresh_mfa(app: TestApp) {
        app.sql("UPDATE environments SET issue_approvals = 0 WHERE slug = 'production'").await;
        let a = app.create_application("stepped").await;
        let mut admin = app.signed_in("root", Role::Admin, None).await;
        let stricter = json!({"issue_approvals": 0, "rotate_approvals": 1, "max_lifetime_days": 180,
            "default_grace_seconds": 3600, "max_grace_seconds": 86400, "step_up_required": true, "blind_delivery": "optional"});
        app.clock.advance_secs(11 * 60);
        let r = admin.request("PUT", "/api/v1/environments/production/policy", Some(stricter.clone())).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (401, Some("step_up_required")), "{}", r.body);
        let issue = json!({"application_id": a.to_string(), "environment": "production", "name": "p", "reason": "r"});
        let r = admin.post("/api/v1/credentials", issue.clone()).await;
        assert_eq!(r.body["error"]["code"], "step_up_required", "production issue needs step-up");
        let code = admin.code_at(&app, 0);
        assert_eq!(admin.post("/auth/step-up", json!({"code": code})).await.status, 200);
        let r = admin.request("PUT", "/api/v1/environments/production/policy", Some(stricter)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["policy"]["max_lifetime_days"], 180);
        let r = admin.post("/api/v1/credentials", issue).await;
        assert_eq!(r.status, 201, "{}", r.body);
        // Staging does not require step-up.
        let r = admin.post("/api/v1/credentials", json!({"application_id": a.to_string(), "environment": "staging", "name": "s", "reason": "r"})).await;
        assert_eq!(r.status, 201);
    }
}

both_backends! {
    /// A demoted admin is refused on the very next request (SECURITY Z8).
    async fn z8_role_changes_take_effect_on_the_next_request(app: TestApp) {
        let mut first = app.signed_in("admin-one", Role::Admin, None).await;
        let mut second = app.signed_in("admin-two", Role::Admin, None).await;
        assert_eq!(second.get("/api/v1/users").await.status, 200);
        let me = second.get("/api/v1/me").await;
        let grant = me.body["grants"][0]["id"].as_str().unwrap().to_owned();
        let id = me.body["id"].as_str().unwrap().to_owned();
        let r = first.request("DELETE", &format!("/api/v1/users/{id}/roles/{grant}"), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = second.get("/api/v1/users").await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (403, Some("forbidden")));
        // The last admin cannot be removed, nor disabled.
        let me = first.get("/api/v1/me").await;
        let (id, grant) = (me.body["id"].as_str().unwrap().to_owned(), me.body["grants"][0]["id"].as_str().unwrap().to_owned());
        let r = first.request("DELETE", &format!("/api/v1/users/{id}/roles/{grant}"), None).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (409, Some("conflict")), "{}", r.body);
        let r = first.post(&format!("/api/v1/users/{id}/disable"), json!({})).await;
        assert_eq!(r.status, 409, "{}", r.body);
        // Granting admin needs a second admin: it becomes a change request.
        let other = app.create_user("hopeful", Role::Auditor, None).await;
        let r = first.post(&format!("/api/v1/users/{other}/roles"), json!({"role": "admin", "reason": "on-call lead"})).await;
        assert_eq!((r.status, r.body["request"]["kind"].as_str()), (202, Some("grant_admin")), "{}", r.body);
        let r = first.post(&format!("/api/v1/users/{other}/roles"), json!({"role": "operator", "environment": "test"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["grants"].as_array().unwrap().len(), 2);
    }
}

both_backends! {
    /// The scripted session of the README: sign in, enrol TOTP, create an application, issue a
    /// credential, verify it, rotate, revoke — using only documented endpoints. The audit events
    /// name the user, the request id, the IP and the user agent (SECURITY L1, L2).
    async fn l2_scripted_session_through_documented_endpoints(app: TestApp) {
        app.create_user("ops", Role::Operator, None).await;
        let mut b = Browser::new(&app);
        b.sign_in_enrolling(&app, "ops").await;
        let r = b.post("/api/v1/applications", json!({"name": "payments-backend", "owner": "team-payments"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let app_id = r.body["id"].as_str().unwrap().to_owned();
        let r = b.post("/api/v1/applications", json!({"name": "payments-backend", "owner": "x"})).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (409, Some("conflict")));
        let r = b
            .post("/api/v1/credentials", json!({"application_id": app_id, "environment": "staging", "name": "primary",
                "scopes": ["payments:write"], "expires_in_days": 30, "reason": "go live"}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let secret = r.body["secret"].as_str().unwrap().to_owned();
        let cred_id = r.body["credential"]["id"].as_str().unwrap().to_owned();
        assert!(app.is_valid(&secret, "staging").await);
        let detail = b.get(&format!("/api/v1/credentials/{cred_id}")).await;
        assert_eq!(detail.status, 200);
        assert!(!detail.body.to_string().contains(&secret[secret.len() - 20..]), "the secret is shown once only");
        let r = b.post(&format!("/api/v1/credentials/{cred_id}/rotate"), json!({"grace_seconds": 60, "reason": "rotate"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["previous"]["status"], "grace");
        let new_secret = r.body["secret"].as_str().unwrap().to_owned();
        let new_id = r.body["credential"]["id"].as_str().unwrap().to_owned();
        let r = b.post(&format!("/api/v1/credentials/{new_id}/revoke"), json!({"reason": "done", "emergency": true})).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("revoked")), "{}", r.body);
        assert!(!app.is_valid(&new_secret, "staging").await);
        let r = b.post("/api/v1/credentials", json!({"application_id": app_id, "environment": "production", "name": "p", "reason": "r"})).await;
        assert_eq!((r.status, r.body["request"]["status"].as_str()), (202, Some("pending")), "{}", r.body);
        // Listing with filters and paging.
        let page = b.get(&format!("/api/v1/credentials?application={app_id}&status=revoked")).await;
        assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
        let page = b.get("/api/v1/credentials?limit=1").await;
        let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
        let next = b.get(&format!("/api/v1/credentials?limit=1&cursor={cursor}")).await;
        assert_ne!(next.body["items"][0]["id"], page.body["items"][0]["id"]);
        assert_eq!(b.get("/api/v1/credentials?status=bogus").await.status, 422);
        // The audit trail of this session.
        let mut auditor = app.signed_in("auditor", Role::Auditor, None).await;
        let events = auditor.get("/api/v1/audit?action=credential.emergency_revoke").await;
        assert_eq!(events.status, 200, "{}", events.body);
        let e = &events.body["items"][0];
        assert_eq!(e["actor"]["id"].as_str(), b.user_id.as_deref());
        assert_eq!(e["target_id"], new_id.as_str());
        assert_eq!(e["environment"], "staging");
        assert_eq!(e["outcome"], "success");
        assert_eq!(e["ip"], "127.0.0.1");
        assert!(e["request_id"].as_str().unwrap().starts_with("req_"));
        assert!(e["user_agent"].is_string() || e["user_agent"].is_null());
        let all = auditor.get("/api/v1/audit?limit=500").await.body.to_string();
        for needle in [secret.as_str(), new_secret.as_str(), PASSWORD] {
            assert!(!all.contains(needle), "a secret reached the audit log");
        }
        for action in ["auth.login", "mfa.enroll", "application.create", "credential.issue", "credential.rotate"] {
            assert!(all.contains(action), "no {action} event");
        }
        let report = auditor.get("/api/v1/audit/verify").await;
        assert_eq!(report.body["ok"], true);
    }
}

both_backends! {
    /// Policies: stricter applies at once and is audited; looser becomes a change request.
    async fn policy_changes_strengthen_at_once_and_weakening_waits(app: TestApp) {
        let mut admin = app.signed_in("policy-admin", Role::Admin, None).await;
        let envs = admin.get("/api/v1/environments").await;
        assert_eq!(envs.body["items"].as_array().unwrap().len(), 3);
        let mut p = envs.body["items"].as_array().unwrap().iter().find(|e| e["slug"] == "staging").unwrap()["policy"].clone();
        p["issue_approvals"] = json!(1);
        let r = admin.request("PUT", "/api/v1/environments/staging/policy", Some(p.clone())).await;
        assert_eq!((r.status, r.body["policy"]["issue_approvals"].as_i64()), (200, Some(1)), "{}", r.body);
        p["issue_approvals"] = json!(0);
        let r = admin.request("PUT", "/api/v1/environments/staging/policy", Some(p.clone())).await;
        assert_eq!(r.status, 422, "weakening needs a reason: {}", r.body);
        let mut with_reason = p.clone();
        with_reason["reason"] = json!("staging needs no approvals");
        let r = admin.request("PUT", "/api/v1/environments/staging/policy", Some(with_reason)).await;
        assert_eq!((r.status, r.body["request"]["kind"].as_str()), (202, Some("policy")), "{}", r.body);
        let mut unknown = p.clone();
        unknown["approvals"] = json!(0);
        assert_eq!(admin.request("PUT", "/api/v1/environments/staging/policy", Some(unknown)).await.status, 422);
        p["issue_approvals"] = json!(9);
        let r = admin.request("PUT", "/api/v1/environments/staging/policy", Some(p)).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let events = admin.get("/api/v1/audit?action=environment.policy_update").await;
        assert_eq!(events.body["items"].as_array().unwrap().len(), 1);
    }
}
