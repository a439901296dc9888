//! Settings → Integrations → Webhooks: a mode's endpoints, added (the secret shown once),
//! edited, enabled or disabled, deleted and given new secrets, through the application's own
//! endpoint flows (with their SSRF guard, whose refusals show on the form).

use crate::pages::{self, Errors};
use crate::session::{ClientAddress, Proof, Refusal, StorePage};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use sellvy_app::{AppError, AppState, endpoints};
use sellvy_models::EventType;
use sellvy_models::webhook::{Endpoint, MAX_ENDPOINTS};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A form as sent: repeated fields (the event checkboxes) kept.
type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// The events ticked: `["*"]` for "all events", or the types.
fn events(f: &Fields) -> Vec<String> {
    if field(f, "all_events") == "on" {
        return vec!["*".into()];
    }
    f.iter().filter(|(k, _)| k == "event").map(|(_, v)| v.clone()).collect()
}

/// The API's endpoint body from the add and edit forms (an empty description clears it).
fn endpoint_body(f: &Fields) -> Value {
    let description = field(f, "description");
    json!({
        "url": field(f, "url"),
        "events": events(f),
        "description": if description.trim().is_empty() { Value::Null } else { Value::from(description) },
    })
}

/// In live mode, what is wrong with the owner's password (or code) the form carries, if
/// anything (test mode needs none).
async fn password_refused(
    state: &AppState,
    address: &str,
    p: &StorePage,
    f: &Fields,
) -> Result<Option<String>, Refusal> {
    match p.tenant.mode {
        sellvy_models::Mode::Test => Ok(None),
        sellvy_models::Mode::Live => {
            p.me.prove(state, address, Proof::PasswordOrCode(field(f, "password"))).await
        }
    }
}

fn password_field(p: &StorePage, id: &str) -> maud::Markup {
    html! {
        @if p.tenant.mode == sellvy_models::Mode::Live {
            label for=(id) { (pages::reauthentication_label(p)) " (a live secret is shown next)" }
            input id=(id) name="password" type="password" autocomplete="current-password";
        }
    }
}

/// What the page shows besides the list.
#[derive(Default)]
pub struct Shown {
    /// A secret shown once: the endpoint's URL and the secret.
    pub secret: Option<(String, String)>,
    pub errors: Errors,
    /// What the add form held when it was refused.
    pub sent: Fields,
    pub notice: Option<String>,
}

async fn endpoint_list(state: &AppState, p: &StorePage) -> Result<Vec<Endpoint>, Refusal> {
    Ok(state.db.endpoint_page(&p.tenant, 0, MAX_ENDPOINTS as u32).await?.items)
}

fn refusal(e: AppError) -> Result<Errors, Refusal> {
    match e {
        AppError::Invalid(v) => Ok(v.errors.into_iter().map(|e| (e.field, e.message)).collect()),
        AppError::NotFound(_) => Err(Refusal::NotFound),
        AppError::Refused(m) => Ok(vec![("form".into(), m)]),
        other => Err(Refusal::Failed(other.to_string())),
    }
}

pub async fn page(State(state): State<AppState>, p: StorePage) -> Result<Response, Refusal> {
    let list = endpoint_list(&state, &p).await?;
    Ok(render(&p, &list, Shown::default(), StatusCode::OK))
}

pub async fn create(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    p: StorePage,
    Form(f): Form<Fields>,
) -> Result<Response, Refusal> {
    if !p.me.session.csrf_matches(field(&f, "csrf")) {
        return Ok(pages::stale_form());
    }
    let body = endpoint_body(&f);
    let nonce = field(&f, "nonce");
    // Checked before the form's one use is spent, so a corrected form can be sent again.
    let mut errors: Errors =
        match sellvy_models::webhook::Endpoint::create(body.clone(), p.tenant.mode, state.config.clock.now())
        {
            Ok(_) => Vec::new(),
            Err(e) => e.errors.into_iter().map(|e| (e.field, e.message)).collect(),
        };
    // A live endpoint's secret is a live secret: shown after the password, again.
    // Only a form otherwise right spends a password try.
    if errors.is_empty()
        && let Some(wrong) = password_refused(&state, &address, &p, &f).await?
    {
        errors.push(("password".into(), wrong));
    }
    if !errors.is_empty() {
        return refused(&state, &p, f.clone(), errors).await;
    }
    if nonce.len() < 16 || !state.db.claim_form(nonce, state.config.clock.now()).await? {
        let list = endpoint_list(&state, &p).await?;
        let shown = Shown { notice: Some(pages::RESENT.into()), ..Shown::default() };
        return Ok(render(&p, &list, shown, StatusCode::CONFLICT));
    }
    match endpoints::create(&state, &p.tenant, body).await {
        Ok(e) => {
            let list = endpoint_list(&state, &p).await?;
            let shown = Shown { secret: Some((e.url.clone(), e.secret.clone())), ..Shown::default() };
            Ok(render(&p, &list, shown, StatusCode::CREATED))
        }
        Err(e) => refused(&state, &p, f.clone(), refusal(e)?).await,
    }
}

