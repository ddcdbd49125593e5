//! Secrets at rest (provider tokens, API keys, feed addresses, channel and webhook secrets, PKCE
//! verifiers): AES-256-GCM with a fresh random nonce per value, bound to where it is stored.
//!
//! A sealed value reads `v2.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id (the first
//! 8 hex digits of the key's SHA-256) lets retired keys from `TOKEN_ENCRYPTION_KEYS_OLD` still open
//! old values. The associated data is the value's [`Slot`] — table, column and row id — so a sealed
//! value copied into another row or column does not open.
//!
//! `v1` values (before slots) carry no associated data; only [`Vault::open_legacy`] reads them,
//! and `reseal` rewrites every one at start-up. After that a `v1` value can only be a copy from
//! elsewhere, and [`Vault::open`] refuses it.

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::EncryptionKey;

const VERSION: &str = "v2";
const LEGACY_VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

/// Every column that holds sealed values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    ConnectionAccessToken,
    ConnectionRefreshToken,
    ConnectionCredentials,
    FeedToken,
    PkceVerifier,
    ChannelSecret,
    WebhookSecret,
    WebhookPreviousSecret,
}

impl Column {
    pub const ALL: [Column; 8] = [
        Column::ConnectionAccessToken,
        Column::ConnectionRefreshToken,
        Column::ConnectionCredentials,
        Column::FeedToken,
        Column::PkceVerifier,
        Column::ChannelSecret,
        Column::WebhookSecret,
        Column::WebhookPreviousSecret,
    ];

    /// `table.column`, as in the schema.
    pub fn path(self) -> &'static str {
        match self {
            Column::ConnectionAccessToken => "calendar_connections.access_token_enc",
            Column::ConnectionRefreshToken => "calendar_connections.refresh_token_enc",
            Column::ConnectionCredentials => "calendar_connections.credentials_enc",
            Column::FeedToken => "feed_tokens.token_enc",
            Column::PkceVerifier => "oauth_states.pkce_verifier_enc",
            Column::ChannelSecret => "calendars.channel_secret_enc",
            Column::WebhookSecret => "webhook_endpoints.secret_enc",
            Column::WebhookPreviousSecret => "webhook_endpoints.previous_secret_enc",
        }
    }
}

/// Where a sealed value lives: the column and the id of its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub column: Column,
    pub row: Uuid,
}

impl Slot {
    pub fn new(column: Column, row: Uuid) -> Self {
        Self { column, row }
    }

    fn associated_data(&self) -> String {
        format!("freeslot:{}:{}", self.column.path(), self.row)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error(
        "no configured key has id {0}; was TOKEN_ENCRYPTION_KEY changed without listing the old one in TOKEN_ENCRYPTION_KEYS_OLD?"
    )]
    UnknownKey(String),
    #[error(
        "the sealed value failed authentication (tampered, sealed under another key, or moved from another row)"
    )]
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

    pub fn seal(&self, plaintext: &str, slot: Slot) -> String {
        let nonce = Nonce::generate();
        let aad = slot.associated_data();
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
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

    /// Opens a value sealed for `slot`.
    pub fn open(&self, sealed: &str, slot: Slot) -> Result<String, VaultError> {
        let aad = slot.associated_data();
        self.decrypt(sealed, VERSION, aad.as_bytes())
    }

    /// Opens a value of either format: what the start-up re-seal reads.
    pub fn open_legacy(&self, sealed: &str, slot: Slot) -> Result<String, VaultError> {
        if sealed.starts_with("v1.") {
            self.decrypt(sealed, LEGACY_VERSION, b"")
        } else {
            self.open(sealed, slot)
        }
    }

    /// True unless `sealed` is in the current format under the current key.
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        let mut parts = sealed.split('.');
        !(parts.next() == Some(VERSION) && parts.next() == Some(self.current.id.as_str()))
    }

    fn decrypt(&self, sealed: &str, version: &str, aad: &[u8]) -> Result<String, VaultError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(v), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(VaultError::Malformed);
        };
        if v != version {
            return Err(VaultError::Malformed);
        }
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
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| VaultError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| VaultError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey([byte; 32])
    }

    fn slot(n: u128) -> Slot {
        Slot::new(Column::ConnectionRefreshToken, Uuid::from_u128(n))
    }

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let vault = Vault::new(&key(1), &[]);
        let a = vault.seal("ya29.secret-token", slot(1));
        let b = vault.seal("ya29.secret-token", slot(1));
        assert_ne!(a, b, "nonces must differ");
        assert!(!a.contains("secret"));
        assert_eq!(vault.open(&a, slot(1)).unwrap(), "ya29.secret-token");
        assert!(!vault.needs_reseal(&a));
    }

    #[test]
    fn a_value_opens_only_in_its_own_row_and_column() {
        let vault = Vault::new(&key(1), &[]);
        let sealed = vault.seal("refresh", slot(1));
        assert_eq!(vault.open(&sealed, slot(2)), Err(VaultError::Tampered));
        assert_eq!(
            vault.open(
                &sealed,
                Slot::new(Column::ConnectionAccessToken, Uuid::from_u128(1))
            ),
            Err(VaultError::Tampered)
        );
    }

    #[test]
    fn old_keys_still_open_and_ask_for_a_reseal() {
        let before = Vault::new(&key(1), &[]);
        let sealed = before.seal("refresh", slot(1));
        let after = Vault::new(&key(2), &[key(1)]);
        assert_eq!(after.open(&sealed, slot(1)).unwrap(), "refresh");
        assert!(after.needs_reseal(&sealed));
        let forgotten = Vault::new(&key(2), &[]);
        assert!(matches!(
            forgotten.open(&sealed, slot(1)),
            Err(VaultError::UnknownKey(_))
        ));
    }

    #[test]
    fn legacy_values_open_only_for_the_reseal() {
        // A v1 value as the previous format wrote it: no associated data.
        let k = VaultKey::new(&key(1));
        let nonce = Nonce::generate();
        let mut payload = nonce.to_vec();
        payload.extend(k.cipher.encrypt(&nonce, b"old token".as_slice()).unwrap());
        let legacy = format!("v1.{}.{}", k.id, URL_SAFE_NO_PAD.encode(payload));
        let vault = Vault::new(&key(1), &[]);
        assert!(vault.needs_reseal(&legacy));
        assert_eq!(vault.open_legacy(&legacy, slot(9)).unwrap(), "old token");
        assert_eq!(vault.open(&legacy, slot(9)), Err(VaultError::Malformed));
    }

    #[test]
    fn tampering_is_detected() {
        let vault = Vault::new(&key(1), &[]);
        let sealed = vault.seal("token", slot(1));
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(vault.open(&tampered, slot(1)), Err(VaultError::Tampered));
        assert_eq!(vault.open("garbage", slot(1)), Err(VaultError::Malformed));
    }
}
