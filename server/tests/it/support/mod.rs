//! The test harness: a real server on a loopback port over a fresh database (SQLite file or
//! PostgreSQL database) with a pinned clock, and a small typed client.

pub mod browser;
pub mod idp;
pub mod pg;
pub mod rogue_idp;

use std::net::SocketAddr;
use std::sync::Arc;

use latchkey_core::Services;
use latchkey_core::clock::ManualClock;
use latchkey_core::domain::application::NewApplication;
use latchkey_core::domain::audit::Ctx;
use latchkey_core::domain::environment::EnvironmentSlug;
use latchkey_core::domain::text::{ApplicationName, CredentialName, Description, Owner, Reason, Scopes};
use latchkey_core::domain::time::Timestamp;
use latchkey_core::ids::ApplicationId;
use latchkey_core::secrets::Keys;
use latchkey_core::services::credentials::{IssueRequest, Issued};
use latchkey_core::storage::{Backend, Db, DbOptions};
use serde_json::Value;
use server::state::AppState;

/// 2026-12-01T00:00:00Z: tests start here and move the clock by hand.
pub const T0: i64 = 1_796_083_200_000;

/// Runs a test body once on SQLite and once on PostgreSQL, as two tests named `<name>::sqlite`
/// and `<name>::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn body($app: $crate::support::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                body($crate::support::TestApp::spawn(latchkey_core::storage::Backend::Sqlite).await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::spawn_postgres().await {
                    body(app).await
                }
            }
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub services: Services,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    pub backend: Backend,
    pub db_url: String,
    /// For SQLite: the database file (dumped raw by the K1 test).
    pub sqlite_path: Option<std::path::PathBuf>,
    _tmp: Option<TempDir>,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir()
            .join(format!("latchkey-{tag}-{}", latchkey_core::random::base62(12).unwrap_or_default()));
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("tempdir: {e}"));
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn test_keys() -> Keys {
    keys_from(&encoded_test_keys())
}

/// Fresh secrets as `LATCHKEY_*` environment values, for a server process to share.
pub fn encoded_test_keys() -> Vec<(String, String)> {
    let g = Keys::generate().unwrap_or_else(|e| panic!("{e}"));
    ["pepper", "data_key", "audit_signing_key"]
        .into_iter()
        .map(|n| (format!("LATCHKEY_{}", n.to_uppercase()), g.get(n).unwrap_or_default().to_owned()))
        .collect()
}

pub fn keys_from(encoded: &[(String, String)]) -> Keys {
    let get = |n: &str| encoded.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).unwrap_or_default();
    Keys::from_encoded(get("LATCHKEY_PEPPER"), get("LATCHKEY_DATA_KEY"), get("LATCHKEY_AUDIT_SIGNING_KEY"))
        .unwrap_or_else(|e| panic!("{e}"))
}

pub struct Options {
    pub verify_rate_per_second: u32,
    pub verify_burst: u32,
    pub sso: Option<Sso>,
    /// The server's secrets; fresh ones by default.
    pub keys: Option<Keys>,
}

