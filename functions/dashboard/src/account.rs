//! The owner's own account (`/dashboard/account`): a new password (which ends every other
//! session), and the optional second factor (an authenticator app, RFC 6238): set up by
//! entering a code of the new secret, turned off with the password and a code. With it on,
//! sign-in asks for a code after the password (`/dashboard/sign-in/code`).

use crate::pages::{self, Errors};
use crate::session::{self, ClientAddress, Proof, Refusal, SignedIn};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sellvy_app::AppState;
use sellvy_models::account::{SecondFactor, check_new_password, hash_password};
use sellvy_models::totp;
use serde::Deserialize;
use std::collections::HashMap;

const PATH: &str = "/dashboard/account";

/// What the page shows besides the forms.
#[derive(Default)]
pub struct Shown {
    pub notice: Option<String>,
    pub errors: Errors,
    /// A secret being set up: shown with its link and the form that confirms it.
    pub setting_up: Option<String>,
}

type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map_or("", String::as_str)
}

#[derive(Deserialize)]
pub struct Said {
    #[serde(default)]
    done: Option<String>,
}

pub async fn page(me: SignedIn, Query(q): Query<Said>) -> Response {
    let notice = match q.done.as_deref() {
        Some("password") => Some("Your password was changed; your other sessions were signed out.".into()),
        Some("totp-on") => Some(
            "Two-factor authentication is on: sign-in now asks for a code; your other sessions were signed out.".into(),
        ),
        Some("totp-off") => Some("Two-factor authentication is off.".into()),
        _ => None,
    };
    render(&me, Shown { notice, ..Shown::default() }, StatusCode::OK)
}

/// The account page saying what was done.
fn done_path(what: &str) -> String {
    format!("{PATH}?done={what}")
}

pub async fn change_password(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    me: SignedIn,
    Form(f): Form<Fields>,
) -> Result<Response, Refusal> {
    if !me.session.csrf_matches(field(&f, "csrf")) {
        return Ok(pages::stale_form());
    }
    let mut errors: Errors = Vec::new();
    if let Err(e) = check_new_password(field(&f, "password"), field(&f, "password_again")) {
        errors.extend(e.errors.into_iter().map(|e| (e.field, e.message)));
    }
    if let Some(wrong) = me.prove(&state, &address, Proof::Password(field(&f, "current_password"))).await? {
        errors.insert(0, ("current_password".into(), wrong));
    }
    if !errors.is_empty() {
        return Ok(render(&me, Shown { errors, ..Shown::default() }, StatusCode::UNPROCESSABLE_ENTITY));
    }
    state.db.set_password(&me.owner.id, &hash_password(field(&f, "password"))).await?;
    // Every session the old password opened ends; this browser gets a new one.
    session::start(&state, &me.owner.id, &done_path("password"), true).await
}

