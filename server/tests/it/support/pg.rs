//! A private, throwaway PostgreSQL cluster for the test run: `initdb` + `pg_ctl` in a temp dir on
//! a free loopback port, stopped by a watchdog when the test process exits. Or, when
//! `LATCHKEY_TEST_PG_URL` is set, that server. Each test gets a fresh database on it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub enum PgServer {
    /// Base URL without a database name, e.g. `postgres://latchkey@127.0.0.1:5433`.
    Ready {
        base: String,
        bindir: Option<PathBuf>,
    },
    Skipped,
}

static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn bindir() -> Option<PathBuf> {
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    dir.join("initdb").exists().then_some(dir)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(55432)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root).
fn pg_tool(bindir: &std::path::Path, tool: &str, args: &[&str], as_postgres: bool) -> Result<String, String> {
    let exe = bindir.join(tool);
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = cmd.args(args).stdin(Stdio::null()).output().map_err(|e| format!("{tool}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{tool} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

fn start_cluster() -> Result<PgServer, String> {
    if let Ok(url) = std::env::var("LATCHKEY_TEST_PG_URL") {
        let base = match url.rfind('/') {
            Some(i) if i > "postgres://".len() => url[..i].to_owned(),
            _ => url,
        };
        return Ok(PgServer::Ready { base, bindir: bindir() });
    }
    let Some(bin) = bindir() else {
        if std::env::var("LATCHKEY_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("NOTE: PostgreSQL tests SKIPPED (LATCHKEY_TEST_SKIP_POSTGRES=1)");
            return Ok(PgServer::Skipped);
        }
        return Err("PostgreSQL server binaries not found (pg_config --bindir has no initdb). Install them \
                    (`apt-get install -y postgresql`, done by `make setup`), set LATCHKEY_TEST_PG_URL, or set \
                    LATCHKEY_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL half of the suite explicitly."
            .into());
    };
    let root = is_root();
    let dir = std::env::temp_dir().join(format!("latchkey-pg-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if root {
        let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().map(|s| s.success());
        if !ok.unwrap_or(false) {
            return Err(format!("cannot chown {} to postgres", dir.display()));
        }
    }
    let data = dir.join("data");
    let data_s = data.to_string_lossy().to_string();
    let dir_s = dir.to_string_lossy().to_string();
    pg_tool(&bin, "initdb", &["-D", &data_s, "-A", "trust", "-U", "latchkey", "--no-sync", "-E", "UTF8"], root)?;
    let port = free_port();
    let opts = format!(
        "-p {port} -k {dir_s} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB"
    );
    let log = dir.join("pg.log").to_string_lossy().to_string();
    pg_tool(&bin, "pg_ctl", &["-D", &data_s, "-o", &opts, "-l", &log, "-w", "start"], root)?;
    // Watchdog: when this test process exits, stop the cluster and remove its files.
    let pg_ctl = bin.join("pg_ctl").to_string_lossy().to_string();
    let stop = if root {
        format!("runuser -u postgres -- {pg_ctl} -D {data_s} -m immediate stop")
    } else {
        format!("{pg_ctl} -D {data_s} -m immediate stop")
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir_s}",
        pid = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cluster watchdog: {e}"))?;
    Ok(PgServer::Ready { base: format!("postgres://latchkey@127.0.0.1:{port}"), bindir: Some(bin) })
}

pub fn server() -> &'static PgServer {
    match SERVER.get_or_init(start_cluster) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// A fresh, empty database on the test server. `None` when PostgreSQL was explicitly skipped.
pub async fn fresh_database() -> Option<String> {
    let PgServer::Ready { base, .. } = server() else { return None };
    let name = format!("t_{}", latchkey_core::random::base62(16).unwrap_or_default().to_ascii_lowercase());
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{base}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {base}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("create database: {e}"));
    Some(format!("{base}/{name}"))
}

/// `pg_dump` of a database, as text.
pub fn dump(url: &str) -> String {
    let PgServer::Ready { bindir: Some(bin), .. } = server() else {
        panic!("pg_dump needs the PostgreSQL binaries");
    };
    let out = Command::new(bin.join("pg_dump"))
        .args(["--data-only", "--inserts", url])
        .output()
        .unwrap_or_else(|e| panic!("pg_dump: {e}"));
    assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
