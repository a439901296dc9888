//! Prefixed, unguessable, time-sortable ids: `prod_` + 9 base62 chars of milliseconds since the
//! epoch + 17 base62 chars of 96 random bits. Fixed width in an ASCII-ordered alphabet, so the
//! string order is the creation order (they serve as DynamoDB sort keys).

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TIME_CHARS: usize = 9;
const RANDOM_CHARS: usize = 17;
pub const ID_BODY_LEN: usize = TIME_CHARS + RANDOM_CHARS;

fn push_base62(out: &mut String, mut n: u128, width: usize) {
    let mut buf = vec![b'0'; width];
    for slot in buf.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out.push_str(std::str::from_utf8(&buf).expect("alphabet is ASCII"));
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b
}

/// `len` random base62 characters (each carries log2(62) = 5.95 bits).
pub fn random_base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>() {
            // 248 = 4 * 62: rejecting 248..=255 keeps every character equally likely.
            if b < 248 && out.len() < len {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// A new id with the given prefix (which includes the underscore, e.g. `"prod_"`).
pub fn new_id(prefix: &str) -> String {
    let ms = crate::time::Timestamp::now().millis().max(0) as u128;
    let mut r = [0u8; 16];
    r[4..].copy_from_slice(&random_bytes::<12>());
    let mut out = String::with_capacity(prefix.len() + ID_BODY_LEN);
    out.push_str(prefix);
    push_base62(&mut out, ms, TIME_CHARS);
    push_base62(&mut out, u128::from_be_bytes(r), RANDOM_CHARS);
    out
}

/// An id derived from `seed` (itself unguessable, e.g. other ids), time-sortable by `ms`: the
/// same inputs always give the same id, which makes a repeated write find what the first made.
pub fn derived_id(prefix: &str, ms: i64, seed: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed);
    let mut r = [0u8; 16];
    r[4..].copy_from_slice(&digest[..12]);
    let mut out = String::with_capacity(prefix.len() + ID_BODY_LEN);
    out.push_str(prefix);
    push_base62(&mut out, ms.max(0) as u128, TIME_CHARS);
    push_base62(&mut out, u128::from_be_bytes(r), RANDOM_CHARS);
    out
}

/// Whether `s` has the shape of an id with this prefix. Cheap check before any lookup, so a
/// malformed id answers 404 without touching the database.
pub fn looks_like(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|b| b.len() == ID_BODY_LEN && b.bytes().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_unique_and_time_ordered() {
        let a = new_id("prod_");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("prod_");
        assert!(looks_like("prod_", &a) && looks_like("prod_", &b));
        assert!(a < b, "{a} should sort before {b}");
        assert!(!looks_like("cat_", &a));
        assert!(!looks_like("prod_", "prod_abc"));
        let many: std::collections::HashSet<_> = (0..1000).map(|_| new_id("x_")).collect();
        assert_eq!(many.len(), 1000);
    }

    #[test]
    fn random_base62_has_the_asked_length() {
        let s = random_base62(40);
        assert_eq!(s.len(), 40);
        assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