/// Single sign-on against the real test IdP (or another issuer, such as the rogue one).
#[derive(Clone, Default)]
pub struct Sso {
    /// `None`: the real `oidc-provider`.
    pub issuer: Option<String>,
    /// Client credentials; `None` registers a client at the real IdP.
    pub client: Option<(String, String)>,
    pub role_mapping: String,
    pub trust_idp_mfa: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { verify_rate_per_second: 1_000_000, verify_burst: 1_000_000, sso: None, keys: None }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::spawn_sqlite_with(Options::default()).await,
            Backend::Postgres => match Self::spawn_postgres().await {
                Some(a) => a,
                None => panic!("PostgreSQL skipped"),
            },
        }
    }

    pub async fn spawn_sqlite_with(opts: Options) -> Self {
        let tmp = TempDir::new("sqlite");
        let path = tmp.0.join("latchkey.db");
        let url = format!("sqlite://{}", path.display());
        let mut app = Self::start(url, Backend::Sqlite, opts).await;
        app.sqlite_path = Some(path);
        app._tmp = Some(tmp);
        app
    }

    pub async fn spawn_with(backend: Backend, opts: Options) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::spawn_sqlite_with(opts).await),
            Backend::Postgres => Self::spawn_postgres_with(opts).await,
        }
    }

    pub async fn spawn_postgres() -> Option<Self> {
        Self::spawn_postgres_with(Options::default()).await
    }

    pub async fn spawn_postgres_with(opts: Options) -> Option<Self> {
        let url = pg::fresh_database().await?;
        Some(Self::start(url, Backend::Postgres, opts).await)
    }

    async fn start(db_url: String, backend: Backend, mut opts: Options) -> Self {
        let keys = opts.keys.take().unwrap_or_else(test_keys);
        Self::start_with_clock(db_url, backend, opts, ManualClock::new(Timestamp::from_millis(T0)), keys).await
    }

    /// A second server ("replica") on the same database, sharing the pinned clock, following the
    /// change feed every 50 ms as a production replica does.
    pub async fn replica(&self) -> Self {
        let keys = (*self.services.keys).clone();
        let r = Self::start_with_clock(self.db_url.clone(), self.backend, Options::default(), self.clock.clone(), keys)
            .await;
        r.services.spawn_background(std::time::Duration::from_millis(50));
        r
    }

    async fn start_with_clock(db_url: String, backend: Backend, opts: Options, clock: ManualClock, keys: Keys) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let base = format!("http://{addr}");
        let db = Db::connect(&db_url, &DbOptions::default()).await.unwrap_or_else(|e| panic!("connect: {e}"));
        db.migrate().await.unwrap_or_else(|e| panic!("migrate: {e}"));
        let mut services =
            Services::start(db, Arc::new(clock.clone()), keys).await.unwrap_or_else(|e| panic!("start: {e}"));
        if let Some(sso) = &opts.sso {
            let issuer = sso.issuer.clone().unwrap_or_else(idp::issuer);
            let redirect_url = format!("{base}/auth/oidc/callback");
            let (client_id, secret) = match &sso.client {
                Some(c) => c.clone(),
                None => idp::register_client(&issuer, &redirect_url).await,
            };
            let settings = latchkey_core::services::oidc::OidcSettings {
                issuer,
                client_id,
                client_secret: Some(zeroize::Zeroizing::new(secret)),
                redirect_url,
                groups_claim: "groups".into(),
                role_mapping: latchkey_core::services::oidc::parse_role_mapping(&sso.role_mapping).unwrap(),
                trust_idp_mfa: sso.trust_idp_mfa,
            };
            services = services.with_oidc(Some(settings)).unwrap();
        }
        let state = AppState::new(services.clone(), &base, opts.verify_rate_per_second, opts.verify_burst);
        let router = server::http::router(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        Self {
            base,
            services,
            clock,
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default(),
            backend,
            db_url,
            sqlite_path: None,
            _tmp: None,
        }
    }

    pub fn ctx(&self) -> Ctx {
        Ctx::system("test", "req_test".to_owned())
    }

    pub async fn create_application(&self, name: &str) -> ApplicationId {
        let new = NewApplication {
            name: ApplicationName::parse(name).unwrap_or_else(|e| panic!("{e}")),
            owner: Owner::parse("team-payments").unwrap_or_else(|e| panic!("{e}")),
            description: Description::parse("test application").unwrap_or_else(|e| panic!("{e}")),
        };
        self.services.create_application(&self.ctx(), new).await.unwrap_or_else(|e| panic!("create app: {e}")).id
    }

    pub fn issue_request(&self, app: &ApplicationId, env: &str) -> IssueRequest {
        IssueRequest {
            application_id: app.clone(),
            environment: EnvironmentSlug::parse(env).unwrap_or_else(|e| panic!("{e}")),
            name: CredentialName::parse("primary").unwrap_or_else(|e| panic!("{e}")),
            scopes: Scopes::parse(&["payments:read", "payments:write"]).unwrap_or_else(|e| panic!("{e}")),
            expires_in_days: Some(30),
            reason: Reason::parse("integration test").unwrap_or_else(|e| panic!("{e}")),
        }
    }

    pub async fn issue(&self, app: &ApplicationId, env: &str) -> Issued {
        self.services
            .issue_credential(&self.ctx(), self.issue_request(app, env))
            .await
            .unwrap_or_else(|e| panic!("issue: {e}"))
            .done()
            .expect("issued without approval")
    }

    /// `POST /api/v1/verify` → (status, body).
    pub async fn verify(&self, token: &str, env: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/verify", self.base))
            .bearer_auth(token)
            .json(&serde_json::json!({ "environment": env }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("verify request: {e}"));
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn is_valid(&self, token: &str, env: &str) -> bool {
        let (status, body) = self.verify(token, env).await;
        assert_eq!(status, 200, "verify answered {status}: {body}");
        body["valid"] == Value::Bool(true)
    }

    /// Runs SQL directly against the test database (for tamper and fault-injection tests).
    pub async fn sql(&self, statement: &str) {
        sqlx::query(statement)
            .execute(self.services.db.pool())
            .await
            .unwrap_or_else(|e| panic!("sql {statement}: {e}"));
    }

    /// Everything in the database, as bytes an attacker with a dump would see.
    pub async fn dump(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => {
                let path = self.sqlite_path.clone().unwrap_or_default();
                let mut all = std::fs::read(&path).unwrap_or_default();
                all.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
                all
            }
            Backend::Postgres => pg::dump(&self.db_url).into_bytes(),
        }
    }
}
