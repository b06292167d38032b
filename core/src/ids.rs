//! Opaque, prefixed identifiers (`cred_…`, `app_…`). Each kind is its own type so one cannot be
//! passed where another is expected.

macro_rules! id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Result<Self, $crate::error::CoreError> {
                Ok(Self(format!("{}_{}", $prefix, $crate::random::base62(20)?)))
            }

            /// Accepts only well-formed ids of this kind.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?.strip_prefix('_')?;
                (rest.len() == 20 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .then(|| Self(s.to_owned()))
            }

            /// For values read back from our own database.
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

id!(
    /// An environment (`production`, `staging`, …).
    EnvironmentId,
    "env"
);
id!(
    /// An application consuming the API.
    ApplicationId,
    "app"
);
id!(
    /// A credential (its public id; the key id inside the token is a different thing).
    CredentialId,
    "cred"
);
id!(
    /// A console user.
    UserId,
    "usr"
);
id!(
    /// A role grant.
    GrantId,
    "grant"
);
id!(
    /// An audit event's stable id (SIEM de-duplication key).
    EventId,
    "evt"
);
id!(
    /// A change request awaiting (or past) four-eyes approval.
    ChangeRequestId,
    "chg"
);
id!(
    /// A webhook notification sink.
    WebhookId,
    "hook"
);
id!(
    /// One notification to one webhook (the outbox row).
    NotificationId,
    "ntf"
);
