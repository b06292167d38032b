//! Sign-in: local passwords (Argon2id), TOTP second factor with enrollment, recovery codes and
//! step-up, and the session state that says how far a visitor got. Every success and failure is
//! an audit event; no password, code or seed ever is.

use argon2::Argon2;
use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use serde::{Deserialize, Serialize};
use serde_json::json;
use totp_rs::{Algorithm, Secret, Totp};
use tower_sessions::Session;
use zeroize::Zeroizing;

use super::Services;
use super::audit::append;
use crate::crypto;
use crate::domain::audit::{Actor, Ctx, NewEvent, Outcome};
use crate::domain::authz::Principal;
use crate::domain::time::Timestamp;
use crate::domain::user::{Password, Role};
use crate::error::{CoreError, CoreResult};
use crate::ids::UserId;
use crate::random;
use crate::storage::{mfa, sessions, users};

/// The session key holding [`SessionAuth`].
pub const SESSION_KEY: &str = "auth";
/// Idle timeout (PRODUCT: 30 minutes).
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// Absolute timeout (PRODUCT: 12 hours).
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;
/// How long a password-only session may wait for its second factor.
pub const PENDING_TIMEOUT_MS: i64 = 10 * 60 * 1000;
/// Failed TOTP codes before the account's MFA locks, and for how long.
pub const MFA_MAX_FAILURES: i64 = 5;
pub const MFA_LOCK_MS: i64 = 5 * 60 * 1000;
/// Failed sign-ins per account name within the window before it locks, and for how long.
pub const LOGIN_MAX_FAILURES: i64 = 10;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const LOGIN_LOCK_MS: i64 = 15 * 60 * 1000;
pub const RECOVERY_CODES: usize = 10;
/// Last-seen is written at most this often (an idle timeout of 30 min needs no finer clock).
const TOUCH_EVERY_MS: i64 = 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// First factor done (password or SSO); TOTP still to come.
    FirstFactor,
    /// Fully signed in.
    Complete,
}

/// What the session knows about its visitor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: String,
    pub stage: Stage,
    /// `local` or `oidc`.
    pub method: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub mfa_at: Option<i64>,
}

/// What the client must do after the first factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    Mfa,
    MfaEnroll,
    Done,
}

/// The enrollment material shown once: the base32 secret, the otpauth URI and a QR code of it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrollment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrollment(<redacted>)")
    }
}

fn session_err(e: tower_sessions::session::Error) -> CoreError {
    CoreError::Unavailable(format!("session store: {e}"))
}

fn invalid_login() -> CoreError {
    CoreError::Unauthenticated("invalid username or password".into())
}

fn invalid_code() -> CoreError {
    CoreError::Unauthenticated("invalid authentication code".into())
}

/// A valid Argon2id hash of a random password, checked when the account does not exist so both
/// answers take the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4DLjKtVbV3h2B5Y0dM/pWzJ8pBGbAN+Gn1y/3A0ZqYk";

fn verify_password(hash: &str, password: &Password) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.expose().as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

fn totp(seed: &[u8], account: &str) -> CoreResult<Totp> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(Secret::new(seed.to_vec().into_boxed_slice()))
        .with_issuer(Some("Latchkey"))
        .with_account_name(account)
        .build()
        .map_err(|e| CoreError::internal(format!("totp: {e}")))
}

/// Normalises a presented code: a 6-digit TOTP code, or a recovery code (`xxxx-xxxx-xxxx`).
enum Presented {
    Totp(String),
    Recovery(String),
}

fn classify(code: &str) -> Option<Presented> {
    let compact: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
        Some(Presented::Totp(compact))
    } else if compact.len() == 12 && compact.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(Presented::Recovery(compact.to_ascii_lowercase()))
    } else {
        None
    }
}

const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789x";

fn new_recovery_code() -> CoreResult<String> {
    let bytes = random::bytes::<12>()?;
    let chars: String = bytes.iter().map(|b| RECOVERY_ALPHABET[usize::from(b % 32)] as char).collect();
    Ok(format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]))
}

impl Services {
    fn recovery_hash(&self, normalized: &str) -> [u8; 32] {
        *self.keys.pepper.hash(format!("recovery:{normalized}").as_bytes()).as_bytes()
    }

