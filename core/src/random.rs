//! Randomness from the operating system's CSPRNG, and nothing else.

use crate::error::CoreError;

pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Fills `buf` from the OS CSPRNG. Failure is fatal for the operation, never silently weakened.
pub fn fill(buf: &mut [u8]) -> Result<(), CoreError> {
    getrandom::fill(buf).map_err(|e| CoreError::internal(format!("OS random source failed: {e}")))
}

pub fn bytes<const N: usize>() -> Result<[u8; N], CoreError> {
    let mut b = [0u8; N];
    fill(&mut b)?;
    Ok(b)
}

/// `n` characters drawn uniformly from the base62 alphabet (rejection sampling, no modulo bias).
pub fn base62(n: usize) -> Result<String, CoreError> {
    let mut out = String::with_capacity(n);
    let mut pool = [0u8; 64];
    while out.len() < n {
        fill(&mut pool)?;
        for &b in &pool {
            // 248 = 4 * 62: values at or above it would bias the first characters.
            if b < 248 {
                out.push(BASE62[usize::from(b % 62)] as char);
                if out.len() == n {
                    break;
                }
            }
        }
    }
    Ok(out)
}
