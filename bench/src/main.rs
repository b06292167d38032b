//! `make bench`: builds nothing itself (the Makefile builds the release binary first), starts
//! `target/release/latchkey` on loopback over a throwaway SQLite database, seeds it, runs bounded
//! measurements and prints one table: figure, value, target, pass/fail. Benchmarks are never
//! part of the test suite: a slow machine fails no test.
//!
//! Measured so far: P11 (server render of the credentials page with 10,000 credentials) and
//! P12 (hydration bundle size).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use latchkey_core::Services;
use latchkey_core::clock::SystemClock;
use latchkey_core::domain::application::NewApplication;
use latchkey_core::domain::audit::Ctx;
use latchkey_core::domain::environment::EnvironmentSlug;
use latchkey_core::domain::text::{ApplicationName, CredentialName, Description, Owner, Reason, Scopes};
use latchkey_core::domain::user::{Password, Role, Username};
use latchkey_core::secrets::Keys;
use latchkey_core::services::credentials::IssueRequest;
use latchkey_core::services::users::NewLocalUser;
use latchkey_core::storage::{Db, DbOptions};
use serde_json::{Value, json};

const CREDENTIALS: usize = 10_000;
const SAMPLES: usize = 21;
const PASSWORD: &str = "benchmark passphrase, long enough";

