//! Seller accounts: the people who sign in to the dashboard, their sessions and the one-time
//! links that set a password. Sessions are not API keys: neither opens what the other does.

use crate::error::ValidationError;
use crate::id::{self, OwnerId, StoreId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a session lasts from sign-in.
pub const SESSION_SECS: i64 = 12 * 3600;
/// How long a link that sets a password works (once).
pub const SETUP_LINK_SECS: i64 = 24 * 3600;
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Someone who owns stores and signs in with an email and a password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    pub id: OwnerId,
    /// Lowercased.
    pub email: String,
    /// Argon2id (PHC string); none until the owner follows their setup link.
    pub password_hash: Option<String>,
    pub stores: Vec<StoreId>,
    pub created_at: Timestamp,
    /// The second factor, once set up: sign-in asks for a code after the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<SecondFactor>,
    /// A secret being set up: it becomes the second factor when a code of it is entered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_pending: Option<String>,
}

/// An owner's authenticator (RFC 6238).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondFactor {
    /// Base32, as the app was given it.
    pub secret: String,
    /// The step of the last code a sign-in used: codes of it and before are refused.
    pub last_step: Option<i64>,
}

impl Owner {
    pub fn new(email: &str, store: StoreId, now: Timestamp) -> Owner {
        Owner {
            id: OwnerId::new(),
            email: normalize_email(email),
            password_hash: None,
            stores: vec![store],
            created_at: now,
            totp: None,
            totp_pending: None,
        }
    }

    /// Whether `password` is this owner's, in the time a real check takes even without one.
    pub fn password_matches(&self, password: &str) -> bool {
        match &self.password_hash {
            Some(hash) => verify_password(hash, password),
            None => check_without_account(password),
        }
    }

    pub fn owns(&self, store: &str) -> bool {
        self.stores.iter().any(|s| s.as_str() == store)
    }
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The work of one password check when there is no account (or no password) to check against,
/// so that the time of an answer does not tell whether an email has an account. Always false.
pub fn check_without_account(password: &str) -> bool {
    let _ =
        verify_password(DUMMY_HASH.get_or_init(|| hash_password("no account has this password")), password);
    false
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// An email an operator may give an owner: one `@`, something either side, a dot in the domain.
pub fn email_ok(email: &str) -> bool {
    let e = normalize_email(email);
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && e.len() <= 254
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// A new password's rules: long enough to resist guessing, short enough to hash cheaply.
pub fn check_new_password(password: &str, again: &str) -> Result<(), ValidationError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ValidationError::one(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(ValidationError::one(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password != again {
        return Err(ValidationError::one("password_again", "does not match the password"));
    }
    Ok(())
}

/// Argon2id with the crate's default (OWASP) parameters and a random salt.
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&id::random_bytes::<16>()).expect("16 bytes make a salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password within the length rules")
        .to_string()
}

/// Checks a password against its hash (the comparison is constant-time).
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .is_ok_and(|parsed| argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// The SHA-256 of a secret: what is stored of session tokens and setup links.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A signed-in browser. The cookie holds `<owner id>.<secret>`; the table keeps the secret's
/// hash under the owner, so "sign out everywhere" removes one partition's sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub owner_id: OwnerId,
    pub token_hash: String,
    /// Every state-changing form carries it back.
    pub csrf: String,
    pub created_at: Timestamp,
    pub ends_at: Timestamp,
}

impl Session {
    /// A new session and its cookie value (shown to the browser only).
    pub fn issue(owner: &OwnerId, now: Timestamp) -> (Session, String) {
        let secret = id::random_base62(43);
        let session = Session {
            owner_id: owner.clone(),
            token_hash: secret_hash(&secret),
            csrf: id::random_base62(32),
            created_at: now,
            ends_at: now.plus_seconds(SESSION_SECS),
        };
        (session, format!("{owner}.{secret}"))
    }

    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.ends_at
    }

    /// Whether a form's token is this session's (constant-time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        crate::signature::same(self.csrf.as_bytes(), sent.as_bytes())
    }
}

/// A cookie value's owner id and token hash, when it has the shape of one.
pub fn read_session_cookie(value: &str) -> Option<(OwnerId, String)> {
    let (owner, secret) = value.split_once('.')?;
    let owner = OwnerId::parse(owner)?;
    (secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| (owner, secret_hash(secret)))
}

/// A one-time link that sets an owner's password (the first time, or after the operator
/// issues another).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupLink {
    pub token_hash: String,
    pub owner_id: OwnerId,
    pub ends_at: Timestamp,
}

