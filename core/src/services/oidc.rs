//! Single sign-on with OpenID Connect: authorization code flow with PKCE (S256), `state` and
//! `nonce` per sign-in, bound to the browser by a flow id held in a cookie and stored server-side
//! (so a state is usable once, on any replica). The ID token's issuer, audience, expiry, nonce and
//! signature are checked, with an allow-list of asymmetric algorithms only: `none` and HMAC are
//! refused. Users are keyed by (issuer, subject), never by e-mail. SSO is a first factor: TOTP
//! follows unless the deployment trusts the IdP's MFA claim.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::RwLock;
use tower_sessions::Session;
use zeroize::Zeroizing;

use super::Services;
use super::audit::append;
use super::auth::NextStep;
use crate::config::Config;
use crate::crypto;
use crate::domain::audit::hex32;
use crate::domain::audit::{Actor, Ctx, NewEvent, Outcome};
use crate::domain::environment::EnvironmentSlug;
use crate::domain::user::{Role, User};
use crate::error::{CoreError, CoreResult};
use crate::ids::{EnvironmentId, GrantId, UserId};
use crate::random;
use crate::storage::{environments, oidc as flows, users};

/// How long a sign-in at the IdP may take.
pub const FLOW_TTL_MS: i64 = 10 * 60 * 1000;
/// The cookie that binds a flow to the browser. `SameSite=Lax`: it must come back on the IdP's
/// top-level redirect, which a `Strict` cookie would not.
pub const FLOW_COOKIE: &str = "__Host-latchkey-sso";
/// Grants the group mapping owns (and may remove again).
const MAPPING_SOURCE: &str = "oidc:groups";
const METADATA_TTL: Duration = Duration::from_secs(300);

/// The only ID-token signature algorithms accepted.
pub const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 7] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

#[derive(Debug, Clone)]
pub struct RoleMapping {
    pub group: String,
    pub role: Role,
    pub environment: Option<EnvironmentSlug>,
}

/// `group=role[@environment]` pairs separated by `;`.
pub fn parse_role_mapping(s: &str) -> CoreResult<Vec<RoleMapping>> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (group, target) = pair.split_once('=').ok_or_else(|| {
                CoreError::validation(format!("oidc_role_mapping: {pair:?} is not group=role[@environment]"))
            })?;
            let (role, env) = match target.split_once('@') {
                Some((r, e)) => (r, Some(EnvironmentSlug::parse(e.trim())?)),
                None => (target, None),
            };
            Ok(RoleMapping { group: group.trim().to_owned(), role: Role::parse(role.trim())?, environment: env })
        })
        .collect()
}

pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Zeroizing<String>>,
    pub redirect_url: String,
    pub groups_claim: String,
    pub role_mapping: Vec<RoleMapping>,
    pub trust_idp_mfa: bool,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl OidcSettings {
    /// `None` when SSO is not configured.
    pub fn from_config(cfg: &Config) -> CoreResult<Option<Self>> {
        let (Some(issuer), Some(client_id)) = (cfg.oidc_issuer.clone(), cfg.oidc_client_id.clone()) else {
            return Ok(None);
        };
        Ok(Some(Self {
            issuer,
            client_id,
            client_secret: cfg.oidc_client_secret().map(|s| Zeroizing::new(s.to_owned())),
            redirect_url: format!("{}/auth/oidc/callback", cfg.public_url),
            groups_claim: cfg.oidc_groups_claim.clone(),
            role_mapping: parse_role_mapping(&cfg.oidc_role_mapping)?,
            trust_idp_mfa: cfg.oidc_trust_idp_mfa,
        }))
    }
}

#[derive(Debug)]
pub struct Oidc {
    pub settings: OidcSettings,
    http: reqwest::Client,
    metadata: RwLock<Option<(CoreProviderMetadata, Instant)>>,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> CoreResult<Arc<Self>> {
        // Redirects off: an IdP endpoint that redirects is an SSRF risk, not a feature.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CoreError::internal(format!("http client: {e}")))?;
        Ok(Arc::new(Self { settings, http, metadata: RwLock::new(None) }))
    }

