//! API credential tokens: `lk_<environment>_<key id><secret><checksum>`.
//!
//! * `lk_` — fixed product prefix, so secret scanners can match it.
//! * `<environment>` — the slug of the environment the key is bound to.
//! * key id — 12 base62 characters, public, ties failed attempts to a credential.
//! * secret — 32 base62 characters from the OS CSPRNG (32 × log2 62 ≈ 190.5 bits).
//! * checksum — CRC32 of everything before it, as 6 base62 characters: typos and scanner
//!   hits are answered without touching storage.
//!
//! Scanner regex (gitleaks / trufflehog): `\blk_[a-z0-9][a-z0-9-]{0,30}_[0-9A-Za-z]{50}\b`.
//!
//! Only the HMAC-SHA-256 of the whole token under the server's pepper is ever stored. This
//! module must never log, format or serialize a [`PlainToken`].

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::domain::environment::EnvironmentSlug;
use crate::error::CoreError;
use crate::random::{self, BASE62};

pub const PREFIX: &str = "lk_";
pub const KEY_ID_LEN: usize = 12;
pub const SECRET_LEN: usize = 32;
pub const CHECKSUM_LEN: usize = 6;
pub const BODY_LEN: usize = KEY_ID_LEN + SECRET_LEN + CHECKSUM_LEN;
/// Longest possible token: prefix + 31-char slug + `_` + body.
pub const MAX_TOKEN_LEN: usize = PREFIX.len() + 31 + 1 + BODY_LEN;
/// The regex published for secret scanners.
pub const SCANNER_REGEX: &str = r"\blk_[a-z0-9][a-z0-9-]{0,30}_[0-9A-Za-z]{50}\b";

/// The public key id embedded in a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != KEY_ID_LEN || !b.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        let mut out = [0u8; KEY_ID_LEN];
        out.copy_from_slice(b);
        Some(Self(out))
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII alphanumerics.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole plaintext token. Exists in memory only between generation and the one response that
/// returns it, or during one verify call. Not `Serialize`, `Debug` is redacted, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PlainToken(String);

impl std::fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainToken(<redacted>)")
    }
}

impl PlainToken {
    /// The token text, for the single response that hands it over.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The part that may be displayed: `lk_<env>_<key id>`.
    pub fn display_prefix(&self) -> &str {
        let cut = self.0.len().saturating_sub(SECRET_LEN + CHECKSUM_LEN);
        self.0.get(..cut).unwrap_or("")
    }

    /// The last four characters, for display.
    pub fn last4(&self) -> &str {
        let cut = self.0.len().saturating_sub(4);
        self.0.get(cut..).unwrap_or("")
    }
}

/// The result of parsing a presented token: well formed and checksum-correct. Nothing here has
/// touched storage yet.
#[derive(Debug)]
pub struct ParsedToken<'a> {
    pub environment: &'a str,
    pub key_id: KeyId,
    token: &'a str,
}

impl ParsedToken<'_> {
    pub fn token_bytes(&self) -> &[u8] {
        self.token.as_bytes()
    }
}

/// Why a presented token was rejected before any lookup. Callers answer all of these with the same
/// generic "invalid"; the reason exists for metrics and detectors only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormatError {
    Length,
    Prefix,
    Environment,
    Charset,
    Checksum,
}

/// Generates a fresh token bound to `env`.
pub fn generate(env: &EnvironmentSlug) -> Result<(PlainToken, KeyId), CoreError> {
    let key_id = random::base62(KEY_ID_LEN)?;
    let mut secret = random::base62(SECRET_LEN)?;
    let mut token = String::with_capacity(MAX_TOKEN_LEN);
    token.push_str(PREFIX);
    token.push_str(env.as_str());
    token.push('_');
    token.push_str(&key_id);
    token.push_str(&secret);
    secret.zeroize();
    let sum = checksum(token.as_bytes());
    token.push_str(&sum);
    let kid = KeyId::parse(&key_id).ok_or_else(|| CoreError::internal("generated key id malformed"))?;
    Ok((PlainToken(token), kid))
}

/// Checks shape, charset and checksum. Pure: no I/O, no allocation.
pub fn parse(token: &str) -> Result<ParsedToken<'_>, TokenFormatError> {
    if token.len() > MAX_TOKEN_LEN || token.len() < PREFIX.len() + 2 + BODY_LEN {
        return Err(TokenFormatError::Length);
    }
    let rest = token.strip_prefix(PREFIX).ok_or(TokenFormatError::Prefix)?;
    let (env, body) = rest.rsplit_once('_').ok_or(TokenFormatError::Environment)?;
    if EnvironmentSlug::check(env).is_err() {
        return Err(TokenFormatError::Environment);
    }
    if body.len() != BODY_LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(TokenFormatError::Charset);
    }
    let (signed, sum) = token.split_at(token.len() - CHECKSUM_LEN);
    if checksum(signed.as_bytes()).as_bytes() != sum.as_bytes() {
        return Err(TokenFormatError::Checksum);
    }
    let key_id = KeyId::parse(&body[..KEY_ID_LEN]).ok_or(TokenFormatError::Charset)?;
    Ok(ParsedToken { environment: env, key_id, token })
}

