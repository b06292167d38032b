//! Appending to and verifying the tamper-evident audit chain.

use serde::Serialize;

use super::Services;
use crate::domain::audit::{AuditEvent, Ctx, NewEvent, chain_hash, hex32};
use crate::domain::time::Timestamp;
use crate::error::{CoreError, CoreResult};
use crate::ids::EventId;
use crate::secrets::AuditSigningKey;
use crate::storage::{Conn, audit as repo};

/// Appends an event inside the caller's transaction. Any failure here is reported as
/// `Unavailable`: the caller's change must not commit without its event (SECURITY L6).
pub async fn append(conn: &mut Conn, now: Timestamp, ctx: &Ctx, ev: NewEvent) -> CoreResult<AuditEvent> {
    append_inner(conn, now, ctx, ev).await.map_err(|e| match e {
        CoreError::Unavailable(m) | CoreError::Internal(m) => {
            CoreError::Unavailable(format!("audit log write failed: {m}"))
        }
        CoreError::Conflict { message, .. } => CoreError::Unavailable(format!("audit log write failed: {message}")),
        other => other,
    })
}

async fn append_inner(conn: &mut Conn, now: Timestamp, ctx: &Ctx, ev: NewEvent) -> CoreResult<AuditEvent> {
    let (seq, prev) = repo::claim_next(conn).await?;
    let details_text = serde_json::to_string(&ev.details).map_err(|e| CoreError::internal(e.to_string()))?;
    let mut event = AuditEvent {
        seq,
        id: EventId::generate()?.to_string(),
        occurred_at: now,
        actor: ctx.actor.clone(),
        action: ev.action.to_owned(),
        target_type: ev.target_type.to_owned(),
        target_id: ev.target_id,
        environment: ev.environment,
        outcome: ev.outcome.as_str().to_owned(),
        ip: ctx.meta.ip.clone(),
        user_agent: ctx.meta.user_agent.clone(),
        request_id: ctx.meta.request_id.clone(),
        details: ev.details,
        prev_hash: prev,
        hash: [0; 32],
    };
    event.hash = chain_hash(&prev, &event, &details_text);
    repo::insert(conn, &event, &details_text).await?;
    repo::set_head_hash(conn, &event.hash).await?;
    Ok(event)
}

/// The result of checking the chain, as `GET /api/v1/audit/verify` and `latchkey audit verify`
/// report it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ChainReport {
    pub ok: bool,
    pub last_seq: i64,
    pub head_hash: String,
    pub first_broken_seq: Option<i64>,
    pub checkpoints_verified: usize,
    pub problem: Option<String>,
}

fn checkpoint_message(seq: i64, hash: &[u8; 32], created_at: Timestamp) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(b"latchkey-audit-checkpoint-v1");
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&created_at.as_millis().to_be_bytes());
    m
}

impl Services {
    /// Appends a standalone event (for security events that change nothing else).
    pub async fn record_event(&self, ctx: &Ctx, ev: NewEvent) -> CoreResult<AuditEvent> {
        let mut tx = self.db.begin().await?;
        let e = append(&mut tx, self.clock.now(), ctx, ev).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Signs the current chain head if it moved since the last checkpoint.
    pub async fn audit_checkpoint(&self) -> CoreResult<Option<i64>> {
        let mut tx = self.db.begin().await?;
        let (seq, hash) = repo::head(&mut tx).await?;
        if seq == 0 || repo::last_checkpoint_seq(&mut tx).await? >= seq {
            return Ok(None);
        }
        let created_at = self.clock.now();
        let sig = self.keys.audit_signing.sign(&checkpoint_message(seq, &hash, created_at));
        let cp = repo::Checkpoint {
            seq,
            hash,
            created_at,
            public_key: self.keys.audit_signing.public_key().to_vec(),
            signature: sig.to_vec(),
        };
        repo::insert_checkpoint(&mut tx, &cp).await?;
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// Recomputes the whole chain from the first event, checks the gapless sequence, the head and
    /// every signed checkpoint, and names the first broken sequence number.
    pub async fn audit_verify(&self) -> CoreResult<ChainReport> {
        let mut conn = self.db.pool().acquire().await?;
        let checkpoints = repo::checkpoints(&mut conn).await?;
        let (head_seq, head_hash) = repo::head(&mut conn).await?;
        let our_key = self.keys.audit_signing.public_key();
        let mut cp_iter = checkpoints.iter().peekable();
        let mut checkpoints_verified = 0usize;
        let mut prev = [0u8; 32];
        let mut expected = 1i64;
        let mut broken: Option<(i64, String)> = None;
        const PAGE: i64 = 5000;

        'pages: loop {
            let page = repo::page_after(&mut conn, expected - 1, PAGE).await?;
            if page.is_empty() {
                break;
            }
            for stored in &page {
                let e = &stored.event;
                if e.seq != expected {
                    broken = Some((expected, format!("event {expected} is missing or out of order")));
                    break 'pages;
                }
                if e.prev_hash != prev {
                    broken = Some((e.seq, format!("event {} does not link to the previous event", e.seq)));
                    break 'pages;
                }
                let h = chain_hash(&prev, e, &stored.details_text);
                if h != e.hash {
                    broken = Some((e.seq, format!("event {} was altered", e.seq)));
                    break 'pages;
                }
                while let Some(cp) = cp_iter.peek() {
                    if cp.seq > e.seq {
                        break;
                    }
                    if cp.seq == e.seq {
                        let msg = checkpoint_message(cp.seq, &cp.hash, cp.created_at);
                        let signed = cp.public_key.as_slice() == our_key
                            && AuditSigningKey::verify_with(&cp.public_key, &msg, &cp.signature);
                        if !signed || cp.hash != h {
                            broken = Some((e.seq, format!("signed checkpoint at {} does not match", e.seq)));
                            break 'pages;
                        }
                        checkpoints_verified += 1;
                    }
                    cp_iter.next();
                }
                prev = h;
                expected += 1;
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        let last_seq = expected - 1;
        if broken.is_none() {
            if let Some(cp) = cp_iter.next() {
                broken = Some((last_seq + 1, format!("events up to signed checkpoint {} are missing", cp.seq)));
            } else if head_seq != last_seq {
                broken = Some((last_seq + 1, format!("the log ends at {last_seq} but the head says {head_seq}")));
            } else if head_hash != prev {
                broken = Some((last_seq.max(1), "the head hash does not match the last event".to_owned()));
            }
        }
        Ok(ChainReport {
            ok: broken.is_none(),
            last_seq,
            head_hash: hex32::encode(&prev),
            first_broken_seq: broken.as_ref().map(|b| b.0),
            checkpoints_verified,
            problem: broken.map(|b| b.1),
        })
    }

    /// A page of events, newest first.
    pub async fn audit_list(&self, filter: &repo::ListFilter) -> CoreResult<Vec<AuditEvent>> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(repo::list(&mut conn, filter).await?.into_iter().map(|s| s.event).collect())
    }
}
