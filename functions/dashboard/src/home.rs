//! A store's home page: the last 30 days of orders, revenue and refunds per currency as charts
//! (drawn on the server as SVG, with the numbers in a table beside them), the latest orders,
//! and the failed webhook deliveries that need attention.

use crate::pages;
use crate::session::{Refusal, StorePage};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use sellvy_app::{AppState, listing, stats};
use sellvy_models::PageRequest;
use sellvy_models::order::OrderListQuery;
use sellvy_models::stats::DEFAULT_DAYS;
use sellvy_models::webhook::DeliveryListQuery;
use sellvy_models::wire::{StatsCurrency, WebhookDeliveryStatus};

/// Orders and failed deliveries the home page lists.
const LATEST: u32 = 10;
const FAILED: u32 = 5;

pub async fn page(State(state): State<AppState>, p: StorePage) -> Result<Response, Refusal> {
    let figures = stats::last_days(&state, &p.tenant, &p.store.time_zone, DEFAULT_DAYS).await?;
    let latest = PageRequest { page: 1, per_page: LATEST };
    let orders = listing::orders(&state, &p.tenant, latest, &OrderListQuery::default()).await?;
    let failing =
        DeliveryListQuery { status: Some(WebhookDeliveryStatus::Failed), ..DeliveryListQuery::default() };
    let first_failed = PageRequest { page: 1, per_page: FAILED };
    let failed_deliveries = listing::deliveries(&state, &p.tenant, first_failed, &failing).await?;
    let logs = p.link("/settings/integrations/webhook-logs");
    let body = html! {
        p { "The last " (DEFAULT_DAYS) " days, " (figures.from) " to " (figures.to) ", in " (figures.time_zone)
            " (" a href=(p.link("/settings/store")) { "change the time zone" } ")." }
        @if figures.currencies.is_empty() {
            p class="card" { "No payments or refunds in these days yet." }
        }
        @for c in &figures.currencies { (currency_card(c)) }
        section aria-labelledby="latest-orders" {
            h2 id="latest-orders" { "Latest orders" }
            table {
                thead { tr { th { "Order" } th { "Buyer" } th { "Product" } th { "Total" } th { "Status" } th { "Created" } } }
                tbody {
                    @for o in &orders.items {
                        tr data-order=(o.id) {
                            td { (o.order_number) }
                            td data-label="Buyer" { (o.customer_email) }
                            td data-label="Product" { (o.product.title) }
                            td data-label="Total" { (money(o.total.0, &o.currency)) }
                            td data-label="Status" { (status_word(&o.status)) }
                            td data-label="Created" { (p.when(o.created_at)) }
                        }
                    }
                    @if orders.items.is_empty() { tr { td colspan="6" { "No orders in this mode yet." } } }
                }
            }
            p { (orders.total) @if orders.total == 1 { " order" } @else { " orders" } " in all." }
        }
        section aria-labelledby="needs-attention" {
            h2 id="needs-attention" { "Failed webhooks" }
            @if failed_deliveries.items.is_empty() {
                p { "None: every webhook was delivered or is still being retried." }
            } @else {
                p class="error" { (failed_deliveries.total) " failed " @if failed_deliveries.total == 1 { "delivery needs" } @else { "deliveries need" } " attention." }
                ul {
                    @for d in &failed_deliveries.items {
                        li { a href={(logs) "/" (d.id)} { (d.event_type.as_str()) " of " (p.when(d.created_at)) } }
                    }
                }
                p { a href={(logs) "?status=failed"} { "All failed deliveries" } }
            }
        }
    };
    Ok(pages::store_page(&p, StatusCode::OK, "Home", body))
}

