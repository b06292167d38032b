//! The three secrets held outside the database: the credential pepper (HMAC key), the data key
//! (encrypts TOTP seeds and other secrets at rest) and the audit signing key (Ed25519, signs
//! chain checkpoints). None of these types can be printed or serialized.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::domain::token::Pepper;
use crate::error::CoreError;
use crate::random;

/// Key for encrypting secrets at rest (TOTP seeds).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Signs audit checkpoints.
#[derive(Clone)]
pub struct AuditSigningKey(SigningKey);

impl std::fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditSigningKey(<redacted>)")
    }
}

impl AuditSigningKey {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&b))
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }

    /// Checks a signature against a stored public key.
    pub fn verify_with(public_key: &[u8], msg: &[u8], signature: &[u8]) -> bool {
        let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(public_key), <[u8; 64]>::try_from(signature)) else {
            return false;
        };
        let Ok(vk) = VerifyingKey::from_bytes(&pk) else { return false };
        vk.verify(msg, &ed25519_dalek::Signature::from_bytes(&sig)).is_ok()
    }
}

/// The server's secrets, resolved from configuration.
#[derive(Debug, Clone)]
pub struct Keys {
    pub pepper: Pepper,
    pub data_key: DataKey,
    pub audit_signing: AuditSigningKey,
}

/// Names of the secrets, as used in configuration.
pub const SECRET_NAMES: [&str; 3] = ["pepper", "data_key", "audit_signing_key"];

impl Keys {
    /// Fresh random secrets from the CSPRNG.
    pub fn generate() -> Result<GeneratedKeys, CoreError> {
        let mut out = GeneratedKeys { encoded: Vec::with_capacity(3) };
        for name in SECRET_NAMES {
            let mut b = random::bytes::<32>()?;
            out.encoded.push((name, STANDARD.encode(b)));
            b.zeroize();
        }
        Ok(out)
    }

    /// Builds the keys from base64 text for each of [`SECRET_NAMES`].
    pub fn from_encoded(pepper: &str, data_key: &str, audit_signing_key: &str) -> Result<Self, CoreError> {
        Ok(Self {
            pepper: Pepper::from_bytes(decode_key("pepper", pepper)?),
            data_key: DataKey::from_bytes(decode_key("data_key", data_key)?),
            audit_signing: AuditSigningKey::from_bytes(decode_key("audit_signing_key", audit_signing_key)?),
        })
    }
}

/// Newly generated secrets in their encoded (base64) form, for writing once to a key file or to
/// the terminal of the operator who asked for them.
pub struct GeneratedKeys {
    pub encoded: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for GeneratedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GeneratedKeys(<redacted>)")
    }
}

impl Drop for GeneratedKeys {
    fn drop(&mut self) {
        for (_, v) in &mut self.encoded {
            v.zeroize();
        }
    }
}

impl GeneratedKeys {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.encoded.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// 32 bytes in standard or URL-safe base64. The error names the setting, never the value.
pub fn decode_key(name: &str, text: &str) -> Result<[u8; 32], CoreError> {
    let t = text.trim();
    let bytes = STANDARD
        .decode(t)
        .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
        .map_err(|_| CoreError::validation(format!("{name} is not valid base64")))?;
    let mut arr = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| CoreError::validation(format!("{name} must decode to exactly 32 bytes")))?;
    let out = arr;
    arr.zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_and_never_print() {
        let g = Keys::generate().unwrap_or_else(|e| unreachable!("{e}"));
        let k = Keys::from_encoded(
            g.get("pepper").unwrap_or_default(),
            g.get("data_key").unwrap_or_default(),
            g.get("audit_signing_key").unwrap_or_default(),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let dbg = format!("{k:?} {g:?}");
        assert!(!dbg.contains(g.get("pepper").unwrap_or("x")));
        let sig = k.audit_signing.sign(b"m");
        assert!(AuditSigningKey::verify_with(&k.audit_signing.public_key(), b"m", &sig));
        assert!(!AuditSigningKey::verify_with(&k.audit_signing.public_key(), b"n", &sig));
    }

    #[test]
    fn bad_keys_are_named_not_echoed() {
        let e = decode_key("pepper", "c2hvcnQ=").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("pepper") && !e.contains("c2hvcnQ"));
    }
}
