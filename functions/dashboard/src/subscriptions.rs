//! Subscriptions: the mode's subscriptions newest first (filtered by status, product and
//! buyer), each with its period, next charge and orders, and a cancel form (at period end or at
//! once), through the same application code as `/v1/subscriptions`.

use crate::pages;
use crate::session::{Refusal, StorePage};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use sellvy_app::{AppError, AppState, subscriptions};
use sellvy_models::subscription::SubscriptionListQuery;
use sellvy_models::wire::{SubscriptionObject, SubscriptionStatus};
use std::collections::HashMap;

const SECTION: &str = "/subscriptions";
const PER_PAGE: u32 = 25;

pub async fn page(
    State(state): State<AppState>,
    p: StorePage,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    render(&state, &p, &query, Vec::new(), StatusCode::OK).await
}

async fn render(
    state: &AppState,
    p: &StorePage,
    query: &[(String, String)],
    mut errors: Vec<(String, String)>,
    status: StatusCode,
) -> Result<Response, Refusal> {
    let filters =
        pages::ListFilters::of(query, &["status", "product_id", "customer_email", "page"], PER_PAGE);
    let chosen = |name: &str| filters.chosen(name);
    let (found, total, status) = match SubscriptionListQuery::parse(&filters.params) {
        Ok((page, q)) => {
            let found = subscriptions::list(state, &p.tenant, page, &q).await?;
            (found.items, found.total, status)
        }
        Err(e) => {
            errors.extend(e.errors.into_iter().map(|e| (e.field, e.message)));
            (Vec::new(), 0, StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let base = p.link(SECTION);
    let csrf = &p.me.session.csrf;
    let statuses = [
        SubscriptionStatus::Trialing,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Cancelled,
        SubscriptionStatus::Expired,
    ];
    let body = html! {
        @for (field, message) in &errors { p class="error" role="alert" { (field) " " (message) } }
        form method="get" action=(base) class="card filters" aria-label="Filters" {
            div {
                label for="filter-status" { "Status" }
                select id="filter-status" name="status" {
                    option value="" { "Any status" }
                    @for s in statuses { option value=(s.as_str()) selected[chosen("status") == s.as_str()] { (s.as_str()) } }
                }
            }
            div {
                label for="filter-product" { "Product id" }
                input id="filter-product" name="product_id" value=(chosen("product_id")) placeholder="prod_…";
            }
            div {
                label for="filter-email" { "Buyer's email" }
                input id="filter-email" name="customer_email" value=(chosen("customer_email"));
            }
            div { button { "Filter" } }
        }
        p { (total) @if total == 1 { " subscription" } @else { " subscriptions" } ", newest first." }
        @if found.is_empty() { p class="card" { "No subscriptions match." } }
        @for s in &found { (card(p, &base, csrf, s)) }
    };
    Ok(pages::store_page(p, status, "Subscriptions", body))
}

fn every(s: &SubscriptionObject) -> String {
    let unit = format!("{:?}", s.recurring.interval).to_lowercase();
    match s.recurring.interval_count {
        1 => format!("every {unit}"),
        n => format!("every {n} {unit}s"),
    }
}

fn card(p: &StorePage, base: &str, csrf: &str, s: &SubscriptionObject) -> maud::Markup {
    let open = matches!(
        s.status,
        SubscriptionStatus::Trialing | SubscriptionStatus::Active | SubscriptionStatus::PastDue
    );
    html! {
        section class="card" data-subscription=(s.id) aria-label={"Subscription of " (s.customer_email)} {
            p {
                strong { (s.product.title) } " · " (s.customer_email) " · "
                (crate::home::money(s.renewal_price.0, &s.currency)) " " (every(s)) " · "
                strong data-status=(s.status.as_str()) { (s.status.as_str()) }
            }
            p {
                "Period " (s.periods) ": " (p.when(s.current_period_start)) " to " (p.when(s.current_period_end))
                @if s.status == SubscriptionStatus::Trialing { " · free trial" }
                @if let Some(next) = s.next_charge_at { " · next charge " (p.when(next)) }
                @if s.cancel_at_period_end && open { " · ends at the period's end" }
            }
            @if let Some(why) = &s.renewal_error { p class="error" { "Last renewal: " (why) } }
            @if let Some(c) = &s.cancellation {
                p { "Cancelled by " (c.by) " (" (c.reason) ") " (p.when(c.at)) }
            }
            p { (s.order_count) @if s.order_count == 1 { " order: " } @else { " orders: " }
                @for (n, o) in s.orders.iter().take(5).enumerate() { @if n > 0 { ", " } code { (o) } }
                @if s.orders.len() > 5 { ", …" }
            }
            @if open {
                form method="post" action={(base) "/" (s.id) "/cancel"} class="filters" {
                    input type="hidden" name="csrf" value=(csrf);
                    div {
                        label for={(s.id) "-when"} { "Cancel" }
                        select id={(s.id) "-when"} name="when" {
                            option value="period_end" { "at the end of the period" }
                            option value="now" { "now" }
                        }
                    }
                    div {
                        label for={(s.id) "-reason"} { "Reason (optional)" }
                        input id={(s.id) "-reason"} name="reason" maxlength="200";
                    }
                    div { button class="secondary" aria-label={"Cancel the subscription of " (s.customer_email)} { "Cancel subscription" } }
                }
            }
        }
    }
}

/// Cancel: a form with the subscription's id in its path.
pub async fn cancel(
    State(state): State<AppState>,
    p: StorePage,
    Path(params): Path<HashMap<String, String>>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    if !p.me.session.csrf_matches(f.get("csrf").map_or("", String::as_str)) {
        return Ok(pages::stale_form());
    }
    let id = params.get("subscription").map_or("", String::as_str);
    let mut body = serde_json::json!({"at_period_end": f.get("when").map(String::as_str) != Some("now")});
    if let Some(reason) = f.get("reason").filter(|r| !r.trim().is_empty()) {
        body["reason"] = reason.clone().into();
    }
    let by = subscriptions::Canceller::Seller;
    match subscriptions::cancel(&state, &p.tenant, id, by, body, None).await {
        Ok(_) => Ok(Redirect::to(&p.link(SECTION)).into_response()),
        Err(AppError::Invalid(v)) => {
            let errors = v.errors.into_iter().map(|e| (format!("Cancel {}", e.field), e.message)).collect();
            render(&state, &p, &[], errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}
