//! Who is signed in: the session cookie, read into its owner and session (two strongly
//! consistent reads), and what a page's path names (a store the owner has, and a mode).

use crate::pages;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use sellvy_app::AppState;
use sellvy_models::account::{Owner, SESSION_SECS, Session, read_session_cookie, sign_in_subjects};
use sellvy_models::apikey::Store;
use sellvy_models::{Mode, Tenant, totp};

pub const COOKIE: &str = "sellvy_session";

/// The `Set-Cookie` that signs a browser in: unreadable by scripts, sent on same-site
/// navigation only, and only over https (browsers treat `localhost` as secure).
pub fn set_cookie(value: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/dashboard; HttpOnly; Secure; SameSite=Lax; Max-Age={SESSION_SECS}"
    ))
    .expect("a cookie of base62 characters")
}

/// Starts a session for `owner` and sends the browser to `to` with its cookie; with `alone`,
/// every other session of the owner ends first (a new password, a second factor turned on).
pub async fn start(
    state: &AppState,
    owner: &sellvy_models::id::OwnerId,
    to: &str,
    alone: bool,
) -> Result<Response, Refusal> {
    if alone {
        state.db.delete_sessions(owner).await?;
    }
    let (session, cookie) = Session::issue(owner, state.config.clock.now());
    state.db.put_session(&session).await?;
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&cookie));
    Ok(resp)
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("sellvy_session=; Path=/dashboard; HttpOnly; Secure; SameSite=Lax; Max-Age=0")
}

/// The session cookie's value, if the request carries one.
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('=')))
}

/// A signed-in owner and their session.
pub struct SignedIn {
    pub owner: Owner,
    pub session: Session,
}

/// Why a page is not shown.
pub enum Refusal {
    /// No session (or an ended one): to the sign-in page.
    SignIn,
    NotFound,
    Failed(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignIn => Redirect::to("/dashboard/sign-in").into_response(),
            Refusal::NotFound => pages::not_found(),
            Refusal::Failed(detail) => {
                tracing::error!(%detail, "dashboard failed");
                pages::failed()
            }
        }
    }
}

/// An application refusal that is not the form's to show: "not found" stays that, anything
/// else is ours to fix.
impl From<sellvy_app::AppError> for Refusal {
    fn from(e: sellvy_app::AppError) -> Refusal {
        match e {
            sellvy_app::AppError::NotFound(_) => Refusal::NotFound,
            other => Refusal::Failed(other.to_string()),
        }
    }
}

impl From<sellvy_store::StoreError> for Refusal {
    fn from(e: sellvy_store::StoreError) -> Refusal {
        Refusal::Failed(e.to_string())
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let (owner_id, hash) = cookie(&parts.headers).and_then(read_session_cookie).ok_or(Refusal::SignIn)?;
        let session =
            state.db.session(&owner_id, &hash, state.config.clock.now()).await?.ok_or(Refusal::SignIn)?;
        let owner = state.db.owner(&owner_id).await?.ok_or(Refusal::SignIn)?;
        Ok(SignedIn { owner, session })
    }
}

/// The dashboard's sections: switching modes stays in the section (a delivery's page goes to
/// the other mode's log, as the delivery is not there).
const SECTIONS: [&str; 6] = [
    "/reviews",
    "/subscriptions",
    "/settings/store",
    "/settings/integrations/api-keys",
    "/settings/integrations/webhooks",
    "/settings/integrations/webhook-logs",
];

