//! Credentials and their lifecycle: `active` → (`grace` →) `expired`, or → `revoked` (final).
//! Expiry is computed from the clock at read time, so no write is needed for a key to stop working
//! exactly when stated.

use serde::Serialize;

use crate::domain::environment::EnvironmentSlug;
use crate::domain::text::{CredentialName, Scopes};
use crate::domain::time::Timestamp;
use crate::error::CoreError;
use crate::ids::{ApplicationId, CredentialId, EnvironmentId};

/// The status as stored: only changes made by a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredStatus {
    Active,
    Grace,
    Revoked,
}

impl StoredStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Grace => "grace",
            Self::Revoked => "revoked",
        }
    }

    pub fn from_db(s: &str) -> Result<Self, CoreError> {
        match s {
            "active" => Ok(Self::Active),
            "grace" => Ok(Self::Grace),
            "revoked" => Ok(Self::Revoked),
            other => Err(CoreError::internal(format!("unknown stored credential status {other:?}"))),
        }
    }
}

/// The status as seen at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Grace,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Grace => "grace",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s {
            "active" => Ok(Self::Active),
            "grace" => Ok(Self::Grace),
            "expired" => Ok(Self::Expired),
            "revoked" => Ok(Self::Revoked),
            _ => Err(CoreError::validation("status must be active, grace, expired or revoked")),
        }
    }

    /// Only active and grace credentials verify.
    pub fn verifies(self) -> bool {
        matches!(self, Self::Active | Self::Grace)
    }
}

/// The one rule for the effective status. A key stops working at `expires_at` and at
/// `grace_until`, both exclusive: at that millisecond it is already expired.
pub fn effective_status(
    stored: StoredStatus,
    expires_at: Timestamp,
    grace_until: Option<Timestamp>,
    now: Timestamp,
) -> Status {
    match stored {
        StoredStatus::Revoked => Status::Revoked,
        _ if now >= expires_at => Status::Expired,
        StoredStatus::Grace if grace_until.is_none_or(|g| now >= g) => Status::Expired,
        StoredStatus::Grace => Status::Grace,
        StoredStatus::Active => Status::Active,
    }
}

/// Credential metadata. Never holds the secret or its hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Credential {
    pub id: CredentialId,
    pub key_id: String,
    pub application_id: ApplicationId,
    pub application: String,
    pub environment_id: EnvironmentId,
    pub environment: EnvironmentSlug,
    pub name: CredentialName,
    pub scopes: Scopes,
    pub status: Status,
    /// `lk_<env>_<key id>`: safe to display and search.
    pub prefix: String,
    pub last4: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub created_via_request: Option<String>,
    pub expires_at: Timestamp,
    pub grace_until: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    pub revoked_reason: Option<String>,
    pub rotated_from: Option<CredentialId>,
    pub rotated_to: Option<CredentialId>,
    pub last_used_at: Option<Timestamp>,
    pub last_used_ip: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_and_grace_are_exclusive_bounds() {
        let t = Timestamp::from_millis;
        assert_eq!(effective_status(StoredStatus::Active, t(100), None, t(99)), Status::Active);
        assert_eq!(effective_status(StoredStatus::Active, t(100), None, t(100)), Status::Expired);
        assert_eq!(effective_status(StoredStatus::Grace, t(100), Some(t(50)), t(49)), Status::Grace);
        assert_eq!(effective_status(StoredStatus::Grace, t(100), Some(t(50)), t(50)), Status::Expired);
        assert_eq!(effective_status(StoredStatus::Revoked, t(100), None, t(0)), Status::Revoked);
    }
}
