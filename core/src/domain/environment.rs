//! Environments and their policies. The policy is where "does this need approval / step-up /
//! a recipient" is decided; services ask it, the UI only mirrors it.

use serde::Serialize;

use crate::domain::time::Timestamp;
use crate::error::CoreError;
use crate::ids::EnvironmentId;

/// `[a-z0-9][a-z0-9-]{0,30}`, not ending in `-`. Appears inside tokens, so no `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct EnvironmentSlug(String);

impl EnvironmentSlug {
    pub fn check(s: &str) -> Result<(), CoreError> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 31
            && b[0].is_ascii_alphanumeric()
            && !s.ends_with('-')
            && b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        if ok {
            Ok(())
        } else {
            Err(CoreError::validation(
                "environment must be 1-31 characters of a-z, 0-9 and '-', starting with a letter or digit",
            ))
        }
    }

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        Self::check(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EnvironmentSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Production,
    NonProduction,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::NonProduction => "non_production",
        }
    }

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s {
            "production" => Ok(Self::Production),
            "non_production" => Ok(Self::NonProduction),
            _ => Err(CoreError::validation("tier must be production or non_production")),
        }
    }
}

/// Whether secrets may be shown to people in this environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlindDelivery {
    /// Plaintext is returned once; a registered recipient is used when present.
    Optional,
    /// Plaintext is never returned; issuing needs a registered recipient.
    Required,
}

impl BlindDelivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s {
            "optional" => Ok(Self::Optional),
            "required" => Ok(Self::Required),
            _ => Err(CoreError::validation("blind_delivery must be optional or required")),
        }
    }
}

/// What kind of credential change is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Issue,
    Rotate,
}

pub const MAX_APPROVALS: i64 = 5;
pub const MAX_LIFETIME_DAYS: i64 = 3650;
pub const MAX_GRACE_SECONDS: i64 = 30 * 86_400;

/// Also the body of `PUT /api/v1/environments/{slug}/policy`; ranges are checked by `validate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub issue_approvals: i64,
    pub rotate_approvals: i64,
    pub max_lifetime_days: i64,
    pub default_grace_seconds: i64,
    pub max_grace_seconds: i64,
    pub step_up_required: bool,
    pub blind_delivery: BlindDelivery,
}

impl Policy {
    pub fn default_for(tier: Tier) -> Self {
        match tier {
            Tier::Production => Self {
                issue_approvals: 1,
                rotate_approvals: 1,
                max_lifetime_days: 365,
                default_grace_seconds: 86_400,
                max_grace_seconds: 7 * 86_400,
                step_up_required: true,
                blind_delivery: BlindDelivery::Optional,
            },
            Tier::NonProduction => Self {
                issue_approvals: 0,
                rotate_approvals: 0,
                max_lifetime_days: 365,
                default_grace_seconds: 3_600,
                max_grace_seconds: 7 * 86_400,
                step_up_required: false,
                blind_delivery: BlindDelivery::Optional,
            },
        }
    }

    /// Checks the ranges every policy must respect.
    pub fn validate(&self) -> Result<(), CoreError> {
        let in_range = |v: i64, lo: i64, hi: i64, what: &str| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(CoreError::validation(format!("{what} must be between {lo} and {hi}")))
            }
        };
        in_range(self.issue_approvals, 0, MAX_APPROVALS, "issue_approvals")?;
        in_range(self.rotate_approvals, 0, MAX_APPROVALS, "rotate_approvals")?;
        in_range(self.max_lifetime_days, 1, MAX_LIFETIME_DAYS, "max_lifetime_days")?;
        in_range(self.max_grace_seconds, 0, MAX_GRACE_SECONDS, "max_grace_seconds")?;
        in_range(self.default_grace_seconds, 0, self.max_grace_seconds, "default_grace_seconds")?;
        Ok(())
    }

    /// What `new` loosens compared with `self`. Empty when `new` is as strict or stricter.
    /// Loosening a control needs a second admin (PRODUCT: weakening is itself a change request).
    pub fn weakened_by(&self, new: &Policy) -> Vec<&'static str> {
        let mut w = Vec::new();
        if new.issue_approvals < self.issue_approvals {
            w.push("issue_approvals");
        }
        if new.rotate_approvals < self.rotate_approvals {
            w.push("rotate_approvals");
        }
        if new.max_lifetime_days > self.max_lifetime_days {
            w.push("max_lifetime_days");
        }
        if new.default_grace_seconds > self.default_grace_seconds {
            w.push("default_grace_seconds");
        }
        if new.max_grace_seconds > self.max_grace_seconds {
            w.push("max_grace_seconds");
        }
        if self.step_up_required && !new.step_up_required {
            w.push("step_up_required");
        }
        if self.blind_delivery == BlindDelivery::Required && new.blind_delivery == BlindDelivery::Optional {
            w.push("blind_delivery");
        }
        w
    }

    /// How many distinct approvers a change of this kind needs.
    pub fn approvals_required(&self, kind: ChangeKind) -> i64 {
        match kind {
            ChangeKind::Issue => self.issue_approvals,
            ChangeKind::Rotate => self.rotate_approvals,
        }
    }

    /// The lifetime to use: the requested one within the maximum, or the maximum.
    pub fn lifetime_days(&self, requested: Option<i64>) -> Result<i64, CoreError> {
        match requested {
            None => Ok(self.max_lifetime_days),
            Some(d) if (1..=self.max_lifetime_days).contains(&d) => Ok(d),
            Some(_) => Err(CoreError::validation(format!(
                "expires_in_days must be between 1 and {} in this environment",
                self.max_lifetime_days
            ))),
        }
    }

    /// The grace period to use: the requested one within the maximum, or the default.
    pub fn grace_seconds(&self, requested: Option<i64>) -> Result<i64, CoreError> {
        match requested {
            None => Ok(self.default_grace_seconds),
            Some(s) if (0..=self.max_grace_seconds).contains(&s) => Ok(s),
            Some(_) => Err(CoreError::validation(format!(
                "grace_seconds must be between 0 and {} in this environment",
                self.max_grace_seconds
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Environment {
    pub id: EnvironmentId,
    pub slug: EnvironmentSlug,
    pub name: String,
    pub tier: Tier,
    pub policy: Policy,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["production", "staging", "eu-west-2", "t", "0"] {
            assert!(EnvironmentSlug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Prod", "-x", "x-", "a_b", "é", &"a".repeat(32)] {
            assert!(EnvironmentSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weakening_is_detected_field_by_field() {
        let prod = Policy::default_for(Tier::Production);
        assert!(prod.weakened_by(&prod).is_empty());
        let mut stricter = prod.clone();
        stricter.issue_approvals = 2;
        stricter.max_lifetime_days = 90;
        assert!(prod.weakened_by(&stricter).is_empty());
        let mut looser = prod.clone();
        looser.rotate_approvals = 0;
        looser.step_up_required = false;
        assert_eq!(prod.weakened_by(&looser), vec!["rotate_approvals", "step_up_required"]);
    }

    #[test]
    fn default_policies_are_valid() {
        assert!(Policy::default_for(Tier::Production).validate().is_ok());
        assert!(Policy::default_for(Tier::NonProduction).validate().is_ok());
        assert_eq!(Policy::default_for(Tier::Production).approvals_required(ChangeKind::Rotate), 1);
    }
}