fn status_word<T: serde::Serialize>(status: &T) -> String {
    serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// An amount with its currency's decimals: `125.00 USD`.
pub(crate) fn money(amount: f64, currency: &str) -> String {
    let decimals = sellvy_models::Currency::parse(currency).map_or(2, |c| c.exponent()) as usize;
    format!("{amount:.decimals$} {currency}")
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 120.0;

/// A bar chart of one series (`down` draws below the axis): one bar per day, each with its
/// day and value as a tooltip.
fn bars(values: &[f64], labels: &[String], max: f64, down: bool, class: &str) -> Markup {
    let step = WIDTH / values.len().max(1) as f64;
    html! {
        @for (i, (v, label)) in values.iter().zip(labels).enumerate() {
            @let h = if max > 0.0 { v / max * (HEIGHT - 4.0) } else { 0.0 };
            @let y = if down { HEIGHT } else { HEIGHT - h };
            rect class=(class) x=(format!("{:.1}", i as f64 * step + 1.0)) y=(format!("{y:.1}"))
                width=(format!("{:.1}", (step - 2.0).max(1.0))) height=(format!("{h:.1}")) {
                title { (label) }
            }
        }
    }
}

fn currency_card(c: &StatsCurrency) -> Markup {
    let revenue: Vec<f64> = c.days.iter().map(|d| d.revenue.0).collect();
    let refunds: Vec<f64> = c.days.iter().map(|d| d.refunds.0).collect();
    let orders: Vec<f64> = c.days.iter().map(|d| d.orders as f64).collect();
    let money_max = revenue.iter().chain(&refunds).cloned().fold(0.0, f64::max);
    let orders_max = orders.iter().cloned().fold(0.0, f64::max);
    let label = |d: &sellvy_models::wire::StatsDay| {
        format!(
            "{}: {} orders, {} revenue, {} refunds",
            d.date,
            d.orders,
            money(d.revenue.0, &c.currency),
            money(d.refunds.0, &c.currency)
        )
    };
    let labels: Vec<String> = c.days.iter().map(label).collect();
    let first = c.days.first().map(|d| d.date.as_str()).unwrap_or_default();
    let last = c.days.last().map(|d| d.date.as_str()).unwrap_or_default();
    let summary = format!(
        "{}: {} {}, {} revenue, {} refunds from {first} to {last}",
        c.currency,
        c.orders,
        if c.orders == 1 { "order" } else { "orders" },
        money(c.revenue.0, &c.currency),
        money(c.refunds.0, &c.currency)
    );
    html! {
        section class="card" data-currency=(c.currency) aria-label={"Figures in " (c.currency)} {
            h2 { (c.currency) }
            p class="totals" {
                strong { (c.orders) } @if c.orders == 1 { " order · " } @else { " orders · " } strong { (money(c.revenue.0, &c.currency)) } " revenue · "
                strong { (money(c.refunds.0, &c.currency)) } " refunds"
            }
            figure {
                figcaption { "Revenue (up) and refunds (down), per day; highest " (money(money_max, &c.currency)) }
                svg class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT * 2.0)} role="img" aria-label=(summary) preserveAspectRatio="none" {
                    (bars(&revenue, &labels, money_max, false, "revenue"))
                    (bars(&refunds, &labels, money_max, true, "refunds"))
                    line x1="0" x2=(WIDTH) y1=(HEIGHT) y2=(HEIGHT) class="axis" {}
                }
                figcaption class="days" { span { (first) } span { (last) } }
            }
            figure {
                figcaption { "Orders per day; highest " (orders_max) }
                svg class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img"
                    aria-label={(c.orders) " orders in " (c.currency) " from " (first) " to " (last)} preserveAspectRatio="none" {
                    (bars(&orders, &labels, orders_max, false, "orders"))
                }
            }
            details {
                summary { "Day by day" }
                table {
                    thead { tr { th { "Day" } th { "Orders" } th { "Revenue" } th { "Refunds" } } }
                    tbody {
                        @for d in c.days.iter().rev() {
                            tr data-day=(d.date) {
                                td { (d.date) } td { (d.orders) } td { (money(d.revenue.0, &c.currency)) } td { (money(d.refunds.0, &c.currency)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
