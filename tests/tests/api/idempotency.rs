//! Idempotency-Key on POST: replay, conflict, and one piece of work for concurrent retries.

use reqwest::Method;
use sellvy_tests::{Reply, TestApp};
use serde_json::{Value, json};

async fn post_with_key(app: &TestApp, path: &str, key: &str, idem: &str, body: &Value) -> Reply {
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .header("Idempotency-Key", idem)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Reply { status, headers, body }
}

#[tokio::test]
async fn a_retry_replays_the_first_response() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let body = json!({"title": "Once", "type": "service", "price": 9.99});
    let first = post_with_key(&app, "/products", &k, "order-42", &body).await;
    assert_eq!(first.status, 201);
    assert!(first.header("idempotent-replayed").is_none());
    let again = post_with_key(&app, "/products", &k, "order-42", &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(app.get("/products", &k).await.body["meta"]["total"], 1);
    // A new key is a new request.
    assert_eq!(post_with_key(&app, "/products", &k, "order-43", &body).await.status, 201);
    assert_eq!(app.get("/products", &k).await.body["meta"]["total"], 2);
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let first =
        post_with_key(&app, "/products", &k, "k1", &json!({"title": "A", "type": "service", "price": 1}))
            .await;
    assert_eq!(first.status, 201);
    let other =
        post_with_key(&app, "/products", &k, "k1", &json!({"title": "B", "type": "service", "price": 1}))
            .await;
    assert_eq!(other.status, 422);
    assert_eq!(other.fields(), ["Idempotency-Key"]);
    // Another route with the same key is another request too.
    let cat =
        post_with_key(&app, "/categories", &k, "k1", &json!({"title": "A", "type": "service", "price": 1}))
            .await;
    assert_eq!(cat.status, 422);
    assert_eq!(cat.fields(), ["Idempotency-Key"]);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_do_the_work_once() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let body = json!({"code": "ONCE", "type": "percentage", "value": 10});
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (app, k, body) = (app.clone(), k.clone(), body.clone());
        tasks.spawn(async move { post_with_key(&app, "/coupons", &k, "same-key", &body).await });
    }
    let replies = tasks.join_all().await;
    assert!(
        replies.iter().all(|r| r.status == 201),
        "{:?}",
        replies.iter().map(|r| (r.status, &r.body)).collect::<Vec<_>>()
    );
    let ids: std::collections::HashSet<_> = replies.iter().map(|r| r.body["data"]["id"].clone()).collect();
    assert_eq!(ids.len(), 1, "one coupon, one answer");
    assert_eq!(replies.iter().filter(|r| r.header("idempotent-replayed").is_some()).count(), 7);
    assert_eq!(app.get("/coupons", &k).await.body["meta"]["total"], 1);
}

#[tokio::test]
async fn client_errors_are_replayed_and_keys_belong_to_one_tenant() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let bad = json!({"title": "No price", "type": "service"});
    let first = post_with_key(&app, "/products", &store.test, "bad-1", &bad).await;
    assert_eq!(first.status, 422);
    let again = post_with_key(&app, "/products", &store.test, "bad-1", &bad).await;
    assert_eq!(again.status, 422);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    // The same key in live mode is a different key.
    let live = post_with_key(
        &app,
        "/products",
        &store.live,
        "bad-1",
        &json!({"title": "A", "type": "service", "price": 1}),
    )
    .await;
    assert_eq!(live.status, 201);
}

#[tokio::test]
async fn bad_keys_and_non_posts() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let long = "x".repeat(256);
    let r = post_with_key(&app, "/categories", &k, &long, &json!({"name": "A"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["Idempotency-Key"]);
    // Without auth the key changes nothing: 401.
    let r = reqwest::Client::new()
        .post(format!("{}/categories", app.base))
        .header("Idempotency-Key", "a")
        .json(&json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // GETs ignore it.
    let r = app.call(Method::GET, "/categories", Some(&k), None).await;
    assert_eq!(r.status, 200);
}
