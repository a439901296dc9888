//! The Lambda adapter itself: API Gateway HTTP API (payload v2) events, as Lambda receives
//! them, go through lambda_http into the products router and come back in the seed's shape.
//! Neither request reaches DynamoDB, so no local stack is needed.

use axum::body::Body;
use http_body_util::BodyExt;
use sellvy_app::{AppState, Config};
use tower::ServiceExt;

async fn invoke(fixture: &str) -> (u16, axum::http::HeaderMap, serde_json::Value) {
    let raw = std::fs::read_to_string(format!("{}/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let request = lambda_http::request::from_str(&raw).expect("a valid API Gateway v2 event");
    let client = offline_client();
    let state = AppState::new(sellvy_store::Db::new(client, "unused"), Config::default());
    let app = sellvy_api::app(sellvy_products::routes(), state);
    let (parts, body) = request.into_parts();
    let request = axum::http::Request::from_parts(parts, Body::new(body));
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

fn offline_client() -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

#[tokio::test]
async fn an_unknown_route_event_answers_404_with_api_gateways_request_id() {
    let (status, headers, body) = invoke("apigw_v2_get_unknown.json").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(body["error"]["message"], "No route for GET /v1/nothing-here");
    assert_eq!(headers["x-request-id"], "JKJaXmPLvHcESHA=");
}

#[tokio::test]
async fn a_base64_post_event_without_a_key_answers_401() {
    let (status, headers, body) = invoke("apigw_v2_create_product_no_key.json").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(body["error"]["status"], 401);
    assert_eq!(headers["x-request-id"], "JKJbYnQMvHcEPQB=");
}
