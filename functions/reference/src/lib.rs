//! The published contract: `GET /v1/openapi.json`, served without a key.
//!
//! The document is assembled from the functions' own routers (each operation is declared on
//! its handler, and `utoipa_axum` registers route and documentation together), plus the two
//! security schemes and the webhook payloads. Nothing is kept by hand.

use sellvy_api::Routes;
use sellvy_api::routes;
use sellvy_models::EventType;
use sellvy_models::wire::{ErrorBody, EventObject, ProductEvent};
use std::sync::OnceLock;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Components, ContentBuilder, InfoBuilder, OpenApi, Ref, Required, ResponseBuilder, ServerBuilder,
};
use utoipa::{OpenApi as _, PartialSchema, ToSchema};

#[derive(utoipa::OpenApi)]
#[openapi(
    security(("secret_key" = [])),
    components(schemas(ErrorBody, EventObject, ProductEvent)),
    tags(
        (name = "Products", description = "Digital goods: downloads, serials, dynamic goods, services"),
        (name = "Categories", description = "Groups of products"),
        (name = "Coupons", description = "Discount codes"),
        (name = "API keys", description = "Secret and publishable keys (full access only)"),
        (name = "Store", description = "The store's own settings"),
        (name = "Orders", description = "Orders placed through the storefront"),
        (name = "Customers", description = "Buyers, and the blacklist"),
        (name = "Reviews", description = "Buyers' reviews of their orders: replies and moderation"),
        (name = "Storefront", description = "Public routes for browsers and apps, with a publishable key"),
        (name = "Contract", description = "This document"),
    )
)]
struct Base;

/// Every function's routes, as API Gateway routes them to each Lambda; this function's own
/// route included.
pub fn all_routes() -> Routes {
    sellvy_products::routes()
        .merge(sellvy_categories::routes())
        .merge(sellvy_coupons::routes())
        .merge(sellvy_account::routes())
        .merge(sellvy_storefront::routes())
        .merge(sellvy_orders::routes())
        .merge(sellvy_customers::routes())
        .merge(sellvy_webhooks_api::routes())
        .merge(routes())
}

/// This function's route.
pub fn routes() -> Routes {
    Routes::new().routes(routes!(openapi_json))
}

/// The OpenAPI document
///
/// This document, OpenAPI 3.1. No key needed.
#[utoipa::path(get, path = "/v1/openapi.json", operation_id = "get_openapi", tag = "Contract", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], PUBLISHED)
}

/// The document as published: [`document`] printed by `sellvy-openapi` into `docs/openapi.json`
/// (the test command regenerates it and fails when the committed one differs). Served as it
/// is, so this function neither links the other functions nor builds the document at start.
pub const PUBLISHED: &str = include_str!("../../../docs/openapi.json");

