//! API keys: authentication (401), permissions (403), and the /v1/api_keys routes.

use reqwest::Method;
use sellvy_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn requests_without_a_valid_key_get_401_in_the_seeds_shape() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let missing = app.call(Method::GET, "/products", None, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body["error"]["code"], "unauthorized");
    assert_eq!(missing.body["error"]["status"], 401);
    assert!(missing.body["error"]["message"].as_str().unwrap().contains("API key"));

    let well_formed_but_unknown = format!("sk_test_{}", "A".repeat(40));
    let revoked_looking = store.test.replace("sk_test_", "sk_live_"); // right secret, wrong mode
    for bad in [
        "nonsense",
        "sk_test_short",
        "pk_test_abcdefabcdefabcdefabcdefabcdefabcdef",
        &well_formed_but_unknown,
        &revoked_looking,
    ] {
        let r = app.get("/products", bad).await;
        assert_eq!(r.status, 401, "{bad}");
        assert_eq!(r.code(), "unauthorized");
    }
    // Not a Bearer token at all.
    let r = app.call_raw(Method::GET, "/products", "x", "").await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn read_keys_only_read_write_keys_only_touch_the_catalog() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let read = app.key_with(&store.test, "read").await;
    let write = app.key_with(&store.test, "write").await;
    let product = json!({"title": "T", "type": "service", "price": 1});

    assert_eq!(app.get("/products", &read).await.status, 200);
    let denied = app.post("/products", &read, product.clone()).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.code(), "forbidden");
    assert_eq!(denied.body["error"]["status"], 403);

    let created = app.product(&write, product.clone()).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.patch(&format!("/products/{id}"), &read, json!({"title": "X"})).await.status, 403);
    assert_eq!(app.delete(&format!("/products/{id}"), &read).await.status, 403);
    assert_eq!(app.patch(&format!("/products/{id}"), &write, json!({"title": "X"})).await.status, 200);

    // API keys need full access, even to list.
    for key in [&read, &write] {
        assert_eq!(app.get("/api_keys", key).await.code(), "forbidden");
        assert_eq!(app.post("/api_keys", key, json!({"name": "n", "permissions": "read"})).await.status, 403);
    }
    assert_eq!(app.get("/api_keys", &store.test).await.status, 200);
}

