//! Configuration: defaults → optional TOML file (`LATCHKEY_CONFIG`) → `LATCHKEY_*` environment
//! variables → `LATCHKEY_*_FILE` for secrets. Unknown keys are reported, never silently ignored.
//! Secret values are never included in errors, warnings or `Debug` output.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::CoreError;
use crate::secrets::{Keys, SECRET_NAMES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One box: SQLite by default, secrets generated into a key file on first start.
    Embedded,
    /// Several replicas: secrets must be provided, the public URL must be HTTPS.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings that may appear in the file and as `LATCHKEY_<NAME>`.
pub const KNOWN_KEYS: &[&str] = &[
    "database_url",
    "data_dir",
    "listen",
    "public_url",
    "mode",
    "log_format",
    "pepper",
    "data_key",
    "audit_signing_key",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_groups_claim",
    "oidc_role_mapping",
    "oidc_trust_idp_mfa",
    "revocation_poll_ms",
    "request_ttl_hours",
    "verify_rate_per_second",
    "verify_burst",
    "db_max_connections",
];

/// Settings whose value may instead be read from a file named by `<name>_file`.
pub const SECRET_KEYS: &[&str] = &["pepper", "data_key", "audit_signing_key", "oidc_client_secret"];

/// The file the embedded mode generates its secrets into, inside the data directory.
pub const KEY_FILE_NAME: &str = "latchkey.keys";

pub struct Config {
    pub mode: Mode,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub listen: SocketAddr,
    pub public_url: String,
    pub log_format: LogFormat,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    /// The ID-token claim holding group names (default `groups`).
    pub oidc_groups_claim: String,
    /// `group=role[@environment]` pairs separated by `;`, e.g.
    /// `latchkey-admins=admin;payments-oncall=operator@production`.
    pub oidc_role_mapping: String,
    /// Skip Latchkey's own TOTP when the IdP says it did MFA (`amr` has `mfa`, `otp`, `hwk`…).
    pub oidc_trust_idp_mfa: bool,
    pub revocation_poll_ms: u64,
    /// How long a change request stays actionable.
    pub request_ttl_hours: u64,
    pub verify_rate_per_second: u32,
    pub verify_burst: u32,
    pub db_max_connections: u32,
    secrets: BTreeMap<&'static str, Zeroizing<String>>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("secrets_provided", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What loading produced besides the config: things the operator should read.
#[derive(Debug, Default)]
pub struct Warnings(pub Vec<String>);

/// Hides the password in `scheme://user:password@host/…`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:<redacted>{}", &url[..s + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn invalid(msg: impl Into<String>) -> CoreError {
    CoreError::validation(msg)
}

impl Config {
    /// Loads from the given environment (pass `std::env::vars()`), reading the TOML file named by
    /// `LATCHKEY_CONFIG` and any `*_FILE` secrets.
    pub fn load(vars: impl IntoIterator<Item = (String, String)>) -> Result<(Self, Warnings), CoreError> {
        let mut warnings = Warnings::default();
        let mut values: BTreeMap<String, Zeroizing<String>> = BTreeMap::new();
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        let env: Vec<(String, String)> = vars.into_iter().filter(|(k, _)| k.starts_with("LATCHKEY_")).collect();

        if let Some((_, path)) = env.iter().find(|(k, _)| k == "LATCHKEY_CONFIG") {
            let text = std::fs::read_to_string(path)
                .map_err(|e| invalid(format!("cannot read LATCHKEY_CONFIG file {path}: {e}")))?;
            let table: toml::Table =
                text.parse().map_err(|e| invalid(format!("config file {path} is not valid TOML: {e}")))?;
            for (k, v) in table {
                let s = match v {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    _ => return Err(invalid(format!("config key {k} must be a string, integer or boolean"))),
                };
                if KNOWN_KEYS.contains(&k.as_str()) {
                    values.insert(k, Zeroizing::new(s));
                } else if let Some(base) = k.strip_suffix("_file").filter(|b| SECRET_KEYS.contains(b)) {
                    files.insert(base.to_owned(), s);
                } else {
                    warnings.0.push(format!("unknown key {k:?} in config file {path} was ignored"));
                }
            }
        }

        for (k, v) in &env {
            let name = k["LATCHKEY_".len()..].to_ascii_lowercase();
            // LATCHKEY_LOG is the log filter, read by the binary's logging set-up.
            if name == "config" || name == "log" || name.starts_with("test_") {
                continue;
            }
            if KNOWN_KEYS.contains(&name.as_str()) {
                values.insert(name, Zeroizing::new(v.clone()));
            } else if let Some(base) = name.strip_suffix("_file").filter(|b| SECRET_KEYS.contains(b)) {
                files.insert(base.to_owned(), v.clone());
            } else {
                warnings.0.push(format!("unknown setting {k} was ignored"));
            }
        }

        for (base, path) in files {
            if env.iter().any(|(k, _)| k.eq_ignore_ascii_case(&format!("LATCHKEY_{base}"))) {
                return Err(invalid(format!(
                    "both LATCHKEY_{0} and LATCHKEY_{0}_FILE are set; use one",
                    base.to_ascii_uppercase()
                )));
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| invalid(format!("cannot read {base}_file {path}: {e}")))?;
            values.insert(base, Zeroizing::new(text.trim().to_owned()));
        }

        let get = |k: &str| values.get(k).map(|v| v.as_str().to_owned());
        let mode = match get("mode").as_deref() {
            None | Some("embedded") => Mode::Embedded,
            Some("production") => Mode::Production,
            Some(_) => return Err(invalid("mode must be embedded or production")),
        };
        let data_dir = PathBuf::from(get("data_dir").unwrap_or_else(|| "latchkey-data".to_owned()));
        let database_url =
            get("database_url").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("latchkey.db").display()));
        crate::storage::Backend::from_url(&database_url)?;
        let listen: SocketAddr = get("listen")
            .unwrap_or_else(|| "127.0.0.1:3000".to_owned())
            .parse()
            .map_err(|_| invalid("listen must be an address:port such as 127.0.0.1:3000"))?;
        let public_url = get("public_url")
            .unwrap_or_else(|| format!("http://localhost:{}", listen.port()))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid("public_url must start with http:// or https://"));
        }
        let log_format = match get("log_format").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(invalid("log_format must be text or json")),
        };
        let num = |k: &str, default: u64, lo: u64, hi: u64| -> Result<u64, CoreError> {
            match get(k) {
                None => Ok(default),
                Some(s) => s
                    .parse::<u64>()
                    .ok()
                    .filter(|v| (lo..=hi).contains(v))
                    .ok_or_else(|| invalid(format!("{k} must be a whole number between {lo} and {hi}"))),
            }
        };
        let revocation_poll_ms = num("revocation_poll_ms", 50, 5, 60_000)?;
        let request_ttl_hours = num("request_ttl_hours", 24, 1, 24 * 30)?;
        let verify_rate_per_second = num("verify_rate_per_second", 5_000, 1, 10_000_000)? as u32;
        let verify_burst = num("verify_burst", 10_000, 1, 10_000_000)? as u32;
        let db_max_connections = num("db_max_connections", 10, 1, 1000)? as u32;

        let mut secrets = BTreeMap::new();
        for k in SECRET_KEYS {
            if let Some(v) = values.get(*k).filter(|v| !v.trim().is_empty()) {
                secrets.insert(*k, v.clone());
            }
        }

        if mode == Mode::Production {
            if !public_url.starts_with("https://") {
                return Err(invalid("production mode requires an https:// public_url"));
            }
            let missing: Vec<String> = SECRET_NAMES
                .iter()
                .filter(|n| !secrets.contains_key(**n))
                .map(|n| format!("LATCHKEY_{}", n.to_ascii_uppercase()))
                .collect();
            if !missing.is_empty() {
                return Err(invalid(format!(
                    "production mode requires these secrets (or their _FILE forms): {}",
                    missing.join(", ")
                )));
            }
        }

        let cfg = Self {
            mode,
            data_dir,
            database_url,
            listen,
            public_url,
            log_format,
            oidc_issuer: get("oidc_issuer"),
            oidc_client_id: get("oidc_client_id"),
            oidc_groups_claim: get("oidc_groups_claim").unwrap_or_else(|| "groups".to_owned()),
            oidc_role_mapping: get("oidc_role_mapping").unwrap_or_default(),
            oidc_trust_idp_mfa: match get("oidc_trust_idp_mfa").as_deref() {
                None | Some("false") | Some("0") => false,
                Some("true") | Some("1") => true,
                Some(_) => return Err(invalid("oidc_trust_idp_mfa must be true or false")),
            },
            revocation_poll_ms,
            request_ttl_hours,
            verify_rate_per_second,
            verify_burst,
            db_max_connections,
            secrets,
        };
        Ok((cfg, warnings))
    }

    /// The OIDC client secret, if configured.
    pub fn oidc_client_secret(&self) -> Option<&str> {
        self.secrets.get("oidc_client_secret").map(|s| s.as_str())
    }

    pub fn key_file_path(&self) -> PathBuf {
        self.data_dir.join(KEY_FILE_NAME)
    }

    /// Resolves the three server secrets. In embedded mode, any not provided come from the key file
    /// in the data directory, which is generated (mode 0600) on first start; the returned warnings
    /// say so loudly.
    pub fn resolve_keys(&self) -> Result<(Keys, Warnings), CoreError> {
        let mut warnings = Warnings::default();
        let mut found: BTreeMap<&str, Zeroizing<String>> = BTreeMap::new();
        for n in SECRET_NAMES {
            if let Some(v) = self.secrets.get(n) {
                found.insert(n, v.clone());
            }
        }
        if found.len() < SECRET_NAMES.len() {
            if self.mode == Mode::Production {
                return Err(invalid("production mode requires all secrets to be provided"));
            }
            let path = self.key_file_path();
            if !path.exists() {
                write_key_file(&path)?;
                warnings.0.push(format!(
                    "GENERATED NEW SECRETS into {} (mode 0600). Back this file up and keep it secret: \
                     without it, no credential verifies and no TOTP seed decrypts. For production, \
                     provide LATCHKEY_PEPPER, LATCHKEY_DATA_KEY and LATCHKEY_AUDIT_SIGNING_KEY instead.",
                    path.display()
                ));
            }
            let from_file = read_key_file(&path)?;
            for n in SECRET_NAMES {
                if !found.contains_key(n) {
                    let v =
                        from_file.get(n).ok_or_else(|| invalid(format!("key file {} has no {n}", path.display())))?;
                    found.insert(n, v.clone());
                }
            }
        }
        let get = |n: &str| found.get(n).map(|v| v.as_str()).unwrap_or("");
        let keys = Keys::from_encoded(get("pepper"), get("data_key"), get("audit_signing_key"))?;
        Ok((keys, warnings))
    }
}