/// The whole document (built once per process).
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> OpenApi {
    let mut doc = Base::openapi();
    doc.merge(all_routes().into_openapi());
    doc.info = InfoBuilder::new()
        .title("Sellvy REST API")
        .version("1.0.0")
        .description(Some(
            "Manage a store of digital goods: products, categories, coupons, API keys. Every request \
             sends `Authorization: Bearer sk_live_…` or `sk_test_…`. Lists answer `{data, meta: {page, \
             per_page, total}}`, single objects `{data}`, errors `{error: {code, message, status}}`. \
             Every POST accepts an `Idempotency-Key`. Rate limits per plan; see `X-RateLimit-*`.",
        ))
        .build();
    doc.servers = Some(vec![
        ServerBuilder::new().url("https://api.sellvy.io").description(Some("Production")).build(),
        ServerBuilder::new()
            .url("http://127.0.0.1:3000")
            .description(Some("Local gateway (make dev)"))
            .build(),
    ]);
    let components = doc.components.get_or_insert_with(Components::new);
    components.add_security_scheme(
        "secret_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("sk_live_… / sk_test_…")
                .description(Some(
                    "A secret key, for the seller's own servers; its permission is read, write or full",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "publishable_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("pk_live_… / pk_test_…")
                .description(Some("A publishable key, safe to embed in storefronts: storefront routes only"))
                .build(),
        ),
    );
    doc.webhooks = Some(webhooks());
    doc
}

/// One webhook per event type: the POST Sellvy sends to subscribed endpoints.
fn webhooks() -> utoipa::openapi::Paths {
    let mut paths = utoipa::openapi::Paths::new();
    for event in EventType::ALL {
        let name = event.as_str();
        let body_schema = if name.starts_with("product.") {
            Ref::from_schema_name(ProductEvent::name())
        } else {
            Ref::from_schema_name(EventObject::name())
        };
        let header = |n: &str, d: &str| {
            ParameterBuilder::new()
                .name(n)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(d))
                .schema(Some(String::schema()))
                .build()
        };
        let operation = OperationBuilder::new()
            .summary(Some(format!("{name} event")))
            .operation_id(Some(format!("webhook_{}", name.replace('.', "_"))))
            .tag("Webhooks")
            .parameter(header(
                "X-Sellvy-Signature",
                "Lowercase hex HMAC-SHA256 of the raw body with the endpoint's secret",
            ))
            .parameter(header(
                "webhook-signature",
                "Standard Webhooks: space-separated `v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">`, \
                 keyed with the base64 after the secret's `whsec_`; during a rotation's grace period, one per secret",
            ))
            .parameter(header("webhook-id", "Standard Webhooks: the delivery's id, the same on every attempt"))
            .parameter(header("webhook-timestamp", "Standard Webhooks: when this attempt was sent (Unix seconds), signed"))
            .parameter(header("X-Sellvy-Event", "The event type"))
            .parameter(header("X-Sellvy-Delivery", "The delivery's unique id"))
            .parameter(header("X-Sellvy-Timestamp", "When this attempt was sent (Unix seconds)"))
            .parameter(header("X-Sellvy-Mode", "`live` or `test`: the mode of the event"))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content("application/json", ContentBuilder::new().schema(Some(body_schema)).build())
                    .build(),
            ))
            .response("2XX", ResponseBuilder::new().description("Delivered; anything else is retried"))
            .security(utoipa::openapi::security::SecurityRequirement::default())
            .build();
        paths.paths.insert(name.to_string(), PathItem::new(HttpMethod::Post, operation));
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A function on Lambda mounts its routes without their schemas; who may call each route
    /// (read from the operations' security) is the same as in the document.
    #[test]
    fn serving_only_keeps_every_access_rule_and_skips_the_schemas() {
        let documented = all_routes().into_openapi();
        sellvy_api::routes::serving_only();
        let served = all_routes().into_openapi();
        assert_eq!(
            sellvy_api::access::AccessTable::from_doc(&documented),
            sellvy_api::access::AccessTable::from_doc(&served)
        );
        assert_eq!(documented.paths.paths.len(), served.paths.paths.len());
        assert!(documented.components.as_ref().is_some_and(|c| c.schemas.len() > 50));
        assert!(served.components.as_ref().is_none_or(|c| c.schemas.is_empty()));
    }

    #[test]
    fn the_document_covers_the_routes_security_and_webhooks() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        for path in
            ["/v1/products", "/v1/products/{id}", "/v1/categories", "/v1/coupons/{id}", "/v1/api_keys"]
        {
            assert!(doc["paths"][path].is_object(), "{path}");
        }
        assert!(doc["paths"]["/v1/products/{id}"]["put"].is_object());
        assert!(doc["components"]["securitySchemes"]["secret_key"].is_object());
        assert!(doc["components"]["securitySchemes"]["publishable_key"].is_object());
        assert_eq!(doc["webhooks"].as_object().unwrap().len(), 16);
        assert_eq!(doc["paths"]["/v1/openapi.json"]["get"]["security"], serde_json::json!([{}]));
    }
}
