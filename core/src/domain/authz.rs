//! Authorization: the role table of PRODUCT.md as code. Deny by default: an action is allowed only
//! when a grant of a role that may do it covers the environment it touches.

use serde::Serialize;

use crate::domain::time::Timestamp;
use crate::domain::user::{Grant, Role, User};
use crate::error::CoreError;
use crate::ids::EnvironmentId;

/// Everything a caller may ask to do. Each route and server function names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Applications, credential metadata, environments, requests, alerts.
    ViewMetadata,
    /// Read, export and verify the audit log.
    ViewAudit,
    CreateApplication,
    /// Request an issue or a rotation; execute one's own approved request.
    RequestCredential,
    /// Revoke, emergency revoke, revoke all, end grace.
    Revoke,
    /// Approve or reject someone else's request (with step-up).
    Approve,
    /// Members and role grants (with step-up).
    ManageMembers,
    /// Environments and policies (with step-up).
    ManageEnvironments,
    /// Instance settings: SSO, webhooks, sinks (with step-up).
    ManageSettings,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::ViewMetadata,
        Action::ViewAudit,
        Action::CreateApplication,
        Action::RequestCredential,
        Action::Revoke,
        Action::Approve,
        Action::ManageMembers,
        Action::ManageEnvironments,
        Action::ManageSettings,
    ];

    /// Actions that change who may do what, or sensitive approvals: fresh MFA required.
    pub fn needs_step_up(self) -> bool {
        matches!(self, Self::Approve | Self::ManageMembers | Self::ManageEnvironments | Self::ManageSettings)
    }

    /// Actions that are not about one environment and so need a grant for every environment.
    pub fn is_instance_wide(self) -> bool {
        matches!(self, Self::ManageMembers | Self::ManageSettings)
    }
}

impl Role {
    /// The role table. Nothing else decides what a role may do.
    pub fn can(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Auditor => matches!(action, ViewMetadata | ViewAudit),
            Role::Operator => {
                matches!(action, ViewMetadata | ViewAudit | CreateApplication | RequestCredential | Revoke)
            }
            Role::Admin => true,
        }
    }
}

/// Where an action applies.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// One environment: grants for it or global grants count.
    Environment(&'a EnvironmentId),
    /// Any environment: a grant anywhere counts (e.g. viewing the application list, creating an
    /// application, which belongs to no environment).
    AnyEnvironment,
    /// Every environment: only global grants count (members, settings).
    Global,
}

impl Grant {
    pub fn covers(&self, scope: Scope<'_>) -> bool {
        match (scope, &self.environment_id) {
            (_, None) => true,
            (Scope::Environment(env), Some(g)) => g == env,
            (Scope::AnyEnvironment, Some(_)) => true,
            (Scope::Global, Some(_)) => false,
        }
    }
}

/// An authenticated user with completed MFA, as seen by one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// When MFA was last completed in this session (login or step-up).
    pub mfa_at: Timestamp,
}

/// Step-up window (PRODUCT: MFA within the last 10 minutes).
pub const STEP_UP_WINDOW_SECS: i64 = 600;

impl Principal {
    pub fn can(&self, action: Action, scope: Scope<'_>) -> bool {
        let scope = if action.is_instance_wide() { Scope::Global } else { scope };
        !self.user.disabled && self.user.grants.iter().any(|g| g.role.can(action) && g.covers(scope))
    }

    /// `Forbidden` unless allowed.
    pub fn require(&self, action: Action, scope: Scope<'_>) -> Result<(), CoreError> {
        if self.can(action, scope) {
            Ok(())
        } else {
            Err(CoreError::Forbidden("your role does not allow this here".into()))
        }
    }

    /// `StepUpRequired` unless MFA was completed within the window.
    pub fn require_recent_mfa(&self, now: Timestamp) -> Result<(), CoreError> {
        if now.as_millis() - self.mfa_at.as_millis() <= STEP_UP_WINDOW_SECS * 1000 {
            Ok(())
        } else {
            Err(CoreError::StepUpRequired)
        }
    }

    /// Environments this principal may read the audit log of: `None` means all.
    pub fn audit_environments(&self) -> Option<Vec<String>> {
        let relevant = self.user.grants.iter().filter(|g| g.role.can(Action::ViewAudit));
        let mut envs = Vec::new();
        for g in relevant {
            match &g.environment {
                None => return None,
                Some(e) => envs.push(e.as_str().to_owned()),
            }
        }
        Some(envs)
    }

    /// Environments where the principal holds any role: `None` means all.
    pub fn visible_environments(&self) -> Option<Vec<EnvironmentId>> {
        let mut envs = Vec::new();
        for g in &self.user.grants {
            match &g.environment_id {
                None => return None,
                Some(e) => envs.push(e.clone()),
            }
        }
        Some(envs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::GrantId;

    fn grant(role: Role, env: Option<&EnvironmentId>) -> Grant {
        Grant {
            id: GrantId::generate().unwrap_or_else(|e| unreachable!("{e}")),
            role,
            environment_id: env.cloned(),
            environment: None,
            created_at: Timestamp::from_millis(0),
        }
    }

    fn principal(grants: Vec<Grant>) -> Principal {
        Principal {
            user: User {
                id: crate::ids::UserId::generate().unwrap_or_else(|e| unreachable!("{e}")),
                username: None,
                display_name: "x".into(),
                email: None,
                issuer: None,
                subject: None,
                disabled: false,
                created_at: Timestamp::from_millis(0),
                grants,
            },
            mfa_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn the_role_table() {
        for a in Action::ALL {
            assert!(Role::Admin.can(a));
        }
        assert!(Role::Auditor.can(Action::ViewAudit) && !Role::Auditor.can(Action::Revoke));
        assert!(Role::Operator.can(Action::Revoke) && !Role::Operator.can(Action::Approve));
        assert!(!Role::Operator.can(Action::ManageMembers));
    }

    #[test]
    fn z2_scoped_grants_cover_only_their_environment() {
        let staging = EnvironmentId::generate().unwrap_or_else(|e| unreachable!("{e}"));
        let prod = EnvironmentId::generate().unwrap_or_else(|e| unreachable!("{e}"));
        let p = principal(vec![grant(Role::Operator, Some(&staging))]);
        assert!(p.can(Action::Revoke, Scope::Environment(&staging)));
        assert!(!p.can(Action::Revoke, Scope::Environment(&prod)));
        assert!(p.can(Action::CreateApplication, Scope::AnyEnvironment));
        let scoped_admin = principal(vec![grant(Role::Admin, Some(&staging))]);
        assert!(!scoped_admin.can(Action::ManageMembers, Scope::Environment(&staging)), "members are instance-wide");
        assert!(principal(vec![]).require(Action::ViewMetadata, Scope::AnyEnvironment).is_err(), "deny by default");
    }

    #[test]
    fn step_up_window() {
        let p = principal(vec![]);
        assert!(p.require_recent_mfa(Timestamp::from_millis(600_000)).is_ok());
        assert!(p.require_recent_mfa(Timestamp::from_millis(600_001)).is_err());
    }
}