fn write_key_file(path: &Path) -> Result<(), CoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
    }
    let generated = Keys::generate()?;
    let mut text =
        Zeroizing::new(String::from("# Latchkey server secrets, generated on first start. Keep secret; back up.\n"));
    for (name, value) in &generated.encoded {
        text.push_str(&format!("{name} = \"{value}\"\n"));
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| CoreError::Unavailable(format!("cannot create key file {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| CoreError::Unavailable(format!("cannot write key file {}: {e}", path.display())))
}

fn read_key_file(path: &Path) -> Result<BTreeMap<String, Zeroizing<String>>, CoreError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| CoreError::Unavailable(format!("cannot read key file {}: {e}", path.display())))?,
    );
    let table: toml::Table =
        text.parse().map_err(|_| invalid(format!("key file {} is not valid TOML", path.display())))?;
    Ok(table
        .into_iter()
        .filter_map(|(k, v)| match v {
            toml::Value::String(s) => Some((k, Zeroizing::new(s))),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_embedded_sqlite_on_localhost() {
        let (c, w) = Config::load(vars(&[])).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.mode, Mode::Embedded);
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert!(c.database_url.starts_with("sqlite://"));
        assert_eq!(c.request_ttl_hours, 24);
        assert!(w.0.is_empty());
    }

    #[test]
    fn request_ttl_is_bounded() {
        let (c, _) = Config::load(vars(&[("LATCHKEY_REQUEST_TTL_HOURS", "4")])).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.request_ttl_hours, 4);
        assert!(Config::load(vars(&[("LATCHKEY_REQUEST_TTL_HOURS", "0")])).is_err());
        assert!(Config::load(vars(&[("LATCHKEY_REQUEST_TTL_HOURS", "soon")])).is_err());
    }

    #[test]
    fn unknown_env_keys_are_reported() {
        let (_, w) = Config::load(vars(&[("LATCHKEY_LISTN", "x")])).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(w.0.iter().any(|m| m.contains("LATCHKEY_LISTN")));
    }

    #[test]
    fn production_refuses_without_secrets_or_https() {
        let e = Config::load(vars(&[("LATCHKEY_MODE", "production"), ("LATCHKEY_PUBLIC_URL", "http://x")]));
        assert!(e.is_err());
        let e = Config::load(vars(&[("LATCHKEY_MODE", "production"), ("LATCHKEY_PUBLIC_URL", "https://x")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("LATCHKEY_PEPPER"), "{e}");
    }

    #[test]
    fn env_overrides_file_and_secret_files_are_read() {
        let dir = std::env::temp_dir().join(format!("lk-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let file = dir.join("c.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:4000\"\npublic_url = \"http://a\"\nbogus = 1\n")
            .unwrap_or_default();
        let pepper = dir.join("pepper");
        std::fs::write(&pepper, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap_or_default();
        let (c, w) = Config::load(vars(&[
            ("LATCHKEY_CONFIG", file.to_str().unwrap_or_default()),
            ("LATCHKEY_PUBLIC_URL", "http://b"),
            ("LATCHKEY_PEPPER_FILE", pepper.to_str().unwrap_or_default()),
        ]))
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.listen.port(), 4000);
        assert_eq!(c.public_url, "http://b");
        assert!(c.secrets.contains_key("pepper"));
        assert!(w.0.iter().any(|m| m.contains("bogus")));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn url_passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:<redacted>@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
