//! The `latchkey` binary itself: CLI subcommands, production-mode start-up checks, and what its
//! logs contain.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::both_backends;
use crate::support::TempDir;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

fn latchkey(envs: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn latchkey: {e}"));
    // Taking stdin closes it when this statement ends, so the command sees end of input.
    if let (Some(mut si), Some(s)) = (child.stdin.take(), stdin) {
        let _ = si.write_all(s.as_bytes());
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_user_create_makes_a_local_admin_once() {
    let dir = TempDir::new("cli");
    let data = dir.0.to_string_lossy().to_string();
    let env = [("LATCHKEY_DATA_DIR", data.as_str())];
    let (code, out, err) = latchkey(&env, &["migrate"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("production, staging, test"), "{out}");
    assert!(err.contains("GENERATED NEW SECRETS"), "the embedded mode announces its key file loudly: {err}");
    let key_file = dir.0.join("latchkey.keys");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file).unwrap_or_else(|e| panic!("{e}")).permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let password = "correct horse battery staple";
    let (code, out, err) = latchkey(
        &env,
        &["user", "create", "--username", "admin", "--role", "admin", "--password-stdin"],
        Some(password),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created admin") && out.contains("every environment"), "{out}");
    let (code, _, err) = latchkey(
        &env,
        &["user", "create", "--username", "admin", "--role", "admin", "--password-stdin"],
        Some(password),
    );
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = latchkey(
        &env,
        &["user", "create", "--username", "ops", "--role", "operator", "--environment", "staging", "--password-stdin"],
        Some("short"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("password must be"), "{err}");
    let (code, _, err) =
        latchkey(&env, &["user", "create", "--username", "ops", "--role", "root", "--password-stdin"], Some(password));
    assert_eq!(code, 1);
    assert!(err.contains("role must be"), "{err}");
    // The password is stored only as an Argon2id hash.
    let db = std::fs::read(dir.0.join("latchkey.db")).unwrap_or_default();
    let wal = std::fs::read(dir.0.join("latchkey.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(password.len()).any(|w| w == password.as_bytes()), "plaintext password stored");
    }
    assert!(db.windows(9).chain(wal.windows(9)).any(|w| w == b"$argon2id"), "no Argon2id hash found");
}

both_backends! {
    /// `latchkey audit verify` exits 0 on a sound log and 2 naming the first broken seq.
    async fn l5_cli_audit_verify_names_the_broken_seq(app: TestApp) {
        let a = app.create_application("cli-audit").await;
        app.issue(&a, "staging").await;
        app.issue(&a, "test").await;
        let dir = TempDir::new("cli-audit");
        let data = dir.0.to_string_lossy().to_string();
        let env = [("LATCHKEY_DATA_DIR", data.as_str()), ("LATCHKEY_DATABASE_URL", app.db_url.as_str())];
        let (code, out, err) = latchkey(&env, &["audit", "verify"], None);
        assert_eq!(code, 0, "{out}{err}");
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!((report["ok"].clone(), report["last_seq"].clone()), (Value::Bool(true), Value::from(6)));
        app.sql("UPDATE audit_events SET target_id = 'cred_forged' WHERE seq = 5").await;
        let (code, out, err) = latchkey(&env, &["audit", "verify"], None);
        assert_eq!(code, 2, "{out}{err}");
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(report["first_broken_seq"], 5);
        assert!(err.contains("broken at seq 5"), "{err}");
    }
}

#[test]
fn cli_keys_generate_prints_or_writes_secret_files() {
    let (code, out, _) = latchkey(&[], &["keys", "generate"], None);
    assert_eq!(code, 0);
    for v in ["LATCHKEY_PEPPER=", "LATCHKEY_DATA_KEY=", "LATCHKEY_AUDIT_SIGNING_KEY="] {
        assert!(out.lines().any(|l| l.starts_with(v) && l.len() > v.len() + 40), "{out}");
    }
    let dir = TempDir::new("keys");
    let out_dir = dir.0.join("secrets");
    let (code, out, err) = latchkey(&[], &["keys", "generate", "--out-dir", &out_dir.to_string_lossy()], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("LATCHKEY_PEPPER_FILE="));
    for name in ["pepper", "data_key", "audit_signing_key"] {
        let meta = std::fs::metadata(out_dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777, 0o600);
    }
}

/// Production mode refuses to start without its secrets or without HTTPS, and says which.
#[test]
fn production_mode_refuses_to_start_without_secrets_or_https() {
    let dir = TempDir::new("prod");
    let data = dir.0.to_string_lossy().to_string();
    let (code, _, err) = latchkey(
        &[
            ("LATCHKEY_MODE", "production"),
            ("LATCHKEY_PUBLIC_URL", "https://latchkey.example"),
            ("LATCHKEY_DATA_DIR", &data),
        ],
        &["serve"],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("LATCHKEY_PEPPER") && err.contains("LATCHKEY_AUDIT_SIGNING_KEY"), "{err}");
    let (code, _, err) = latchkey(
        &[
            ("LATCHKEY_MODE", "production"),
            ("LATCHKEY_PUBLIC_URL", "http://latchkey.example"),
            ("LATCHKEY_DATA_DIR", &data),
        ],
        &["serve"],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("https"), "{err}");
    assert!(!dir.0.join("latchkey.keys").exists(), "production mode must not generate secrets");
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// A server process, killed when dropped.
pub(crate) struct Running(pub(crate) std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real binary in production mode with secrets from `*_FILE`: serves, sends HSTS, and a
/// second process (this test) issuing on the same database is seen by its verifier. Its logs, at
/// debug level, never contain the token or its secret part (SECURITY K2, L3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l3_k2_served_binary_never_logs_a_token() {
    let dir = TempDir::new("served");
    let secrets = dir.0.join("secrets");
    let (code, _, err) = latchkey(&[], &["keys", "generate", "--out-dir", &secrets.to_string_lossy()], None);
    assert_eq!(code, 0, "{err}");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let data = dir.0.join("data");
    let db_url = format!("sqlite://{}", data.join("latchkey.db").display());
    let log_path = dir.0.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap_or_else(|e| panic!("{e}"));
    let listen = format!("127.0.0.1:{port}");
    let file = |n: &str| secrets.join(n).to_string_lossy().to_string();
    let child = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("LATCHKEY_MODE", "production")
        .env("LATCHKEY_PUBLIC_URL", "https://latchkey.example")
        .env("LATCHKEY_LISTEN", &listen)
        .env("LATCHKEY_DATA_DIR", data.to_string_lossy().to_string())
        .env("LATCHKEY_PEPPER_FILE", file("pepper"))
        .env("LATCHKEY_DATA_KEY_FILE", file("data_key"))
        .env("LATCHKEY_AUDIT_SIGNING_KEY_FILE", file("audit_signing_key"))
        .env("LATCHKEY_LOG", "debug")
        .stdout(log.try_clone().unwrap_or_else(|e| panic!("{e}")))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let running = Running(child);
    let http = reqwest::Client::new();
    wait_healthy(&http, &base).await;
    let health = http.get(format!("{base}/healthz")).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(health.headers().get("strict-transport-security").is_some(), "HSTS when the public URL is https");

    // This test process is a second replica on the same SQLite file, with the same secrets.
    let read = |n: &str| std::fs::read_to_string(secrets.join(n)).unwrap_or_default();
    let keys =
        latchkey_core::secrets::Keys::from_encoded(&read("pepper"), &read("data_key"), &read("audit_signing_key"))
            .unwrap_or_else(|e| panic!("{e}"));
    let db = latchkey_core::storage::Db::connect(&db_url, &Default::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let services = latchkey_core::Services::start(db, std::sync::Arc::new(latchkey_core::clock::SystemClock), keys)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ctx = latchkey_core::domain::audit::Ctx::system("test", "req_test".into());
    let app = services
        .create_application(
            &ctx,
            latchkey_core::domain::application::NewApplication {
                name: latchkey_core::domain::text::ApplicationName::parse("logged").unwrap_or_else(|e| panic!("{e}")),
                owner: latchkey_core::domain::text::Owner::parse("me").unwrap_or_else(|e| panic!("{e}")),
                description: latchkey_core::domain::text::Description::parse("").unwrap_or_else(|e| panic!("{e}")),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let issued = services
        .issue_credential(
            &ctx,
            latchkey_core::services::credentials::IssueRequest {
                application_id: app.id,
                environment: latchkey_core::domain::environment::EnvironmentSlug::parse("staging")
                    .unwrap_or_else(|e| panic!("{e}")),
                name: latchkey_core::domain::text::CredentialName::parse("k").unwrap_or_else(|e| panic!("{e}")),
                scopes: latchkey_core::domain::text::Scopes::default(),
                expires_in_days: None,
                reason: latchkey_core::domain::text::Reason::parse("log canary").unwrap_or_else(|e| panic!("{e}")),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .done()
        .unwrap();
    let token = issued.secret.expose().to_owned();
    let verify = |t: String, q: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http
                .post(format!("{base}/api/v1/verify{q}"))
                .bearer_auth(&t)
                .json(&serde_json::json!({"environment": "staging"}))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            r.json::<Value>().await.unwrap_or(Value::Null)
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while verify(token.clone(), "").await["valid"] != true {
        assert!(Instant::now() < deadline, "the server never saw the credential issued by the other process");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = verify(format!("{}x", &token[..token.len() - 1]), "").await;
    let _ = verify(token.clone(), "?key=oops").await;
    drop(running);
    services.db.close().await;
    let logs = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(logs.contains("/api/v1/verify"), "the debug log has the verify requests: {logs}");
    let secret_part = &token[token.len() - 38..token.len() - 6];
    assert!(!logs.contains(&token) && !logs.contains(secret_part), "a token reached the log");
    assert!(!logs.contains("key=oops"), "a query string reached the log");
    for n in ["pepper", "data_key", "audit_signing_key"] {
        assert!(!logs.contains(read(n).trim()), "the {n} reached the log");
    }
}