/// The add form again, with what was wrong in it.
async fn refused(state: &AppState, p: &StorePage, sent: Fields, errors: Errors) -> Result<Response, Refusal> {
    let list = endpoint_list(state, p).await?;
    Ok(render(p, &list, Shown { errors, sent, ..Shown::default() }, StatusCode::UNPROCESSABLE_ENTITY))
}

/// Enable, disable, delete, rotate: forms with the endpoint's id in their path.
pub async fn act(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    p: StorePage,
    Path(params): Path<HashMap<String, String>>,
    Form(f): Form<Fields>,
) -> Result<Response, Refusal> {
    if !p.me.session.csrf_matches(field(&f, "csrf")) {
        return Ok(pages::stale_form());
    }
    let id = params.get("endpoint").map(String::as_str).unwrap_or("");
    let done = match params.get("action").map(String::as_str) {
        Some("enable") => {
            endpoints::update(&state, &p.tenant, id, json!({"enabled": true})).await.map(|_| None)
        }
        Some("disable") => {
            endpoints::update(&state, &p.tenant, id, json!({"enabled": false})).await.map(|_| None)
        }
        Some("delete") => endpoints::delete(&state, &p.tenant, id).await.map(|_| None),
        Some("rotate") if let Some(wrong) = password_refused(&state, &address, &p, &f).await? => {
            Err(AppError::invalid("password", format!("{wrong}: a live secret is shown after it")))
        }
        Some("rotate") => endpoints::rotate(&state, &p.tenant, id).await.map(|e| Some((e.url, e.secret))),
        Some("edit") => endpoints::update(&state, &p.tenant, id, endpoint_body(&f)).await.map(|_| None),
        _ => return Err(Refusal::NotFound),
    };
    match done {
        Ok(None) => Ok(Redirect::to(&p.link("/settings/integrations/webhooks")).into_response()),
        Ok(Some(secret)) => {
            let list = endpoint_list(&state, &p).await?;
            Ok(render(&p, &list, Shown { secret: Some(secret), ..Shown::default() }, StatusCode::OK))
        }
        Err(e) => {
            let errors = refusal(e)?.into_iter().map(|(k, m)| (format!("{id}.{k}"), m)).collect();
            let list = endpoint_list(&state, &p).await?;
            Ok(render(
                &p,
                &list,
                Shown { errors, sent: f, ..Shown::default() },
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

fn event_boxes(prefix: &str, chosen: &[String]) -> maud::Markup {
    let all = chosen.iter().any(|e| e == "*");
    html! {
        fieldset {
            legend { "Events" }
            label { input type="checkbox" name="all_events" checked[all || chosen.is_empty()]; " All events (*)" }
            @for t in EventType::ALL {
                label style="font-weight:normal;display:inline-block;margin-right:1rem" {
                    input type="checkbox" name="event" value=(t.as_str()) id={(prefix) "-" (t.as_str())}
                        checked[chosen.iter().any(|c| c == t.as_str())];
                    " " (t.as_str())
                }
            }
        }
    }
}

pub fn render(p: &StorePage, list: &[Endpoint], shown: Shown, status: StatusCode) -> Response {
    let error = |f: &str| shown.errors.iter().find(|(k, _)| k == f).map(|(_, m)| m.clone());
    let sent_events = events(&shown.sent);
    let base = p.link("/settings/integrations/webhooks");
    let csrf = &p.me.session.csrf;
    let body = html! {
        @if let Some((url, secret)) = &shown.secret {
            div class="notice" role="alert" {
                p { strong { "The signing secret of " (url) ": copy it now, it will not be shown again." } }
                code class="secret" id="new-secret" { (secret) }
                button type="button" data-copy="new-secret" { "Copy" }
            }
        }
        @if let Some(n) = &shown.notice { div class="notice" role="alert" { p { (n) } } }
        @if let Some(e) = error("form") { p class="error" role="alert" { (e) } }
        @if list.is_empty() { p { "No endpoints in this mode yet." } }
        @for e in list {
            section class="card" data-endpoint=(e.id) aria-label={"Endpoint " (e.url)} {
                p { strong { (e.url) } " " @if e.enabled { "(enabled)" } @else { "(disabled)" } }
                @if let Some(d) = &e.description { p { (d) } }
                p { "Events: " (e.events.join(", ")) }
                form method="post" action={(base) "/" (e.id) "/" (if e.enabled { "disable" } else { "enable" })} style="display:inline" {
                    input type="hidden" name="csrf" value=(csrf);
                    button class="secondary" aria-label={(if e.enabled { "Disable " } else { "Enable " }) (e.url)} {
                        @if e.enabled { "Disable" } @else { "Enable" }
                    }
                }
                " "
                form method="post" action={(base) "/" (e.id) "/rotate"} style="display:inline"
                    onsubmit="return confirm('Replace the signing secret? Receivers must switch to the new one.')" {
                    input type="hidden" name="csrf" value=(csrf);
                    (password_field(p, &format!("{}-password", e.id)))
                    button class="secondary" aria-label={"Rotate the secret of " (e.url)} { "Rotate secret" }
                }
                " "
                form method="post" action={(base) "/" (e.id) "/delete"} style="display:inline"
                    onsubmit="return confirm('Delete this endpoint? It receives nothing more.')" {
                    input type="hidden" name="csrf" value=(csrf);
                    button class="danger" aria-label={"Delete " (e.url)} { "Delete" }
                }
                details {
                    summary { "Edit" }
                    form method="post" action={(base) "/" (e.id) "/edit"} {
                        input type="hidden" name="csrf" value=(csrf);
                        label for={(e.id) "-url"} { "Endpoint URL" }
                        input id={(e.id) "-url"} name="url" value=(e.url) size="50";
                        @if let Some(m) = error(&format!("{}.url", e.id)) { p class="error" { "URL " (m) } }
                        label for={(e.id) "-description"} { "Description" }
                        input id={(e.id) "-description"} name="description" value=(e.description.clone().unwrap_or_default());
                        (event_boxes(&e.id, &e.events))
                        @if let Some(m) = error(&format!("{}.events", e.id)) { p class="error" { "Events " (m) } }
                        p { button { "Save" } }
                    }
                }
            }
        }
        form class="card" method="post" action=(base) {
            h2 { "Add endpoint" }
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="nonce" value=(sellvy_models::id::random_base62(32));
            label for="url" { "Endpoint URL" @if p.tenant.mode == sellvy_models::Mode::Live { " (https)" } }
            input id="url" name="url" required size="50" value=(field(&shown.sent, "url")) aria-describedby="url-error";
            @if let Some(m) = error("url") { p class="error" id="url-error" role="alert" { "URL " (m) } }
            label for="description" { "Description" }
            input id="description" name="description" value=(field(&shown.sent, "description"));
            @if let Some(m) = error("description") { p class="error" { "Description " (m) } }
            (event_boxes("new", &sent_events))
            @if let Some(m) = error("events") { p class="error" { "Events " (m) } }
            (password_field(p, "password"))
            @if let Some(m) = error("password") { p class="error" id="password-error" { "Password " (m) } }
            @for (_, m) in shown.errors.iter().filter(|(k, _)| k.ends_with(".password")) { p class="error" role="alert" { "Password " (m) } }
            @for (k, m) in shown.errors.iter().filter(|(k, _)| k.starts_with("events[")) { p class="error" { (k) " " (m) } }
            p { button { "Add endpoint" } }
        }
    };
    pages::store_page(p, status, "Webhooks", body)
}