    /// The session's sign-in state, enforcing idle, absolute and pending timeouts on our clock.
    pub async fn session_auth(&self, session: &Session) -> CoreResult<SessionAuth> {
        let auth: Option<SessionAuth> = session.get(SESSION_KEY).await.map_err(session_err)?;
        let Some(auth) = auth else {
            return Err(CoreError::Unauthenticated("sign in first".into()));
        };
        let now = self.clock.now().as_millis();
        let expired = now - auth.created_at >= ABSOLUTE_TIMEOUT_MS
            || now - auth.last_seen_at >= IDLE_TIMEOUT_MS
            || (auth.stage == Stage::FirstFactor && now - auth.created_at >= PENDING_TIMEOUT_MS);
        if expired {
            session.flush().await.map_err(session_err)?;
            return Err(CoreError::Unauthenticated("the session has expired; sign in again".into()));
        }
        Ok(auth)
    }

    /// The signed-in user for this request, or 401. Reloads the user and grants every time, so
    /// role changes and disabling take effect on the next request.
    pub async fn principal(&self, session: &Session) -> CoreResult<Principal> {
        let mut auth = self.session_auth(session).await?;
        if auth.stage != Stage::Complete {
            return Err(CoreError::MfaRequired);
        }
        let mut conn = self.db.pool().acquire().await?;
        let user_id = UserId::parse(&auth.user_id).ok_or_else(|| CoreError::Unauthenticated("sign in again".into()))?;
        let user = users::by_id(&mut conn, &user_id).await?;
        let Some(user) = user.filter(|u| !u.disabled) else {
            session.flush().await.map_err(session_err)?;
            return Err(CoreError::Unauthenticated("sign in again".into()));
        };
        let now = self.clock.now().as_millis();
        if now - auth.last_seen_at >= TOUCH_EVERY_MS {
            auth.last_seen_at = now;
            session.insert(SESSION_KEY, &auth).await.map_err(session_err)?;
        }
        Ok(Principal { user, mfa_at: Timestamp::from_millis(auth.mfa_at.unwrap_or(0)) })
    }

    async fn start_session(&self, session: &Session, user_id: &UserId, method: &str, stage: Stage) -> CoreResult<()> {
        let now = self.clock.now().as_millis();
        session.cycle_id().await.map_err(session_err)?;
        session.clear().await;
        let auth = SessionAuth {
            user_id: user_id.to_string(),
            stage,
            method: method.to_owned(),
            created_at: now,
            last_seen_at: now,
            mfa_at: None,
        };
        session.insert(SESSION_KEY, &auth).await.map_err(session_err)
    }

    /// The first factor is done (password or SSO): a new session id in the first-factor stage.
    pub async fn begin_first_factor(&self, session: &Session, user_id: &UserId, method: &str) -> CoreResult<NextStep> {
        self.start_session(session, user_id, method, Stage::FirstFactor).await?;
        let mut conn = self.db.pool().acquire().await?;
        let enabled = mfa::state(&mut conn, user_id.as_str()).await?.is_some_and(|s| s.enabled);
        Ok(if enabled { NextStep::Mfa } else { NextStep::MfaEnroll })
    }

