//! The official Rust SDK against the local gateway: every route, pages, typed errors, retries
//! that honour Retry-After, idempotent POST retries, webhook verification.

use sellvy_sdk::wire::{Amount, CategoryInput, NewCoupon, NewProduct, ProductChanges, ProductListParams};
use sellvy_sdk::{Client, CouponType, Error, Permission, ProductType};
use sellvy_tests::{Plan, TestApp};
use std::time::{Duration, Instant};

fn new_product(title: &str, price: f64) -> NewProduct {
    NewProduct {
        title: title.into(),
        product_type: ProductType::Service,
        price: price.into(),
        more: ProductChanges::default(),
    }
}

#[tokio::test]
async fn products_categories_coupons_and_keys_through_the_sdk() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let sellvy = Client::new(app.base.trim_end_matches("/v1"), &store.test);

    let category = sellvy
        .categories()
        .create(&CategoryInput { name: Some("Templates".into()), description: None })
        .await
        .unwrap();
    let mut new = new_product("Premium Icon Pack", 29.99);
    new.product_type = ProductType::DigitalDownload;
    new.more.category_id = Some(category.id.clone());
    let product = sellvy.products().create(&new).await.unwrap();
    assert_eq!(product.price, Amount(29.99));
    assert_eq!(product.category_id.as_deref(), Some(category.id.as_str()));

    let got = sellvy.products().get(&product.id).await.unwrap();
    assert_eq!(got.category.as_ref().map(|c| c.name.as_str()), Some("Templates"));
    let changed = sellvy
        .products()
        .update(&product.id, &ProductChanges { price: Some(24.5.into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(changed.price, Amount(24.5));
    let replaced = sellvy
        .products()
        .replace(&product.id, &ProductChanges { title: Some("Icons".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(replaced.title, "Icons");
    assert_eq!(sellvy.categories().get(&category.id).await.unwrap().product_count, 1);

    let coupon = sellvy
        .coupons()
        .create(&NewCoupon {
            code: Some("SDK10".into()),
            kind: Some(CouponType::Percentage),
            value: Some(10.0.into()),
            max_uses: Some(5),
            expires_at: None,
            min_order_amount: None,
            applies_to_products: Some(vec![product.id.clone()]),
        })
        .await
        .unwrap();
    assert_eq!(sellvy.coupons().get(&coupon.id).await.unwrap().code, "SDK10");
    assert_eq!(sellvy.coupons().list(1, 10).await.unwrap().meta.total, 1);
    sellvy.coupons().delete(&coupon.id).await.unwrap();

    let created = sellvy.api_keys().create("reporting", Permission::Read).await.unwrap();
    assert!(created.key.starts_with("sk_test_"));
    let reader = Client::new(&app.base, &created.key);
    assert_eq!(reader.products().get(&product.id).await.unwrap().id, product.id);
    assert_eq!(sellvy.api_keys().pages().collect_all().await.unwrap().len(), 2);
    sellvy.api_keys().revoke(&created.object.id).await.unwrap();
    assert_eq!(reader.products().get(&product.id).await.unwrap_err().code(), Some("unauthorized"));

    sellvy.products().delete(&product.id).await.unwrap();
    sellvy.categories().delete(&category.id).await.unwrap();
    assert_eq!(sellvy.categories().pages().collect_all().await.unwrap().len(), 0);
}

#[tokio::test]
async fn pages_walk_every_product_once() {
    let app = TestApp::spawn().await;
    let sellvy = Client::new(&app.base, &app.new_store().await.test);
    for n in 0..7 {
        sellvy.products().create(&new_product(&format!("P{n}"), n as f64)).await.unwrap();
    }
    let mut pages = sellvy.products().pages(ProductListParams { per_page: Some(3), ..Default::default() });
    let mut sizes = Vec::new();
    let mut titles = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        sizes.push(page.len());
        titles.extend(page.into_iter().map(|p| p.title));
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(titles, ["P6", "P5", "P4", "P3", "P2", "P1", "P0"]);
    let cheap = sellvy
        .products()
        .pages(ProductListParams {
            sort: Some("price".into()),
            order: Some("asc".into()),
            ..Default::default()
        })
        .collect_all()
        .await
        .unwrap();
    assert_eq!(cheap[0].title, "P0");
}

#[tokio::test]
async fn errors_are_typed() {
    let app = TestApp::spawn().await;
    let sellvy = Client::new(&app.base, &app.new_store().await.test);
    let missing = sellvy.products().get("prod_00000000000000000000000000").await.unwrap_err();
    match &missing {
        Error::Api { status, error, request_id, .. } => {
            assert_eq!(*status, 404);
            assert_eq!(error.code, "not_found");
            assert!(request_id.as_deref().unwrap().starts_with("req_"));
        }
        other => panic!("{other:?}"),
    }
    let invalid = sellvy.products().create(&new_product("Bad", -1.0)).await.unwrap_err();
    let Error::Api { error, .. } = invalid else { panic!() };
    assert_eq!(error.code, "validation_error");
    assert_eq!(error.field.as_deref(), Some("price"));
    assert_eq!(error.errors.unwrap()[0].message, "must not be negative");
    let bad_key =
        Client::new(&app.base, "sk_test_nope").products().list(&Default::default()).await.unwrap_err();
    assert_eq!(bad_key.code(), Some("unauthorized"));
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_and_can_be_left_to_the_caller() {
    let app = TestApp::spawn().await;
    let key = app.new_store_on(Plan::Free, None).await.test;
    let patient = Client::new(&app.base, &key);
    let impatient = Client::new(&app.base, &key).with_max_retries(0);
    for _ in 0..10 {
        impatient.categories().list(1, 1).await.unwrap();
    }
    match impatient.categories().list(1, 1).await.unwrap_err() {
        Error::Api { status: 429, retry_after: Some(secs), .. } => assert!((1..=2).contains(&secs)),
        other => panic!("{other:?}"),
    }
    let started = Instant::now();
    patient.categories().list(1, 1).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(500), "it waited for the bucket");
}

#[tokio::test]
async fn post_retries_reuse_one_idempotency_key() {
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::{Arc, Mutex};
    // A server that fails the first attempt (as a crashed Lambda would) and records the keys.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorder = seen.clone();
    let router = axum::Router::new().route(
        "/v1/categories",
        axum::routing::post(move |headers: HeaderMap| {
            let recorder = recorder.clone();
            async move {
                let key = headers["idempotency-key"].to_str().unwrap().to_string();
                let mut keys = recorder.lock().unwrap();
                keys.push(key);
                if keys.len() == 1 {
                    (StatusCode::INTERNAL_SERVER_ERROR, r#"{"error":{"code":"internal_error","message":"x","status":500}}"#)
                } else {
                    (StatusCode::CREATED, r#"{"data":{"id":"cat_1","name":"A","description":null,"product_count":0,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z"}}"#)
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = Client::new(&format!("http://{addr}"), "sk_test_x");
    let made = client
        .categories()
        .create(&CategoryInput { name: Some("A".into()), description: None })
        .await
        .unwrap();
    assert_eq!(made.id, "cat_1");
    let keys = seen.lock().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the retry carries the same key");
    // A second logical call gets a new key.
    client.categories().create(&CategoryInput { name: Some("B".into()), description: None }).await.unwrap();
    assert_ne!(seen.lock().unwrap()[2], keys[0]);
}

#[test]
fn webhook_signatures_and_typed_events() {
    let body = br#"{"id":"evt_1","type":"order.completed","created_at":"2026-03-20T15:30:00Z","data":{"id":"ord_xyz789","total":29.99}}"#;
    let signature = sellvy_sdk::webhooks::sign(body, "whsec_test");
    assert!(sellvy_sdk::webhooks::verify(body, &signature, "whsec_test"));
    let mut tampered = body.to_vec();
    tampered[10] = b'X';
    assert!(!sellvy_sdk::webhooks::verify(&tampered, &signature, "whsec_test"));
    let event = sellvy_sdk::webhooks::parse(body).unwrap();
    assert_eq!(event.event_type, sellvy_sdk::EventType::OrderCompleted);
    assert!(matches!(event.data, sellvy_sdk::webhooks::EventData::Other(ref v) if v["id"] == "ord_xyz789"));
}

#[tokio::test]
async fn recorded_product_events_parse_as_typed_products() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let sellvy = Client::new(&app.base, &store.test);
    let product = sellvy.products().create(&new_product("Evented", 3.0)).await.unwrap();
    let events = app.db.recent_events(&store.tenant(sellvy_sdk::Mode::Test), 5).await.unwrap();
    let raw = serde_json::to_vec(&events[0]).unwrap();
    let event = sellvy_sdk::webhooks::parse(&raw).unwrap();
    assert_eq!(event.event_type, sellvy_sdk::EventType::ProductCreated);
    match event.data {
        sellvy_sdk::webhooks::EventData::Product(p) => assert_eq!(*p, product),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reviews_are_read_replied_to_and_moderated_through_the_sdk() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let sellvy = Client::new(app.base.trim_end_matches("/v1"), &store.test);
    let pk = app.publishable_key(&store.test).await;
    let product =
        app.product(&store.test, serde_json::json!({"title": "Course", "type": "service", "price": 3})).await;
    let r = app
        .post(
            "/storefront/checkout",
            &pk,
            serde_json::json!({"product_id": product["id"], "quantity": 1, "email": "s@example.com", "gateway": "stripe"}),
        )
        .await;
    let (order, token) =
        (r.data()["order"]["id"].as_str().unwrap(), r.data()["access_token"].as_str().unwrap());
    let ok = serde_json::json!({"outcome": "succeeded"});
    app.call(
        reqwest::Method::POST,
        &format!("/storefront/orders/{order}/sandbox_payment?token={token}"),
        Some(&pk),
        Some(&ok),
    )
    .await;
    let made = app
        .post(
            &format!("/storefront/orders/{order}/review?token={token}"),
            &pk,
            serde_json::json!({"rating": 5}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);

    let page = sellvy.reviews().list(1, 10, product["id"].as_str(), Some(5)).await.unwrap();
    assert_eq!(page.meta.total, 1);
    let id = page.data[0].id.clone();
    assert_eq!((page.data[0].rating, page.data[0].customer_email.as_str()), (5, "s@example.com"));
    assert!(sellvy.reviews().list(1, 10, None, Some(1)).await.unwrap().data.is_empty());
    let replied = sellvy.reviews().reply(&id, "Thanks!").await.unwrap();
    assert_eq!(replied.reply.map(|r| r.message).as_deref(), Some("Thanks!"));
    assert!(sellvy.reviews().remove_reply(&id).await.unwrap().reply.is_none());
    assert!(sellvy.reviews().set_hidden(&id, true).await.unwrap().hidden);
    assert!(sellvy.reviews().get(&id).await.unwrap().hidden, "hidden until shown again");
    assert!(!sellvy.reviews().set_hidden(&id, false).await.unwrap().hidden);
}

#[tokio::test]
async fn subscriptions_are_listed_moved_through_time_and_cancelled_through_the_sdk() {
    use sellvy_sdk::SubscriptionFilter;
    use sellvy_sdk::wire::{SandboxOutcome, SubscriptionStatus};
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let sellvy = Client::new(app.base.trim_end_matches("/v1"), &store.test);
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(
            &store.test,
            serde_json::json!({"title": "Club", "type": "service", "price": 4,
                "recurring": {"interval": "week", "interval_count": 1}}),
        )
        .await;
    let r = app
        .post(
            "/storefront/checkout",
            &pk,
            serde_json::json!({"product_id": product["id"], "quantity": 1, "email": "w@example.com", "gateway": "stripe"}),
        )
        .await;
    let (order, token) =
        (r.data()["order"]["id"].as_str().unwrap(), r.data()["access_token"].as_str().unwrap());
    let paid = app
        .call(
            reqwest::Method::POST,
            &format!("/storefront/orders/{order}/sandbox_payment?token={token}"),
            Some(&pk),
            Some(&serde_json::json!({"outcome": "succeeded"})),
        )
        .await;
    let id = paid.data()["subscription_id"].as_str().unwrap().to_string();

    let filter = SubscriptionFilter { status: Some(SubscriptionStatus::Active), ..Default::default() };
    let page = sellvy.subscriptions().list(1, 10, &filter).await.unwrap();
    assert_eq!((page.meta.total, page.data[0].id.as_str()), (1, id.as_str()));
    let s = sellvy.subscriptions().get(&id).await.unwrap();
    let three_weeks = s.current_period_end.plus_seconds(14 * 86_400);
    let moved = sellvy
        .subscriptions()
        .move_test_clock(&id, three_weeks, Some(SandboxOutcome::Succeeded))
        .await
        .unwrap();
    assert_eq!((moved.periods, moved.order_count, moved.test_clock), (4, 4, Some(three_weeks)));
    let cancelled = sellvy.subscriptions().cancel(&id, false, Some("fraud")).await.unwrap();
    assert_eq!(cancelled.status, SubscriptionStatus::Cancelled);
    assert_eq!(cancelled.cancellation.map(|c| c.reason).as_deref(), Some("fraud"));
    let none = SubscriptionFilter { status: Some(SubscriptionStatus::Active), ..Default::default() };
    assert!(sellvy.subscriptions().list(1, 10, &none).await.unwrap().data.is_empty());
}
