//! The seed's envelope and error shape everywhere: unknown routes, wrong methods, bad bodies.

use reqwest::Method;
use sellvy_tests::TestApp;

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let r = app.get("/nothing-here", &store.test).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "not_found");
    assert_eq!(r.body["error"]["status"], 404);

    let r = app.call(Method::DELETE, "/products", Some(&store.test), None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["error"]["status"], 405);
    assert!(r.body["error"]["message"].is_string());

    // Outside /v1 too, and without a key.
    let r = app.call(Method::GET, "/../../", None, None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let ok = app.get("/products", &store.test).await;
    let unauthorized = app.call(Method::GET, "/products", None, None).await;
    let missing = app.get("/products/prod_x", &store.test).await;
    let mut ids = Vec::new();
    for r in [&ok, &unauthorized, &missing] {
        let id = r.header("x-request-id").expect("x-request-id").to_string();
        assert!(id.starts_with("req_"), "{id}");
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

#[tokio::test]
async fn malformed_bodies_are_422_naming_the_body() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    for body in ["{\"title\": ", "not json", "[1,2]", "\"string\"", "", "null"] {
        let r = app.call_raw(Method::POST, "/products", &store.test, body).await;
        assert_eq!(r.status, 422, "{body:?}: {}", r.body);
        assert_eq!(r.code(), "validation_error");
        assert_eq!(r.body["error"]["field"], "body", "{body:?}");
    }
    // Over 1 MiB.
    let huge = format!("{{\"title\": \"{}\"}}", "x".repeat(1_100_000));
    let r = app.call_raw(Method::POST, "/products", &store.test, &huge).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "payload_too_large");
}
