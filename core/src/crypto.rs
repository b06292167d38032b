//! Encryption of secrets at rest (TOTP seeds) under the data key: ChaCha20-Poly1305 with a random
//! nonce, bound to its owner by associated data so a sealed value cannot be moved to another row.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::error::CoreError;
use crate::random;
use crate::secrets::DataKey;

const NONCE_LEN: usize = 12;

/// `nonce || ciphertext+tag`.
pub fn seal(key: &DataKey, owner: &str, plaintext: &[u8]) -> Result<Vec<u8>, CoreError> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_bytes()));
    let nonce = random::bytes::<NONCE_LEN>()?;
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: owner.as_bytes() })
        .map_err(|_| CoreError::internal("encryption failed"))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

pub fn open(key: &DataKey, owner: &str, sealed: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, CoreError> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(CoreError::internal("sealed value too short"));
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_bytes()));
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: owner.as_bytes() })
        .map(zeroize::Zeroizing::new)
        .map_err(|_| CoreError::internal("a sealed secret does not decrypt with the configured data key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let k = DataKey::from_bytes([9; 32]);
        let s = seal(&k, "usr_a", b"seed").unwrap_or_default();
        assert_eq!(open(&k, "usr_a", &s).map(|v| v.to_vec()).unwrap_or_default(), b"seed");
        assert!(open(&k, "usr_b", &s).is_err(), "bound to its owner");
        assert!(open(&DataKey::from_bytes([8; 32]), "usr_a", &s).is_err());
        assert!(!s.windows(4).any(|w| w == b"seed"));
    }
}
