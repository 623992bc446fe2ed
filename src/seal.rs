//! Provider keys at rest: sealed with AES-256-GCM under a key derived from the config's
//! `encryption_key`, and bound to their tenant (a sealed key copied to another tenant does not open).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::vocab::Secret;

/// The first byte of every sealed value: the scheme, so it can change later.
const SCHEME: u8 = 1;

pub struct Sealer {
    key: LessSafeKey,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the stored provider key cannot be opened: it was sealed with another encryption_key, or for another tenant"
)]
pub struct Unopenable;

impl Sealer {
    pub fn new(encryption_key: &Secret) -> Sealer {
        let mut hash = Sha256::new();
        hash.update(b"keepstar provider keys v1\0");
        hash.update(encryption_key.expose().as_bytes());
        let key = UnboundKey::new(&AES_256_GCM, &hash.finalize()).expect("a 32-byte key");
        Sealer {
            key: LessSafeKey::new(key),
        }
    }

    fn aad(tenant_id: i64) -> Aad<[u8; 8]> {
        Aad::from(tenant_id.to_be_bytes())
    }

    /// `plain` sealed for the tenant: scheme byte, nonce, ciphertext and tag.
    pub fn seal(&self, tenant_id: i64, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random generator works");
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Self::aad(tenant_id),
                &mut data,
            )
            .expect("sealing cannot fail for a valid key");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + data.len());
        out.push(SCHEME);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&data);
        out
    }

    pub fn open(&self, tenant_id: i64, sealed: &[u8]) -> Result<Secret, Unopenable> {
        let [SCHEME, rest @ ..] = sealed else {
            return Err(Unopenable);
        };
        if rest.len() < NONCE_LEN {
            return Err(Unopenable);
        }
        let (nonce, data) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unopenable)?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Self::aad(tenant_id), &mut data)
            .map_err(|_| Unopenable)?;
        String::from_utf8(plain.to_vec())
            .map(Secret::new)
            .map_err(|_| Unopenable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(key: &str) -> Sealer {
        Sealer::new(&Secret::new(key.repeat(32)))
    }

    #[test]
    fn a_sealed_key_opens_only_for_its_tenant_and_encryption_key() {
        let s = sealer("a");
        let sealed = s.seal(7, "sk-live-Привет");
        assert!(
            !sealed.windows(7).any(|w| w == b"sk-live"),
            "no clear text in the sealed bytes"
        );
        assert_eq!(s.open(7, &sealed).unwrap().expose(), "sk-live-Привет");
        assert!(s.open(8, &sealed).is_err(), "another tenant");
        assert!(
            sealer("b").open(7, &sealed).is_err(),
            "another encryption key"
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(s.open(7, &tampered).is_err(), "tampered");
        assert!(s.open(7, &[]).is_err());
        assert_ne!(s.seal(7, "x"), s.seal(7, "x"), "fresh nonce every time");
    }
}