    /// Discovery document and keys, cached briefly so a key rotation at the IdP is picked up.
    async fn metadata(&self) -> CoreResult<CoreProviderMetadata> {
        if let Some((m, at)) = self.metadata.read().await.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|_| CoreError::validation("oidc_issuer is not a URL"))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| CoreError::Unavailable(format!("OIDC discovery failed: {e}")))?;
        *self.metadata.write().await = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> CoreResult<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
            .map_err(|_| CoreError::validation("bad public_url"))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.as_ref().map(|s| ClientSecret::new(s.to_string())),
        )
        .set_redirect_uri(redirect))
    }
}

/// What is remembered between the redirect to the IdP and the callback.
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    pkce_verifier: String,
}

fn flow_hash(id: &str) -> String {
    hex32::encode(&Sha256::digest(id.as_bytes()))
}

fn bad(msg: &str) -> CoreError {
    CoreError::BadRequest(msg.to_owned())
}

/// Reads one extra claim (such as `groups`) from an ID token whose signature was already verified.
fn extra_claim(jwt: &str, name: &str) -> Vec<String> {
    let payload = jwt.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok());
    let value: Option<serde_json::Value> = payload.and_then(|p| serde_json::from_slice(&p).ok());
    match value.as_ref().and_then(|v| v.get(name)) {
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `amr` values that mean the IdP did multi-factor authentication (RFC 8176).
const MFA_AMR: [&str; 6] = ["mfa", "otp", "hwk", "swk", "fpt", "sc"];

pub struct Callback<'a> {
    pub flow_id: Option<&'a str>,
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    pub error: Option<&'a str>,
}

impl Services {
    fn oidc(&self) -> CoreResult<&Arc<Oidc>> {
        self.oidc.as_ref().ok_or(CoreError::NotFound("single sign-on configuration"))
    }

    pub fn sso_enabled(&self) -> bool {
        self.oidc.is_some()
    }

    /// `GET /auth/oidc/start`: the IdP URL to send the browser to, and the flow id for its cookie.
    pub async fn oidc_start(&self) -> CoreResult<(String, String)> {
        let oidc = self.oidc()?;
        let client = oidc.client(oidc.metadata().await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new(oidc.settings.groups_claim.clone()))
            .set_pkce_challenge(challenge)
            .url();
        let flow = Flow {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        };
        let plain = Zeroizing::new(serde_json::to_vec(&flow).map_err(|e| CoreError::internal(e.to_string()))?);
        let sealed = crypto::seal(&self.keys.data_key, "oidc-flow", &plain)?;
        let flow_id = random::base62(32)?;
        let now = self.clock.now().as_millis();
        let mut conn = self.db.pool().acquire().await?;
        flows::delete_older_than(&mut conn, now - FLOW_TTL_MS).await?;
        flows::insert(&mut conn, &flow_hash(&flow_id), &sealed, now).await?;
        Ok((url.to_string(), flow_id))
    }