#[tokio::test]
async fn a_new_key_is_shown_once_and_listings_never_show_secrets() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let r =
        app.post("/api_keys", &store.test, json!({"name": "Inventory Script", "permissions": "write"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.data()["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("sk_test_") && secret.len() >= 8 + 32);
    assert_eq!(r.data()["permissions"], "write");
    assert_eq!(r.data()["mode"], "test");

    let list = app.get("/api_keys", &store.test).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["meta"]["total"], 2);
    let text = list.body.to_string();
    assert!(!text.contains(&secret), "listing leaks a secret");
    assert!(!text.contains(&store.test), "listing leaks the caller's secret");
    let names: Vec<_> = list.data().as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Inventory Script"));
    assert!(list.data()[0].get("key").is_none());

    // The new key works, and last_used_at shows it.
    assert_eq!(app.get("/products", &secret).await.status, 200);
    let list = app.get("/api_keys", &store.test).await;
    let used = list.data().as_array().unwrap().iter().find(|k| k["name"] == "Inventory Script").unwrap();
    assert!(used["last_used_at"].is_string(), "{used}");

    // Live keys are listed only by live keys.
    let live = app.get("/api_keys", &store.live).await;
    assert_eq!(live.body["meta"]["total"], 1);
}

#[tokio::test]
async fn revoked_keys_stop_working_at_once() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let r = app.post("/api_keys", &store.test, json!({"name": "temp", "permissions": "read"})).await;
    let (id, secret) =
        (r.data()["id"].as_str().unwrap().to_string(), r.data()["key"].as_str().unwrap().to_string());
    assert_eq!(app.get("/products", &secret).await.status, 200);
    let del = app.delete(&format!("/api_keys/{id}"), &store.test).await;
    assert_eq!(del.status, 204);
    assert_eq!(app.get("/products", &secret).await.status, 401);
    assert_eq!(app.delete(&format!("/api_keys/{id}"), &store.test).await.status, 404);
    assert_eq!(app.delete("/api_keys/key_nope", &store.test).await.code(), "not_found");
}

#[tokio::test]
async fn keys_of_another_store_or_mode_cannot_be_revoked_and_a_key_cannot_revoke_itself() {
    let app = TestApp::spawn().await;
    let a = app.new_store().await;
    let b = app.new_store().await;
    assert_eq!(app.delete(&format!("/api_keys/{}", b.test_key_id), &a.test).await.status, 404);
    assert_eq!(app.delete(&format!("/api_keys/{}", a.live_key_id), &a.test).await.status, 404);
    // Both still work.
    assert_eq!(app.get("/products", &b.test).await.status, 200);
    assert_eq!(app.get("/products", &a.live).await.status, 200);
    let own = app.delete(&format!("/api_keys/{}", a.test_key_id), &a.test).await;
    assert_eq!(own.status, 422);
    assert_eq!(own.fields(), ["id"]);
}

#[tokio::test]
async fn creating_a_key_validates_its_fields() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let r = app.post("/api_keys", &store.test, json!({"permissions": "admin", "scope": "all"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "validation_error");
    assert_eq!(r.fields(), ["name", "permissions", "scope"]);
    let r = app.post("/api_keys", &store.test, json!({"name": "", "permissions": "read"})).await;
    assert_eq!(r.fields(), ["name"]);
}

/// A warm process reads a key by id in two DynamoDB calls (the limiter's write and the item),
/// taking the key from memory while the limiter's write returns the key version it was read
/// under; a revocation in any process moves the version on, so the next request in every
/// process is refused.
#[tokio::test]
async fn a_warm_read_is_two_calls_and_a_revocation_reaches_every_process_at_once() {
    let app = TestApp::spawn().await;
    let other_process = TestApp::spawn().await;
    let store = app.new_store().await;
    let product = app.product(&store.test, json!({"title": "Read me", "type": "service", "price": 1})).await;
    let path = format!("/products/{}", product["id"].as_str().unwrap());
    let reader = app.key_with(&store.test, "read").await;
    let cold = app.get(&path, &reader).await;
    let warm = app.get(&path, &reader).await;
    assert_eq!((cold.status.as_u16(), warm.status.as_u16()), (200, 200));
    println!(
        "GET /products/{{id}}: cold {}, warm {}",
        cold.header("x-sellvy-cost").unwrap(),
        warm.header("x-sellvy-cost").unwrap()
    );
    // Cold: the key, the limiter, the product, and the key's first `last_used_at`.
    assert_eq!((cold.cost("calls"), warm.cost("calls")), (4.0, 2.0), "the key from memory when warm");
    assert_eq!(warm.cost("items_read"), 1.0, "the product only");
    assert_eq!(other_process.get(&path, &reader).await.status, 200);
    assert_eq!(other_process.get(&path, &reader).await.cost("calls"), 2.0);

    // Revoked through the API of one process: the next request in both is refused.
    // A warm read starts before the limiter's write returns the new version: its answer is
    // held, and is the 401, not the product.
    revoke_read_key(&app, &store.test).await;
    for process in [&app, &other_process] {
        let refused = process.get(&path, &reader).await;
        assert_eq!(refused.status, 401);
        assert!(!refused.body.to_string().contains("Read me"), "{}", refused.body);
    }
    // The store's other keys read their keys once more, then are warm again.
    assert_eq!(app.get(&path, &store.test).await.status, 200);
    assert_eq!(app.get(&path, &store.test).await.cost("calls"), 2.0);
}

/// When the limiter cannot answer, no key is trusted from memory: it is read again (and a
/// revoked one refused), though the request is let through the limit.
#[tokio::test]
async fn no_key_is_trusted_from_memory_while_the_limiter_cannot_answer() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let product = app.product(&store.test, json!({"title": "Read me", "type": "service", "price": 1})).await;
    let path = format!("/products/{}", product["id"].as_str().unwrap());
    let reader = app.key_with(&store.test, "read").await;
    assert_eq!(app.get(&path, &reader).await.status, 200);
    assert_eq!(app.get(&path, &reader).await.cost("calls"), 2.0, "warm");

    // The limiter's bucket made unusable (its `tat` not a number): every take of it fails.
    crate::raw_dynamodb()
        .update_item()
        .table_name(app.db.table())
        .key("PK", A::S(format!("RATE#{}#test", store.store_id)))
        .key("SK", A::S("RATE".into()))
        .update_expression("SET tat = :broken")
        .expression_attribute_values(":broken", A::S("not a number".into()))
        .send()
        .await
        .unwrap();
    let through = app.get(&path, &reader).await;
    assert_eq!(through.status, 200, "let through: {}", through.body);
    assert!(through.header("x-ratelimit-limit").is_none(), "no decision was made");
    assert_eq!(
        through.cost("items_read"),
        2.0,
        "the key read again, then the product: {}",
        through.header("x-sellvy-cost").unwrap()
    );

    // Revoked meanwhile: refused at once, though memory still holds the key.
    revoke_read_key(&app, &store.test).await;
    assert_eq!(app.get(&path, &reader).await.status, 401);
}

/// Revokes the store's read key (the one `key_with(…, "read")` made) with its full key.
async fn revoke_read_key(app: &TestApp, full: &str) {
    let keys = app.get("/api_keys", full).await;
    let read = keys.data().as_array().unwrap().iter().find(|k| k["permissions"] == "read").unwrap();
    let id = read["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api_keys/{id}"), full).await.status, 204);
}
