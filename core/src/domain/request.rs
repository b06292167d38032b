//! Change requests: four-eyes approval of credential changes and of weakened controls.
//!
//! `pending` → `approved` (enough distinct approvers) → `executed`; or `rejected` / `cancelled`.
//! A pending or approved request past its expiry is `expired`, computed at read time like a
//! credential's expiry, so no sweep has to run for it to stop being actionable.

use serde::{Deserialize, Serialize};

use crate::domain::environment::{EnvironmentSlug, Policy};
use crate::domain::time::Timestamp;
use crate::error::CoreError;
use crate::ids::{ChangeRequestId, CredentialId, EnvironmentId};

/// How long a request stays actionable unless configured otherwise (PRODUCT: 24 h).
pub const DEFAULT_TTL_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Issue,
    Rotate,
    Policy,
    GrantAdmin,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Rotate => "rotate",
            Self::Policy => "policy",
            Self::GrantAdmin => "grant_admin",
        }
    }

    /// Credential changes are executed by their requester, who receives the secret. Control
    /// changes take effect when the last approval arrives.
    pub fn executed_by_requester(self) -> bool {
        matches!(self, Self::Issue | Self::Rotate)
    }
}

/// The change itself, as stored with the request. Never holds a secret: the secret of an issue
/// or rotation is generated when the approved request is executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    Issue {
        application_id: String,
        application: String,
        name: String,
        scopes: Vec<String>,
        expires_in_days: Option<i64>,
    },
    Rotate {
        credential_id: String,
        key_id: String,
        application: String,
        name: String,
        grace_seconds: Option<i64>,
    },
    Policy {
        before: Policy,
        after: Policy,
        weakened: Vec<String>,
    },
    GrantAdmin {
        user_id: String,
        user: String,
        environment: Option<String>,
    },
}

impl Change {
    pub fn kind(&self) -> RequestKind {
        match self {
            Self::Issue { .. } => RequestKind::Issue,
            Self::Rotate { .. } => RequestKind::Rotate,
            Self::Policy { .. } => RequestKind::Policy,
            Self::GrantAdmin { .. } => RequestKind::GrantAdmin,
        }
    }

    /// One line for lists, notifications and the audit log.
    pub fn summary(&self, environment: Option<&EnvironmentSlug>) -> String {
        let env = environment.map(EnvironmentSlug::as_str).unwrap_or("every environment");
        match self {
            Self::Issue { application, name, .. } => format!("issue credential \"{name}\" for {application} in {env}"),
            Self::Rotate { application, name, key_id, .. } => {
                format!("rotate credential \"{name}\" ({key_id}) of {application} in {env}")
            }
            Self::Policy { weakened, .. } => format!("loosen the {env} policy: {}", weakened.join(", ")),
            Self::GrantAdmin { user, .. } => format!("grant the admin role to {user} in {env}"),
        }
    }
}

/// The status as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredRequestStatus {
    Pending,
    Approved,
    Rejected,
    Cancelled,
    Executed,
}

impl StoredRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Executed => "executed",
        }
    }

    pub fn from_db(s: &str) -> Result<Self, CoreError> {
        match s {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "rejected" => Ok(Self::Rejected),
            "cancelled" => Ok(Self::Cancelled),
            "executed" => Ok(Self::Executed),
            other => Err(CoreError::internal(format!("unknown stored request status {other:?}"))),
        }
    }
}

/// The status as seen at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
    Cancelled,
    Executed,
    Expired,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Executed => "executed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "rejected" => Ok(Self::Rejected),
            "cancelled" => Ok(Self::Cancelled),
            "executed" => Ok(Self::Executed),
            "expired" => Ok(Self::Expired),
            _ => {
                Err(CoreError::validation("status must be pending, approved, rejected, cancelled, executed or expired"))
            }
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Approved)
    }
}

pub fn effective_request_status(stored: StoredRequestStatus, expires_at: Timestamp, now: Timestamp) -> RequestStatus {
    match stored {
        StoredRequestStatus::Pending | StoredRequestStatus::Approved if now >= expires_at => RequestStatus::Expired,
        StoredRequestStatus::Pending => RequestStatus::Pending,
        StoredRequestStatus::Approved => RequestStatus::Approved,
        StoredRequestStatus::Rejected => RequestStatus::Rejected,
        StoredRequestStatus::Cancelled => RequestStatus::Cancelled,
        StoredRequestStatus::Executed => RequestStatus::Executed,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Reject,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }

    pub fn from_db(s: &str) -> Result<Self, CoreError> {
        match s {
            "approve" => Ok(Self::Approve),
            "reject" => Ok(Self::Reject),
            other => Err(CoreError::internal(format!("unknown decision {other:?}"))),
        }
    }
}

/// One person's approval or rejection.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Decision {
    /// `user:<id>`.
    pub actor: String,
    pub actor_name: String,
    pub decision: DecisionKind,
    pub comment: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeRequest {
    pub id: ChangeRequestId,
    pub kind: RequestKind,
    pub status: RequestStatus,
    /// `None` for a global admin grant.
    pub environment: Option<EnvironmentSlug>,
    pub environment_id: Option<EnvironmentId>,
    /// `user:<id>` of the requester.
    pub requester: String,
    pub requester_name: String,
    pub reason: String,
    pub summary: String,
    pub change: Change,
    pub approvals_required: i64,
    pub approvals: i64,
    pub decisions: Vec<Decision>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub executed_at: Option<Timestamp>,
    /// The credential an executed issue or rotation created.
    pub credential_id: Option<CredentialId>,
}

impl ChangeRequest {
    pub fn has_decided(&self, actor: &str) -> bool {
        self.decisions.iter().any(|d| d.actor == actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_requests_expire_at_their_deadline() {
        let at = Timestamp::from_millis(1_000);
        let before = Timestamp::from_millis(999);
        for stored in [StoredRequestStatus::Pending, StoredRequestStatus::Approved] {
            assert!(effective_request_status(stored, at, before).is_open());
            assert_eq!(effective_request_status(stored, at, at), RequestStatus::Expired);
        }
        assert_eq!(effective_request_status(StoredRequestStatus::Executed, at, at), RequestStatus::Executed);
    }

    #[test]
    fn change_round_trips_through_its_stored_json() {
        let c = Change::Rotate {
            credential_id: "cred_x".into(),
            key_id: "k".into(),
            application: "a".into(),
            name: "primary".into(),
            grace_seconds: Some(60),
        };
        let json = serde_json::to_string(&c).unwrap_or_default();
        assert!(json.contains("\"kind\":\"rotate\""), "{json}");
        assert_eq!(serde_json::from_str::<Change>(&json).ok(), Some(c));
    }
}
