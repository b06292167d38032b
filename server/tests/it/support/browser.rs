//! A cookie-carrying client for the console's session API. Cookies are handled by hand: the
//! session cookie is `Secure`, which generic cookie jars refuse to send over plain-HTTP loopback.

use std::net::IpAddr;

use latchkey_core::domain::environment::EnvironmentSlug;
use latchkey_core::domain::user::{Password, Role, Username};
use latchkey_core::services::users::NewLocalUser;
use serde_json::{Value, json};
use totp_rs::{Algorithm, Secret, Totp};

use super::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";

/// What an authenticator app builds from the enrollment secret (RFC 6238 defaults).
pub fn authenticator(base32: &str) -> Totp {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(base32).unwrap())
        .build()
        .unwrap()
}

pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    /// `__Host-latchkey=<value>` as last set.
    pub cookie: Option<String>,
    /// The raw `Set-Cookie` header last received.
    pub last_set_cookie: Option<String>,
    pub origin: Option<String>,
    /// The enrolled TOTP, once known.
    pub totp: Option<Totp>,
    pub user_id: Option<String>,
    /// The SSO flow cookie (`__Host-latchkey-sso=<id>`), while a sign-in is in progress.
    pub sso_cookie: Option<String>,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
    /// Where an HTML "continue" page (meta refresh) sends the browser next.
    pub refresh: Option<String>,
}

