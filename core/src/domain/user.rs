//! Users, roles and grants. `Role::can` is the single statement of the role table in PRODUCT.md;
//! every handler and server function asks it.

use serde::Serialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::domain::environment::EnvironmentSlug;
use crate::domain::time::Timestamp;
use crate::error::CoreError;
use crate::ids::{EnvironmentId, GrantId, UserId};

/// A local account name: 2-64 of `a-z 0-9 . _ @ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        let b = s.as_bytes();
        let ok = (2..=64).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'@' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CoreError::validation(
                "username must be 2-64 characters of a-z, 0-9, '.', '_', '@' and '-', starting with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password in transit. Not `Serialize`; `Debug` is redacted; zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 256;

    /// A new password must meet the length rule (NIST 800-63B: length, not composition).
    pub fn new_checked(s: String) -> Result<Self, CoreError> {
        let n = s.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&n) {
            return Err(CoreError::validation(format!(
                "password must be {}-{} characters",
                Self::MIN_LEN,
                Self::MAX_LEN
            )));
        }
        Ok(Self(s))
    }

    /// A password presented at login: any length up to the maximum, checked against the hash.
    pub fn presented(s: String) -> Self {
        Self(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Auditor,
    Operator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auditor => "auditor",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s {
            "auditor" => Ok(Self::Auditor),
            "operator" => Ok(Self::Operator),
            "admin" => Ok(Self::Admin),
            _ => Err(CoreError::validation("role must be admin, operator or auditor")),
        }
    }
}

/// One role, globally or for one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: GrantId,
    pub role: Role,
    /// `None` means every environment.
    pub environment_id: Option<EnvironmentId>,
    pub environment: Option<EnvironmentSlug>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub grants: Vec<Grant>,
}
