//! Time-based one-time codes (RFC 6238, as authenticator apps make them): HMAC-SHA1 of the
//! 30-second step, 6 digits, a 160-bit secret shown in base32. A code is accepted for the step
//! before and after the current one (clocks drift), and never for a step at or before the last
//! one used (a code seen over a shoulder cannot be used twice).

use crate::time::Timestamp;
use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Steps either side of now a code may come from.
const DRIFT: i64 = 1;

/// A new random secret, base32 without padding (32 characters).
pub fn new_secret() -> String {
    data_encoding::BASE32_NOPAD.encode(&crate::id::random_bytes::<20>())
}

fn secret_bytes(secret: &str) -> Option<Vec<u8>> {
    let cleaned: String =
        secret.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    data_encoding::BASE32_NOPAD.decode(cleaned.trim_end_matches('=').as_bytes()).ok()
}

/// The step of an instant.
pub fn step_at(now: Timestamp) -> i64 {
    now.seconds().div_euclid(STEP_SECS)
}

/// The code of `step` with `digits` digits (RFC 4226's dynamic truncation).
fn code_with(key: &[u8], step: i64, digits: u32) -> String {
    let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(&(step as u64).to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[hash.len() - 1] & 0x0f) as usize;
    let binary =
        u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
    format!("{:0width$}", binary % 10u32.pow(digits), width = digits as usize)
}

/// The 6-digit code of `secret` at `step` (`None` for a secret that is not base32).
pub fn code_at(secret: &str, step: i64) -> Option<String> {
    Some(code_with(&secret_bytes(secret)?, step, DIGITS))
}

/// The step `code` belongs to, if it is a current code of `secret` for a step after
/// `last_used` (`None` when nothing was used yet).
pub fn verify(secret: &str, code: &str, now: Timestamp, last_used: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = secret_bytes(secret)?;
    let now = step_at(now);
    // Every step of the window is computed and compared, so the time taken does not say which.
    let mut found = None;
    for step in now - DRIFT..=now + DRIFT {
        let matches: bool = code_with(&key, step, DIGITS).as_bytes().ct_eq(code.as_bytes()).into();
        if matches && last_used.is_none_or(|last| step > last) {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` link authenticator apps read (typed in, or from a QR code of it).
pub fn otpauth_uri(secret: &str, account: &str) -> String {
    let label: String = format!("Sellvy:{account}")
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'@' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer=Sellvy&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890", 8 digits.
    #[test]
    fn the_rfcs_test_vectors() {
        let key = b"12345678901234567890";
        for (t, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_with(key, t / STEP_SECS, 8), expected, "T = {t}");
        }
        let secret = data_encoding::BASE32_NOPAD.encode(key);
        assert_eq!(code_at(&secret, 59 / STEP_SECS).unwrap(), "287082", "6 digits are the last 6");
    }

    #[test]
    fn a_code_is_good_for_its_step_and_the_next_and_once() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let now = Timestamp::from_millis(1_800_000_000_000);
        let step = step_at(now);
        let code = code_at(&secret, step).unwrap();
        assert_eq!(verify(&secret, &code, now, None), Some(step));
        assert_eq!(
            verify(&secret, &format!("{} {}", &code[..3], &code[3..]), now, None),
            Some(step),
            "spaces are ignored"
        );
        let late = now.plus_seconds(STEP_SECS);
        assert_eq!(verify(&secret, &code, late, None), Some(step), "a step of drift");
        assert_eq!(verify(&secret, &code, now.plus_seconds(3 * STEP_SECS), None), None, "too old");
        assert_eq!(verify(&secret, &code, now, Some(step)), None, "used once already");
        assert_eq!(verify(&secret, "12345", now, None), None);
        assert_eq!(verify(&secret, "abcdef", now, None), None);
        assert_eq!(verify("not base32!", &code, now, None), None);
        assert!(
            otpauth_uri(&secret, "ann@example.com")
                .starts_with("otpauth://totp/Sellvy:ann@example.com?secret=")
        );
    }
}