pub async fn start_second_factor(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    me: SignedIn,
    Form(f): Form<Fields>,
) -> Result<Response, Refusal> {
    if !me.session.csrf_matches(field(&f, "csrf")) {
        return Ok(pages::stale_form());
    }
    if me.owner.totp.is_some() {
        let errors = vec![(
            "totp_password".into(),
            "is not asked: two-factor authentication is on already (turn it off first to change the app)"
                .into(),
        )];
        return Ok(render(&me, Shown { errors, ..Shown::default() }, StatusCode::CONFLICT));
    }
    if let Some(wrong) = me.prove(&state, &address, Proof::Password(field(&f, "password"))).await? {
        let errors = vec![("totp_password".into(), wrong)];
        return Ok(render(&me, Shown { errors, ..Shown::default() }, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let secret = totp::new_secret();
    state.db.set_pending_second_factor(&me.owner.id, &secret).await?;
    Ok(render(&me, Shown { setting_up: Some(secret), ..Shown::default() }, StatusCode::OK))
}

pub async fn confirm_second_factor(
    State(state): State<AppState>,
    me: SignedIn,
    Form(f): Form<Fields>,
) -> Result<Response, Refusal> {
    if !me.session.csrf_matches(field(&f, "csrf")) {
        return Ok(pages::stale_form());
    }
    let pending = me.owner.totp_pending.clone().filter(|_| me.owner.totp.is_none());
    let Some(secret) = pending else {
        let errors = vec![("code".into(), "has no setup to confirm: start again".into())];
        return Ok(render(&me, Shown { errors, ..Shown::default() }, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let Some(step) = totp::verify(&secret, field(&f, "code"), state.config.clock.now(), None) else {
        let errors = vec![(
            "code".into(),
            "is not the app's current code: check the app's clock and try again".into(),
        )];
        let shown = Shown { errors, setting_up: Some(secret), ..Shown::default() };
        return Ok(render(&me, shown, StatusCode::UNPROCESSABLE_ENTITY));
    };
    match state.db.enable_second_factor(&me.owner.id, &SecondFactor { secret, last_step: Some(step) }).await {
        // Sessions opened without the factor end; this browser gets a new one.
        Ok(()) => session::start(&state, &me.owner.id, &done_path("totp-on"), true).await,
        Err(sellvy_store::StoreError::Conflict) => {
            let errors =
                vec![("code".into(), "belongs to a setup started again elsewhere: start again".into())];
            Ok(render(&me, Shown { errors, ..Shown::default() }, StatusCode::CONFLICT))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn disable_second_factor(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    me: SignedIn,
    Form(f): Form<Fields>,
) -> Result<Response, Refusal> {
    if !me.session.csrf_matches(field(&f, "csrf")) {
        return Ok(pages::stale_form());
    }
    // Both proofs, each counted as an attempt (a wrong code costs as a wrong password does).
    let mut errors: Errors = Vec::new();
    if let Some(wrong) = me.prove(&state, &address, Proof::Password(field(&f, "password"))).await? {
        errors.push(("off_password".into(), wrong));
    } else if let Some(wrong) = me.prove(&state, &address, Proof::Code(field(&f, "code"))).await? {
        errors.push(("off_code".into(), wrong));
    }
    if !errors.is_empty() {
        return Ok(render(&me, Shown { errors, ..Shown::default() }, StatusCode::UNPROCESSABLE_ENTITY));
    }
    state.db.disable_second_factor(&me.owner.id).await?;
    Ok(Redirect::to(&done_path("totp-off")).into_response())
}

fn render(me: &SignedIn, shown: Shown, status: StatusCode) -> Response {
    let error = |f: &str| shown.errors.iter().find(|(k, _)| k == f).map(|(_, m)| m.clone());
    let csrf = &me.session.csrf;
    let message = |id: &str, label: &str| -> Markup {
        html! { @if let Some(m) = error(id) { p class="error" id={(id) "-error"} { (label) " " (m) } } }
    };
    let body = html! {
        header {
            span class="store" { "Your account" }
            a href="/dashboard" { "Back to the dashboard" }
            form method="post" action="/dashboard/sign-out" {
                input type="hidden" name="csrf" value=(csrf);
                button class="secondary" { "Sign out" }
            }
        }
        main {
            h1 { "Your account" }
            p { "Signed in as " strong { (me.owner.email) } "." }
            @if let Some(n) = &shown.notice { div class="notice" role="status" { p { (n) } } }
            form class="card" method="post" action={(PATH) "/password"} {
                h2 { "Change your password" }
                input type="hidden" name="csrf" value=(csrf);
                label for="current_password" { "Current password" }
                input id="current_password" name="current_password" type="password" autocomplete="current-password" required;
                (message("current_password", "Current password"))
                label for="password" { "New password (at least 12 characters)" }
                input id="password" name="password" type="password" autocomplete="new-password" required;
                (message("password", "New password"))
                label for="password_again" { "The new password again" }
                input id="password_again" name="password_again" type="password" autocomplete="new-password" required;
                (message("password_again", "It"))
                p { "Your other sessions are signed out." }
                p { button { "Change password" } }
            }
            section class="card" aria-labelledby="two-factor" {
                h2 id="two-factor" { "Two-factor authentication" }
                @if let Some(secret) = &shown.setting_up {
                    p { "Add this key to your authenticator app (it takes the key typed in, or the link), then enter the code it shows." }
                    code class="secret" id="totp-secret" { (secret) }
                    button type="button" data-copy="totp-secret" { "Copy" }
                    p { a href=(totp::otpauth_uri(secret, &me.owner.email)) { "Open in an authenticator app" } }
                    form method="post" action={(PATH) "/totp/confirm"} {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="code" { "Code from the app" }
                        input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8";
                        (message("code", "Code"))
                        p { button { "Turn on" } }
                    }
                } @else if me.owner.totp.is_some() {
                    p { strong { "On." } " Sign-in asks for a code from your authenticator app after your password; so do live secrets, which also take your password." }
                    form method="post" action={(PATH) "/totp/disable"} {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="off_password" { "Your password" }
                        input id="off_password" name="password" type="password" autocomplete="current-password" required;
                        (message("off_password", "Password"))
                        label for="off_code" { "Code from the app" }
                        input id="off_code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8";
                        (message("off_code", "Code"))
                        p { button class="danger" { "Turn off two-factor authentication" } }
                    }
                } @else {
                    p { "Off. With it on, sign-in asks for a code from an authenticator app after your password." }
                    @if let Some(m) = error("code") { p class="error" role="alert" { "Code " (m) } }
                    form method="post" action={(PATH) "/totp/start"} {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="totp_password" { "Your password" }
                        input id="totp_password" name="password" type="password" autocomplete="current-password" required;
                        (message("totp_password", "Password"))
                        p { button { "Set up two-factor authentication" } }
                    }
                }
            }
        }
    };
    pages::page(status, "Your account", body)
}
