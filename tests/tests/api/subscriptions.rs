//! Subscriptions: a recurring product's checkout starts one; renewals are orders of their own,
//! charged once per period whatever runs them (the sweeper, a test clock, the buyer); a failed
//! renewal goes through dunning; the seller and the buyer cancel.

use sellvy_models::time::Timestamp;
use sellvy_tests::{Receiver, StoreKeys, TestApp, eventually};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn app() -> TestApp {
    TestApp::builder()
        .storefront_client_limit(sellvy_tests::RateLimit::custom(1_000_000, 100_000).unwrap())
        .spawn()
        .await
}

fn monthly(title: &str, more: Value) -> Value {
    let mut body = json!({"title": title, "type": "service", "price": 10,
        "recurring": {"interval": "month", "interval_count": 1}});
    body.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
    body
}

/// Checks out one unit and pays it (sandbox): the first order and its access token.
async fn subscribe(app: &TestApp, pk: &str, product: &Value, extra: Value) -> (Value, String) {
    let mut body =
        json!({"product_id": product["id"], "quantity": 1, "email": "sub@example.com", "gateway": "stripe"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let r = app.post("/storefront/checkout", pk, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (order, token) = (r.data()["order"].clone(), r.data()["access_token"].as_str().unwrap().to_string());
    let path = format!("/storefront/orders/{}/sandbox_payment?token={token}", order["id"].as_str().unwrap());
    let paid = app.post(&path, pk, json!({"outcome": "succeeded"})).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    (paid.data().clone(), token)
}

fn at(v: &Value) -> Timestamp {
    Timestamp::parse(v.as_str().unwrap_or_else(|| panic!("a time, not {v}"))).unwrap()
}

async fn sub(app: &TestApp, key: &str, id: &str) -> Value {
    let r = app.get(&format!("/subscriptions/{id}"), key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().clone()
}

async fn move_clock(
    app: &TestApp,
    key: &str,
    id: &str,
    to: Timestamp,
    renewals: &str,
) -> sellvy_tests::Reply {
    app.post(
        &format!("/subscriptions/{id}/test_clock"),
        key,
        json!({"advance_to": to.to_rfc3339(), "renewals": renewals}),
    )
    .await
}

async fn setup(app: &TestApp, product: Value) -> (StoreKeys, String, Value) {
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app.product(&store.test, product).await;
    (store, pk, product)
}

#[tokio::test]
async fn a_year_of_monthly_renewals_runs_in_seconds_each_an_order_with_the_next_serials() {
    let app = app().await;
    let serials: Vec<String> = (1..=14).map(|n| format!("KEY-{n:02}")).collect();
    let (store, pk, product) = setup(
        &app,
        json!({"title": "Licence", "type": "serials", "price": "10.00", "info": serials.join(","),
            "recurring": {"interval": "month", "interval_count": 1}}),
    )
    .await;
    let receiver = Receiver::start().await;
    let events = ["subscription.created", "subscription.renewed"];
    app.post("/webhook_endpoints", &store.test, json!({"url": receiver.url, "events": events})).await;
    app.post("/coupons", &store.test, json!({"code": "HALF", "type": "percentage", "value": 50})).await;

    // Buyers see the rule; the first order (half price with the coupon) starts the subscription.
    let public = app.get(&format!("/storefront/products/{}", product["id"].as_str().unwrap()), &pk).await;
    assert_eq!(public.data()["recurring"], json!({"interval": "month", "interval_count": 1}));
    let (first, token) = subscribe(&app, &pk, &product, json!({"coupon": "HALF"})).await;
    assert_eq!(first["total"].as_f64(), Some(5.0));
    let id = first["subscription_id"].as_str().expect("the order names its subscription").to_string();
    assert!(id.starts_with("sub_"));
    let s = sub(&app, &store.test, &id).await;
    assert_eq!(
        (s["status"].as_str(), s["periods"].as_u64(), s["renewal_price"].as_f64(), s["order_count"].as_u64()),
        (Some("active"), Some(1), Some(10.0), Some(1)),
        "{s}"
    );
    let start = at(&s["current_period_start"]);
    assert_eq!(at(&s["next_charge_at"]), at(&s["current_period_end"]));
    assert!(eventually(Duration::from_secs(10), || async { !receiver.received().is_empty() }).await);
    assert_eq!(receiver.received()[0].json()["data"], s, "subscription.created carries the API's object");

    // A year later (one move of its clock): twelve renewals, each an order of its own.
    let started = Instant::now();
    let year = Timestamp::parse(&format!(
        "{}{}",
        start.to_rfc3339()[..4].parse::<i32>().unwrap() + 1,
        &start.to_rfc3339()[4..]
    ))
    .unwrap();
    let r = move_clock(&app, &store.test, &id, year.plus_seconds(60), "succeeded").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let took = started.elapsed();
    println!("a year of monthly renewals took {took:?}: {}", r.header("x-sellvy-cost").unwrap_or("-"));
    assert!(took < Duration::from_secs(30), "in seconds: {took:?}");
    let s = r.data().clone();
    assert_eq!(
        (s["status"].as_str(), s["periods"].as_u64(), s["order_count"].as_u64()),
        (Some("active"), Some(13), Some(13)),
        "{s}"
    );
    assert_eq!(at(&s["current_period_start"]), year);
    let orders = s["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 13);
    assert_eq!(orders.last().unwrap(), &first["id"], "newest first");
    let mut delivered = Vec::new();
    for o in &orders[..12] {
        // The buyer's one token opens every order of the subscription.
        let path = format!("/storefront/orders/{}?token={token}", o.as_str().unwrap());
        let order = app.get(&path, &pk).await;
        assert_eq!(order.status, 200, "{}", order.body);
        let order = order.data();
        assert_eq!(
            (order["status"].as_str(), order["total"].as_f64(), order["coupon"].as_str()),
            (Some("completed"), Some(10.0), None)
        );
        assert_eq!(order["subscription_id"], json!(id));
        delivered.extend(
            order["delivery"]["items"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()),
        );
    }
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), 12, "twelve different serials, one a period");
    let product = app.get(&format!("/products/{}", product["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(
        (product.data()["stock"].as_u64(), product.data()["total_sold"].as_u64()),
        (Some(1), Some(13))
    );
    let customer =
        app.get(&format!("/customers/{}", first["customer_id"].as_str().unwrap()), &store.test).await;
    assert_eq!(customer.data()["total_orders"], 13, "{}", customer.body);

    assert!(eventually(Duration::from_secs(20), || async { receiver.received().len() == 13 }).await);
    let renewed: Vec<Value> = receiver.received().iter().skip(1).map(|r| r.json()["data"].clone()).collect();
    let periods: Vec<u64> = renewed.iter().map(|d| d["periods"].as_u64().unwrap()).collect();
    let mut sorted = periods.clone();
    sorted.sort();
    assert_eq!(sorted, (2..=13).collect::<Vec<u64>>(), "subscription.renewed once a period");
}

#[tokio::test]
async fn a_failed_renewal_goes_through_dunning_to_cancellation_or_is_paid_by_the_buyer() {
    let app = app().await;
    let (store, pk, product) = setup(&app, monthly("Membership", json!({}))).await;
    let receiver = Receiver::start().await;
    app.post(
        "/webhook_endpoints",
        &store.test,
        json!({"url": receiver.url, "events": ["subscription.cancelled"]}),
    )
    .await;
    let (first, _) = subscribe(&app, &pk, &product, json!({})).await;
    let id = first["subscription_id"].as_str().unwrap();
    let end = at(&sub(&app, &store.test, id).await["current_period_end"]);

    // Declined at the period's end: past_due, retried 1, 3 and 5 days later, then cancelled.
    let declined = move_clock(&app, &store.test, id, end.plus_seconds(1), "failed").await;
    println!("a clock move whose renewal is declined: {}", declined.header("x-sellvy-cost").unwrap_or("-"));
    let s = declined.data().clone();
    assert_eq!(s["status"], "past_due", "{s}");
    assert!(s["renewal_error"].as_str().unwrap().contains("declined"), "{s}");
    let mut retries = vec![];
    while s_status(&app, &store.test, id).await == "past_due" {
        let s = sub(&app, &store.test, id).await;
        let next = at(&s["next_charge_at"]);
        retries.push((next.seconds() - end.seconds()) / 86_400);
        move_clock(&app, &store.test, id, next, "failed").await;
    }
    assert_eq!(retries, [1, 3, 5]);
    let s = sub(&app, &store.test, id).await;
    assert_eq!(s["status"], "cancelled");
    assert_eq!(
        (s["cancellation"]["by"].as_str(), s["cancellation"]["reason"].as_str()),
        (Some("sellvy"), Some("payment_failed"))
    );
    assert_eq!(
        (s["periods"].as_u64(), s["order_count"].as_u64(), s["next_charge_at"].clone()),
        (Some(1), Some(1), Value::Null)
    );
    // Each try was an order that was cancelled, its payment failed: nothing was charged.
    let orders =
        app.get(&format!("/orders?product_id={}", product["id"].as_str().unwrap()), &store.test).await;
    let statuses: Vec<&str> =
        orders.data().as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["cancelled", "cancelled", "cancelled", "cancelled", "completed"],
        "{}",
        orders.body
    );
    assert!(eventually(Duration::from_secs(10), || async { receiver.received().len() == 1 }).await);
    assert_eq!(receiver.received()[0].json()["data"], s, "subscription.cancelled carries the API's object");

    // Another buyer pays the failed renewal from their own page: a decline leaves the dunning
    // as it was, a payment renews from where the period ended.
    let (first, token) = subscribe(&app, &pk, &product, json!({"email": "late@example.com"})).await;
    let id = first["subscription_id"].as_str().unwrap();
    let end = at(&sub(&app, &store.test, id).await["current_period_end"]);
    move_clock(&app, &store.test, id, end.plus_seconds(1), "failed").await;
    let page = format!("/storefront/subscriptions/{id}?token={token}");
    let before = app.get(&page, &pk).await.data().clone();
    assert_eq!(before["status"], "past_due");
    assert!(before.get("customer_email").is_none(), "the buyer's page names no email");
    // The buyer's page answers a renewal order of its own, paid as a checkout's is.
    let pay = |outcome: &'static str| {
        let (app, pk, token) = (&app, &pk, &token);
        async move {
            let started = app
                .post(&format!("/storefront/subscriptions/{id}/payment?token={token}"), pk, json!({}))
                .await;
            assert_eq!(started.status, 201, "{}", started.body);
            assert_eq!(started.data()["payment"]["sandbox"], true);
            let order = started.data()["order"]["id"].as_str().unwrap().to_string();
            let path = format!("/storefront/orders/{order}/sandbox_payment?token={token}");
            let r = app.post(&path, pk, json!({"outcome": outcome})).await;
            assert_eq!(r.status, 200, "{}", r.body);
            app.get(&format!("/storefront/subscriptions/{id}?token={token}"), pk).await
        }
    };
    // Asking twice before paying answers the same order (the stock is held once).
    let payment = format!("/storefront/subscriptions/{id}/payment?token={token}");
    let once = app.post(&payment, &pk, json!({})).await;
    let twice = app.post(&payment, &pk, json!({})).await;
    assert_eq!((once.status.as_u16(), twice.status.as_u16()), (201, 201), "{}", twice.body);
    assert_eq!(once.data()["order"]["id"], twice.data()["order"]["id"]);
    let declined = pay("failed").await;
    assert_eq!(
        (declined.data()["status"].as_str(), &declined.data()["next_charge_at"]),
        (Some("past_due"), &before["next_charge_at"])
    );
    let paid = pay("succeeded").await;
    assert_eq!(paid.data()["status"], "active", "{}", paid.body);
    assert_eq!(at(&paid.data()["current_period_start"]), end);
    assert_eq!(paid.data()["orders"].as_array().unwrap().len(), 2);
    let again =
        app.post(&format!("/storefront/subscriptions/{id}/payment?token={token}"), &pk, json!({})).await;
    assert_eq!(
        (again.status.as_u16(), again.fields()),
        (422, vec!["id".to_string()]),
        "nothing left to pay: {}",
        again.body
    );
    assert_eq!(app.get(&format!("/storefront/subscriptions/{id}?token=wrong"), &pk).await.status, 404);
}

async fn s_status(app: &TestApp, key: &str, id: &str) -> String {
    sub(app, key, id).await["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_renewal_that_cannot_be_delivered_is_not_charged_and_a_product_withdrawn_ends_them() {
    let app = app().await;
    let (store, pk, product) = setup(
        &app,
        json!({"title": "Keys", "type": "serials", "price": 3, "info": "ONLY-ONE",
            "recurring": {"interval": "week", "interval_count": 2}}),
    )
    .await;
    let (first, _) = subscribe(&app, &pk, &product, json!({})).await;
    let id = first["subscription_id"].as_str().unwrap();
    let s = sub(&app, &store.test, id).await;
    let end = at(&s["current_period_end"]);
    assert_eq!(end.seconds() - at(&s["current_period_start"]).seconds(), 14 * 86_400);
    let s = move_clock(&app, &store.test, id, end.plus_seconds(1), "succeeded").await.data().clone();
    assert_eq!(s["status"], "past_due", "{s}");
    assert!(s["renewal_error"].as_str().unwrap().contains("out of stock"), "{s}");
    assert_eq!(s["order_count"], 1, "no order, no charge");
    let orders =
        app.get(&format!("/orders?product_id={}", product["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(orders.data().as_array().unwrap().len(), 1);
    // Restocked before the retry: the retry renews.
    let pid = product["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("/products/{pid}/serials"), &store.test, json!({"info": "TWO,THREE"})).await.status,
        200
    );
    let s = move_clock(&app, &store.test, id, at(&s["next_charge_at"]), "succeeded").await.data().clone();
    assert_eq!((s["status"].as_str(), s["periods"].as_u64()), (Some("active"), Some(2)), "{s}");

    // Made private: at its period's end it expires, by Sellvy, the product unavailable.
    assert_eq!(
        app.patch(&format!("/products/{pid}"), &store.test, json!({"private": true})).await.status,
        200
    );
    let s = move_clock(&app, &store.test, id, at(&s["current_period_end"]), "succeeded").await.data().clone();
    assert_eq!(s["status"], "expired", "{s}");
    assert_eq!(
        (s["cancellation"]["by"].as_str(), s["cancellation"]["reason"].as_str()),
        (Some("sellvy"), Some("product_unavailable"))
    );
    assert_eq!(s["periods"], 2);
}

#[tokio::test]
async fn ten_concurrent_sweeps_charge_a_due_renewal_exactly_once() {
    let app = app().await;
    let (store, pk, product) = setup(
        &app,
        json!({"title": "Daily", "type": "digital_download", "price": 2, "file_url": "https://files.example/a.zip",
            "stock_amount": 100, "recurring": {"interval": "day", "interval_count": 1}}),
    )
    .await;
    let (first, _) = subscribe(&app, &pk, &product, json!({})).await;
    let id = first["subscription_id"].as_str().unwrap().to_string();
    let end = at(&sub(&app, &store.test, &id).await["current_period_end"]);
    let mine = store.tenant(sellvy_models::Mode::Test);
    let state = &app.state;
    let (not_yet, idle) =
        sellvy_store::measure(sellvy_app::subscriptions::renew_due(state, end.plus_seconds(-1), |t| {
            *t == mine
        }))
        .await;
    assert_eq!(not_yet.unwrap(), 0, "nothing before its time");
    println!("a sweep with nothing due (of this store's): {idle}");

    // What one renewal costs, alone: a second subscription renewed by one step.
    let (second, _) = subscribe(&app, &pk, &product, json!({"email": "second@example.com"})).await;
    let second = second["subscription_id"].as_str().unwrap().to_string();
    let second_end = at(&sub(&app, &store.test, &second).await["current_period_end"]);
    let (stepped, cost) = sellvy_store::measure(sellvy_app::subscriptions::step(
        state,
        &mine,
        &second,
        second_end.plus_seconds(1),
    ))
    .await;
    assert_eq!(stepped.unwrap(), sellvy_app::subscriptions::Stepped::Renewed);
    println!("one renewal (download, returning buyer): {cost}");
    assert!(cost.calls <= 10, "{cost}");
    let mut sweeps = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (state, mine) = (state.clone(), mine.clone());
        sweeps.spawn(async move {
            let sweep = sellvy_app::subscriptions::renew_due(&state, end.plus_seconds(1), |t| *t == mine);
            sellvy_app::committing(&state, sweep).await
        });
    }
    while let Some(r) = sweeps.join_next().await {
        r.unwrap().unwrap();
    }
    let s = sub(&app, &store.test, &id).await;
    assert_eq!(
        (s["status"].as_str(), s["periods"].as_u64(), s["order_count"].as_u64()),
        (Some("active"), Some(2), Some(2)),
        "{s}"
    );
    let orders =
        app.get(&format!("/orders?product_id={}", product["id"].as_str().unwrap()), &store.test).await;
    let paid: Vec<&Value> =
        orders.data().as_array().unwrap().iter().filter(|o| o["payment_status"] == "paid").collect();
    let of_a: Vec<&Value> =
        paid.iter().copied().filter(|o| o["customer_email"] == "sub@example.com").collect();
    assert_eq!(of_a.len(), 2, "the first order and one renewal: {}", orders.body);
    assert_eq!(
        orders.data().as_array().unwrap().len(),
        4,
        "one renewal order was placed each: {}",
        orders.body
    );
    let product = app.get(&format!("/products/{}", product["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(
        (product.data()["total_sold"].as_u64(), product.data()["stock"].as_u64()),
        (Some(4), Some(96))
    );
    // The renewal gave a fresh download link.
    let renewal = of_a.iter().find(|o| o["id"] != first["id"]).unwrap();
    assert_ne!(renewal["delivery"]["download_url"], first["delivery"]["download_url"]);
    assert!(renewal["delivery"]["download_url"].as_str().is_some());
}

#[tokio::test]
async fn the_seller_and_the_buyer_cancel_and_only_the_owner_reaches_a_subscription() {
    let app = app().await;
    let (store, pk, product) = setup(&app, monthly("Club", json!({}))).await;
    let receiver = Receiver::start().await;
    app.post(
        "/webhook_endpoints",
        &store.test,
        json!({"url": receiver.url, "events": ["subscription.cancelled"]}),
    )
    .await;
    let (a, _) = subscribe(&app, &pk, &product, json!({"email": "a@example.com"})).await;
    let (b, token_b) = subscribe(&app, &pk, &product, json!({"email": "b@example.com"})).await;
    let (a, b) = (a["subscription_id"].as_str().unwrap(), b["subscription_id"].as_str().unwrap());

    // The seller: at period end (the default), with a reason; asking twice changes nothing.
    let path = format!("/subscriptions/{a}/cancel");
    let r = app.post(&path, &store.test, json!({"reason": "moved to the yearly plan"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = r.data().clone();
    assert_eq!(
        (s["status"].as_str(), s["cancel_at_period_end"].as_bool(), &s["next_charge_at"]),
        (Some("active"), Some(true), &Value::Null)
    );
    assert_eq!(
        (s["cancellation"]["by"].as_str(), s["cancellation"]["reason"].as_str()),
        (Some("seller"), Some("moved to the yearly plan"))
    );
    assert_eq!(app.post(&path, &store.test, json!({})).await.data()["updated_at"], s["updated_at"]);
    assert_eq!(
        app.post(&path, &store.test, json!({"at_period_end": "soon"})).await.fields(),
        ["at_period_end"]
    );
    let end = at(&s["current_period_end"]);
    let s = move_clock(&app, &store.test, a, end, "succeeded").await.data().clone();
    assert_eq!((s["status"].as_str(), s["periods"].as_u64()), (Some("expired"), Some(1)), "not renewed: {s}");
    assert_eq!(app.post(&path, &store.test, json!({"at_period_end": false})).await.fields(), ["id"]);

    // The buyer: at once, from their own page; a reason is the seller's to give.
    let buyer = format!("/storefront/subscriptions/{b}/cancel?token={token_b}");
    assert_eq!(app.post(&buyer, &pk, json!({"reason": "x"})).await.fields(), ["reason"]);
    let r = app.post(&buyer, &pk, json!({"at_period_end": false})).await;
    assert_eq!((r.status.as_u16(), r.data()["status"].as_str()), (200, Some("cancelled")), "{}", r.body);
    let s = sub(&app, &store.test, b).await;
    assert_eq!(s["cancellation"]["by"], "buyer");
    assert!(eventually(Duration::from_secs(10), || async { receiver.received().len() == 3 }).await);
    let whos: Vec<(String, String)> = receiver
        .received()
        .iter()
        .map(|r| r.json()["data"].clone())
        .map(|d| {
            (d["status"].as_str().unwrap().to_string(), d["cancellation"]["by"].as_str().unwrap().to_string())
        })
        .collect();
    for expected in [("active", "seller"), ("expired", "seller"), ("cancelled", "buyer")] {
        assert!(whos.contains(&(expected.0.into(), expected.1.into())), "{whos:?}");
    }

    // Lists and filters.
    let list = app.get("/subscriptions?status=cancelled", &store.test).await;
    assert_eq!(list.data().as_array().unwrap().len(), 1);
    assert_eq!(list.data()[0]["id"], json!(b));
    let list = app.get("/subscriptions?customer_email=A@example.com", &store.test).await;
    assert_eq!(list.data()[0]["id"], json!(a));
    assert_eq!(
        app.get(&format!("/subscriptions?product_id={}", product["id"].as_str().unwrap()), &store.test)
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(app.get("/subscriptions", &store.test).await.body["meta"]["total"], 2);
    assert_eq!(app.get("/subscriptions?status=paused", &store.test).await.fields(), ["status"]);

    // Nobody else reaches them: another store, the live mode, a publishable key, a read key's write.
    let other = app.new_store().await;
    assert_eq!(app.get(&format!("/subscriptions/{a}"), &other.test).await.status, 404);
    assert_eq!(app.get(&format!("/subscriptions/{a}"), &store.live).await.status, 404);
    assert_eq!(app.get("/subscriptions", &pk).await.status.as_u16() / 100, 4);
    let read = app.key_with(&store.test, "read").await;
    assert_eq!(app.get(&format!("/subscriptions/{a}"), &read).await.status, 200);
    assert_eq!(app.post(&format!("/subscriptions/{b}/cancel"), &read, json!({})).await.status, 403);
    let other_pk = app.publishable_key(&other.test).await;
    assert_eq!(
        app.get(&format!("/storefront/subscriptions/{b}?token={token_b}"), &other_pk).await.status,
        404
    );
    // Test clocks are test mode's.
    let live = app
        .post(
            &format!("/subscriptions/{a}/test_clock"),
            &store.live,
            json!({"advance_to": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(live.status, 404, "a live key finds no test subscription: {}", live.body);
    assert_eq!(
        app.post(&format!("/subscriptions/{b}/test_clock"), &store.test, json!({})).await.fields(),
        ["advance_to"]
    );
    let past = app
        .post(
            &format!("/subscriptions/{b}/test_clock"),
            &store.test,
            json!({"advance_to": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(past.fields(), ["advance_to"]);
}

#[tokio::test]
async fn recurring_rules_are_checked() {
    let app = app().await;
    let store = app.new_store().await;
    let bad = |r: Value| {
        app.post(
            "/products",
            &store.test,
            json!({"title": "X", "type": "service", "price": 1, "recurring": r}),
        )
    };
    assert_eq!(
        bad(json!({"interval": "month", "interval_count": 0})).await.fields(),
        ["recurring.interval_count"]
    );
    assert_eq!(
        bad(json!({"interval": "year", "interval_count": 11})).await.fields(),
        ["recurring.interval_count"]
    );
    assert_eq!(bad(json!({"interval": "month"})).await.fields(), ["recurring.interval_count"]);
    assert_eq!(
        bad(json!({"interval": "fortnight", "interval_count": 1})).await.fields(),
        ["recurring.interval"]
    );
    let p = app.product(&store.test, monthly("M", json!({}))).await;
    let cleared = app
        .patch(&format!("/products/{}", p["id"].as_str().unwrap()), &store.test, json!({"recurring": null}))
        .await;
    assert_eq!(cleared.data()["recurring"], Value::Null, "{}", cleared.body);
}

/// Live mode through the Stripe emulator: the first payment saves the card on a customer of
/// the subscription's; renewals charge it off-session, once per period whatever runs them; a
/// renewal Stripe refuses goes past_due, and the buyer pays it from their page with a new card,
/// which later renewals charge.
#[tokio::test]
async fn a_live_subscription_saves_the_card_and_renews_off_session_through_stripe() {
    use sellvy_tests::localstripe::CARD_OK;
    let app = TestApp::builder()
        .localstripe()
        .storefront_client_limit(sellvy_tests::RateLimit::custom(1_000_000, 100_000).unwrap())
        .spawn()
        .await;
    let stripe = app.localstripe.clone().unwrap();
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.live).await;
    let product = app.product(&store.live, monthly("Pro plan", json!({"price": 12}))).await;
    let live = store.tenant(sellvy_models::Mode::Live);
    let r = app
        .post("/storefront/checkout", &pk, json!({"product_id": product["id"], "quantity": 1, "email": "pro@example.com", "gateway": "stripe"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (order, token) = (
        r.data()["order"]["id"].as_str().unwrap().to_string(),
        r.data()["access_token"].as_str().unwrap().to_string(),
    );
    let first_pi = r.data()["payment"]["stripe"]["payment_intent"].as_str().unwrap().to_string();
    let confirmed = stripe.buyer_pays(&first_pi, CARD_OK).await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let customer = confirmed["customer"].as_str().expect("a customer of the subscription's").to_string();
    // Stripe's signed callback pays the order and starts the subscription.
    let paid =
        || async { app.get(&format!("/orders/{order}"), &store.live).await.data()["status"] == "completed" };
    assert!(eventually(Duration::from_secs(15), paid).await, "Stripe's callback paid the order");
    let id = app.get(&format!("/orders/{order}"), &store.live).await.data()["subscription_id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = sub(&app, &store.live, &id).await;
    assert_eq!((s["status"].as_str(), s["payment_method"].as_str()), (Some("active"), Some("stripe")));
    let end = at(&s["current_period_end"]);

    // The renewal: charged off-session to the saved card, once, however many sweeps run.
    let mut sweeps = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (state, live, id) = (app.state.clone(), live.clone(), id.clone());
        sweeps.spawn(async move {
            sellvy_app::subscriptions::step(&state, &live, &id, end.plus_seconds(1)).await
        });
    }
    // A sweep that meets another's charge still running at Stripe (409) leaves it to that one.
    while let Some(r) = sweeps.join_next().await {
        if let Err(e) = r.unwrap() {
            assert!(matches!(e, sellvy_app::AppError::Gateway(_)), "{e:?}");
        }
    }
    let s = sub(&app, &store.live, &id).await;
    assert_eq!((s["status"].as_str(), s["periods"].as_u64()), (Some("active"), Some(2)), "{s}");
    let intents = stripe.payment_intents_of(&customer).await;
    assert_eq!(intents.len(), 2, "one charge for the renewal: {intents:?}");
    assert!(intents.iter().all(|pi| pi["status"] == "succeeded" && pi["amount"] == 1200));
    let renewal = app.get(&format!("/orders/{}", s["orders"][0].as_str().unwrap()), &store.live).await;
    assert_eq!(renewal.data()["status"], "completed");
    assert!(renewal.data()["payment_id"].as_str().unwrap().starts_with("pi_"));

    // The customer deleted at Stripe: the next renewal is refused and the subscription is
    // past_due; the buyer pays it from their page with a card saved anew.
    stripe.delete_customer(&customer).await;
    let next = at(&s["current_period_end"]);
    let stepped =
        sellvy_app::subscriptions::step(&app.state, &live, &id, next.plus_seconds(1)).await.unwrap();
    assert_eq!(stepped, sellvy_app::subscriptions::Stepped::Failed);
    let s = sub(&app, &store.live, &id).await;
    assert_eq!(s["status"], "past_due", "{s}");
    assert!(s["renewal_error"].as_str().is_some_and(|e| !e.is_empty()), "{s}");
    let started =
        app.post(&format!("/storefront/subscriptions/{id}/payment?token={token}"), &pk, json!({})).await;
    assert_eq!(started.status, 201, "{}", started.body);
    let pi = started.data()["payment"]["stripe"]["payment_intent"].as_str().unwrap().to_string();
    assert!(started.data()["payment"]["stripe"]["client_secret"].as_str().is_some());
    let confirmed = stripe.buyer_pays(&pi, CARD_OK).await;
    let new_customer = confirmed["customer"].as_str().unwrap().to_string();
    assert_ne!(new_customer, customer, "a customer made anew");
    let active = || async { sub(&app, &store.live, &id).await["status"] == "active" };
    assert!(eventually(Duration::from_secs(15), active).await, "Stripe's callback renewed it");
    let s = sub(&app, &store.live, &id).await;
    assert_eq!((s["periods"].as_u64(), at(&s["current_period_start"])), (Some(3), next));
    // The renewal after charges the new card, off-session.
    let later = at(&s["current_period_end"]).plus_seconds(1);
    let stepped = sellvy_app::subscriptions::step(&app.state, &live, &id, later).await.unwrap();
    assert_eq!(stepped, sellvy_app::subscriptions::Stepped::Renewed);
    assert_eq!(stripe.payment_intents_of(&new_customer).await.len(), 2);
}

#[tokio::test]
async fn a_free_trial_charges_nothing_until_it_ends_and_only_buyers_new_to_the_store_get_one() {
    let app = app().await;
    let (store, pk, product) = setup(
        &app,
        monthly(
            "Newsletter",
            json!({"price": 9, "recurring": {"interval": "month", "interval_count": 1, "trial_days": 14}}),
        ),
    )
    .await;
    assert_eq!(product["recurring"]["trial_days"], 14);
    app.post("/coupons", &store.test, json!({"code": "TEN", "type": "percentage", "value": 10})).await;
    let with_coupon = app
        .post("/storefront/checkout", &pk, json!({"product_id": product["id"], "quantity": 1, "email": "new@example.com", "gateway": "stripe", "coupon": "TEN"}))
        .await;
    assert_eq!(with_coupon.fields(), ["coupon"], "{}", with_coupon.body);

    let (first, _) = subscribe(&app, &pk, &product, json!({"email": "new@example.com"})).await;
    assert_eq!((first["total"].as_f64(), first["discount"].as_f64()), (Some(0.0), Some(9.0)));
    let id = first["subscription_id"].as_str().unwrap();
    let s = sub(&app, &store.test, id).await;
    assert_eq!((s["status"].as_str(), s["periods"].as_u64()), (Some("trialing"), Some(0)), "{s}");
    let trial_end = at(&s["trial_end"]);
    assert_eq!(trial_end.seconds() - at(&s["current_period_start"]).seconds(), 14 * 86_400);
    assert_eq!(at(&s["next_charge_at"]), trial_end);

    // The trial ends: the first period is charged, at the full price; periods count from then.
    let s = move_clock(&app, &store.test, id, trial_end.plus_seconds(1), "succeeded").await.data().clone();
    assert_eq!((s["status"].as_str(), s["periods"].as_u64()), (Some("active"), Some(1)), "{s}");
    assert_eq!(at(&s["current_period_start"]), trial_end);
    let renewal = app.get(&format!("/orders/{}", s["orders"][0].as_str().unwrap()), &store.test).await;
    assert_eq!(renewal.data()["total"].as_f64(), Some(9.0));

    // A buyer who has paid in the store before gets no trial.
    let (again, _) = subscribe(&app, &pk, &product, json!({"email": "new@example.com"})).await;
    assert_eq!(again["total"].as_f64(), Some(9.0));
    assert_eq!(sub(&app, &store.test, again["subscription_id"].as_str().unwrap()).await["status"], "active");

    // Cancelled during its trial at the period's end: it ends with the trial, never charged.
    let (other, token) = subscribe(&app, &pk, &product, json!({"email": "tryer@example.com"})).await;
    let other = other["subscription_id"].as_str().unwrap();
    let r =
        app.post(&format!("/storefront/subscriptions/{other}/cancel?token={token}"), &pk, json!({})).await;
    assert_eq!(
        (r.data()["status"].as_str(), r.data()["cancel_at_period_end"].as_bool()),
        (Some("trialing"), Some(true))
    );
    let end = at(&r.data()["trial_end"]);
    let s = move_clock(&app, &store.test, other, end.plus_seconds(1), "succeeded").await.data().clone();
    assert_eq!((s["status"].as_str(), s["order_count"].as_u64()), (Some("expired"), Some(1)), "{s}");

    // Serials hand out goods every period: no trials for them.
    let refused = app
        .post(
            "/products",
            &store.test,
            json!({"title": "Keys", "type": "serials", "price": 1, "info": "A",
            "recurring": {"interval": "month", "interval_count": 1, "trial_days": 7}}),
        )
        .await;
    assert_eq!(refused.fields(), ["recurring.trial_days"]);
}

/// A live free trial: a SetupIntent saves the card without charging; its end charges it.
#[tokio::test]
async fn a_live_free_trial_saves_the_card_with_a_setup_intent_and_charges_when_it_ends() {
    use sellvy_tests::localstripe::CARD_OK;
    let app = TestApp::builder().localstripe().spawn().await;
    let stripe = app.localstripe.clone().unwrap();
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.live).await;
    let product = app
        .product(
            &store.live,
            monthly(
                "Trial plan",
                json!({"price": 7, "recurring": {"interval": "week", "interval_count": 1, "trial_days": 3}}),
            ),
        )
        .await;
    let r = app
        .post("/storefront/checkout", &pk, json!({"product_id": product["id"], "quantity": 1, "email": "t@example.com", "gateway": "stripe"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let payment = &r.data()["payment"]["stripe"];
    assert_eq!(payment["mode"], "setup");
    let seti = payment["payment_intent"].as_str().unwrap();
    assert!(seti.starts_with("seti_"), "{payment}");
    let order = r.data()["order"]["id"].as_str().unwrap().to_string();
    let saved = stripe.buyer_saves_card(seti, CARD_OK).await;
    assert_eq!(saved["status"], "succeeded", "{saved}");
    let customer = saved["customer"].as_str().unwrap().to_string();
    let started =
        || async { app.get(&format!("/orders/{order}"), &store.live).await.data()["status"] == "completed" };
    assert!(eventually(Duration::from_secs(15), started).await, "setup_intent.succeeded started the trial");
    let id = app.get(&format!("/orders/{order}"), &store.live).await.data()["subscription_id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = sub(&app, &store.live, &id).await;
    assert_eq!(s["status"], "trialing");
    assert!(stripe.payment_intents_of(&customer).await.is_empty(), "nothing charged during the trial");

    let live = store.tenant(sellvy_models::Mode::Live);
    let stepped =
        sellvy_app::subscriptions::step(&app.state, &live, &id, at(&s["trial_end"]).plus_seconds(1))
            .await
            .unwrap();
    assert_eq!(stepped, sellvy_app::subscriptions::Stepped::Renewed);
    let charged = stripe.payment_intents_of(&customer).await;
    assert_eq!((charged.len(), charged[0]["amount"].as_i64()), (1, Some(700)));
    assert_eq!(sub(&app, &store.live, &id).await["status"], "active");
}

#[tokio::test]
async fn renewals_keep_what_the_subscription_started_with_whatever_the_product_became() {
    let app = app().await;
    let (store, pk, product) = setup(
        &app,
        monthly("Workshop seat", json!({"custom": [{"type": "text", "name": "Team", "required": true}]})),
    )
    .await;
    let (first, token) = subscribe(&app, &pk, &product, json!({"custom_fields": {"Team": "Blue"}})).await;
    let id = first["subscription_id"].as_str().unwrap();
    // The seller adds a required field, asks for the buyer's address, raises the minimum and
    // changes currency and price: the renewal is the subscription's, as it started.
    let pid = product["id"].as_str().unwrap();
    let changed = app
        .patch(&format!("/products/{pid}"), &store.test, json!({"currency": "EUR", "price": 20, "minimum_quantity": 2,
            "customer_details_required": true,
            "custom": [{"type": "text", "name": "Team", "required": true}, {"type": "text", "name": "Role", "required": true}]}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let end = at(&sub(&app, &store.test, id).await["current_period_end"]);
    let s = move_clock(&app, &store.test, id, end.plus_seconds(1), "succeeded").await.data().clone();
    assert_eq!((s["status"].as_str(), s["periods"].as_u64()), (Some("active"), Some(2)), "{s}");
    let renewal = app.get(&format!("/orders/{}", s["orders"][0].as_str().unwrap()), &store.test).await;
    let r = renewal.data();
    assert_eq!(
        (r["total"].as_f64(), r["currency"].as_str(), r["quantity"].as_u64()),
        (Some(10.0), Some("USD"), Some(1))
    );
    assert_eq!(r["custom_fields"], json!({"Team": "Blue"}));

    // A buyer who opens a payment of a failed renewal and walks away: the next dunning retry
    // still charges (its own order), and the abandoned one can no longer renew anything.
    let next = at(&s["current_period_end"]);
    let s = move_clock(&app, &store.test, id, next.plus_seconds(1), "failed").await.data().clone();
    assert_eq!(s["status"], "past_due");
    let opened =
        app.post(&format!("/storefront/subscriptions/{id}/payment?token={token}"), &pk, json!({})).await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let abandoned = opened.data()["order"]["id"].as_str().unwrap().to_string();
    let s = move_clock(&app, &store.test, id, at(&s["next_charge_at"]), "succeeded").await.data().clone();
    assert_eq!(
        (s["status"].as_str(), s["periods"].as_u64()),
        (Some("active"), Some(3)),
        "the retry charged: {s}"
    );
    let late = app
        .post(
            &format!("/storefront/orders/{abandoned}/sandbox_payment?token={token}"),
            &pk,
            json!({"outcome": "succeeded"}),
        )
        .await;
    assert_eq!((late.status.as_u16(), late.fields()), (422, vec!["id".to_string()]), "{}", late.body);
    assert_eq!(sub(&app, &store.test, id).await["periods"], 3, "paid once");

    // Test clocks stop before 2100.
    let far = app
        .post(
            &format!("/subscriptions/{id}/test_clock"),
            &store.test,
            json!({"advance_to": "2101-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(far.fields(), ["advance_to"]);
}