impl SetupLink {
    /// A new link and its token (for the URL, shown once).
    pub fn issue(owner: &OwnerId, now: Timestamp) -> (SetupLink, String) {
        let token = id::random_base62(43);
        (
            SetupLink {
                token_hash: secret_hash(&token),
                owner_id: owner.clone(),
                ends_at: now.plus_seconds(SETUP_LINK_SECS),
            },
            token,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_argon2id_and_checked() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password("not a hash", "x"));
        let owner = Owner {
            password_hash: Some(hash),
            ..Owner::new(" Ann@Example.com ", StoreId::new(), Timestamp::now())
        };
        assert_eq!(owner.email, "ann@example.com");
        assert!(owner.password_matches("correct horse battery"));
        let unset = Owner { password_hash: None, ..owner };
        assert!(!unset.password_matches("correct horse battery"));
    }

    #[test]
    fn new_passwords_follow_the_rules() {
        assert_eq!(check_new_password("short", "short").unwrap_err().errors[0].field, "password");
        assert_eq!(
            check_new_password("long enough pass", "long enough pasS").unwrap_err().errors[0].field,
            "password_again"
        );
        assert!(check_new_password("long enough pass", "long enough pass").is_ok());
        assert!(check_new_password(&"x".repeat(257), &"x".repeat(257)).is_err());
    }

    #[test]
    fn session_cookies_name_their_owner_and_keep_only_a_hash() {
        let owner = OwnerId::new();
        let (session, cookie) = Session::issue(&owner, Timestamp::now());
        let (read_owner, hash) = read_session_cookie(&cookie).unwrap();
        assert_eq!((read_owner, hash), (owner, session.token_hash.clone()));
        assert!(!cookie.ends_with(&session.token_hash));
        assert!(read_session_cookie("own_x.abc").is_none());
        assert!(read_session_cookie(&cookie.replace('.', "")).is_none());
        assert!(session.csrf_matches(&session.csrf.clone()));
        assert!(!session.csrf_matches(""));
        assert!(session.is_live(Timestamp::now()));
        assert!(!session.is_live(Timestamp::now().plus_seconds(SESSION_SECS + 1)));
    }
}

/// Growing waits after failed sign-ins: a throttle, never a lockout. Failures older than a
/// day are forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures allowed before the first wait.
    pub free: u64,
    /// The longest wait, in seconds.
    pub max_wait_secs: i64,
}

impl Throttle {
    /// One account from one client address: guessing a password.
    pub const ACCOUNT_FROM_ADDRESS: Throttle = Throttle { free: 3, max_wait_secs: 900 };
    /// One client address, whatever the account: trying passwords across accounts.
    pub const ADDRESS: Throttle = Throttle { free: 20, max_wait_secs: 900 };
    /// One account, from anywhere: a guesser with many addresses. Short waits, so that a
    /// stranger cannot keep the owner out.
    pub const ACCOUNT: Throttle = Throttle { free: 100, max_wait_secs: 60 };

    /// How long after its last failure a subject with `failures` must wait: 1, 2, 4, … seconds
    /// once past the free ones, up to the cap.
    pub fn wait_secs(self, failures: u64) -> i64 {
        match failures.checked_sub(self.free) {
            None => 0,
            Some(over) => 1i64.checked_shl(over.min(62) as u32).unwrap_or(i64::MAX).min(self.max_wait_secs),
        }
    }
}

/// Failures older than this are forgotten.
pub const FAILURES_KEPT_SECS: i64 = 24 * 3600;

/// The subjects a sign-in attempt is throttled by, with their rules.
pub fn sign_in_subjects(email: &str, address: &str) -> [(String, Throttle); 3] {
    let email = normalize_email(email);
    [
        (format!("PAIR#{email}#{address}"), Throttle::ACCOUNT_FROM_ADDRESS),
        (format!("ADDR#{address}"), Throttle::ADDRESS),
        (format!("ACCT#{email}"), Throttle::ACCOUNT),
    ]
}

#[cfg(test)]
mod throttle_tests {
    use super::*;

    #[test]
    fn waits_grow_and_stop_growing() {
        let t = Throttle::ACCOUNT_FROM_ADDRESS;
        let waits: Vec<_> = (0..8).map(|f| t.wait_secs(f)).collect();
        assert_eq!(waits, [0, 0, 0, 1, 2, 4, 8, 16]);
        assert_eq!(t.wait_secs(30), 900);
        assert_eq!(t.wait_secs(u64::MAX), 900);
        assert_eq!(Throttle::ACCOUNT.wait_secs(10_000), 60, "a stranger cannot keep an owner out long");
    }
}