fn parse(text: &str) -> (Value, Option<String>) {
    let refresh = text.split("content=\"0;url=").nth(1).and_then(|r| r.split('"').next()).map(str::to_owned);
    (serde_json::from_str(text).unwrap_or(Value::Null), refresh)
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self::from_ip(app, None)
    }

    /// A client whose connections come from another loopback address (127.0.0.x).
    pub fn from_ip(app: &TestApp, ip: Option<IpAddr>) -> Self {
        let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        if let Some(ip) = ip {
            b = b.local_address(ip);
        }
        Self {
            base: app.base.clone(),
            http: b.build().unwrap(),
            cookie: None,
            last_set_cookie: None,
            origin: Some(app.base.clone()),
            totp: None,
            user_id: None,
            sso_cookie: None,
        }
    }

    fn capture(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let raw = v.to_str().unwrap_or_default().to_owned();
            let pair = raw.split(';').next().unwrap_or_default().trim().to_owned();
            if let Some(value) = pair.strip_prefix(&format!("{}=", latchkey_core::services::oidc::FLOW_COOKIE)) {
                self.sso_cookie = (!value.is_empty()).then(|| pair.clone());
            }
            if let Some(value) = pair.strip_prefix(&format!("{}=", server::http::SESSION_COOKIE)) {
                let removed = value.is_empty() || raw.to_ascii_lowercase().contains("max-age=0");
                self.cookie = if removed { None } else { Some(pair.clone()) };
                self.last_set_cookie = Some(raw);
            }
        }
    }

    pub async fn request(&mut self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let mut r = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(b) = body {
            r = r.json(&b);
        }
        self.send(r).await
    }

    /// A server-function call as the console's own client makes it: url-encoded form, JSON back.
    pub async fn server_fn(&mut self, path: &str, form: &str) -> Resp {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(form.to_owned());
        self.send(r).await
    }

    /// Adds this browser's cookies and Origin, sends, and keeps the cookies it is given.
    async fn send(&mut self, mut r: reqwest::RequestBuilder) -> Resp {
        let cookies: Vec<&str> = [self.cookie.as_deref(), self.sso_cookie.as_deref()].into_iter().flatten().collect();
        if !cookies.is_empty() {
            r = r.header("cookie", cookies.join("; "));
        }
        if let Some(o) = &self.origin {
            r = r.header("origin", o);
        }
        let resp = r.send().await.unwrap();
        self.capture(&resp);
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").map(|v| v.to_str().unwrap_or_default().to_owned());
        let (body, refresh) = parse(&resp.text().await.unwrap_or_default());
        Resp { status, location, body, refresh }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.request("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Resp {
        self.request("POST", path, Some(body)).await
    }

    /// Starts SSO here and returns the IdP authorization URL the browser is sent to.
    pub async fn sso_start(&mut self) -> String {
        let r = self.get("/auth/oidc/start").await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(self.sso_cookie.is_some(), "no flow cookie was set");
        r.location.unwrap()
    }

    /// Follows the IdP's redirect back to our callback (`url` is absolute).
    pub async fn sso_callback(&mut self, url: &str) -> Resp {
        let path = url.strip_prefix(&self.base).unwrap_or_else(|| panic!("redirect to {url}, not to {}", self.base));
        self.get(path).await
    }

    /// A whole SSO sign-in as `login` at the real IdP; returns the callback's response.
    pub async fn sso_sign_in(&mut self, login: &str) -> Resp {
        let url = self.sso_start().await;
        let back = super::idp::authorize(&url, login).await;
        self.sso_callback(&back).await
    }

    /// The code the authenticator app would show at the app's pinned time, offset by `secs`.
    pub fn code_at(&self, app: &TestApp, offset_secs: i64) -> String {
        let now = app.clock_secs() as i64 + offset_secs;
        self.totp.as_ref().expect("enrolled").generate(now as u64).to_string()
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Resp {
        self.post("/auth/login", json!({ "username": username, "password": password })).await
    }

    /// Login + TOTP enrollment: a fully signed-in session. Returns the recovery codes.
    pub async fn sign_in_enrolling(&mut self, app: &TestApp, username: &str) -> Vec<String> {
        let r = self.login(username, PASSWORD).await;
        assert_eq!((r.status, r.body["next"].as_str()), (200, Some("mfa_enroll")), "{}", r.body);
        let e = self.post("/auth/mfa/enroll/start", json!({})).await;
        assert_eq!(e.status, 200, "{}", e.body);
        self.totp = Some(authenticator(e.body["secret"].as_str().unwrap()));
        let code = self.code_at(app, 0);
        let c = self.post("/auth/mfa/enroll/confirm", json!({ "code": code })).await;
        assert_eq!(c.status, 200, "{}", c.body);
        let me = self.get("/api/v1/me").await;
        assert_eq!(me.status, 200, "{}", me.body);
        self.user_id = me.body["id"].as_str().map(str::to_owned);
        c.body["recovery_codes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    }

    /// Login + TOTP for an enrolled user (the clock must have moved to a fresh step).
    pub async fn sign_in(&mut self, app: &TestApp, username: &str) -> Resp {
        let r = self.login(username, PASSWORD).await;
        assert_eq!((r.status, r.body["next"].as_str()), (200, Some("mfa")), "{}", r.body);
        let code = self.code_at(app, 0);
        self.post("/auth/mfa", json!({ "code": code })).await
    }
}

impl TestApp {
    pub fn clock_secs(&self) -> u64 {
        use latchkey_core::clock::Clock;
        (self.clock.now().as_millis() / 1000) as u64
    }

    /// A local account with one grant (`env = None`: every environment).
    pub async fn create_user(&self, username: &str, role: Role, env: Option<&str>) -> String {
        let u = self
            .services
            .create_local_user(
                &self.ctx(),
                NewLocalUser {
                    username: Username::parse(username).unwrap(),
                    password: Password::new_checked(PASSWORD.to_owned()).unwrap(),
                    role,
                    environment: env.map(|e| EnvironmentSlug::parse(e).unwrap()),
                },
            )
            .await
            .unwrap();
        u.id.to_string()
    }

    /// A fresh user with `role`, signed in with TOTP enrolled.
    pub async fn signed_in(&self, username: &str, role: Role, env: Option<&str>) -> Browser {
        self.create_user(username, role, env).await;
        let mut b = Browser::new(self);
        b.sign_in_enrolling(self, username).await;
        b
    }
}
