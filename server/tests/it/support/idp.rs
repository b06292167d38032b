//! The real OpenID Provider for tests: the npm package `oidc-provider` (end2end/idp/idp.mjs),
//! started once per test run on a free loopback port and stopped when this process exits.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

static ISSUER: OnceLock<Result<String, String>> = OnceLock::new();

fn start() -> Result<String, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("end2end/idp/idp.mjs");
    if !root.join("end2end/node_modules/oidc-provider").exists() {
        return Err("the test identity provider is not installed: run `make setup` (npm install in end2end/)".into());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0);
    let mut child = Command::new("node")
        .arg(&script)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start node for the test IdP: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(issuer) = line.strip_prefix("ready ") {
                let _ = tx.send(issuer.to_owned());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30)).map_err(|_| "the test IdP did not start within 30 s".to_owned())
}

pub fn issuer() -> String {
    match ISSUER.get_or_init(start) {
        Ok(i) => i.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// Registers a client for `redirect_uri` (open dynamic registration): `(client_id, client_secret)`.
pub async fn register_client(issuer: &str, redirect_uri: &str) -> (String, String) {
    let r: Value = reqwest::Client::new()
        .post(format!("{issuer}/reg"))
        .json(&json!({ "redirect_uris": [redirect_uri], "response_types": ["code"], "grant_types": ["authorization_code"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (r["client_id"].as_str().unwrap().to_owned(), r["client_secret"].as_str().unwrap().to_owned())
}

/// A user agent at the IdP: follows the dev-interaction login for `login` and returns the
/// redirect back to the relying party (`…/auth/oidc/callback?code=…&state=…`).
pub async fn authorize(authorize_url: &str, login: &str) -> String {
    let ua = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let location = |r: &reqwest::Response| r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let r = ua.get(authorize_url).send().await.unwrap();
    let interaction = location(&r).unwrap_or_else(|| panic!("IdP answered {} without a redirect", r.status()));
    let base = authorize_url.split("/auth?").next().unwrap();
    let interaction = if interaction.starts_with("http") { interaction } else { format!("{base}{interaction}") };
    let r =
        ua.post(&interaction).form(&[("prompt", "login"), ("login", login), ("password", "any")]).send().await.unwrap();
    let resume = location(&r).unwrap_or_else(|| panic!("login at the IdP answered {}", r.status()));
    let resume = if resume.starts_with("http") { resume } else { format!("{base}{resume}") };
    let r = ua.get(&resume).send().await.unwrap();
    location(&r).unwrap_or_else(|| panic!("the IdP did not redirect back ({})", r.status()))
}
