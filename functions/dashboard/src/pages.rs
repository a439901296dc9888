//! The pages, rendered on the server (no script is needed to use them; one small script adds
//! the copy button). They read on a phone and work with the keyboard alone.

use crate::session::StorePage;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sellvy_models::Mode;
use sellvy_models::wire::ApiKeyObject;

const STYLE: &str = r#"
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;padding:.75rem 1rem;background:#fff;border-bottom:1px solid #ddd}
header .store{font-weight:600;margin-right:auto}
main{max-width:60rem;margin:0 auto;padding:1rem}
.mode{padding:.5rem 1rem;font-weight:700;text-align:center;letter-spacing:.05em}
.mode.test{background:#ffe8a3;color:#5c4500}.mode.live{background:#c8f0d4;color:#0b4a22}
nav a,header a{color:#1749b3}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #eee;vertical-align:top}
@media (max-width:40rem){table,thead,tbody,tr,th,td{display:block}thead{display:none}td{border:0;padding:.2rem .5rem}tr{border-bottom:1px solid #ddd;padding:.5rem 0}td[data-label]::before{content:attr(data-label) ": ";font-weight:600}}
form.card,.card{background:#fff;border:1px solid #ddd;border-radius:.5rem;padding:1rem;margin:1rem 0}
label{display:block;margin:.5rem 0 .2rem;font-weight:600}
input,select,button,textarea{font:inherit;padding:.4rem .6rem;max-width:100%}
textarea{width:100%;box-sizing:border-box}
button{cursor:pointer;border:1px solid #1749b3;background:#1749b3;color:#fff;border-radius:.3rem}
button.secondary{background:#fff;color:#1749b3}button.danger{background:#b3261e;border-color:#b3261e}
.error{color:#b3261e;font-weight:600}.notice{background:#fff4e5;border:1px solid #f0b46b;padding:1rem;border-radius:.5rem}
code.secret{display:block;word-break:break-all;background:#111;color:#9ef0b0;padding:.75rem;border-radius:.3rem;margin:.5rem 0}
.badge{padding:.1rem .4rem;border-radius:.3rem;font-size:.9em}.badge.failed{background:#fbe3e1;color:#8a1c14}.badge.delivered{background:#dcf3e3;color:#0b4a22}.badge.scheduled,.badge.sending{background:#e8eefc;color:#1749b3}
pre{white-space:pre-wrap;word-break:break-all;margin:0}pre.payload{max-height:40rem;overflow:auto}
form.filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end}form.filters select{max-width:18rem}
svg.chart{width:100%;height:8rem;display:block;background:#fafbfc}svg .revenue{fill:#1749b3}svg .refunds{fill:#b3261e}svg .orders{fill:#3a7d44}svg .axis{stroke:#999;stroke-width:1}
figure{margin:.75rem 0}figcaption{font-size:.9em;color:#555}figcaption.days{display:flex;justify-content:space-between}
dl.card{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dd{margin:0}
:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
"#;

/// The copy button's script: the only one the dashboard has.
const COPY: &str = r#"document.addEventListener('click',e=>{const b=e.target.closest('[data-copy]');if(!b)return;navigator.clipboard.writeText(document.getElementById(b.dataset.copy).textContent).then(()=>{b.textContent='Copied'})});"#;

fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Sellvy" }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) script { (PreEscaped(COPY)) } }
        }
    }
}

pub fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    let mut resp = (status, Html(document(title, body).into_string())).into_response();
    let headers = resp.headers_mut();
    // Pages carry CSRF tokens and, once, a secret: never cached, never framed, no referrer
    // (a setup link's token is in its URL).
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    resp
}

/// A store page: the store, the unmistakable mode (switched by the URL), the navigation and
/// the sign-out buttons.
pub fn store_page(p: &StorePage, status: StatusCode, title: &str, body: Markup) -> Response {
    let mode = p.tenant.mode;
    let other = match mode {
        Mode::Test => Mode::Live,
        Mode::Live => Mode::Test,
    };
    let here = |m: Mode, rest: &str| format!("/dashboard/{}/{}{rest}", p.store.id, m.as_str());
    let body = html! {
        div class={"mode " (mode.as_str())} role="status" data-mode=(mode.as_str()) {
            @match mode { Mode::Test => "TEST MODE: test data, no real money", Mode::Live => "LIVE MODE: real orders and money" }
        }
        header {
            span class="store" { (p.store.name) }
            @if p.me.owner.stores.len() > 1 {
                form method="get" action="/dashboard/switch" {
                    label for="store-switch" { "Store" }
                    select id="store-switch" name="store" {
                        @for s in &p.me.owner.stores {
                            option value=(s) selected[s == &p.store.id] { (s) }
                        }
                    }
                    button class="secondary" { "Switch" }
                }
            }
            a href=(here(other, p.section())) { "Switch to " (other.as_str()) " mode" }
            a href="/dashboard/account" { "Account" }
            form method="post" action="/dashboard/sign-out" {
                input type="hidden" name="csrf" value=(p.me.session.csrf);
                button class="secondary" { "Sign out" }
            }
            form method="post" action="/dashboard/sign-out-everywhere" {
                input type="hidden" name="csrf" value=(p.me.session.csrf);
                button class="secondary" { "Sign out everywhere" }
            }
        }
        main {
            nav aria-label="Settings" {
                a href=(here(mode, "")) { "Home" }
                " · " a href=(here(mode, "/reviews")) { "Reviews" }
                " · " a href=(here(mode, "/subscriptions")) { "Subscriptions" }
                " · Settings: " a href=(here(mode, "/settings/store")) { "Store settings" }
                " · Integrations → " a href=(here(mode, "/settings/integrations/api-keys")) { "API Keys" }
                " · " a href=(here(mode, "/settings/integrations/webhooks")) { "Webhooks" }
                " · " a href=(here(mode, "/settings/integrations/webhook-logs")) { "Webhook Logs" }
            }
            h1 { (title) }
            (body)
        }
    };
    page(status, title, body)
}

pub fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        html! { main { h1 { "Not found" } p { a href="/dashboard" { "Back to the dashboard" } } } },
    )
}

pub fn failed() -> Response {
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        html! { main { h1 { "Something went wrong on our side" } p { "Try again in a moment." } } },
    )
}

pub fn stale_form() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Form expired",
        html! { main { h1 { "This form has expired" } p { "Go back, reload the page and send it again." } } },
    )
}

pub fn sign_in(status: StatusCode, email: &str, error: Option<&str>) -> Response {
    page(
        status,
        "Sign in",
        html! {
            main {
                h1 { "Sign in to Sellvy" }
                form class="card" method="post" action="/dashboard/sign-in" {
                    @if let Some(e) = error { p class="error" role="alert" id="sign-in-error" { (e) } }
                    label for="email" { "Email" }
                    input id="email" name="email" type="email" autocomplete="username" required value=(email);
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                    p { button { "Sign in" } }
                }
            }
        },
    )
}

/// Too many failed sign-ins: the next try waits (a throttle, not a lockout).
pub fn sign_in_throttled(email: &str, wait_secs: i64) -> Response {
    let mut resp = sign_in(
        StatusCode::TOO_MANY_REQUESTS,
        email,
        Some(&format!("Too many failed sign-ins: try again in {wait_secs} seconds.")),
    );
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait_secs));
    resp
}

pub fn setup(status: StatusCode, action: &str, errors: &[(String, String)]) -> Response {
    let error = |f: &str| errors.iter().find(|(field, _)| field == f).map(|(_, m)| m.clone());
    page(
        status,
        "Choose your password",
        html! {
            main {
                h1 { "Choose your password" }
                form class="card" method="post" action=(action) {
                    label for="password" { "New password (at least 12 characters)" }
                    input id="password" name="password" type="password" autocomplete="new-password" required
                        aria-describedby="password-error";
                    @if let Some(e) = error("password") { p class="error" id="password-error" { "Password " (e) } }
                    label for="password_again" { "The same password again" }
                    input id="password_again" name="password_again" type="password" autocomplete="new-password" required
                        aria-describedby="password_again-error";
                    @if let Some(e) = error("password_again") { p class="error" id="password_again-error" { "It " (e) } }
                    p { button { "Set password and sign in" } }
                }
            }
        },
    )
}

pub fn link_used() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link expired",
        html! { main { h1 { "This link has expired or was used" } p { "Ask your operator for a new link." } } },
    )
}

