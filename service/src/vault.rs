//! Provider tokens at rest: AES-256-GCM with a fresh random nonce per value.
//!
//! A sealed value reads `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id (the first
//! 8 hex digits of the key's SHA-256) lets retired keys from `TOKEN_ENCRYPTION_KEYS_OLD` still open
//! old values; `needs_reseal` tells a writer to seal them again under the current key.

use aes_gcm::aead::{Aead, Generate, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::config::EncryptionKey;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error(
        "no configured key has id {0}; was TOKEN_ENCRYPTION_KEY changed without listing the old one in TOKEN_ENCRYPTION_KEYS_OLD?"
    )]
    UnknownKey(String),
    #[error("the sealed value failed authentication (tampered, or sealed under another key)")]
    Tampered,
}

struct VaultKey {
    id: String,
    cipher: Aes256Gcm,
}

impl VaultKey {
    fn new(key: &EncryptionKey) -> Self {
        let digest = Sha256::digest(key.0);
        Self {
            id: hex::encode(&digest[..4]),
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key.0)),
        }
    }
}

pub struct Vault {
    current: VaultKey,
    old: Vec<VaultKey>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("key_id", &self.current.id)
            .finish_non_exhaustive()
    }
}

impl Vault {
    pub fn new(current: &EncryptionKey, old: &[EncryptionKey]) -> Self {
        Self {
            current: VaultKey::new(current),
            old: old.iter().map(VaultKey::new).collect(),
        }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = Nonce::generate();
        let ciphertext = self
            .current
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut payload = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&ciphertext);
        format!(
            "{VERSION}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    pub fn open(&self, sealed: &str) -> Result<String, VaultError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id == kid)
            .ok_or_else(|| VaultError::UnknownKey(kid.to_owned()))?;
        let payload = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| VaultError::Malformed)?;
        if payload.len() < NONCE_LEN {
            return Err(VaultError::Malformed);
        }
        let (nonce, ciphertext) = payload.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| VaultError::Malformed)?;
        let plaintext = key
            .cipher
            .decrypt(&nonce, ciphertext)
            .map_err(|_| VaultError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| VaultError::Malformed)
    }

    /// True when `sealed` was written under a retired key and should be sealed again.
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) != Some(self.current.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey([byte; 32])
    }

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let vault = Vault::new(&key(1), &[]);
        let a = vault.seal("ya29.secret-token");
        let b = vault.seal("ya29.secret-token");
        assert_ne!(a, b, "nonces must differ");
        assert!(!a.contains("secret"));
        assert_eq!(vault.open(&a).unwrap(), "ya29.secret-token");
        assert!(!vault.needs_reseal(&a));
    }

    #[test]
    fn old_keys_still_open_and_ask_for_a_reseal() {
        let before = Vault::new(&key(1), &[]);
        let sealed = before.seal("refresh");
        let after = Vault::new(&key(2), &[key(1)]);
        assert_eq!(after.open(&sealed).unwrap(), "refresh");
        assert!(after.needs_reseal(&sealed));
        let forgotten = Vault::new(&key(2), &[]);
        assert!(matches!(
            forgotten.open(&sealed),
            Err(VaultError::UnknownKey(_))
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let vault = Vault::new(&key(1), &[]);
        let sealed = vault.seal("token");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(vault.open(&tampered), Err(VaultError::Tampered));
        assert_eq!(vault.open("garbage"), Err(VaultError::Malformed));
    }
}
