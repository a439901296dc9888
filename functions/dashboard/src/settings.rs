//! Settings → Store: the store's name and time zone (shared by both modes), and the mode's own
//! allowed origins, blocked countries and blocked addresses, checked by the same rules as
//! `PATCH /v1/store`.

use crate::pages::{self, Errors};
use crate::session::{Refusal, StorePage};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use sellvy_app::AppState;
use sellvy_models::Mode;
use serde::Deserialize;
use serde_json::json;

const SECTION: &str = "/settings/store";

/// The form as sent (and shown again when refused).
#[derive(Deserialize, Default)]
pub struct StoreForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    allowed_origins: String,
    #[serde(default)]
    blocked_countries: String,
    #[serde(default)]
    blocked_ips: String,
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Country codes separated by commas, spaces or lines.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

impl StoreForm {
    fn of(p: &StorePage) -> StoreForm {
        let s = p.store.settings(p.tenant.mode);
        StoreForm {
            csrf: String::new(),
            name: p.store.name.clone(),
            time_zone: p.store.time_zone.clone(),
            allowed_origins: s.allowed_origins.join("\n"),
            blocked_countries: s.blocked_countries.join(", "),
            blocked_ips: s.blocked_ips.join("\n"),
        }
    }
}

#[derive(Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn page(p: StorePage, Query(q): Query<Saved>) -> Response {
    let form = StoreForm::of(&p);
    render(&p, &form, &[], q.saved.is_some(), StatusCode::OK)
}

pub async fn save(
    State(state): State<AppState>,
    p: StorePage,
    Form(f): Form<StoreForm>,
) -> Result<Response, Refusal> {
    if !p.me.session.csrf_matches(&f.csrf) {
        return Ok(pages::stale_form());
    }
    // The store's own fields as a live key sends them (the owner has both modes), then this
    // mode's; every error of both is shown.
    let store_wide = json!({"name": f.name, "time_zone": f.time_zone.trim()});
    let this_mode = json!({
        "allowed_origins": lines(&f.allowed_origins),
        "blocked_countries": words(&f.blocked_countries),
        "blocked_ips": lines(&f.blocked_ips),
    });
    let mut errors: Errors = Vec::new();
    let mut collect =
        |e: sellvy_models::ValidationError| errors.extend(e.errors.into_iter().map(|e| (e.field, e.message)));
    let renamed = p
        .store
        .apply_settings(Mode::Live, store_wide)
        .map_err(&mut collect)
        .unwrap_or_else(|_| p.store.clone());
    let updated = renamed.apply_settings(p.tenant.mode, this_mode).map_err(&mut collect);
    match updated {
        Ok(updated) if errors.is_empty() => {
            state.db.update_store_settings(&updated, p.tenant.mode).await?;
            Ok(Redirect::to(&format!("{}?saved=1", p.link(SECTION))).into_response())
        }
        _ => Ok(render(&p, &f, &errors, false, StatusCode::UNPROCESSABLE_ENTITY)),
    }
}

/// The errors of one field: `field` itself, and its items (`field[2]`, shown as line 3).
fn field_errors(errors: &[(String, String)], field: &str) -> Vec<String> {
    errors
        .iter()
        .filter_map(|(k, m)| {
            if k == field {
                return Some(m.clone());
            }
            let n: usize = k.strip_prefix(field)?.strip_prefix('[')?.strip_suffix(']')?.parse().ok()?;
            Some(format!("item {}: {m}", n + 1))
        })
        .collect()
}

fn render(
    p: &StorePage,
    f: &StoreForm,
    errors: &[(String, String)],
    saved: bool,
    status: StatusCode,
) -> Response {
    let mode = p.tenant.mode.as_str();
    let plan = serde_json::to_value(p.store.plan)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let zones: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
    let shown = |field: &str, label: &str| {
        html! {
            @for m in field_errors(errors, field) { p class="error" id={(field) "-error"} { (label) " " (m) } }
        }
    };
    let body = html! {
        @if saved { div class="notice" role="status" { p { "Saved." } } }
        @if !errors.is_empty() { p class="error" role="alert" { "Nothing was saved: see the fields below." } }
        form class="card" method="post" action=(p.link(SECTION)) {
            input type="hidden" name="csrf" value=(p.me.session.csrf);
            h2 { "The store (both modes)" }
            label for="name" { "Store name" }
            input id="name" name="name" required maxlength="100" value=(f.name) aria-describedby="name-error";
            (shown("name", "Name"))
            label for="time_zone" { "Time zone (days on the home page and in GET /v1/stats)" }
            input id="time_zone" name="time_zone" required list="zones" value=(f.time_zone) aria-describedby="time_zone-error";
            datalist id="zones" { @for z in &zones { option value=(z) {} } }
            (shown("time_zone", "Time zone"))
            p { "Plan " strong { (plan) } ", currency " strong { (p.store.currency) } " (set by the operator)." }
            h2 { "Storefront and checkout (" (mode) " mode only)" }
            label for="allowed_origins" { "Allowed origins, one per line (none: any origin may call the storefront)" }
            textarea id="allowed_origins" name="allowed_origins" rows="3" placeholder="https://shop.example.com"
                aria-describedby="allowed_origins-error" { (f.allowed_origins) }
            (shown("allowed_origins", "Allowed origins"))
            label for="blocked_countries" { "Blocked countries (ISO codes, separated by commas)" }
            input id="blocked_countries" name="blocked_countries" value=(f.blocked_countries) placeholder="KP, IR"
                aria-describedby="blocked_countries-error";
            (shown("blocked_countries", "Blocked countries"))
            label for="blocked_ips" { "Blocked addresses, one per line (IP addresses or CIDR ranges)" }
            textarea id="blocked_ips" name="blocked_ips" rows="3" placeholder="203.0.113.0/24"
                aria-describedby="blocked_ips-error" { (f.blocked_ips) }
            (shown("blocked_ips", "Blocked addresses"))
            p { button { "Save settings" } }
        }
    };
    pages::store_page(p, status, "Store settings", body)
}
