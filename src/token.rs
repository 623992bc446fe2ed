//! Random identifiers and secrets, and the hashes under which secrets are stored.

use rand::Rng;
use sha2::{Digest, Sha256};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters drawn uniformly from [0-9A-Za-z] by the OS-seeded CSPRNG
/// (5.95 bits each: 22 characters carry more than 128 bits).
pub fn random_base62(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// A public identifier such as `c_4fZk…`: a kind prefix and 16 random characters.
pub fn public_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(16))
}

/// SHA-256, the stored form of high-entropy secrets (keys, visitor and session tokens).
/// A fast hash is right here: the inputs carry ≥ 128 random bits, so there is nothing to brute-force.
pub fn sha256(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// 32 random bytes, base64url without padding: a fresh secret for `keepstar.toml`.
pub fn config_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_strings_differ_and_use_the_alphabet() {
        let a = random_base62(32);
        let b = random_base62(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn public_ids_carry_their_prefix() {
        let id = public_id("c");
        assert!(id.starts_with("c_") && id.len() == 18, "{id}");
    }
}