    /// `POST /auth/login`: checks a local password. One generic answer for unknown users, wrong
    /// passwords and disabled accounts; failures are counted per account name.
    pub async fn login_local(
        &self,
        ctx: &Ctx,
        session: &Session,
        username: &str,
        password: &Password,
    ) -> CoreResult<NextStep> {
        let now = self.clock.now().as_millis();
        let name = username.trim().to_ascii_lowercase();
        let key = format!("local:{name}");
        let mut conn = self.db.pool().acquire().await?;
        let locked_until = mfa::login_locked_until(&mut conn, &key).await?;
        let account = users::credentials_by_username(&mut conn, &name).await?;
        drop(conn);
        if locked_until > now {
            let ev =
                NewEvent::success("auth.login", "user", account.as_ref().map_or(name.clone(), |a| a.0.to_string()))
                    .with_outcome(Outcome::Denied)
                    .with_details(json!({ "method": "local", "username": name, "reason": "locked" }));
            self.record_event(&Ctx { actor: Actor::anonymous(), ..ctx.clone() }, ev).await?;
            return Err(CoreError::RateLimited("too many failed sign-ins; try again later".into()));
        }
        let ok = match &account {
            Some((_, hash, disabled)) => verify_password(hash, password) && !disabled,
            None => {
                let _ = verify_password(DUMMY_HASH, password);
                false
            }
        };
        let Some((user_id, _, _)) = account.filter(|_| ok) else {
            let mut tx = self.db.begin().await?;
            mfa::login_failure(&mut tx, &key, now, LOGIN_WINDOW_MS, LOGIN_MAX_FAILURES, LOGIN_LOCK_MS).await?;
            let ev = NewEvent::success("auth.login", "user", name.clone())
                .with_outcome(Outcome::Failure)
                .with_details(json!({ "method": "local", "username": name }));
            append(&mut tx, self.clock.now(), &Ctx { actor: Actor::anonymous(), ..ctx.clone() }, ev).await?;
            tx.commit().await?;
            return Err(invalid_login());
        };
        let next = self.begin_first_factor(session, &user_id, "local").await?;
        let mut tx = self.db.begin().await?;
        mfa::login_success(&mut tx, &key).await?;
        let ev = NewEvent::success("auth.login", "user", user_id.as_str())
            .with_details(json!({ "method": "local", "username": name, "next": next }));
        append(&mut tx, self.clock.now(), &Ctx { actor: Actor::user(user_id.as_str(), &name), ..ctx.clone() }, ev)
            .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// `POST /auth/mfa/enroll/start`: a fresh seed (160 bits, sealed under the data key), only
    /// while enrolling.
    pub async fn mfa_enroll_start(&self, session: &Session) -> CoreResult<Enrollment> {
        let auth = self.session_auth(session).await?;
        let mut conn = self.db.pool().acquire().await?;
        let user_id = UserId::parse(&auth.user_id).ok_or(CoreError::MfaRequired)?;
        let state = mfa::state(&mut conn, user_id.as_str()).await?.ok_or(CoreError::MfaRequired)?;
        if auth.stage != Stage::FirstFactor || state.enabled {
            return Err(CoreError::conflict("an authenticator is already enrolled for this account"));
        }
        let user = users::by_id(&mut conn, &user_id).await?.ok_or(CoreError::MfaRequired)?;
        // Idempotent, also under concurrency: a page rendered twice, or reloaded, shows the one
        // seed the database holds until it is confirmed.
        let sealed = match state.pending_seed {
            Some(sealed) => sealed,
            None => {
                let fresh = Zeroizing::new(random::bytes::<20>()?);
                let sealed = crypto::seal(&self.keys.data_key, user_id.as_str(), fresh.as_ref())?;
                mfa::pending_seed_or_insert(&mut conn, user_id.as_str(), &sealed)
                    .await?
                    .ok_or_else(|| CoreError::internal("pending seed vanished"))?
            }
        };
        let seed = crypto::open(&self.keys.data_key, user_id.as_str(), &sealed)?;
        let account = user.email.clone().or(user.username.clone()).unwrap_or(user.display_name.clone());
        let t = totp(&seed, &account)?;
        let uri = t.to_url().map_err(|e| CoreError::internal(format!("totp url: {e}")))?;
        let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| CoreError::internal(format!("qr: {e}")))?;
        let svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
        Ok(Enrollment { secret: t.secret().to_base32(), otpauth_uri: uri, qr_svg: svg })
    }

