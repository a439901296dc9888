//! Settings → Integrations → Webhook Logs: a mode's deliveries newest first (filtered by
//! endpoint, event type and status), a delivery's payload and every attempt, a retry by hand,
//! and one more attempt for every failed delivery of an endpoint since a time. The same
//! application code as `/v1/webhook_deliveries` runs them.

use crate::pages;
use crate::session::{Refusal, StorePage};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use sellvy_app::{AppError, AppState, deliveries, listing};
use sellvy_models::page::QueryParams;
use sellvy_models::time::Timestamp;
use sellvy_models::webhook::{DeliveryListQuery, Endpoint, MAX_ENDPOINTS, WebhookDelivery};
use sellvy_models::wire::{DeliveryObject, WebhookDeliveryStatus};
use sellvy_models::{EventType, PageRequest};
use std::collections::HashMap;

const SECTION: &str = "/settings/integrations/webhook-logs";
/// Deliveries on one page of the log.
const PER_PAGE: u32 = 50;

async fn endpoint_list(state: &AppState, p: &StorePage) -> Result<Vec<Endpoint>, Refusal> {
    Ok(state.db.endpoint_page(&p.tenant, 0, MAX_ENDPOINTS as u32).await?.items)
}

fn url_of<'a>(endpoints: &'a [Endpoint], id: &str) -> &'a str {
    endpoints.iter().find(|e| e.id.as_str() == id).map_or("(deleted endpoint)", |e| e.url.as_str())
}

/// The log's filters as the page's query carries them (`endpoint_id`, `type`, `status`,
/// `page`), read by the API's own parser.
#[derive(Default)]
struct Filters {
    raw: Vec<(String, String)>,
}

impl Filters {
    fn from(query: &[(String, String)]) -> Filters {
        let keep = ["endpoint_id", "type", "status", "page"];
        let raw =
            query.iter().filter(|(k, v)| keep.contains(&k.as_str()) && !v.is_empty()).cloned().collect();
        Filters { raw }
    }