/// What a form offers as proof that the owner is at the keyboard.
#[derive(Clone, Copy)]
pub enum Proof<'a> {
    Password(&'a str),
    /// The password, or a current code of the second factor when it is on.
    PasswordOrCode(&'a str),
    Code(&'a str),
}

impl SignedIn {
    /// Checks a proof: `None` when it holds, else what to say. Each try is counted as a
    /// sign-in attempt of the owner from `address` before anything is checked (and forgotten
    /// when it succeeds), so a stolen session cannot guess the password or a code faster than
    /// the sign-in page allows, even with requests sent in parallel. A code works once.
    pub async fn prove(
        &self,
        state: &AppState,
        address: &str,
        proof: Proof<'_>,
    ) -> Result<Option<String>, Refusal> {
        let now = state.config.clock.now();
        let subjects = sign_in_subjects(&self.owner.email, address);
        if let Err(wait) = state.db.sign_in_attempt(&subjects, now).await? {
            return Ok(Some(format!("was tried wrong too many times: try again in {wait} seconds")));
        }
        let (text, password, code) = match proof {
            Proof::Password(t) => (t, true, false),
            Proof::PasswordOrCode(t) => (t, true, self.owner.totp.is_some()),
            Proof::Code(t) => (t, false, true),
        };
        let mut good = password && self.owner.password_matches(text);
        if !good
            && code
            && let Some(f) = &self.owner.totp
            && let Some(step) = totp::verify(&f.secret, text, now, f.last_step)
        {
            good = state.db.use_second_factor_step(&self.owner.id, step).await?;
        }
        if good {
            state.db.sign_in_succeeded(&subjects).await?;
            return Ok(None);
        }
        state.db.sign_in_failed_address(&subjects, now).await?;
        Ok(Some(
            match (password, code) {
                (true, true) => "is neither your password nor a current code",
                (true, false) => "is not your password",
                (false, _) => "is not the app's current code (or was used already)",
            }
            .into(),
        ))
    }
}

/// A page of one store and mode (`/dashboard/{store}/{mode}/…`) the signed-in owner has.
pub struct StorePage {
    pub me: SignedIn,
    pub store: Store,
    pub tenant: Tenant,
    /// The page's section after the mode (`/settings/integrations/webhooks`), so the mode
    /// switch stays on it.
    pub section: String,
}

impl FromRequestParts<AppState> for StorePage {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let me = SignedIn::from_request_parts(parts, state).await?;
        let Path(params): Path<std::collections::HashMap<String, String>> =
            Path::from_request_parts(parts, state).await.map_err(|_| Refusal::NotFound)?;
        let (Some(store_id), Some(mode)) = (params.get("store"), params.get("mode")) else {
            return Err(Refusal::NotFound);
        };
        let mode = match mode.as_str() {
            "test" => Mode::Test,
            "live" => Mode::Live,
            _ => return Err(Refusal::NotFound),
        };
        // Another owner's store is "not found", as a store that does not exist.
        if !me.owner.owns(store_id) {
            return Err(Refusal::NotFound);
        }
        let store = state.db.get_store(store_id).await?.ok_or(Refusal::NotFound)?;
        let tenant = Tenant { store_id: store.id.clone(), mode };
        let section =
            SECTIONS.iter().find(|section| parts.uri.path().contains(*section)).copied().unwrap_or_default();
        Ok(StorePage { me, store, tenant, section: section.into() })
    }
}

impl StorePage {
    pub fn section(&self) -> &str {
        &self.section
    }

    /// A time as the dashboard shows it, in the store's time zone: `2026-11-30 12:09:05 CET`.
    pub fn when(&self, t: sellvy_models::time::Timestamp) -> String {
        let zone = sellvy_models::store::time_zone(&self.store.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        match jiff::Timestamp::from_millisecond(t.millis()) {
            Ok(at) => at.to_zoned(zone).strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
            Err(_) => t.to_rfc3339(),
        }
    }

    /// `/dashboard/{store}/{mode}` and `rest`.
    pub fn link(&self, rest: &str) -> String {
        format!("/dashboard/{}/{}{rest}", self.store.id, self.tenant.mode.as_str())
    }
}

/// The client's address (API Gateway's `sourceIp`, the socket's peer locally), for the sign-in
/// throttle.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(sellvy_api::storefront::client_address(parts)))
    }
}