    /// `POST /auth/mfa/enroll/confirm`: the first code proves the authenticator; the session is
    /// signed in and the recovery codes are returned, once.
    pub async fn mfa_enroll_confirm(&self, ctx: &Ctx, session: &Session, code: &str) -> CoreResult<Vec<String>> {
        let auth = self.session_auth(session).await?;
        if auth.stage != Stage::FirstFactor {
            return Err(CoreError::conflict("no enrollment in progress"));
        }
        let user_id = UserId::parse(&auth.user_id).ok_or(CoreError::MfaRequired)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let state = mfa::state(&mut tx, user_id.as_str()).await?.ok_or(CoreError::MfaRequired)?;
        let Some(pending) = state.pending_seed.filter(|_| !state.enabled) else {
            return Err(CoreError::conflict("start enrollment first"));
        };
        let seed = crypto::open(&self.keys.data_key, user_id.as_str(), &pending)?;
        let step = match classify(code) {
            Some(Presented::Totp(c)) => totp(&seed, "x")?.check(&c, (now.as_millis() / 1000) as u64),
            _ => None,
        };
        let Some(step) = step.map(|s| s as i64) else {
            return Err(invalid_code());
        };
        if !mfa::activate_pending(&mut tx, user_id.as_str(), step).await? {
            return Err(invalid_code());
        }
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect::<CoreResult<_>>()?;
        let hashes: Vec<[u8; 32]> = codes.iter().map(|c| self.recovery_hash(&c.replace('-', ""))).collect();
        mfa::replace_recovery_codes(&mut tx, user_id.as_str(), &hashes, now.as_millis()).await?;
        let actor = Actor::user(user_id.as_str(), user_id.as_str());
        let ev = NewEvent::success("mfa.enroll", "user", user_id.as_str())
            .with_details(json!({ "factor": "totp", "recovery_codes": RECOVERY_CODES }));
        append(&mut tx, now, &Ctx { actor, ..ctx.clone() }, ev).await?;
        tx.commit().await?;
        self.complete_mfa(session, auth).await?;
        Ok(codes)
    }

    pub(crate) async fn complete_mfa(&self, session: &Session, mut auth: SessionAuth) -> CoreResult<()> {
        let now = self.clock.now().as_millis();
        session.cycle_id().await.map_err(session_err)?;
        auth.stage = Stage::Complete;
        auth.mfa_at = Some(now);
        auth.last_seen_at = now;
        session.insert(SESSION_KEY, &auth).await.map_err(session_err)
    }

    /// Checks a TOTP or recovery code for a user: throttled per account, each TOTP step accepted
    /// once (decided by the database, so across replicas), every outcome audited.
    async fn check_code(&self, ctx: &Ctx, user_id: &UserId, code: &str, purpose: &'static str) -> CoreResult<()> {
        let now = self.clock.now();
        let mut conn = self.db.pool().acquire().await?;
        mfa::reset_failures_if_unlocked(&mut conn, user_id.as_str(), now.as_millis()).await?;
        let state = mfa::state(&mut conn, user_id.as_str()).await?.ok_or(CoreError::MfaRequired)?;
        drop(conn);
        let actor = Actor::user(user_id.as_str(), user_id.as_str());
        let ctx = Ctx { actor, ..ctx.clone() };
        if state.locked_until > now.as_millis() {
            let ev = NewEvent::success("mfa.locked", "user", user_id.as_str())
                .with_outcome(Outcome::Denied)
                .with_details(json!({ "purpose": purpose }));
            self.record_event(&ctx, ev).await?;
            return Err(CoreError::RateLimited("too many failed codes; try again in a few minutes".into()));
        }
        let Some(seed) = state.seed.filter(|_| state.enabled) else {
            return Err(CoreError::conflict("no authenticator is enrolled"));
        };
        let mut tx = self.db.begin().await?;
        let (accepted, kind, failure_action) = match classify(code) {
            Some(Presented::Totp(c)) => {
                let seed = crypto::open(&self.keys.data_key, user_id.as_str(), &seed)?;
                match totp(&seed, "x")?.check(&c, (now.as_millis() / 1000) as u64) {
                    Some(step) if mfa::claim_step(&mut tx, user_id.as_str(), step as i64).await? => (true, "totp", ""),
                    Some(_) => (false, "totp", "mfa.replay"),
                    None => (false, "totp", "mfa.failure"),
                }
            }
            Some(Presented::Recovery(c)) => {
                let h = self.recovery_hash(&c);
                if mfa::use_recovery_code(&mut tx, user_id.as_str(), &h, now.as_millis()).await? {
                    mfa::clear_failures(&mut tx, user_id.as_str()).await?;
                    (true, "recovery_code", "")
                } else {
                    (false, "recovery_code", "mfa.failure")
                }
            }
            None => (false, "malformed", "mfa.failure"),
        };
        if accepted {
            let ev = NewEvent::success("mfa.success", "user", user_id.as_str())
                .with_details(json!({ "purpose": purpose, "factor": kind }));
            append(&mut tx, now, &ctx, ev).await?;
            tx.commit().await?;
            return Ok(());
        }
        let failures =
            mfa::record_failure(&mut tx, user_id.as_str(), MFA_MAX_FAILURES, now.as_millis() + MFA_LOCK_MS).await?;
        let ev = NewEvent::success(failure_action, "user", user_id.as_str())
            .with_outcome(if failure_action == "mfa.replay" { Outcome::Denied } else { Outcome::Failure })
            .with_details(json!({ "purpose": purpose, "factor": kind, "failures": failures }));
        append(&mut tx, now, &ctx, ev).await?;
        tx.commit().await?;
        Err(invalid_code())
    }

