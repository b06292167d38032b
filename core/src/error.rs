//! The one error type of the core. Each variant carries a stable machine code; the HTTP layer
//! maps it to a status in exactly one place. Detail meant for operators (`Unavailable`,
//! `Internal`) is logged, never shown to clients.

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A malformed protocol request, such as an SSO callback without a valid state (400).
    #[error("{0}")]
    BadRequest(String),
    /// Input that does not parse or breaks a rule the caller can fix (422).
    #[error("{0}")]
    Validation(String),
    /// The named kind of thing does not exist, or the caller may not know it does (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is well formed but conflicts with the current state (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// No valid session or credentials (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Signed in, but the second factor is not complete yet (401).
    #[error("complete multi-factor authentication first")]
    MfaRequired,
    /// The action needs MFA within the last 10 minutes (401).
    #[error("confirm with a fresh authentication code (step-up) and retry")]
    StepUpRequired,
    /// Authenticated but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts (429).
    #[error("{0}")]
    RateLimited(String),
    /// Storage or the audit log cannot be written or reached; nothing was changed (503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure (500).
    #[error("internal: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn validation(msg: impl Into<String>) -> Self {
        Self::Validation(msg.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { code: "conflict", message: message.into() }
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        Self::Internal(msg.into())
    }

    /// The stable, documented machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => "validation_failed",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::MfaRequired => "mfa_required",
            Self::StepUpRequired => "step_up_required",
            Self::NotFound(_) => "not_found",
            Self::Conflict { code, .. } => code,
            Self::Forbidden(_) => "forbidden",
            Self::RateLimited(_) => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The message a client may see. Never includes internal detail.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unavailable(_) => "the service is temporarily unavailable; nothing was changed".into(),
            Self::Internal(_) => "an internal error occurred".into(),
            other => other.to_string(),
        }
    }
}

impl From<sqlx::Error> for CoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::conflict("a resource with the same unique name already exists")
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                Self::validation("a referenced resource does not exist")
            }
            sqlx::Error::Database(db) if is_unavailable_db_error(db.code().as_deref()) => {
                Self::Unavailable(e.to_string())
            }
            _ => Self::Internal(e.to_string()),
        }
    }
}

/// SQLite busy/locked and PostgreSQL connection or shutdown classes: the database cannot serve
/// right now, which is a 503, not a bug.
fn is_unavailable_db_error(code: Option<&str>) -> bool {
    match code {
        Some(c) => {
            matches!(c, "5" | "6" | "261" | "517" | "10" | "13")
                || c.starts_with("08")
                || c.starts_with("57P")
                || c == "53300"
        }
        None => false,
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
