//! Coupons: the seed's fields, rules, and code uniqueness that holds under concurrency.

use sellvy_tests::{NewStore, Plan, RateLimit, TestApp};
use serde_json::json;

#[tokio::test]
async fn the_seeds_coupon_round_trips() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let product = app.product(&k, json!({"title": "P", "type": "service", "price": 50})).await;
    let body = json!({
        "code": "SUMMER20", "type": "percentage", "value": 20, "max_uses": 100,
        "expires_at": "2027-09-01T00:00:00Z", "min_order_amount": 10,
        "applies_to_products": [product["id"]]
    });
    let r = app.post("/coupons", &k, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.data().clone();
    assert!(c["id"].as_str().unwrap().starts_with("cpn_"));
    for field in ["code", "type", "value", "max_uses", "min_order_amount", "applies_to_products"] {
        assert_eq!(c[field], body[field], "{field}");
    }
    assert_eq!(c["expires_at"], "2027-09-01T00:00:00.000Z");
    assert_eq!(c["uses"], 0);
    assert_eq!(c["currency"], "USD");

    let id = c["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/coupons/{id}"), &k).await.data(), &c);
    let list = app.get("/coupons", &k).await;
    assert_eq!(list.body["meta"]["total"], 1);
    assert_eq!(list.data()[0], c);

    assert_eq!(app.delete(&format!("/coupons/{id}"), &k).await.status, 204);
    assert_eq!(app.get(&format!("/coupons/{id}"), &k).await.status, 404);
    assert_eq!(app.delete(&format!("/coupons/{id}"), &k).await.status, 404);
    assert_eq!(app.get("/coupons", &k).await.body["meta"]["total"], 0);
    // Its code is free again.
    assert_eq!(app.post("/coupons", &k, body).await.status, 201);
}

#[tokio::test]
async fn every_rule_names_its_field() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    assert_eq!(app.post("/coupons", &k, json!({})).await.fields(), ["code", "type", "value"]);
    let r = app
        .post(
            "/coupons",
            &k,
            json!({"code": "has space", "type": "bogo", "value": 5, "max_uses": 0,
                   "expires_at": "2020-01-01T00:00:00Z", "min_order_amount": -3,
                   "applies_to_products": ["nope"], "stackable": true}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.fields(),
        ["code", "type", "max_uses", "expires_at", "min_order_amount", "applies_to_products[0]", "stackable"]
    );
    let pct = |v: serde_json::Value| json!({"code": "P", "type": "percentage", "value": v});
    assert_eq!(app.post("/coupons", &k, pct(json!(0))).await.fields(), ["value"]);
    assert_eq!(app.post("/coupons", &k, pct(json!(100.5))).await.fields(), ["value"]);
    assert_eq!(app.post("/coupons", &k, pct(json!("12.5"))).await.data()["value"].to_string(), "12.5");
    let fixed = json!({"code": "F", "type": "fixed", "value": 5.555});
    assert_eq!(app.post("/coupons", &k, fixed).await.fields(), ["value"]);
    let r = app
        .post("/coupons", &k, json!({"code": "D", "type": "fixed", "value": 5, "expires_at": "tomorrow"}))
        .await;
    assert_eq!(r.fields(), ["expires_at"]);
}

#[tokio::test]
async fn named_products_must_exist_in_this_store_and_mode() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let other = app.new_store().await;
    let mine = app.product(&store.test, json!({"title": "Mine", "type": "service", "price": 1})).await;
    let live = app.product(&store.live, json!({"title": "Live", "type": "service", "price": 1})).await;
    let theirs = app.product(&other.test, json!({"title": "Theirs", "type": "service", "price": 1})).await;
    let ghost = "prod_00000000000000000000000000";
    let r = app
        .post(
            "/coupons",
            &store.test,
            json!({"code": "X", "type": "percentage", "value": 5,
                   "applies_to_products": [mine["id"], live["id"], theirs["id"], ghost]}),
        )
        .await;
    assert_eq!(r.status, 422);
    // The transaction names the first missing one.
    assert_eq!(r.fields(), ["applies_to_products[1]"]);
    assert_eq!(app.get("/coupons", &store.test).await.body["meta"]["total"], 0, "nothing half-written");
    let ok = app
        .post(
            "/coupons",
            &store.test,
            json!({"code": "X", "type": "percentage", "value": 5, "applies_to_products": [mine["id"]]}),
        )
        .await;
    assert_eq!(ok.status, 201);
}

#[tokio::test]
async fn codes_are_unique_per_store_and_mode_ignoring_case() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let other = app.new_store().await;
    let coupon = |code: &str| json!({"code": code, "type": "percentage", "value": 20});
    assert_eq!(app.post("/coupons", &store.test, coupon("SUMMER20")).await.status, 201);
    let dup = app.post("/coupons", &store.test, coupon("summer20")).await;
    assert_eq!(dup.status, 422);
    assert_eq!(dup.fields(), ["code"]);
    assert!(dup.body["error"]["message"].as_str().unwrap().contains("already used"));
    // Other modes and stores have their own codes.
    assert_eq!(app.post("/coupons", &store.live, coupon("summer20")).await.status, 201);
    assert_eq!(app.post("/coupons", &other.test, coupon("Summer20")).await.status, 201);
}

#[tokio::test]
async fn twenty_concurrent_creates_of_one_code_make_exactly_one_coupon() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..20 {
        let (app, k) = (app.clone(), k.clone());
        let code = if n % 2 == 0 { "RACE" } else { "race" };
        tasks.spawn(async move {
            app.post("/coupons", &k, json!({"code": code, "type": "fixed", "value": n + 1})).await
        });
    }
    let replies = tasks.join_all().await;
    let won: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(won.len(), 1, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.fields(), ["code"]);
    }
    assert_eq!(app.get("/coupons", &k).await.body["meta"]["total"], 1);
}

#[tokio::test]
async fn fixed_values_are_in_the_stores_currency() {
    let app = TestApp::spawn().await;
    let spec = NewStore {
        currency: sellvy_models::Currency::parse("JPY").unwrap(),
        custom_limit: RateLimit::custom(10_000, 1000),
        ..NewStore::new("Yen store", Plan::Enterprise)
    };
    let v = sellvy_ops::create_store(&app.db, &spec).await.unwrap();
    let k = v["keys"]["test"]["key"].as_str().unwrap();
    let r = app
        .post("/coupons", k, json!({"code": "YEN", "type": "fixed", "value": 500, "min_order_amount": 1000}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.data()["currency"], "JPY");
    let r = app.post("/coupons", k, json!({"code": "YEN2", "type": "fixed", "value": 5.5})).await;
    assert_eq!(r.fields(), ["value"], "JPY has no minor unit");
}