    /// `POST /auth/mfa`: the second factor after the first.
    pub async fn mfa_verify(&self, ctx: &Ctx, session: &Session, code: &str) -> CoreResult<()> {
        let auth = self.session_auth(session).await?;
        if auth.stage != Stage::FirstFactor {
            return Err(CoreError::conflict("this session has already completed multi-factor authentication"));
        }
        let user_id = UserId::parse(&auth.user_id).ok_or(CoreError::MfaRequired)?;
        self.check_code(ctx, &user_id, code, "login").await?;
        self.complete_mfa(session, auth).await
    }

    /// `POST /auth/step-up`: refreshes MFA for sensitive actions, with a new session id.
    pub async fn step_up(&self, ctx: &Ctx, session: &Session, code: &str) -> CoreResult<()> {
        let principal = self.principal(session).await?;
        let auth = self.session_auth(session).await?;
        self.check_code(ctx, &principal.user.id, code, "step_up").await?;
        self.complete_mfa(session, auth).await
    }

    /// `POST /auth/logout`: deletes the session on the server.
    pub async fn logout(&self, ctx: &Ctx, session: &Session) -> CoreResult<()> {
        if let Ok(auth) = self.session_auth(session).await {
            let ev = NewEvent::success("auth.logout", "user", auth.user_id.as_str());
            let actor = Actor::user(&auth.user_id, &auth.user_id);
            self.record_event(&Ctx { actor, ..ctx.clone() }, ev).await?;
        }
        session.flush().await.map_err(session_err)
    }

    /// Whether the user has an authenticator enrolled.
    pub async fn mfa_enrolled(&self, user_id: &UserId) -> CoreResult<bool> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(mfa::state(&mut conn, user_id.as_str()).await?.is_some_and(|s| s.enabled))
    }

    /// Unused recovery codes left for a user.
    pub async fn recovery_codes_left(&self, user_id: &UserId) -> CoreResult<i64> {
        let mut conn = self.db.pool().acquire().await?;
        mfa::unused_recovery_codes(&mut conn, user_id.as_str()).await
    }

    /// Disables a user and ends all their sessions in the same transaction.
    pub async fn disable_user(&self, ctx: &Ctx, user_id: &UserId) -> CoreResult<u64> {
        let mut tx = self.db.begin().await?;
        let user = users::by_id(&mut tx, user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let was_admin = user.grants.iter().any(|g| g.role == Role::Admin && g.environment_id.is_none());
        users::set_disabled(&mut tx, user_id, true).await?;
        if was_admin && users::count_global_admins(&mut tx).await? == 0 {
            return Err(CoreError::conflict("the last administrator cannot be disabled"));
        }
        let ended = sessions::delete_for_user(&mut tx, user_id.as_str()).await?;
        let ev = NewEvent::success("user.disable", "user", user_id.as_str())
            .with_details(json!({ "sessions_ended": ended }));
        append(&mut tx, self.clock.now(), ctx, ev).await?;
        tx.commit().await?;
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert!(matches!(classify("123 456"), Some(Presented::Totp(_))));
        assert!(matches!(classify("abcd-efgh-jkmn"), Some(Presented::Recovery(_))));
        assert!(classify("12345").is_none());
        let c = new_recovery_code().unwrap_or_default();
        assert!(matches!(classify(&c), Some(Presented::Recovery(_))), "{c}");
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password(DUMMY_HASH, &Password::presented("x".into())));
    }
}
