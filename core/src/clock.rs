//! Time is a parameter: services read the time from a [`Clock`] in their state, never from the
//! system directly, so tests pin it to prove expiry, grace and timeouts exactly.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::domain::time::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now_system()
    }
}

/// A clock that only moves when told to. Used by tests and by nothing else.
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self { millis: Arc::new(AtomicI64::new(start.as_millis())) }
    }

    pub fn set(&self, t: Timestamp) {
        self.millis.store(t.as_millis(), Ordering::SeqCst);
    }

    pub fn advance_secs(&self, secs: i64) {
        self.millis.fetch_add(secs.saturating_mul(1000), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

pub type SharedClock = Arc<dyn Clock>;