type Res<T> = Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Row {
    id: &'static str,
    figure: String,
    value: String,
    target: &'static str,
    pass: bool,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn step(what: &str) {
    eprintln!("bench: {what}");
}

fn env_for(dir: &Path, port: u16) -> Vec<(String, String)> {
    let s = |n: &str| dir.join("secrets").join(n).to_string_lossy().into_owned();
    vec![
        ("LATCHKEY_DATA_DIR".into(), dir.join("data").to_string_lossy().into_owned()),
        ("LATCHKEY_LISTEN".into(), format!("127.0.0.1:{port}")),
        ("LATCHKEY_PUBLIC_URL".into(), format!("http://127.0.0.1:{port}")),
        ("LATCHKEY_PEPPER_FILE".into(), s("pepper")),
        ("LATCHKEY_DATA_KEY_FILE".into(), s("data_key")),
        ("LATCHKEY_AUDIT_SIGNING_KEY_FILE".into(), s("audit_signing_key")),
    ]
}

fn latchkey(bin: &Path, env: &[(String, String)], args: &[&str]) -> Res<()> {
    let out = Command::new(bin)
        .args(args)
        .envs(env.iter().cloned())
        .output()
        .map_err(|e| format!("running {}: {e}", bin.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("latchkey {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
    }
}

/// Seeds the database directly through the services: one application, `CREDENTIALS` staging
/// credentials, one admin account.
async fn seed(dir: &Path) -> Res<()> {
    let read = |n: &str| std::fs::read_to_string(dir.join("secrets").join(n)).unwrap_or_default();
    let keys = Keys::from_encoded(read("pepper").trim(), read("data_key").trim(), read("audit_signing_key").trim())
        .map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.join("data").join("latchkey.db").display());
    let db = Db::connect(&url, &DbOptions::default()).await.map_err(|e| e.to_string())?;
    let s = Services::start(db, std::sync::Arc::new(SystemClock), keys).await.map_err(|e| e.to_string())?;
    let ctx = Ctx::system("bench", "req_bench".into());
    let e = |e: latchkey_core::CoreError| e.to_string();
    let app = s
        .create_application(
            &ctx,
            NewApplication {
                name: ApplicationName::parse("bench-payments").map_err(e)?,
                owner: Owner::parse("team-bench").map_err(e)?,
                description: Description::parse("benchmark data").map_err(e)?,
            },
        )
        .await
        .map_err(e)?;
    let started = Instant::now();
    for i in 0..CREDENTIALS {
        let req = IssueRequest {
            application_id: app.id.clone(),
            environment: EnvironmentSlug::parse("staging").map_err(e)?,
            name: CredentialName::parse(&format!("key {i}")).map_err(e)?,
            scopes: Scopes::parse(&["payments:read"]).map_err(e)?,
            expires_in_days: Some(90),
            reason: Reason::parse("benchmark").map_err(e)?,
        };
        s.issue_credential(&ctx, req).await.map_err(e)?;
        if (i + 1) % 2000 == 0 {
            step(&format!("seeded {} credentials ({:.0} s)", i + 1, started.elapsed().as_secs_f64()));
        }
    }
    s.create_local_user(
        &ctx,
        NewLocalUser {
            username: Username::parse("bench-admin").map_err(e)?,
            password: Password::new_checked(PASSWORD.to_owned()).map_err(e)?,
            role: Role::Admin,
            environment: None,
        },
    )
    .await
    .map_err(e)?;
    Ok(())
}

/// A signed-in session cookie: password, then TOTP enrollment with a code computed here.
async fn sign_in(http: &reqwest::Client, base: &str) -> Res<String> {
    let mut cookie = String::new();
    let mut post = async |path: &str, body: Value| -> Res<Value> {
        let r = http
            .post(format!("{base}{path}"))
            .header("origin", base)
            .header("cookie", cookie.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if let Some(c) = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            cookie = c.split(';').next().unwrap_or_default().to_owned();
        }
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if status.is_success() { Ok(v) } else { Err(format!("{path}: {status} {v}")) }
    };
    post("/auth/login", json!({"username": "bench-admin", "password": PASSWORD})).await?;
    let enroll = post("/auth/mfa/enroll/start", json!({})).await?;
    let secret = enroll["secret"].as_str().ok_or("no enrollment secret")?.to_owned();
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(totp_rs::Secret::try_from_base32(&secret).map_err(|e| e.to_string())?)
        .build()
        .map_err(|e| e.to_string())?;
    let code = totp.generate_current().to_string();
    post("/auth/mfa/enroll/confirm", json!({"code": code})).await?;
    Ok(cookie)
}

/// Median time of `SAMPLES` GETs (after 3 warm-up requests), checking each answers 200.
async fn time_get(http: &reqwest::Client, url: &str, cookie: &str, must_contain: &str) -> Res<Duration> {
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES + 3 {
        let t = Instant::now();
        let r = http.get(url).header("cookie", cookie).send().await.map_err(|e| e.to_string())?;
        let status = r.status();
        let body = r.text().await.map_err(|e| e.to_string())?;
        let took = t.elapsed();
        if !status.is_success() || !body.contains(must_contain) {
            return Err(format!("GET {url}: {status}, expected {must_contain:?} in the page"));
        }
        if i >= 3 {
            times.push(took);
        }
    }
    Ok(median(times))
}

fn gz_size(name: &str) -> u64 {
    std::fs::metadata(root().join("target/site/pkg").join(name)).map(|m| m.len()).unwrap_or(0)
}

async fn run() -> Res<Vec<Row>> {
    let bin = root().join("target/release/latchkey");
    if !bin.exists() {
        return Err("target/release/latchkey is missing: run `cargo xtask build --release` (make bench does)".into());
    }
    let dir = std::env::temp_dir().join(format!("latchkey-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let env = env_for(&dir, port);
    latchkey(&bin, &[], &["keys", "generate", "--out-dir", &dir.join("secrets").to_string_lossy()])?;
    latchkey(&bin, &env, &["migrate"])?;
    step(&format!("seeding {CREDENTIALS} credentials"));
    seed(&dir).await?;
    step("starting the release server");
    let child = Command::new(&bin)
        .arg("serve")
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
        if Instant::now() > deadline {
            return Err("the server did not become ready in 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cookie = sign_in(&http, &base).await?;
    step("measuring");
    let healthz = time_get(&http, &format!("{base}/healthz"), "", "ok").await?;
    let page = time_get(&http, &format!("{base}/credentials?environment=staging"), &cookie, "key 9999").await?;
    let next = time_get(&http, &format!("{base}/credentials?status=active"), &cookie, "Next page").await?;
    let _ = std::fs::remove_dir_all(&dir);
    let bundle = gz_size("latchkey_bg.wasm.gz") + gz_size("latchkey.js.gz");
    Ok(vec![
        Row {
            id: "P11",
            figure: format!("credentials page, {CREDENTIALS} credentials, server render (median of {SAMPLES})"),
            value: format!(
                "{:.1} ms ({:.1} ms with a status filter; /healthz {:.2} ms)",
                ms(page),
                ms(next),
                ms(healthz)
            ),
            target: "< 50 ms",
            pass: ms(page) < 50.0 && ms(next) < 50.0,
        },
        Row {
            id: "P12",
            figure: "hydration bundle (wasm + js), gzip".into(),
            value: format!("{:.1} KB", bundle as f64 / 1024.0),
            target: "≤ 400 KB",
            pass: bundle > 0 && bundle <= 400 * 1024,
        },
    ])
}

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(rows) => {
            println!("\n| id | figure | value | target | result |\n|---|---|---|---|---|");
            for r in &rows {
                println!(
                    "| {} | {} | {} | {} | {} |",
                    r.id,
                    r.figure,
                    r.value,
                    r.target,
                    if r.pass { "pass" } else { "FAIL" }
                );
            }
            if rows.iter().all(|r| r.pass) { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
