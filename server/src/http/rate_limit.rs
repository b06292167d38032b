//! A token bucket per client IP. Used on the verify endpoint so a burst is answered 429, never
//! with a 5xx or a slowdown for everyone else (SECURITY K9).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    rate_per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        Self {
            rate_per_sec: f64::from(rate_per_sec),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip`. `Err(seconds)` says how long until one is available.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = match self.buckets.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if map.len() > 100_000 {
            // Bound memory under a flood of distinct sources: full buckets carry no state worth keeping.
            let (rate, burst) = (self.rate_per_sec, self.burst);
            map.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = map.entry(ip).or_insert((self.burst, now));
        let refilled = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate_per_sec).min(self.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            let wait = (1.0 - refilled) / self.rate_per_sec;
            Err(wait.ceil() as u64)
        }
    }
}