    /// `GET /auth/oidc/callback`: checks state, exchanges the code with the PKCE verifier, verifies
    /// the ID token, finds or creates the user by (issuer, subject), and starts the session at the
    /// first-factor stage (or completes it when the IdP's MFA is trusted).
    pub async fn oidc_callback(&self, ctx: &Ctx, session: &Session, cb: Callback<'_>) -> CoreResult<NextStep> {
        let oidc = self.oidc()?;
        let now = self.clock.now();
        let flow_id = cb.flow_id.ok_or_else(|| bad("no sign-in is in progress in this browser; start again"))?;
        let mut conn = self.db.pool().acquire().await?;
        let taken = flows::take(&mut conn, &flow_hash(flow_id)).await?;
        drop(conn);
        let (sealed, created_at) =
            taken.ok_or_else(|| bad("this sign-in was already used or never started; start again"))?;
        if now.as_millis() - created_at > FLOW_TTL_MS {
            return Err(bad("the sign-in took too long; start again"));
        }
        let plain = crypto::open(&self.keys.data_key, "oidc-flow", &sealed)?;
        let flow: Flow = serde_json::from_slice(&plain).map_err(|e| CoreError::internal(e.to_string()))?;
        let anon = Ctx { actor: Actor::anonymous(), ..ctx.clone() };
        let fail = |reason: &'static str| {
            NewEvent::success("auth.login", "user", "oidc")
                .with_outcome(Outcome::Failure)
                .with_details(json!({ "method": "oidc", "issuer": oidc.settings.issuer, "reason": reason }))
        };
        if let Some(e) = cb.error {
            self.record_event(&anon, fail("idp_error")).await?;
            let e: String = e.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
            return Err(bad(&format!("the identity provider refused the sign-in ({e})")));
        }
        let state_ok = cb.state.is_some_and(|s| bool::from(s.as_bytes().ct_eq(flow.state.as_bytes())));
        if !state_ok {
            self.record_event(&anon, fail("state_mismatch")).await?;
            return Err(bad("the sign-in state does not match; start again"));
        }
        let code = cb.code.ok_or_else(|| bad("the identity provider sent no authorization code"))?;
        let client = oidc.client(oidc.metadata().await?)?;
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| CoreError::internal(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()));
        let token = match request.request_async(&oidc.http).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "OIDC code exchange failed");
                self.record_event(&anon, fail("code_exchange")).await?;
                return Err(CoreError::Unauthenticated("the identity provider did not accept the sign-in".into()));
            }
        };
        let _ = token.access_token();
        let Some(id_token) = token.id_token() else {
            self.record_event(&anon, fail("no_id_token")).await?;
            return Err(CoreError::Unauthenticated("the identity provider sent no ID token".into()));
        };
        let clock = self.clock.clone();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(ALLOWED_ALGS)
            .set_time_fn(move || chrono::DateTime::from_timestamp_millis(clock.now().as_millis()).unwrap_or_default());
        let nonce = Nonce::new(flow.nonce.clone());
        let claims = match id_token.claims(&verifier, &nonce) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "ID token refused");
                self.record_event(&anon, fail("id_token_invalid")).await?;
                return Err(CoreError::Unauthenticated("the identity provider's answer could not be verified".into()));
            }
        };
        let issuer = claims.issuer().to_string();
        let subject = claims.subject().to_string();
        let email = claims.email().map(|e| e.to_string());
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .or_else(|| email.clone())
            .unwrap_or_else(|| subject.clone());
        let amr: Vec<String> =
            claims.auth_method_refs().map(|v| v.iter().map(|a| a.to_string()).collect()).unwrap_or_default();
        let groups = extra_claim(&id_token.to_string(), &oidc.settings.groups_claim);
        let user = self.upsert_sso_user(ctx, &issuer, &subject, &name, email.as_deref(), &groups).await?;
        if user.disabled {
            self.record_event(&anon, fail("disabled")).await?;
            return Err(CoreError::Unauthenticated("this account is disabled".into()));
        }
        let mut next = self.begin_first_factor(session, &user.id, "oidc").await?;
        let idp_mfa = amr.iter().any(|a| MFA_AMR.contains(&a.as_str()));
        if oidc.settings.trust_idp_mfa && idp_mfa {
            let auth = self.session_auth(session).await?;
            self.complete_mfa(session, auth).await?;
            next = NextStep::Done;
        }
        let actor = Actor::user(user.id.as_str(), &user.display_name);
        let ev = NewEvent::success("auth.login", "user", user.id.as_str()).with_details(json!({
            "method": "oidc", "issuer": issuer, "subject": subject, "next": next, "idp_mfa": idp_mfa,
        }));
        self.record_event(&Ctx { actor, ..ctx.clone() }, ev).await?;
        Ok(next)
    }

    /// Finds the user by (issuer, subject) or creates them with no roles; then reconciles the
    /// grants the group mapping owns.
    async fn upsert_sso_user(
        &self,
        ctx: &Ctx,
        issuer: &str,
        subject: &str,
        name: &str,
        email: Option<&str>,
        groups: &[String],
    ) -> CoreResult<User> {
        let oidc = self.oidc()?;
        let now = self.clock.now();
        let system = Ctx { actor: Actor::system("sso"), ..ctx.clone() };
        let mut tx = self.db.begin().await?;
        let user = match users::by_subject(&mut tx, issuer, subject).await? {
            Some(u) => {
                if u.display_name != name || u.email.as_deref() != email {
                    users::update_profile(&mut tx, &u.id, name, email).await?;
                }
                u
            }
            None => {
                let id = UserId::generate()?;
                users::insert(
                    &mut tx,
                    &users::NewUserRow {
                        id: &id,
                        username: None,
                        display_name: name,
                        email,
                        issuer: Some(issuer),
                        subject: Some(subject),
                        password_hash: None,
                        created_at: now,
                    },
                )
                .await?;
                let ev = NewEvent::success("user.create", "user", id.as_str())
                    .with_details(json!({ "kind": "sso", "issuer": issuer, "subject": subject, "email": email }));
                append(&mut tx, now, &system, ev).await?;
                users::by_id(&mut tx, &id).await?.ok_or_else(|| CoreError::internal("user vanished"))?
            }
        };
        // Desired grants from the mapping, resolved to environment ids.
        let mut desired: Vec<(Role, Option<EnvironmentId>, Option<EnvironmentSlug>)> = Vec::new();
        for m in oidc.settings.role_mapping.iter().filter(|m| groups.contains(&m.group)) {
            let env = match &m.environment {
                Some(slug) => match environments::by_slug(&mut tx, slug).await? {
                    Some(e) => Some(e.id),
                    None => continue,
                },
                None => None,
            };
            if !desired.iter().any(|(r, e, _)| *r == m.role && *e == env) {
                desired.push((m.role, env, m.environment.clone()));
            }
        }
        let owned = users::grants_created_by(&mut tx, &user.id, MAPPING_SOURCE).await?;
        for (gid, role, env) in &owned {
            if !desired.iter().any(|(r, e, _)| r == role && e == env) {
                users::delete_grant(&mut tx, &user.id, gid).await?;
                let ev = NewEvent::success("role.revoke", "user", user.id.as_str())
                    .with_details(json!({ "grant_id": gid, "role": role, "source": MAPPING_SOURCE }));
                append(&mut tx, now, &system, ev).await?;
            }
        }
        for (role, env, slug) in &desired {
            if !owned.iter().any(|(_, r, e)| r == role && e == env) {
                let gid = GrantId::generate()?;
                users::insert_grant(&mut tx, &gid, &user.id, *role, env.as_ref(), now, MAPPING_SOURCE).await?;
                let mut ev = NewEvent::success("role.grant", "user", user.id.as_str()).with_details(
                    json!({ "grant_id": gid, "role": role, "environment": slug, "source": MAPPING_SOURCE }),
                );
                if let Some(s) = slug {
                    ev = ev.in_env(s.as_str());
                }
                append(&mut tx, now, &system, ev).await?;
            }
        }
        let user = users::by_id(&mut tx, &user.id).await?.ok_or_else(|| CoreError::internal("user vanished"))?;
        tx.commit().await?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_mapping_parses() {
        let m = parse_role_mapping("admins=admin; ops = operator@staging ;").unwrap_or_default();
        assert_eq!(m.len(), 2);
        assert_eq!((m[1].group.as_str(), m[1].role), ("ops", Role::Operator));
        assert_eq!(m[1].environment.as_ref().map(|e| e.as_str()), Some("staging"));
        assert!(parse_role_mapping("x=root").is_err());
    }

    #[test]
    fn hmac_and_none_are_not_allowed() {
        assert!(!ALLOWED_ALGS.contains(&CoreJwsSigningAlgorithm::HmacSha256));
        assert!(!ALLOWED_ALGS.contains(&CoreJwsSigningAlgorithm::None));
    }
}