/// What a live secret asks for again: the password, or a code when a second factor is on.
pub fn reauthentication_label(p: &StorePage) -> &'static str {
    match p.me.owner.totp.is_some() {
        true => "Your password or a code from your authenticator app",
        false => "Your password",
    }
}

/// The sign-in's second step: a code from the owner's authenticator app.
pub fn sign_in_code(status: StatusCode, challenge: &str, error: Option<&str>) -> Response {
    page(
        status,
        "Sign in",
        html! {
            main {
                h1 { "Enter your code" }
                form class="card" method="post" action="/dashboard/sign-in/code" {
                    @if let Some(e) = error { p class="error" role="alert" id="code-error" { (e) } }
                    input type="hidden" name="challenge" value=(challenge);
                    label for="code" { "Code from your authenticator app" }
                    input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8" autofocus;
                    p { button { "Sign in" } }
                }
            }
        },
    )
}

/// Field errors of a form: (field, message).
pub type Errors = Vec<(String, String)>;

/// A form that creates was sent a second time (a reload).
pub const RESENT: &str =
    "This form was already sent: what it created exists, and its secret was shown then, once.";

/// What the API keys page shows besides the list: the secret just created, or the form's errors.
#[derive(Default)]
pub struct KeyForm {
    pub created: Option<(String, String)>,
    /// The form was sent before: its key exists, and its secret was shown then.
    pub resent: bool,
    pub errors: Vec<(String, String)>,
    pub name: String,
}

