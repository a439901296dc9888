//! Checkout, test payments and delivery: the purchase path, and its atomicity under
//! concurrency (no overselling, no serial sold twice, no coupon past `max_uses`).

use sellvy_tests::{Reply, TestApp};
use serde_json::{Value, json};
use std::collections::HashSet;

async fn checkout(app: &TestApp, pk: &str, body: Value) -> Reply {
    app.post("/storefront/checkout", pk, body).await
}

/// A buyer at a client address of its own (each address has its own storefront limit).
fn buyer(n: u8) -> reqwest::Client {
    let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 1, n));
    reqwest::Client::builder().local_address(ip).build().unwrap()
}

async fn send(req: reqwest::RequestBuilder) -> Reply {
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    Reply { status, headers, body: resp.json().await.unwrap_or(Value::Null) }
}

async fn checkout_as(client: &reqwest::Client, app: &TestApp, pk: &str, body: Value) -> Reply {
    send(client.post(format!("{}/storefront/checkout", app.base)).bearer_auth(pk).json(&body)).await
}

async fn pay(app: &TestApp, pk: &str, order: &Value, token: &str, outcome: &str) -> Reply {
    pay_as(&reqwest::Client::new(), app, pk, order, token, outcome).await
}

async fn pay_as(
    client: &reqwest::Client,
    app: &TestApp,
    pk: &str,
    order: &Value,
    token: &str,
    outcome: &str,
) -> Reply {
    let resp = client
        .post(format!("{}/storefront/orders/{}/sandbox_payment", app.base, order["id"].as_str().unwrap()))
        .bearer_auth(pk)
        .header("X-Order-Token", token)
        .json(&json!({"outcome": outcome}))
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    Reply { status, headers, body: resp.json().await.unwrap_or(Value::Null) }
}

