//! The sellers' dashboard under `/dashboard`: sign-in with a password (sessions, not API keys),
//! and for each store and mode a home page (the last 30 days, the latest orders, failed
//! webhooks), Settings → Store, and Settings → Integrations (API Keys, Webhooks, Webhook Logs). It calls the application and
//! store code directly, never Sellvy's own HTTP API.

pub mod account;
pub mod home;
pub mod pages;
pub mod reviews;
pub mod session;
pub mod settings;
pub mod subscriptions;
pub mod webhook_logs;
pub mod webhooks;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use pages::KeyForm;
use sellvy_app::AppState;
use sellvy_models::Mode;
use sellvy_models::account::{
    check_new_password, check_without_account, email_ok, hash_password, secret_hash, sign_in_subjects,
};
use sellvy_models::apikey::{ApiKey, MAX_KEYS, NewApiKey};
use sellvy_models::totp;
use serde::Deserialize;
use session::{ClientAddress, Proof, Refusal, SignedIn, StorePage};

/// Form bodies: the largest is the store settings' (500 blocked addresses, 250 countries, 20
/// origins), well under this.
const FORM_LIMIT: usize = 128 * 1024;

/// The dashboard's routes (full paths), for its Lambda and the local gateway alike.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/dashboard", get(home))
        .route("/dashboard/sign-in", get(sign_in_page).post(sign_in))
        .route("/dashboard/sign-in/code", post(sign_in_code))
        .route("/dashboard/account", get(account::page))
        .route("/dashboard/account/password", post(account::change_password))
        .route("/dashboard/account/totp/start", post(account::start_second_factor))
        .route("/dashboard/account/totp/confirm", post(account::confirm_second_factor))
        .route("/dashboard/account/totp/disable", post(account::disable_second_factor))
        .route("/dashboard/setup/{token}", get(setup_page).post(setup))
        .route("/dashboard/sign-out", post(sign_out))
        .route("/dashboard/sign-out-everywhere", post(sign_out_everywhere))
        .route("/dashboard/switch", get(switch))
        .route("/dashboard/{store}/{mode}", get(home::page))
        .route("/dashboard/{store}/{mode}/settings/integrations/api-keys", get(api_keys).post(create_key))
        .route("/dashboard/{store}/{mode}/settings/integrations/api-keys/{key}/revoke", post(revoke_key))
        .route(
            "/dashboard/{store}/{mode}/settings/integrations/webhooks",
            get(webhooks::page).post(webhooks::create),
        )
        .route(
            "/dashboard/{store}/{mode}/settings/integrations/webhooks/{endpoint}/{action}",
            post(webhooks::act),
        )
        .route("/dashboard/{store}/{mode}/settings/store", get(settings::page).post(settings::save))
        .route("/dashboard/{store}/{mode}/reviews", get(reviews::page))
        .route("/dashboard/{store}/{mode}/reviews/{review}/{action}", post(reviews::act))
        .route("/dashboard/{store}/{mode}/subscriptions", get(subscriptions::page))
        .route("/dashboard/{store}/{mode}/subscriptions/{subscription}/cancel", post(subscriptions::cancel))
        .route("/dashboard/{store}/{mode}/settings/integrations/webhook-logs", get(webhook_logs::page))
        .route(
            "/dashboard/{store}/{mode}/settings/integrations/webhook-logs/retry-failed",
            post(webhook_logs::retry_failed),
        )
        .route(
            "/dashboard/{store}/{mode}/settings/integrations/webhook-logs/{delivery}",
            get(webhook_logs::delivery),
        )
        .route(
            "/dashboard/{store}/{mode}/settings/integrations/webhook-logs/{delivery}/retry",
            post(webhook_logs::retry),
        )
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| pages::failed()))
        .with_state(state)
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

async fn home(me: SignedIn) -> Response {
    match me.owner.stores.first() {
        Some(store) => see_other(&format!("/dashboard/{store}/test")),
        None => pages::not_found(),
    }
}

#[derive(Deserialize)]
struct SwitchTo {
    store: String,
}

async fn switch(me: SignedIn, Query(to): Query<SwitchTo>) -> Response {
    if !me.owner.owns(&to.store) {
        return pages::not_found();
    }
    see_other(&format!("/dashboard/{}/test", to.store))
}

async fn sign_in_page() -> Response {
    pages::sign_in(StatusCode::OK, "", None)
}