pub fn api_keys(p: &StorePage, keys: &[ApiKeyObject], form: KeyForm, status: StatusCode) -> Response {
    let error = |f: &str| form.errors.iter().find(|(field, _)| field == f).map(|(_, m)| m.clone());
    let live = p.tenant.mode == Mode::Live;
    let body = html! {
        @if let Some((name, secret)) = &form.created {
            div class="notice" role="alert" {
                p { strong { "Copy the key “" (name) "” now: it will not be shown again." } }
                code class="secret" id="new-secret" { (secret) }
                button type="button" data-copy="new-secret" { "Copy" }
            }
        }
        @if form.resent {
            div class="notice" role="alert" {
                p { (RESENT) " Revoke the key below if you did not keep it." }
            }
        }
        table {
            thead { tr { th { "Name" } th { "Access" } th { "Key" } th { "Created" } th { "Last used" } th {} } }
            tbody {
                @for k in keys {
                    tr data-key=(k.id) {
                        td { (k.name) }
                        td data-label="Access" { @if k.kind == sellvy_models::apikey::KeyKind::Publishable { "publishable (storefront)" } @else { (k.permissions.as_str()) } }
                        td { code { (k.redacted_key) } }
                        td data-label="Created" { (p.when(k.created_at)) }
                        td data-label="Last used" { @match k.last_used_at { Some(t) => (p.when(t)), None => "never" } }
                        td {
                            form method="post" action=(p.link(&format!("/settings/integrations/api-keys/{}/revoke", k.id)))
                                onsubmit="return confirm('Revoke this key? Requests with it fail at once.')" {
                                input type="hidden" name="csrf" value=(p.me.session.csrf);
                                button class="danger" aria-label={"Revoke " (k.name)} { "Revoke" }
                            }
                        }
                    }
                }
                @if keys.is_empty() { tr { td colspan="6" { "No keys in this mode yet." } } }
            }
        }
        form class="card" method="post" action=(p.link("/settings/integrations/api-keys")) {
            h2 { "Create API Key" }
            input type="hidden" name="csrf" value=(p.me.session.csrf);
            // Sent once: a reload that posts the form again does not create a second key.
            input type="hidden" name="nonce" value=(sellvy_models::id::random_base62(32));
            label for="name" { "Name (what uses it, e.g. “Production server”)" }
            input id="name" name="name" required maxlength="100" value=(form.name) aria-describedby="name-error";
            @if let Some(e) = error("name") { p class="error" id="name-error" { "Name " (e) } }
            label for="access" { "Permissions" }
            select id="access" name="access" {
                option value="read" { "Read-only" }
                option value="write" { "Write" }
                option value="full" { "Full access" }
                option value="publishable" { "Publishable (storefront only)" }
            }
            @if let Some(e) = error("access") { p class="error" { "Permissions " (e) } }
            @if live {
                label for="password" { (reauthentication_label(p)) " (required for live keys)" }
                input id="password" name="password" type="password" autocomplete="current-password" aria-describedby="password-error";
                @if let Some(e) = error("password") { p class="error" id="password-error" { "Password " (e) } }
            }
            @if let Some(e) = error("keys") { p class="error" { (e) } }
            p { button { "Create API Key" } }
        }
    };
    store_page(p, status, "API Keys", body)
}

/// A list page's filters from its query: the `names` it takes (empty ones dropped), read by
/// the API's own parser with `per_page` added, and each filter's chosen value to show again.
pub struct ListFilters {
    pub params: sellvy_models::page::QueryParams,
    kept: Vec<(String, String)>,
}

impl ListFilters {
    pub fn of(query: &[(String, String)], names: &[&str], per_page: u32) -> ListFilters {
        let kept: Vec<(String, String)> =
            query.iter().filter(|(k, v)| names.contains(&k.as_str()) && !v.is_empty()).cloned().collect();
        let mut params = sellvy_models::page::QueryParams(kept.clone());
        params.0.push(("per_page".into(), per_page.to_string()));
        ListFilters { params, kept }
    }

    /// The value chosen for `name` (the last one sent), or "".
    pub fn chosen(&self, name: &str) -> &str {
        self.kept.iter().rev().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}