    fn get(&self, name: &str) -> &str {
        self.raw.iter().rev().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn parse(&self) -> Result<(PageRequest, DeliveryListQuery), Vec<(String, String)>> {
        let mut params = QueryParams(self.raw.clone());
        params.0.push(("per_page".into(), PER_PAGE.to_string()));
        DeliveryListQuery::parse(&params)
            .map_err(|e| e.errors.into_iter().map(|e| (e.field, e.message)).collect())
    }

    /// The query of another page with the same filters.
    fn page_link(&self, base: &str, page: u32) -> String {
        let mut pairs: Vec<String> =
            self.raw.iter().filter(|(k, _)| k != "page").map(|(k, v)| format!("{k}={}", encode(v))).collect();
        pairs.push(format!("page={page}"));
        format!("{base}?{}", pairs.join("&"))
    }
}

/// Percent-encodes a query value (ids and event types are plain, but a value as typed is not).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the log page shows besides the list.
#[derive(Default)]
struct Shown {
    notice: Option<String>,
    errors: Vec<(String, String)>,
}

pub async fn page(
    State(state): State<AppState>,
    p: StorePage,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    render_log(&state, &p, &Filters::from(&query), Shown::default(), StatusCode::OK).await
}

async fn render_log(
    state: &AppState,
    p: &StorePage,
    filters: &Filters,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, Refusal> {
    let endpoints = endpoint_list(state, p).await?;
    let (found, total, page, mut errors, status) = match filters.parse() {
        Ok((page, query)) => {
            let found = listing::deliveries(state, &p.tenant, page, &query).await?;
            (found.items, found.total, page, shown.errors, status)
        }
        Err(e) => (Vec::new(), 0, PageRequest::default(), e, StatusCode::UNPROCESSABLE_ENTITY),
    };
    errors.sort();
    let base = p.link(SECTION);
    let chosen_status = filters.get("status");
    let chosen_type = filters.get("type");
    let chosen_endpoint = filters.get("endpoint_id");
    let day_ago = Timestamp::from_millis(state.config.clock.now().millis() - 24 * 3600 * 1000);
    let body = html! {
        @if let Some(n) = &shown.notice { div class="notice" role="status" { p { (n) } } }
        @for (field, message) in &errors { p class="error" role="alert" { (label_of(field)) " " (message) } }
        form method="get" action=(base) class="card filters" aria-label="Filters" {
            div {
                label for="filter-endpoint" { "Endpoint" }
                select id="filter-endpoint" name="endpoint_id" {
                    option value="" { "All endpoints" }
                    @for e in &endpoints { option value=(e.id) selected[e.id.as_str() == chosen_endpoint] { (e.url) } }
                }
            }
            div {
                label for="filter-type" { "Event type" }
                select id="filter-type" name="type" {
                    option value="" { "All event types" }
                    @for t in EventType::ALL { option value=(t.as_str()) selected[t.as_str() == chosen_type] { (t.as_str()) } }
                }
            }
            div {
                label for="filter-status" { "Status" }
                select id="filter-status" name="status" {
                    option value="" { "Any status" }
                    @for s in WebhookDeliveryStatus::ALL { option value=(s.as_str()) selected[s.as_str() == chosen_status] { (s.as_str()) } }
                }
            }
            div { button { "Filter" } }
        }
        p { (total) @if total == 1 { " delivery" } @else { " deliveries" } ", newest first." }
        table {
            thead { tr { th { "Created" } th { "Event" } th { "Endpoint" } th { "Status" } th { "Attempts" } th { "Next attempt" } } }
            tbody {
                @for d in &found {
                    tr data-delivery=(d.id) data-status=(d.status.as_str()) {
                        td { a href={(base) "/" (d.id)} aria-label={"Delivery " (d.id)} { (p.when(d.created_at)) } }
                        td data-label="Event" { (d.event_type.as_str()) }
                        td data-label="Endpoint" { (url_of(&endpoints, &d.endpoint_id)) }
                        td data-label="Status" { (status_badge(d.status)) }
                        td data-label="Attempts" { (d.attempt_count) }
                        td data-label="Next attempt" { @match d.next_attempt_at { Some(t) => (p.when(t)), None => "—" } }
                    }
                }
                @if found.is_empty() { tr { td colspan="6" { "No deliveries match." } } }
            }
        }
        (pager(filters, &base, page, total))
        @if !endpoints.is_empty() {
            form class="card" method="post" action={(base) "/retry-failed"} {
                h2 { "Retry all failed since…" }
                input type="hidden" name="csrf" value=(p.me.session.csrf);
                label for="retry-endpoint" { "Endpoint" }
                select id="retry-endpoint" name="endpoint_id" {
                    @for e in &endpoints { option value=(e.id) selected[e.id.as_str() == chosen_endpoint] { (e.url) } }
                }
                label for="retry-since" { "Failed deliveries created since (UTC)" }
                input id="retry-since" name="since" type="datetime-local" step="1" required value=(local_input(day_ago));
                p { button { "Retry failed deliveries" } }
            }
        }
    };
    Ok(pages::store_page(p, status, "Webhook Logs", body))
}

fn label_of(field: &str) -> &str {
    match field {
        "endpoint_id" => "Endpoint",
        "type" => "Event type",
        "status" => "Status",
        "page" => "Page",
        "since" => "Since",
        _ => field,
    }
}

fn status_badge(s: WebhookDeliveryStatus) -> Markup {
    html! { span class={"badge " (s.as_str())} { (s.as_str()) } }
}

fn pager(filters: &Filters, base: &str, page: PageRequest, total: u64) -> Markup {
    let shown_to = u64::from(page.page) * u64::from(page.per_page);
    html! {
        nav aria-label="Pages" {
            @if page.page > 1 { a href=(filters.page_link(base, page.page - 1)) { "← Newer" } " " }
            @if shown_to < total { a href=(filters.page_link(base, page.page + 1)) { "Older →" } }
        }
    }
}

/// A time as a `datetime-local` input holds it (UTC, to the second).
fn local_input(t: Timestamp) -> String {
    t.to_rfc3339()[..19].to_string()
}

/// A `datetime-local` value (UTC), with or without seconds.
fn parse_local_input(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let with_seconds = if s.len() == 16 { format!("{s}:00") } else { s.to_string() };
    if with_seconds.len() != 19 {
        return None;
    }
    Timestamp::parse(&format!("{with_seconds}Z"))
}

pub async fn retry_failed(
    State(state): State<AppState>,
    p: StorePage,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let field = |k: &str| f.get(k).map_or("", String::as_str);
    if !p.me.session.csrf_matches(field("csrf")) {
        return Ok(pages::stale_form());
    }
    let endpoint_id = field("endpoint_id");
    let filters = Filters::from(&[("endpoint_id".to_string(), endpoint_id.to_string())]);
    let Some(since) = parse_local_input(field("since")) else {
        let shown =
            Shown { errors: vec![("since".into(), "must be a date and time".into())], ..Shown::default() };
        return render_log(&state, &p, &filters, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let endpoints = endpoint_list(&state, &p).await?;
    let queued = match deliveries::retry_failed(&state, &p.tenant, endpoint_id, since).await {
        Ok(n) => n,
        Err(AppError::NotFound(_)) => {
            let shown =
                Shown { errors: vec![("endpoint_id".into(), "does not exist".into())], ..Shown::default() };
            return render_log(&state, &p, &Filters::default(), shown, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
        Err(e) => return Err(e.into()),
    };
    let notice = format!(
        "Queued {queued} failed {} to {} (created since {} UTC) for another attempt.",
        if queued == 1 { "delivery" } else { "deliveries" },
        url_of(&endpoints, endpoint_id),
        local_input(since).replace('T', " "),
    );
    render_log(&state, &p, &filters, Shown { notice: Some(notice), ..Shown::default() }, StatusCode::OK).await
}

fn delivery_id(params: &HashMap<String, String>) -> &str {
    params.get("delivery").map_or("", String::as_str)
}

pub async fn delivery(
    State(state): State<AppState>,
    p: StorePage,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let d = deliveries::find(&state, &p.tenant, delivery_id(&params)).await?;
    render_delivery(&state, &p, &d, None, StatusCode::OK).await
}

pub async fn retry(
    State(state): State<AppState>,
    p: StorePage,
    Path(params): Path<HashMap<String, String>>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    if !p.me.session.csrf_matches(f.get("csrf").map_or("", String::as_str)) {
        return Ok(pages::stale_form());
    }
    let id = delivery_id(&params);
    match deliveries::retry(&state, &p.tenant, id).await {
        Ok(done) => {
            let last = done.attempts.last();
            let said = match last {
                Some(a) if done.status == WebhookDeliveryStatus::Delivered => {
                    format!("Attempt {} delivered ({}).", a.number, a.status_code.unwrap_or_default())
                }
                Some(a) => format!("Attempt {} failed: {}.", a.number, attempt_error(a)),
                None => "No attempt was made.".into(),
            };
            render_delivery(&state, &p, &done, Some(Ok(said)), StatusCode::OK).await
        }
        Err(AppError::Invalid(v)) => {
            let d = deliveries::find(&state, &p.tenant, id).await?;
            let said = v.errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ");
            render_delivery(&state, &p, &d, Some(Err(said)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

fn attempt_error(a: &sellvy_models::wire::AttemptRecord) -> String {
    match (&a.error, a.status_code) {
        (Some(e), _) => e.clone(),
        (None, Some(code)) => format!("HTTP {code}"),
        (None, None) => a.error_kind.clone().unwrap_or_else(|| "no answer".into()),
    }
}

/// A delivery's page: what it is, its payload and every attempt, and the retry button.
async fn render_delivery(
    state: &AppState,
    p: &StorePage,
    d: &WebhookDelivery,
    outcome: Option<Result<String, String>>,
    status: StatusCode,
) -> Result<Response, Refusal> {
    let endpoints = endpoint_list(state, p).await?;
    let o: DeliveryObject = d.to_object();
    let payload = o.payload.as_ref().and_then(|v| serde_json::to_string_pretty(v).ok()).unwrap_or_default();
    let base = p.link(SECTION);
    let body = html! {
        p { a href=(base) { "← All deliveries" } }
        @match &outcome {
            Some(Ok(said)) => div class="notice" role="status" { p { (said) } },
            Some(Err(said)) => p class="error" role="alert" { (said) },
            None => {},
        }
        dl class="card" {
            dt { "Delivery" } dd { code { (o.id) } }
            dt { "Status" } dd { (status_badge(o.status)) }
            dt { "Event" } dd { (o.event_type.as_str()) " " code { (o.event_id) } }
            dt { "Endpoint" } dd { (url_of(&endpoints, &o.endpoint_id)) }
            dt { "Created" } dd { (p.when(o.created_at)) }
            @if let Some(t) = o.next_attempt_at { dt { "Next attempt" } dd { (p.when(t)) } }
        }
        @if d.retryable_by_hand() && !d.attempts_exhausted() {
            form method="post" action={(base) "/" (o.id) "/retry"} {
                input type="hidden" name="csrf" value=(p.me.session.csrf);
                button { "Retry now" }
            }
        } @else if d.attempts_exhausted() {
            p { "This delivery has had every attempt one delivery keeps." }
        } @else {
            p { "Retried automatically: it can be retried by hand once it has failed." }
        }
        h2 { "Attempts" }
        table {
            thead { tr { th { "#" } th { "Time" } th { "Status code" } th { "Duration" } th { "Error" } th { "Response body" } } }
            tbody {
                @for a in &o.attempts {
                    tr data-attempt=(a.number) {
                        td data-label="Attempt" { (a.number) @if a.manual { " (by hand)" } }
                        td data-label="Time" { (p.when(a.at)) }
                        td data-label="Status code" { @match a.status_code { Some(c) => (c), None => "—" } }
                        td data-label="Duration" { (a.duration_ms) " ms" }
                        td data-label="Error" { @if a.status_code.is_some_and(|c| (200..300).contains(&c)) { "—" } @else { (attempt_error(a)) } }
                        td { @if a.response_body.is_empty() { "—" } @else { pre class="body" { (a.response_body) } } }
                    }
                }
                @if o.attempts.is_empty() { tr { td colspan="6" { "No attempt yet." } } }
            }
        }
        h2 { "Payload" }
        pre class="card payload" { (payload) }
    };
    Ok(pages::store_page(p, status, "Webhook delivery", body))
}
