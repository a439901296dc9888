//! Webhook signatures. Two, on every call to a seller's server:
//!
//! - `X-Sellvy-Signature`, exactly as the seed's verification code expects it: lowercase hex
//!   HMAC-SHA256 of the raw body, keyed with the secret string as shown.
//! - Standard Webhooks' `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
//!   keyed with the secret's bytes (the base64 after `whsec_`), so `webhook-id` and
//!   `webhook-timestamp` are signed too and a receiver using the `standardwebhooks` libraries
//!   refuses a replayed capture.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The signature of `payload` under `secret`.
pub fn sign(payload: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` is `payload`'s signature under `secret` (constant-time comparison).
pub fn verify(payload: &[u8], signature: &str, secret: &str) -> bool {
    let expected = sign(payload, secret);
    same(expected.as_bytes(), signature.trim().as_bytes())
}

/// Whether two secrets (signatures, token hashes) are equal, in time that does not depend on
/// where they differ: the one comparison Sellvy makes of anything secret.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// The key Standard Webhooks derives from a secret: the base64 after its prefix (`whsec_`, or
/// `dsec_` for a delivery secret made before they were `whsec_`), or the string's own bytes if
/// that is not base64.
fn standard_key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix("whsec_").or_else(|| secret.strip_prefix("dsec_")).unwrap_or(secret);
    BASE64.decode(encoded).unwrap_or_else(|_| secret.as_bytes().to_vec())
}

/// One `webhook-signature` entry (`v1,<base64>`) for message `id` sent at `timestamp`.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&standard_key(secret)).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_hmac_and_rejects_tampering() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"what do ya want for nothing?", "Jefe"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = sign(b"{\"id\":\"evt_1\"}", "whsec_x");
        assert!(verify(b"{\"id\":\"evt_1\"}", &sig, "whsec_x"));
        assert!(!verify(b"{\"id\":\"evt_2\"}", &sig, "whsec_x"));
        assert!(!verify(b"{\"id\":\"evt_1\"}", &sig, "whsec_y"));
        assert!(!verify(b"{\"id\":\"evt_1\"}", &sig[..10], "whsec_x"));
    }

    #[test]
    fn standard_webhooks_signatures_match_the_specifications_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let sig = standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // The id and the timestamp are signed: a replay with a new timestamp does not verify.
        let later = standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265331,
            br#"{"test": 2432232314}"#,
        );
        assert_ne!(sig, later);
        assert_eq!(
            standard_key("dsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        );
    }
}
