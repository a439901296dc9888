//! Reviews: the mode's reviews newest first (filtered by product and rating), each with its
//! reply form and the hide / show button, through the same application code as `/v1/reviews`.

use crate::pages;
use crate::session::{Refusal, StorePage};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use sellvy_app::{AppError, AppState, reviews};
use sellvy_models::review::ReviewListQuery;
use sellvy_models::wire::ReviewObject;
use std::collections::HashMap;

const SECTION: &str = "/reviews";
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
    let filters = pages::ListFilters::of(query, &["product_id", "rating", "page"], PER_PAGE);
    let chosen = |name: &str| filters.chosen(name);
    let (found, total, status) = match ReviewListQuery::parse(&filters.params) {
        Ok((page, q)) => {
            let found = reviews::list(state, &p.tenant, page, &q).await?;
            (found.items, found.total, status)
        }
        Err(e) => {
            errors.extend(e.errors.into_iter().map(|e| (e.field, e.message)));
            (Vec::new(), 0, StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let base = p.link(SECTION);
    let csrf = &p.me.session.csrf;
    let body = html! {
        @for (field, message) in &errors { p class="error" role="alert" { (field) " " (message) } }
        form method="get" action=(base) class="card filters" aria-label="Filters" {
            div {
                label for="filter-product" { "Product id" }
                input id="filter-product" name="product_id" value=(chosen("product_id")) placeholder="prod_…";
            }
            div {
                label for="filter-rating" { "Rating" }
                select id="filter-rating" name="rating" {
                    option value="" { "Any rating" }
                    @for r in (1..=5).rev() { option value=(r) selected[chosen("rating") == r.to_string()] { (stars(r)) } }
                }
            }
            div { button { "Filter" } }
        }
        p { (total) @if total == 1 { " review" } @else { " reviews" } ", newest first." }
        @if found.is_empty() { p class="card" { "No reviews match." } }
        @for r in &found { (card(p, &base, csrf, r)) }
    };
    Ok(pages::store_page(p, status, "Reviews", body))
}

fn stars(n: u8) -> String {
    let n = n.min(5);
    format!("{}{} ({n}/5)", "★".repeat(n as usize), "☆".repeat(5 - n as usize))
}

fn card(p: &StorePage, base: &str, csrf: &str, r: &ReviewObject) -> maud::Markup {
    html! {
        section class="card" data-review=(r.id) aria-label={"Review by " (r.name)} {
            p {
                strong { (stars(r.rating)) } " · " (r.product.title) " · " (r.name) " (" (r.customer_email) ") · " (p.when(r.created_at))
                @if r.hidden { " · " strong { "hidden" } }
                @if r.refunded { " · refunded" }
            }
            @if let Some(m) = &r.message { p { (m) } }
            @if let Some(reply) = &r.reply { p { em { "Your reply: " } (reply.message) } }
            details {
                summary { @if r.reply.is_some() { "Change the reply" } @else { "Reply" } }
                form method="post" action={(base) "/" (r.id) "/reply"} {
                    input type="hidden" name="csrf" value=(csrf);
                    label for={(r.id) "-reply"} { "Public reply" }
                    textarea id={(r.id) "-reply"} name="message" rows="2" maxlength="2000" required {
                        @if let Some(reply) = &r.reply { (reply.message) }
                    }
                    p { button { "Save reply" } }
                }
                @if r.reply.is_some() {
                    form method="post" action={(base) "/" (r.id) "/remove-reply"} {
                        input type="hidden" name="csrf" value=(csrf);
                        button class="secondary" { "Remove the reply" }
                    }
                }
            }
            form method="post" action={(base) "/" (r.id) "/" (if r.hidden { "unhide" } else { "hide" })} {
                input type="hidden" name="csrf" value=(csrf);
                button class="secondary" aria-label={(if r.hidden { "Show " } else { "Hide " }) "the review by " (r.name)} {
                    @if r.hidden { "Show on the storefront" } @else { "Hide from the storefront" }
                }
            }
        }
    }
}

/// Reply, remove the reply, hide, show: forms with the review's id in their path.
pub async fn act(
    State(state): State<AppState>,
    p: StorePage,
    Path(params): Path<HashMap<String, String>>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    if !p.me.session.csrf_matches(f.get("csrf").map_or("", String::as_str)) {
        return Ok(pages::stale_form());
    }
    let id = params.get("review").map_or("", String::as_str);
    let t = &p.tenant;
    let done = match params.get("action").map(String::as_str) {
        Some("reply") => {
            let body = serde_json::json!({"message": f.get("message").cloned().unwrap_or_default()});
            reviews::reply(&state, t, id, Some(body)).await
        }
        Some("remove-reply") => reviews::reply(&state, t, id, None).await,
        Some("hide") => reviews::set_hidden(&state, t, id, true).await,
        Some("unhide") => reviews::set_hidden(&state, t, id, false).await,
        _ => return Err(Refusal::NotFound),
    };
    match done {
        Ok(_) => Ok(Redirect::to(&p.link(SECTION)).into_response()),
        Err(AppError::Invalid(v)) => {
            let errors = v.errors.into_iter().map(|e| (format!("Reply {}", e.field), e.message)).collect();
            render(&state, &p, &[], errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}
