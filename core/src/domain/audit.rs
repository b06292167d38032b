//! Audit events: who did what to which target, where, when and with what outcome. Events never
//! carry secrets; `details` is built by services from metadata only.

use serde::Serialize;

use crate::domain::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    System,
    Service,
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::System => "system",
            Self::Service => "service",
            Self::Anonymous => "anonymous",
        }
    }
}

/// Who acts. For users, `id` is the user id and `name` their display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    pub name: String,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Self { kind: ActorKind::System, id: None, name: name.to_owned() }
    }

    pub fn user(id: &str, name: &str) -> Self {
        Self { kind: ActorKind::User, id: Some(id.to_owned()), name: name.to_owned() }
    }

    pub fn anonymous() -> Self {
        Self { kind: ActorKind::Anonymous, id: None, name: "anonymous".to_owned() }
    }

    /// How the actor is recorded in `created_by` / `revoked_by` columns.
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("{}:{}", self.kind.as_str(), id),
            None => format!("{}:{}", self.kind.as_str(), self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

/// Where a request came from. Filled by the HTTP layer, or by the CLI for local commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RequestMeta {
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The caller of a service command: who, and from where.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub meta: RequestMeta,
}

impl Ctx {
    pub fn system(name: &str, request_id: String) -> Self {
        Self { actor: Actor::system(name), meta: RequestMeta { request_id, ip: None, user_agent: None } }
    }
}

/// An event before it is chained.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: String,
    pub environment: Option<String>,
    pub outcome: Outcome,
    pub details: serde_json::Value,
}

impl NewEvent {
    pub fn success(action: &'static str, target_type: &'static str, target_id: impl Into<String>) -> Self {
        Self {
            action,
            target_type,
            target_id: target_id.into(),
            environment: None,
            outcome: Outcome::Success,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn in_env(mut self, env: impl Into<String>) -> Self {
        self.environment = Some(env.into());
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
}

/// A stored, chained event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    pub id: String,
    pub occurred_at: Timestamp,
    pub actor: Actor,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub environment: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    #[serde(with = "hex32")]
    #[schema(value_type = String)]
    pub prev_hash: [u8; 32],
    #[serde(with = "hex32")]
    #[schema(value_type = String)]
    pub hash: [u8; 32],
}

pub mod hex32 {
    use serde::Serializer;

    pub fn encode(b: &[u8]) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(b.len() * 2);
        for &x in b {
            s.push(HEX[usize::from(x >> 4)] as char);
            s.push(HEX[usize::from(x & 15)] as char);
        }
        s
    }

    pub fn serialize<S: Serializer>(b: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(b))
    }
}

/// The hash of one event in the chain: SHA-256 over a domain tag, the previous hash and every
/// field, each length-prefixed so no two different events encode alike.
pub fn chain_hash(prev: &[u8; 32], e: &AuditEvent, details_text: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    fn field(h: &mut Sha256, v: Option<&str>) {
        match v {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(b"latchkey-audit-v1");
    h.update(prev);
    h.update(e.seq.to_be_bytes());
    h.update(e.occurred_at.as_millis().to_be_bytes());
    field(&mut h, Some(&e.id));
    field(&mut h, Some(e.actor.kind.as_str()));
    field(&mut h, e.actor.id.as_deref());
    field(&mut h, Some(&e.actor.name));
    field(&mut h, Some(&e.action));
    field(&mut h, Some(&e.target_type));
    field(&mut h, Some(&e.target_id));
    field(&mut h, e.environment.as_deref());
    field(&mut h, Some(&e.outcome));
    field(&mut h, e.ip.as_deref());
    field(&mut h, e.user_agent.as_deref());
    field(&mut h, Some(&e.request_id));
    field(&mut h, Some(details_text));
    h.finalize().into()
}

impl ActorKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "system" => Some(Self::System),
            "service" => Some(Self::Service),
            "anonymous" => Some(Self::Anonymous),
            _ => None,
        }
    }
}