/// CRC32 as exactly six base62 characters (62⁶ > 2³²), most significant first.
fn checksum(data: &[u8]) -> String {
    let mut n = u64::from(crc32fast::hash(data));
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

/// The stored form of a token: HMAC-SHA-256 under the pepper.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

impl TokenHash {
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(b).ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality (SECURITY K3).
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// The server-side HMAC key. Held outside the database; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Pepper([u8; 32]);

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(<redacted>)")
    }
}

impl Pepper {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub fn hash(&self, token: &[u8]) -> TokenHash {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => return TokenHash([0; 32]),
        };
        mac.update(token);
        TokenHash(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(s: &str) -> EnvironmentSlug {
        EnvironmentSlug::parse(s).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn generated_tokens_parse_and_match_the_scanner_shape() {
        let (t, kid) = generate(&env("staging")).unwrap_or_else(|e| unreachable!("{e}"));
        let p = parse(t.expose()).unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(p.environment, "staging");
        assert_eq!(p.key_id, kid);
        assert!(t.expose().starts_with("lk_staging_"));
        assert_eq!(t.display_prefix(), format!("lk_staging_{kid}"));
        assert_eq!(t.expose().len(), "lk_staging_".len() + BODY_LEN);
    }

    #[test]
    fn k5_every_single_character_corruption_is_caught_by_the_checksum_or_shape() {
        let (t, _) = generate(&env("production")).unwrap_or_else(|e| unreachable!("{e}"));
        let s = t.expose().to_owned();
        for i in 0..s.len() {
            for repl in [b'0', b'Z', b'z', b'_', b'-'] {
                let mut b = s.clone().into_bytes();
                if b[i] == repl {
                    continue;
                }
                b[i] = repl;
                let Ok(c) = String::from_utf8(b) else { continue };
                assert!(parse(&c).is_err(), "corruption at {i} to {} accepted", repl as char);
            }
        }
    }

    #[test]
    fn k3_hash_comparison_is_constant_time_and_correct() {
        let p = Pepper::from_bytes([7; 32]);
        let a = p.hash(b"lk_test_a");
        let b = p.hash(b"lk_test_a");
        let c = p.hash(b"lk_test_b");
        assert!(a.ct_eq(&b));
        assert!(!a.ct_eq(&c));
        // A differing last byte must also be detected (no early-exit prefix comparison bug).
        let mut bytes = *a.as_bytes();
        bytes[31] ^= 1;
        assert!(!a.ct_eq(&TokenHash(bytes)));
        // The comparison goes through `subtle`, whose `ct_eq` has no data-dependent branches.
        let via_subtle: bool = a.as_bytes().ct_eq(b.as_bytes()).into();
        assert!(via_subtle);
    }

    #[test]
    fn k4_secret_carries_at_least_160_bits_from_the_csprng() {
        let bits_per_char = (BASE62.len() as f64).log2();
        assert!(SECRET_LEN as f64 * bits_per_char >= 160.0);
        // Measure: decode many secrets and check the characters are spread uniformly and never repeat.
        let mut counts = [0u32; 62];
        let mut seen = std::collections::HashSet::new();
        let n = 2000;
        for _ in 0..n {
            let (t, _) = generate(&env("test")).unwrap_or_else(|e| unreachable!("{e}"));
            let s = t.expose();
            let secret = &s[s.len() - CHECKSUM_LEN - SECRET_LEN..s.len() - CHECKSUM_LEN];
            assert!(seen.insert(secret.to_owned()), "repeated secret");
            for b in secret.bytes() {
                let idx = BASE62.iter().position(|&x| x == b).unwrap_or_else(|| unreachable!());
                counts[idx] += 1;
            }
        }
        // Chi-square against uniform with 61 degrees of freedom; 120 is far beyond p = 0.0001.
        let total = f64::from(n * SECRET_LEN as u32);
        let expected = total / 62.0;
        let chi2: f64 = counts.iter().map(|&c| (f64::from(c) - expected).powi(2) / expected).sum();
        assert!(chi2 < 120.0, "secret characters not uniform: chi2 = {chi2}");
        // Shannon entropy of the observed distribution, per character, times the length.
        let h: f64 = counts.iter().map(|&c| f64::from(c) / total).filter(|&p| p > 0.0).map(|p| -p * p.log2()).sum();
        assert!(h * SECRET_LEN as f64 >= 160.0, "measured {} bits", h * SECRET_LEN as f64);
    }

    #[test]
    fn hostile_inputs_never_panic() {
        for s in ["", "lk_", "lk__", "lk_x_", "lk_staging_é", "ghp_abc", &"a".repeat(10_000)] {
            assert!(parse(s).is_err());
        }
        let (t, _) = generate(&env("test")).unwrap_or_else(|e| unreachable!("{e}"));
        for cut in 0..t.expose().len() {
            let _ = parse(&t.expose()[..cut]);
        }
    }
}
