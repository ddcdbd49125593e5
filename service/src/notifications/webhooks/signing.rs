//! Standard Webhooks signing (standardwebhooks.com): a secret is `whsec_` + base64 of random
//! bytes; a delivery's `webhook-signature` is `v1,` + base64 of HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the secret's decoded bytes. Several
//! signatures are separated by spaces (both secrets during a rotation).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// The contract's 24 random bytes.
const SECRET_BYTES: usize = 24;

/// A fresh secret.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The key a secret stands for; None for something that is not one of ours.
fn key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()
}

/// One `v1,<base64>` signature of a delivery.
pub fn sign(secret: &str, webhook_id: &str, timestamp: i64, body: &str) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)?).ok()?;
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: a signature with each secret, space-separated.
pub fn header(secrets: &[String], webhook_id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, webhook_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_24_bytes_behind_the_prefix() {
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(key(&secret).unwrap().len(), 24);
        assert_ne!(secret, new_secret());
    }

    /// The example of the Standard Webhooks specification (and its reference libraries' tests).
    #[test]
    fn signs_the_specifications_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_header_carries_one_signature_per_secret() {
        let (a, b) = (new_secret(), new_secret());
        let both = header(&[a.clone(), b.clone()], "1", 2, "{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(
            parts,
            [
                sign(&a, "1", 2, "{}").unwrap(),
                sign(&b, "1", 2, "{}").unwrap()
            ]
        );
        assert_eq!(sign("not-a-secret", "1", 2, "{}"), None);
    }
}
