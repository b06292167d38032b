//! Small validated text types parsed at the boundary.

use serde::Serialize;

use crate::error::CoreError;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $what:literal, $min:expr, $max:expr, $check:expr, $rule:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, CoreError> {
                let s = s.trim();
                let n = s.chars().count();
                let check: fn(&str) -> bool = $check;
                if !($min..=$max).contains(&n) || has_control(s) || !check(s) {
                    return Err(CoreError::validation(concat!($what, " ", $rule)));
                }
                Ok(Self(s.to_owned()))
            }

            #[allow(dead_code)]
            pub(crate) fn from_db(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn slugish(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.'))
}

fn label(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b' ' | b'-' | b'_' | b'.'))
}

fn any_text(_: &str) -> bool {
    true
}

text_type!(
    /// An application's unique name, e.g. `payments-backend`.
    ApplicationName,
    "name",
    1,
    63,
    slugish,
    "must be 1-63 characters of a-z, 0-9, '-', '_' and '.', starting with a letter or digit"
);
text_type!(
    /// A credential's label within its application, e.g. `primary`.
    CredentialName,
    "name",
    1,
    64,
    label,
    "must be 1-64 characters of letters, digits, spaces, '-', '_' and '.'"
);
text_type!(
    /// Who owns an application (a team or a person).
    Owner,
    "owner",
    1,
    128,
    any_text,
    "must be 1-128 characters without control characters"
);
text_type!(
    /// Free-text description.
    Description,
    "description",
    0,
    1000,
    any_text,
    "must be at most 1000 characters without control characters"
);
text_type!(
    /// Why a change is made. Required for every credential change; shown to approvers and auditors.
    Reason,
    "reason",
    1,
    500,
    any_text,
    "must be 1-500 characters without control characters"
);

text_type!(
    /// An approver's or requester's optional remark on a change request.
    Comment,
    "comment",
    0,
    500,
    any_text,
    "must be at most 500 characters without control characters"
);

/// A sorted, de-duplicated set of scopes such as `payments:read`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Scopes(Vec<String>);

impl Scopes {
    pub const MAX: usize = 32;

    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, CoreError> {
        if items.len() > Self::MAX {
            return Err(CoreError::validation(format!("at most {} scopes", Self::MAX)));
        }
        let mut out = Vec::with_capacity(items.len());
        for s in items {
            let s = s.as_ref();
            let b = s.as_bytes();
            let ok = (1..=64).contains(&b.len())
                && b[0].is_ascii_alphanumeric()
                && b.iter().all(|&c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'.' | b'-' | b'_' | b'*')
                });
            if !ok {
                return Err(CoreError::validation(
                    "each scope must be 1-64 characters of a-z, 0-9, ':', '.', '-', '_' and '*'",
                ));
            }
            out.push(s.to_owned());
        }
        out.sort();
        out.dedup();
        Ok(Self(out))
    }

    /// Stored as one space-separated string.
    pub fn to_db(&self) -> String {
        self.0.join(" ")
    }

    pub(crate) fn from_db(s: &str) -> Self {
        Self(s.split(' ').filter(|x| !x.is_empty()).map(str::to_owned).collect())
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_reasons() {
        assert!(ApplicationName::parse("payments-backend").is_ok());
        assert!(ApplicationName::parse("Payments").is_err());
        assert!(CredentialName::parse("primary key").is_ok());
        assert!(Reason::parse("").is_err());
        assert!(Reason::parse("line\nbreak").is_err());
        assert!(Reason::parse(&"x".repeat(501)).is_err());
    }

    #[test]
    fn scopes_sorted_and_deduplicated() {
        let s = Scopes::parse(&["b:write", "a:read", "b:write"]).unwrap_or_default();
        assert_eq!(s.as_slice(), ["a:read", "b:write"]);
        assert_eq!(Scopes::from_db(&s.to_db()), s);
        assert!(Scopes::parse(&["has space"]).is_err());
    }
}