#[tokio::test]
async fn a_full_test_purchase_delivers_serials_and_records_its_events() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(
            &store.test,
            json!({"title": "Game key", "type": "serials", "price": 9.99, "info": "K1,K2,K3",
            "custom": [{"type": "text", "name": "Username", "required": true}]}),
        )
        .await;
    let pid = product["id"].as_str().unwrap();

    let r = checkout(
        &app,
        &pk,
        json!({"product_id": pid, "quantity": 2, "email": "Buyer@Example.com", "gateway": "stripe",
        "custom_fields": {"Username": "neo"}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let order = r.data()["order"].clone();
    let token = r.data()["access_token"].as_str().unwrap().to_string();
    assert_eq!(order["order_number"], "ORD-1");
    assert_eq!(order["status"], "pending");
    assert_eq!(order["total"].to_string(), "19.98");
    assert_eq!(order["customer_email"], "buyer@example.com");
    assert_eq!(r.data()["payment"], json!({"gateway": "stripe", "sandbox": true}));
    // Reserved: the seller sees one unit left to sell.
    let again = checkout(
        &app,
        &pk,
        json!({"product_id": pid, "quantity": 2, "email": "b@example.com", "gateway": "stripe",
        "custom_fields": {"Username": "x"}}),
    )
    .await;
    assert_eq!(again.fields(), ["quantity"]);

    // The buyer reads the order with its token only.
    let path = format!("/storefront/orders/{}", order["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &pk).await.status, 404);
    assert_eq!(app.get(&format!("{path}?token={token}"), &pk).await.data()["status"], "pending");

    let paid = pay(&app, &pk, &order, &token, "succeeded").await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.data()["status"], "completed");
    assert_eq!(paid.data()["payment_status"], "paid");
    // Two of the three serials, in no particular order; the third stays in the pool.
    let delivery = &paid.data()["delivery"];
    assert_eq!((delivery["status"].clone(), delivery["item_count"].clone()), (json!("delivered"), json!(2)));
    let mut items: Vec<String> =
        delivery["items"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    assert_eq!(pay(&app, &pk, &order, &token, "succeeded").await.status, 422, "paid once");

    let seller = app.get(&format!("/products/{pid}"), &store.test).await;
    items.push(seller.data()["info"].as_str().unwrap().to_string());
    items.sort();
    assert_eq!(items, ["K1", "K2", "K3"], "each serial once: two delivered, one left");
    assert_eq!(seller.data()["stock"], 1);
    assert_eq!(seller.data()["total_sold"], 2);

    let orders = app.get("/orders", &store.test).await;
    assert_eq!(orders.body["meta"]["total"], 1);
    // A list carries how many serials went out, not the serials (GET /orders/{id} does).
    assert!(orders.data()[0]["delivery"].get("items").is_none());
    assert_eq!(orders.data()[0]["delivery"]["item_count"], 2);
    let one = app.get(&format!("/orders/{}", order["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(one.data()["delivery"]["items"], paid.data()["delivery"]["items"]);
    assert_eq!(app.get("/orders?status=completed", &store.test).await.body["meta"]["total"], 1);
    assert_eq!(app.get("/orders?payment_status=pending", &store.test).await.body["meta"]["total"], 0);
    assert_eq!(
        app.get("/orders?customer_email=buyer@example.com", &store.test).await.body["meta"]["total"],
        1
    );
    assert_eq!(app.get("/orders?status=lost", &store.test).await.fields(), ["status"]);

    let events = app.db.recent_events(&store.tenant(sellvy_models::Mode::Test), 20).await.unwrap();
    let types: Vec<_> = events.iter().rev().map(|e| e["type"].as_str().unwrap()).collect();
    // The payment's events are recorded in one transaction (same instant, any order).
    assert_eq!(types[types.len() - 4], "order.created", "{types:?}");
    let paid_events: HashSet<_> = types[types.len() - 3..].iter().copied().collect();
    assert_eq!(paid_events, HashSet::from(["payment.received", "order.completed", "customer.created"]));
    let completed = events.iter().find(|e| e["type"] == "order.completed").unwrap();
    for f in ["id", "order_number", "customer_email", "total", "currency", "payment_method"] {
        assert!(!completed["data"][f].is_null(), "{f} missing from order.completed");
    }
    assert_eq!(completed["data"]["product"]["title"], "Game key");
}

#[tokio::test]
async fn checkout_rules_name_their_fields() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(
            &store.test,
            json!({"title": "Svc", "type": "service", "price": 5, "maximum_quantity": 2,
            "gateways": ["stripe", "paypal"], "customer_details_required": true,
            "custom": [{"type": "select", "name": "Size", "required": true, "options": ["S", "M"]},
                       {"type": "checkbox", "name": "Terms", "required": true},
                       {"type": "number", "name": "Age"}, {"type": "country_dropdown", "name": "Country"}]}),
        )
        .await;
    let pid = product["id"].as_str().unwrap();
    assert_eq!(checkout(&app, &pk, json!({})).await.fields(), ["product_id", "quantity", "email", "gateway"]);
    let r = checkout(
        &app,
        &pk,
        json!({"product_id": pid, "quantity": 3, "email": "not-an-email", "gateway": "paypal",
        "custom_fields": {"Size": "XL", "Terms": false, "Age": "old", "Country": "France", "Colour": "red"}}),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["email"]);
    let r = checkout(
        &app,
        &pk,
        json!({"product_id": pid, "quantity": 3, "email": "a@b.co", "gateway": "paypal",
        "custom_fields": {"Size": "XL", "Terms": false, "Age": "old", "Country": "France", "Colour": "red"}}),
    )
    .await;
    assert_eq!(
        r.fields(),
        [
            "quantity",
            "gateway",
            "custom_fields.Colour",
            "custom_fields.Size",
            "custom_fields.Terms",
            "custom_fields.Age",
            "custom_fields.Country",
            "customer"
        ]
    );
    let r = checkout(&app, &pk, json!({"product_id": pid, "quantity": 1, "email": "a@b.co", "gateway": "stripe",
        "custom_fields": {"Size": "M", "Terms": true}, "customer": {"name": "Ada", "address": "1 Rue", "country": "fr"}}))
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["order"]["customer"]["country"], "FR");
    let private =
        app.product(&store.test, json!({"title": "P", "type": "service", "price": 1, "private": true})).await;
    let r = checkout(
        &app,
        &pk,
        json!({"product_id": private["id"], "quantity": 1, "email": "a@b.co", "gateway": "stripe"}),
    )
    .await;
    assert_eq!(r.fields(), ["product_id"]);
    let r = checkout(&app, &pk, json!({"product_id": pid, "quantity": 1, "email": "a@b.co", "gateway": "stripe", "coupon": "NOPE",
        "custom_fields": {"Size": "M", "Terms": true}, "customer": {"name": "A", "address": "B", "country": "FR"}}))
    .await;
    assert_eq!(r.fields(), ["coupon"]);
}

#[tokio::test]
async fn coupons_discount_and_a_failed_payment_gives_everything_back() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product =
        app.product(&store.test, json!({"title": "K", "type": "serials", "price": 20, "info": "A,B"})).await;
    let pid = product["id"].as_str().unwrap();
    app.post(
        "/coupons",
        &store.test,
        json!({"code": "HALF", "type": "percentage", "value": 50, "max_uses": 1}),
    )
    .await;
    let r = checkout(
        &app,
        &pk,
        json!({"product_id": pid, "quantity": 2, "email": "a@b.co", "gateway": "stripe", "coupon": "half"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["order"]["total"], 20);
    assert_eq!(r.data()["order"]["discount"], 20);
    let order = r.data()["order"].clone();
    let token = r.data()["access_token"].as_str().unwrap().to_string();
    let failed = pay(&app, &pk, &order, &token, "failed").await;
    assert_eq!(failed.data()["status"], "cancelled");
    assert_eq!(failed.data()["payment_status"], "failed");
    // Stock and coupon use are back: the same checkout goes through again.
    let r = checkout(
        &app,
        &pk,
        json!({"product_id": pid, "quantity": 2, "email": "a@b.co", "gateway": "stripe", "coupon": "HALF"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn fifty_parallel_purchases_of_ten_serials_deliver_exactly_ten_distinct_serials() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let serials: Vec<String> = (0..10).map(|i| format!("SERIAL-{i:02}")).collect();
    let product = app
        .product(
            &store.test,
            json!({"title": "Limited", "type": "serials", "price": 1, "info": serials.join(",")}),
        )
        .await;
    let pid = product["id"].as_str().unwrap().to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..50 {
        let (app, pk, pid) = (app.clone(), pk.clone(), pid.clone());
        tasks.spawn(async move {
            let client = buyer(n);
            let body = json!({"product_id": pid, "quantity": 1, "email": format!("b{n}@example.com"), "gateway": "stripe"});
            let r = checkout_as(&client, &app, &pk, body).await;
            if r.status != 201 {
                return (r.status.as_u16(), r.fields(), None);
            }
            let token = r.data()["access_token"].as_str().unwrap();
            let paid = pay_as(&client, &app, &pk, &r.data()["order"], token, "succeeded").await;
            assert_eq!(paid.status, 200, "{}", paid.body);
            (201, Vec::new(), Some(paid.data()["delivery"]["items"][0].as_str().unwrap().to_string()))
        });
    }
    let results = tasks.join_all().await;
    let delivered: Vec<String> = results.iter().filter_map(|(_, _, s)| s.clone()).collect();
    let refused: Vec<_> = results.iter().filter(|(s, _, _)| *s != 201).collect();
    assert_eq!(delivered.len(), 10, "{results:?}");
    assert_eq!(delivered.iter().collect::<HashSet<_>>().len(), 10, "a serial was sold twice: {delivered:?}");
    assert_eq!(delivered.iter().collect::<HashSet<_>>(), serials.iter().collect::<HashSet<_>>());
    assert_eq!(refused.len(), 40);
    assert!(refused.iter().all(|(s, f, _)| *s == 422 && f == &["quantity"]), "{refused:?}");
    let seller = app.get(&format!("/products/{pid}"), &store.test).await;
    assert_eq!((seller.data()["stock"].clone(), seller.data()["total_sold"].clone()), (json!(0), json!(10)));
    eprintln!(
        "50 parallel purchases of 10 serials: {} delivered, {} refused out of stock",
        delivered.len(),
        refused.len()
    );
}

#[tokio::test]
async fn a_coupon_with_five_uses_is_used_exactly_five_times_by_twenty_parallel_checkouts() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app.product(&store.test, json!({"title": "Svc", "type": "service", "price": 10})).await;
    let pid = product["id"].as_str().unwrap().to_string();
    let coupon = app
        .post("/coupons", &store.test, json!({"code": "FIVE", "type": "fixed", "value": 1, "max_uses": 5}))
        .await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..20 {
        let (app, pk, pid) = (app.clone(), pk.clone(), pid.clone());
        tasks.spawn(async move {
            // Twenty buyers, each at an address of their own.
            let body = json!({"product_id": pid, "quantity": 1, "email": format!("c{n}@example.com"), "gateway": "stripe", "coupon": "FIVE"});
            let r = checkout_as(&buyer(n + 1), &app, &pk, body).await;
            (r.status.as_u16(), r.fields())
        });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 5, "{results:?}");
    assert!(
        results.iter().filter(|(s, _)| *s != 201).all(|(s, f)| *s == 422 && f == &["coupon"]),
        "{results:?}"
    );
    let used = app.get(&format!("/coupons/{}", coupon.data()["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(used.data()["uses"], 5);
}

/// Checks out and pays one unit of `product` as `email`; returns the paid order.
async fn buy(app: &TestApp, pk: &str, product: &Value, email: &str) -> Value {
    let r = checkout(
        app,
        pk,
        json!({"product_id": product["id"], "quantity": 1, "email": email, "gateway": "stripe"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let paid =
        pay(app, pk, &r.data()["order"], r.data()["access_token"].as_str().unwrap(), "succeeded").await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    paid.data().clone()
}

#[tokio::test]
async fn customers_are_counted_and_a_blacklisted_one_cannot_check_out() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(
            &store.test,
            json!({"title": "Svc", "type": "service", "price": 12.5, "seller_note": "We start Monday"}),
        )
        .await;
    let first = buy(&app, &pk, &product, "ada@example.com").await;
    assert_eq!(
        first["delivery"],
        json!({"status": "delivered", "items": [], "item_count": 0, "note": "We start Monday"})
    );
    buy(&app, &pk, &product, "ada@example.com").await;
    buy(&app, &pk, &product, "bob@example.com").await;
    let list = app.get("/customers", &store.test).await;
    assert_eq!(list.body["meta"]["total"], 2);
    let ada =
        list.data().as_array().unwrap().iter().find(|c| c["email"] == "ada@example.com").unwrap().clone();
    assert_eq!((ada["total_orders"].clone(), ada["lifetime_spend"].clone()), (json!(2), json!(25)));
    let id = ada["id"].as_str().unwrap();
    assert_eq!(first["customer_id"], id);
    assert_eq!(app.get(&format!("/customers/{id}"), &store.test).await.data()["email"], "ada@example.com");

    let write = app.key_with(&store.test, "write").await;
    assert_eq!(
        app.post(&format!("/customers/{id}/blacklist"), &write, json!({})).await.status,
        403,
        "full access only"
    );
    let r = app
        .post(&format!("/customers/{id}/blacklist"), &store.test, json!({"reason": "Fraudulent chargebacks"}))
        .await;
    assert_eq!(r.data()["blacklisted"], true);
    assert_eq!(r.data()["blacklist_reason"], "Fraudulent chargebacks");
    let refused = checkout(
        &app,
        &pk,
        json!({"product_id": product["id"], "quantity": 1, "email": "ADA@example.com", "gateway": "stripe"}),
    )
    .await;
    assert_eq!((refused.status.as_u16(), refused.code()), (403, "forbidden"));
    let r = app.delete(&format!("/customers/{id}/blacklist"), &store.test).await;
    assert_eq!(r.data()["blacklisted"], false);
    buy(&app, &pk, &product, "ada@example.com").await;
    assert_eq!(app.get("/customers/cus_nope", &store.test).await.status, 404);
}

#[tokio::test]
async fn refunds_full_partial_and_never_more_than_paid() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app.product(&store.test, json!({"title": "Svc", "type": "service", "price": 30})).await;
    let order = buy(&app, &pk, &product, "r@example.com").await;
    let path = format!("/orders/{}/refund", order["id"].as_str().unwrap());
    let write = app.key_with(&store.test, "write").await;
    assert_eq!(app.post(&path, &write, json!({})).await.status, 403, "refunds need full access");
    let part = app.post(&path, &store.test, json!({"amount": 10, "reason": "Partly unhappy"})).await;
    assert_eq!(part.status, 200, "{}", part.body);
    assert_eq!(
        (part.data()["refunded"].clone(), part.data()["status"].clone()),
        (json!(10), json!("completed"))
    );
    assert_eq!(app.post(&path, &store.test, json!({"amount": 25})).await.fields(), ["amount"]);
    assert_eq!(app.post(&path, &store.test, json!({"amount": 0.001})).await.fields(), ["amount"]);
    let rest = app.post(&path, &store.test, json!({"reason": "All of it"})).await;
    assert_eq!(rest.data()["refunded"], 30);
    assert_eq!(
        (rest.data()["status"].clone(), rest.data()["payment_status"].clone()),
        (json!("refunded"), json!("refunded"))
    );
    assert_eq!(app.post(&path, &store.test, json!({})).await.status, 422, "nothing remains");
    let customer =
        app.get(&format!("/customers/{}", order["customer_id"].as_str().unwrap()), &store.test).await;
    assert_eq!(customer.data()["lifetime_spend"], 0);

    // Two full refunds raced: one wins, the other finds nothing left.
    let raced = buy(&app, &pk, &product, "race@example.com").await;
    let path = format!("/orders/{}/refund", raced["id"].as_str().unwrap());
    let (a, b) =
        tokio::join!(app.post(&path, &store.test, json!({})), app.post(&path, &store.test, json!({})));
    let statuses = [a.status.as_u16(), b.status.as_u16()];
    assert!(statuses.contains(&200) && statuses.contains(&422), "{statuses:?}");
    let after = app.get(&format!("/orders/{}", raced["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(after.data()["refunded"], 30);
}

#[tokio::test]
async fn sellers_cancel_pending_orders_and_risky_orders_are_refused() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(
            &store.test,
            json!({"title": "K", "type": "serials", "price": 1, "info": "A", "low_stock_threshold": 1}),
        )
        .await;
    let r = checkout(
        &app,
        &pk,
        json!({"product_id": product["id"], "quantity": 1, "email": "c@example.com", "gateway": "stripe"}),
    )
    .await;
    let id = r.data()["order"]["id"].as_str().unwrap().to_string();
    let cancelled = app.post(&format!("/orders/{id}/cancel"), &store.test, json!({})).await;
    assert_eq!(cancelled.data()["status"], "cancelled");
    assert_eq!(app.post(&format!("/orders/{id}/cancel"), &store.test, json!({})).await.status, 422);
    // The unit is back, and selling it reports low stock.
    buy(&app, &pk, &product, "c@example.com").await;
    let events = app.db.recent_events(&store.tenant(sellvy_models::Mode::Test), 10).await.unwrap();
    assert!(events.iter().any(|e| e["type"] == "product.low_stock" && e["data"]["stock"] == 0), "{events:?}");
    assert!(events.iter().any(|e| e["type"] == "order.cancelled"));

    let careful = app
        .product(&store.test, json!({"title": "Careful", "type": "service", "price": 1, "max_risk_level": 5}))
        .await;
    let refused = checkout(&app, &pk, json!({"product_id": careful["id"], "quantity": 1, "email": "new@mailinator.com", "gateway": "stripe"})).await;
    assert_eq!((refused.status.as_u16(), refused.code()), (403, "forbidden"));
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("risk"));
}

#[tokio::test]
async fn unpaid_orders_expire_after_their_payment_window_and_give_their_stock_back() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(&store.test, json!({"title": "Last one", "type": "serials", "price": 1, "info": "ONLY"}))
        .await;
    let r = checkout(
        &app,
        &pk,
        json!({"product_id": product["id"], "quantity": 1, "email": "slow@example.com", "gateway": "stripe"}),
    )
    .await;
    let order = r.data()["order"].clone();
    let id = order["id"].as_str().unwrap();
    let again =
        json!({"product_id": product["id"], "quantity": 1, "email": "next@example.com", "gateway": "stripe"});
    assert_eq!(checkout(&app, &pk, again.clone()).await.fields(), ["quantity"], "held by the unpaid order");

    let state = sellvy_app::AppState::new(app.db.clone(), sellvy_app::Config::default());
    let pay_by = sellvy_models::time::Timestamp::parse(order["pay_by"].as_str().unwrap()).unwrap();
    // Only this test's store is swept: other tests' orders running meanwhile are left alone.
    let mine = store.tenant(sellvy_models::Mode::Test);
    let sweep = |at| sellvy_app::cancel::expire_due(&state, at, |t| *t == mine);
    assert_eq!(sweep(pay_by.plus_seconds(-60)).await.unwrap(), 0, "not yet due");
    assert_eq!(app.get(&format!("/orders/{id}"), &store.test).await.data()["status"], "pending");
    assert_eq!(sweep(pay_by.plus_seconds(1)).await.unwrap(), 1, "past pay_by");
    let seen = app.get(&format!("/orders/{id}"), &store.test).await;
    assert_eq!(
        (seen.data()["status"].clone(), seen.data()["payment_status"].clone()),
        (json!("cancelled"), json!("failed"))
    );
    // Another buyer (another network: the first one's waits out its renewal cooldown).
    assert_eq!(checkout_as(&buyer(2), &app, &pk, again).await.status, 201, "the unit is back");
    let events = app.db.recent_events(&store.tenant(sellvy_models::Mode::Test), 5).await.unwrap();
    assert!(events.iter().any(|e| e["type"] == "order.cancelled" && e["data"]["id"] == id));
}

#[tokio::test]
async fn a_digital_download_is_delivered_as_an_expiring_capped_link() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(
            &store.test,
            json!({"title": "Icons", "type": "digital_download", "price": 29.99,
            "file_url": "https://files.example/icons.zip", "stock_amount": 2}),
        )
        .await;
    let paid = buy(&app, &pk, &product, "dl@example.com").await;
    let link = paid["delivery"]["download_url"].as_str().unwrap().to_string();
    assert!(link.starts_with("/v1/storefront/downloads/dl_"), "{link}");
    assert!(!paid.to_string().contains("files.example"), "the file's address is not in the order");

    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = format!("{}{}", app.base.trim_end_matches("/v1"), link);
    for _ in 0..5 {
        let r = no_redirects.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "https://files.example/icons.zip");
    }
    let used_up = no_redirects.get(&url).send().await.unwrap();
    assert_eq!(used_up.status(), 404, "five downloads, then the link is used up");
    let forged =
        format!("{}/v1/storefront/downloads/dl_{}", app.base.trim_end_matches("/v1"), "A".repeat(40));
    assert_eq!(no_redirects.get(&forged).send().await.unwrap().status(), 404);

    let seller = app.get(&format!("/products/{}", product["id"].as_str().unwrap()), &store.test).await;
    assert_eq!((seller.data()["stock"].clone(), seller.data()["total_sold"].clone()), (json!(1), json!(1)));
    let no_file =
        app.product(&store.test, json!({"title": "Soon", "type": "digital_download", "price": 1})).await;
    let r = checkout(
        &app,
        &pk,
        json!({"product_id": no_file["id"], "quantity": 1, "email": "a@b.co", "gateway": "stripe"}),
    )
    .await;
    assert_eq!(r.fields(), ["product_id"]);
}

/// The reservation policy (docs/decisions.md): a stranger with the public key cannot hold a
/// store's stock. One buyer (a network, an email) holds at most 3 unpaid orders of a product;
/// a large order holds its stock 10 minutes; an order that expired unpaid cannot be renewed at
/// once; the store can raise the bound.
#[tokio::test]
async fn one_buyer_cannot_hold_a_stores_stock() {
    use sellvy_models::time::Timestamp;
    let clock = sellvy_app::Clock::manual(Timestamp::now().millis() * 1000);
    let app = TestApp::builder().clock(clock.clone()).spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let serials: Vec<String> = (0..100).map(|n| format!("KEY-{n}")).collect();
    let product = |title: &str, info: String| {
        app.product(&store.test, json!({"title": title, "type": "serials", "price": 1, "info": info}))
    };
    let many = product("Many", serials.join(",")).await;
    let other = product("Other", serials.join(",")).await;
    let scarce = product("Scarce", "A,B,C,D,E,F,G,H".into()).await;
    let order = |p: &Value, q: u32, email: &str| json!({"product_id": p["id"], "quantity": q, "email": email, "gateway": "stripe"});
    let (stranger, neighbour) = (buyer(50), buyer(51));
    let window = |r: &Reply| {
        let o = &r.data()["order"];
        let at = |k: &str| Timestamp::parse(o[k].as_str().unwrap()).unwrap().millis();
        (at("pay_by") - at("created_at")) / 1000
    };

    // Three unpaid orders of one product; the fourth is refused, whatever the email.
    let mut held = Vec::new();
    for _ in 0..3 {
        let r = checkout_as(&stranger, &app, &pk, order(&many, 1, "s@example.com")).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(window(&r), 30 * 60, "a small order holds its unit 30 minutes");
        held.push(r);
    }
    let fourth = checkout_as(&stranger, &app, &pk, order(&many, 1, "s9@example.com")).await;
    assert_eq!(fourth.status, 403, "{}", fourth.body);
    let message = fourth.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("3 unpaid orders of this product"), "{message}");
    // The same email from another network is the same buyer too.
    let r = checkout_as(&neighbour, &app, &pk, order(&many, 1, "S+again@Example.com")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Other products, and other buyers, are not affected.
    assert_eq!(checkout_as(&stranger, &app, &pk, order(&other, 1, "s@example.com")).await.status, 201);
    assert_eq!(checkout_as(&neighbour, &app, &pk, order(&many, 1, "n@example.com")).await.status, 201);

    // Paying one frees its place.
    let first = &held[0].data();
    let paid =
        pay_as(&stranger, &app, &pk, &first["order"], first["access_token"].as_str().unwrap(), "succeeded")
            .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    let r = checkout_as(&stranger, &app, &pk, order(&many, 1, "s5@example.com")).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // A genuine large buyer takes the whole stock in one order, and has 10 minutes to pay.
    let large = checkout_as(&neighbour, &app, &pk, order(&scarce, 8, "big@example.com")).await;
    assert_eq!(large.status, 201, "{}", large.body);
    assert_eq!(window(&large), 10 * 60);
    // Left unpaid, it expires; its buyer cannot hold the stock again at once.
    let pay_by = Timestamp::parse(large.data()["order"]["pay_by"].as_str().unwrap()).unwrap();
    clock.advance(10 * 60 * 1_000_000 + 1_000_000);
    let mine = store.tenant(sellvy_models::Mode::Test);
    assert_eq!(
        sellvy_app::cancel::expire_due(&app.state, pay_by.plus_seconds(1), |t| *t == mine).await.unwrap(),
        1
    );
    let renewed = checkout_as(&neighbour, &app, &pk, order(&scarce, 8, "big2@example.com")).await;
    assert_eq!(renewed.status, 403, "{}", renewed.body);
    let message = renewed.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("expired unpaid") && message.contains("15 minutes"), "{message}");
    // Anyone else buys it meanwhile; the same buyer may again after the cooldown.
    let sold = checkout_as(&buyer(52), &app, &pk, order(&scarce, 1, "c@example.com")).await;
    assert_eq!(sold.status, 201, "{}", sold.body);
    clock.advance(15 * 60 * 1_000_000);
    let back = checkout_as(&neighbour, &app, &pk, order(&scarce, 7, "big2@example.com")).await;
    assert_eq!(back.status, 201, "{}", back.body);

    // A store whose own servers check out for many buyers raises the bound (full keys only).
    let read = app.key_with(&store.test, "read").await;
    let raise = json!({"max_open_orders_per_buyer": 50, "renewal_cooldown_seconds": 0});
    assert_eq!(app.patch("/store", &read, raise.clone()).await.status, 403);
    let bad = app.patch("/store", &store.test, json!({"max_open_orders_per_buyer": 0})).await;
    assert_eq!(bad.fields(), ["max_open_orders_per_buyer"]);
    let raised = app.patch("/store", &store.test, raise).await;
    assert_eq!(raised.status, 200, "{}", raised.body);
    assert_eq!(raised.data()["max_open_orders_per_buyer"], 50);
    let r = checkout_as(&stranger, &app, &pk, order(&many, 1, "s7@example.com")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    println!("checkout with the reservation policy: {}", r.header("x-sellvy-cost").unwrap_or("-"));
}

#[tokio::test]
async fn daily_figures_count_every_payment_and_refund_exactly() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let empty = app.get("/stats", &store.test).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.data()["time_zone"], "UTC");
    assert_eq!(empty.data()["currencies"], json!([]), "nothing sold yet");
    let product = app.product(&store.test, json!({"title": "Svc", "type": "service", "price": 12.5})).await;

    // Ten buyers (each from an address of their own) pay at once: no payment waits on
    // another's counter, and none is lost.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..10 {
        let (app, pk, pid) = (app.clone(), pk.clone(), product["id"].clone());
        tasks.spawn(async move {
            let client = buyer(n);
            let body = json!({"product_id": pid, "quantity": 1, "email": format!("stats{n}@example.com"), "gateway": "stripe"});
            let r = checkout_as(&client, &app, &pk, body).await;
            assert_eq!(r.status, 201, "{}", r.body);
            let token = r.data()["access_token"].as_str().unwrap();
            let paid = pay_as(&client, &app, &pk, &r.data()["order"], token, "succeeded").await;
            assert_eq!(paid.status, 200, "{}", paid.body);
            paid.data().clone()
        });
    }
    let orders = tasks.join_all().await;
    let refund = app
        .post(
            &format!("/orders/{}/refund", orders[0]["id"].as_str().unwrap()),
            &store.test,
            json!({"amount": 2.25}),
        )
        .await;
    assert_eq!(refund.status, 200, "{}", refund.body);
    // An unpaid order counts for nothing.
    let unpaid = checkout(&app, &pk, json!({"product_id": product["id"], "quantity": 1, "email": "later@example.com", "gateway": "stripe"})).await;
    assert_eq!(unpaid.status, 201);

    let stats = app.get("/stats", &store.test).await;
    println!("GET /v1/stats (30 days): {}", stats.header("x-sellvy-cost").unwrap_or("-"));
    let usd = &stats.data()["currencies"][0];
    assert_eq!(
        (usd["currency"].clone(), usd["orders"].clone(), usd["revenue"].clone(), usd["refunds"].clone()),
        (json!("USD"), json!(10), json!(125), json!(2.25)),
        "{}",
        stats.body
    );
    let days = usd["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["date"], stats.data()["to"]);
    assert_eq!((days[29]["orders"].clone(), days[29]["revenue"].clone()), (json!(10), json!(125)));
    assert!(days[..29].iter().all(|d| d["orders"] == 0), "everything happened today");

    // The other mode has its own figures; the window and the key are checked.
    assert_eq!(app.get("/stats", &store.live).await.data()["currencies"], json!([]));
    let one = app.get("/stats?days=1", &store.test).await;
    assert_eq!(
        (one.data()["from"].clone(), one.data()["currencies"][0]["days"].as_array().unwrap().len()),
        (one.data()["to"].clone(), 1)
    );
    for bad in ["0", "91", "many"] {
        assert_eq!(
            app.get(&format!("/stats?days={bad}"), &store.test).await.fields(),
            ["days"],
            "days={bad}"
        );
    }
    let read = app.key_with(&store.test, "read").await;
    assert_eq!(app.get("/stats", &read).await.status, 200, "any secret key");
    assert_eq!(app.get("/stats", &pk).await.status, 403, "not a publishable key");

    // Days begin at the store's midnight: a day ahead in Kiritimati (UTC+14) of Pago Pago (UTC-11).
    app.patch("/store", &store.live, json!({"time_zone": "Pacific/Kiritimati"})).await;
    let ahead = app.get("/stats", &store.test).await;
    app.patch("/store", &store.live, json!({"time_zone": "Pacific/Pago_Pago"})).await;
    let behind = app.get("/stats", &store.test).await;
    assert_eq!(ahead.data()["time_zone"], "Pacific/Kiritimati");
    assert!(ahead.data()["to"].as_str() > behind.data()["to"].as_str(), "{} vs {}", ahead.body, behind.body);
    for figures in [&ahead, &behind] {
        assert_eq!(figures.data()["currencies"][0]["orders"], 10, "the same sales, whatever the zone");
    }
}
