//! Webhook signatures, exactly as the seed's verification code expects them:
//! `X-Sellvy-Signature` = lowercase hex HMAC-SHA256 of the raw body, keyed with the endpoint's
//! secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The signature of `payload` under `secret`.
pub fn sign(payload: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(payload);
    crate::apikey::hex(&mac.finalize().into_bytes())
}

/// Whether `signature` is `payload`'s signature under `secret` (constant-time comparison).
pub fn verify(payload: &[u8], signature: &str, secret: &str) -> bool {
    let expected = sign(payload, secret);
    let (a, b) = (expected.as_bytes(), signature.trim().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
}