#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Form(c): Form<Credentials>,
) -> Result<Response, Refusal> {
    const WRONG: &str = "That email and password do not match an account.";
    let now = state.config.clock.now();
    // Not an email (however long) looks up nothing: the same answer as a wrong password.
    let email_fits = email_ok(&c.email);
    let subjects = sign_in_subjects(if email_fits { &c.email } else { "-" }, &address);
    // Growing waits after failures, checked (and this attempt counted) before any password
    // work.
    if let Err(wait) = state.db.sign_in_attempt(&subjects, now).await? {
        return Ok(pages::sign_in_throttled(&c.email, wait));
    }
    let owner = match email_fits {
        true => state.db.owner_by_email(&c.email).await?,
        false => None,
    };
    // One password check whether or not the account exists, so timing does not tell.
    let matches = match &owner {
        Some(o) => o.password_matches(&c.password),
        None => check_without_account(&c.password),
    };
    match owner {
        // With a second factor, the password only opens the code's step; the attempt stays
        // counted against the account until a code succeeds, so every challenge costs a
        // guesser a step.
        Some(o) if matches && o.totp.is_some() => {
            state.db.sign_in_password_right(&subjects).await?;
            let token = sellvy_models::id::random_base62(43);
            let ends_at = now.plus_seconds(CHALLENGE_SECS);
            state.db.put_sign_in_challenge(&secret_hash(&token), &o.id, ends_at).await?;
            Ok(pages::sign_in_code(StatusCode::OK, &token, None))
        }
        Some(o) if matches => {
            state.db.sign_in_succeeded(&subjects).await?;
            signed_in(&state, &o.id).await
        }
        _ => {
            state.db.sign_in_failed_address(&subjects, now).await?;
            Ok(pages::sign_in(StatusCode::UNAUTHORIZED, &c.email, Some(WRONG)))
        }
    }
}

/// How long the code's step of a sign-in waits, and the wrong codes it takes.
const CHALLENGE_SECS: i64 = 300;
const CHALLENGE_FAILURES: i64 = 5;

#[derive(Deserialize)]
struct Code {
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    code: String,
}

/// The second step of a sign-in with a second factor: a current code, used once.
async fn sign_in_code(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Form(c): Form<Code>,
) -> Result<Response, Refusal> {
    const EXPIRED: &str = "That sign-in expired or had too many wrong codes: enter your password again.";
    let now = state.config.clock.now();
    let challenge = secret_hash(&c.challenge);
    let owner = match state.db.sign_in_challenge(&challenge, now, CHALLENGE_FAILURES).await? {
        Some(id) => state.db.owner(&id).await?,
        None => None,
    };
    let Some(owner) = owner.filter(|o| o.totp.is_some()) else {
        return Ok(pages::sign_in(StatusCode::UNAUTHORIZED, "", Some(EXPIRED)));
    };
    // Wrong codes count as failed sign-ins: the same growing waits, each attempt counted
    // before the code is checked, and a slot of the challenge's 5 taken first.
    let subjects = sign_in_subjects(&owner.email, &address);
    if let Err(wait) = state.db.sign_in_attempt(&subjects, now).await? {
        return Ok(pages::sign_in_throttled(&owner.email, wait));
    }
    if !state.db.sign_in_challenge_try(&challenge, now, CHALLENGE_FAILURES).await? {
        return Ok(pages::sign_in(StatusCode::UNAUTHORIZED, "", Some(EXPIRED)));
    }
    let step = owner.totp.as_ref().and_then(|f| totp::verify(&f.secret, &c.code, now, f.last_step));
    let used = match step {
        Some(step) => state.db.use_second_factor_step(&owner.id, step).await?,
        None => false,
    };
    if !used {
        state.db.sign_in_failed_address(&subjects, now).await?;
        return Ok(pages::sign_in_code(
            StatusCode::UNAUTHORIZED,
            &c.challenge,
            Some("That code is not right (or was used already): enter the app's current code."),
        ));
    }
    state.db.end_sign_in_challenge(&challenge).await?;
    state.db.sign_in_succeeded(&subjects).await?;
    signed_in(&state, &owner.id).await
}

/// Starts a session and sends the browser home with its cookie.
async fn signed_in(state: &AppState, owner: &sellvy_models::id::OwnerId) -> Result<Response, Refusal> {
    session::start(state, owner, "/dashboard", false).await
}

async fn setup_page(Path(token): Path<String>) -> Response {
    pages::setup(StatusCode::OK, &format!("/dashboard/setup/{token}"), &[])
}

#[derive(Deserialize)]
struct NewPassword {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

async fn setup(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(f): Form<NewPassword>,
) -> Result<Response, Refusal> {
    if let Err(e) = check_new_password(&f.password, &f.password_again) {
        let errors: Vec<_> = e.errors.into_iter().map(|e| (e.field, e.message)).collect();
        return Ok(pages::setup(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("/dashboard/setup/{token}"),
            &errors,
        ));
    }
    // The link works once: taken before the password is set.
    let Some(owner) = state.db.take_setup_link(&secret_hash(&token), state.config.clock.now()).await? else {
        return Ok(pages::link_used());
    };
    state.db.set_password(&owner, &hash_password(&f.password)).await?;
    // The operator's link is also the way back in for an owner who lost their authenticator:
    // it turns the second factor off (the owner may set it up again).
    state.db.disable_second_factor(&owner).await?;
    // A new password ends the sessions the old one opened.
    session::start(&state, &owner, "/dashboard", true).await
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
    State(state): State<AppState>,
    me: SignedIn,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, Refusal> {
    if !me.session.csrf_matches(&f.csrf) {
        return Ok(pages::stale_form());
    }
    state.db.delete_session(&me.owner.id, &me.session.token_hash).await?;
    Ok(signed_out())
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    me: SignedIn,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, Refusal> {
    if !me.session.csrf_matches(&f.csrf) {
        return Ok(pages::stale_form());
    }
    state.db.delete_sessions(&me.owner.id).await?;
    Ok(signed_out())
}

fn signed_out() -> Response {
    let mut resp = see_other("/dashboard/sign-in");
    resp.headers_mut().insert(header::SET_COOKIE, session::clear_cookie());
    resp
}

async fn key_list(
    state: &AppState,
    p: &StorePage,
) -> Result<Vec<sellvy_models::wire::ApiKeyObject>, Refusal> {
    Ok(state.db.list_keys(&p.tenant).await?.iter().map(ApiKey::to_object).collect())
}

async fn api_keys(State(state): State<AppState>, p: StorePage) -> Result<Response, Refusal> {
    let keys = key_list(&state, &p).await?;
    Ok(pages::api_keys(&p, &keys, KeyForm::default(), StatusCode::OK))
}

#[derive(Deserialize)]
struct NewKeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    access: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    nonce: String,
}

async fn create_key(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    p: StorePage,
    Form(f): Form<NewKeyForm>,
) -> Result<Response, Refusal> {
    if !p.me.session.csrf_matches(&f.csrf) {
        return Ok(pages::stale_form());
    }
    // The API's own rules for a new key, so the dashboard and `POST /v1/api_keys` agree.
    let body = match f.access.as_str() {
        "publishable" => serde_json::json!({"name": f.name, "type": "publishable"}),
        access => serde_json::json!({"name": f.name, "permissions": access}),
    };
    let parsed = NewApiKey::parse(body);
    let mut errors: Vec<(String, String)> = match &parsed {
        Ok(_) => Vec::new(),
        Err(e) => e
            .errors
            .iter()
            .map(|e| {
                (if e.field == "permissions" { "access".into() } else { e.field.clone() }, e.message.clone())
            })
            .collect(),
    };
    // A live key asks for the password again.
    if p.tenant.mode == Mode::Live
        && let Some(wrong) = p.me.prove(&state, &address, Proof::PasswordOrCode(&f.password)).await?
    {
        errors.push(("password".into(), wrong));
    }
    let new = match parsed {
        Ok(new) if errors.is_empty() => new,
        _ => {
            let keys = key_list(&state, &p).await?;
            let form = KeyForm { errors, name: f.name, ..KeyForm::default() };
            return Ok(pages::api_keys(&p, &keys, form, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    if f.nonce.len() < 16 || !state.db.claim_form(&f.nonce, state.config.clock.now()).await? {
        let keys = key_list(&state, &p).await?;
        return Ok(pages::api_keys(
            &p,
            &keys,
            KeyForm { resent: true, ..KeyForm::default() },
            StatusCode::CONFLICT,
        ));
    }
    let (key, secret) = ApiKey::issue(&p.tenant, &new.name, new.kind, new.permissions, p.store.rate_limit);
    match state.db.create_key(&key, MAX_KEYS).await {
        Ok(()) => {}
        Err(sellvy_store::StoreError::Rejected { message, .. }) => {
            let keys = key_list(&state, &p).await?;
            let form = KeyForm { errors: vec![("keys".into(), message)], name: f.name, ..KeyForm::default() };
            return Ok(pages::api_keys(&p, &keys, form, StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(e) => return Err(e.into()),
    }
    let keys = key_list(&state, &p).await?;
    // The only time the secret is shown.
    let form =
        KeyForm { created: Some((key.name.clone(), secret.expose().to_string())), ..KeyForm::default() };
    Ok(pages::api_keys(&p, &keys, form, StatusCode::CREATED))
}

async fn revoke_key(
    State(state): State<AppState>,
    p: StorePage,
    Path(params): Path<std::collections::HashMap<String, String>>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, Refusal> {
    if !p.me.session.csrf_matches(&f.csrf) {
        return Ok(pages::stale_form());
    }
    let Some(id) = params.get("key").and_then(|k| sellvy_models::id::ApiKeyId::parse(k)) else {
        return Err(Refusal::NotFound);
    };
    if !state.db.delete_key(&p.tenant, &id).await? {
        return Err(Refusal::NotFound);
    }
    Ok(see_other(&p.link("/settings/integrations/api-keys")))
}
