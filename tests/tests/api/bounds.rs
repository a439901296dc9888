//! Every quantity Sellvy accepts, it can store, list, sell and deliver within AWS's hard limits
//! (DynamoDB's 400 KB item, 4 KB expression, 100-item transaction and 1 MB Query page;
//! Lambda's 6 MB response): each test runs at the bound Sellvy enforces, and one step past it
//! gets a 422 naming the field and the bound, before anything is written.

use reqwest::Method;
use sellvy_tests::{Reply, TestApp};
use serde_json::{Value, json};
use std::collections::HashSet;

/// A test-mode purchase paid through the sandbox.
async fn buy(app: &TestApp, pk: &str, body: Value) -> (Reply, Reply) {
    let r = app.post("/storefront/checkout", pk, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (id, token) = (r.data()["order"]["id"].as_str().unwrap(), r.data()["access_token"].as_str().unwrap());
    let paid = app
        .call(
            Method::POST,
            &format!("/storefront/orders/{id}/sandbox_payment?token={token}"),
            Some(pk),
            Some(&json!({"outcome": "succeeded"})),
        )
        .await;
    (r, paid)
}

fn serials(n: usize, len: usize, tag: &str) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i:06}{}", "X".repeat(len.saturating_sub(tag.len() + 6)))).collect()
}

#[tokio::test]
async fn an_order_of_1000_serials_is_paid_delivered_and_forwarded_whole() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let receiver = sellvy_tests::Receiver::start().await;
    app.post("/webhook_endpoints", &store.test, json!({"url": receiver.url, "events": ["order.completed"]}))
        .await;
    let keys = serials(1000, 29, "K"); // a Windows-style key: 29 characters
    let product = app
        .product(&store.test, json!({"title": "Bulk", "type": "serials", "price": 1, "info": keys.join(",")}))
        .await;
    assert_eq!(product["stock"], 1000);
    let (_, paid) = buy(&app, &pk, json!({"product_id": product["id"], "quantity": 1000, "email": "bulk@example.com", "gateway": "stripe"})).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    println!("a 1,000-serial payment: {}", paid.header("x-sellvy-cost").unwrap_or("-"));
    let items: HashSet<_> = paid.data()["delivery"]["items"].as_array().unwrap().iter().cloned().collect();
    assert_eq!(items.len(), 1000, "every serial, once");
    let order = app.get(&format!("/orders/{}", paid.data()["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(order.data()["delivery"]["items"].as_array().unwrap().len(), 1000);
    let after = app.get(&format!("/products/{}", product["id"].as_str().unwrap()), &store.test).await;
    assert_eq!((after.data()["stock"].clone(), after.data()["total_sold"].clone()), (json!(0), json!(1000)));
    // The event carries the whole order to the seller's server, and the log keeps it.
    for _ in 0..200 {
        if !receiver.received().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = receiver.received();
    assert_eq!(got[0].json()["data"]["delivery"]["items"].as_array().unwrap().len(), 1000);
}

#[tokio::test]
async fn an_order_whose_serials_could_not_fit_is_refused_at_checkout() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    // 300 serials of 1,000 characters: 300 KB, more than one order may carry (256 KiB).
    let long = serials(300, 1000, "L");
    let product = app
        .product(&store.test, json!({"title": "Long", "type": "serials", "price": 1, "info": long.join(",")}))
        .await;
    let too_many = app
        .post("/storefront/checkout", &pk, json!({"product_id": product["id"], "quantity": 300, "email": "l@example.com", "gateway": "stripe"}))
        .await;
    assert_eq!(too_many.fields(), ["quantity"]);
    let message = too_many.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 130") && message.contains("256 KiB"), "{message}");
    // At the bound: paid and delivered whole.
    let (_, paid) = buy(
        &app,
        &pk,
        json!({"product_id": product["id"], "quantity": 130, "email": "l@example.com", "gateway": "stripe"}),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.data()["delivery"]["item_count"], 130);
}

#[tokio::test]
async fn the_largest_stock_a_product_may_hold_is_stored_returned_whole_and_sold() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    // 2 MiB of serials, in bodies under 1 MiB: a creation and two appends.
    let first = serials(1000, 1000, "A");
    let product = app
        .product(
            &store.test,
            json!({"title": "Huge", "type": "serials", "price": 1, "info": first.join(",")}),
        )
        .await;
    let id = product["id"].as_str().unwrap();
    for (n, tag) in [(700, "B"), (397, "C")] {
        let more = serials(n, 1000, tag);
        let added =
            app.post(&format!("/products/{id}/serials"), &store.test, json!({"info": more.join(",")})).await;
        assert_eq!(added.status, 200, "{}", added.body);
    }
    assert_eq!(app.get(&format!("/products/{id}"), &store.test).await.data()["stock"], 2097);
    let over = app
        .post(
            &format!("/products/{id}/serials"),
            &store.test,
            json!({"info": serials(2, 1000, "D").join(",")}),
        )
        .await;
    assert_eq!(over.fields(), ["info"], "past 2 MiB: {}", over.body);
    let whole = app.get(&format!("/products/{id}"), &store.test).await;
    let info = whole.data()["info"].as_str().unwrap();
    assert_eq!(info.split(',').count(), 2097);
    println!(
        "a product holding {} KiB of serials: GET answers {} KiB",
        info.len() / 1024,
        whole.body.to_string().len() / 1024
    );
    // Lists carry it without its serials.
    let listed = app.get("/products", &store.test).await;
    assert_eq!(listed.data()[0]["info"], Value::Null);
    assert_eq!(listed.data()[0]["stock"], 2097);
    let (_, paid) = buy(
        &app,
        &pk,
        json!({"product_id": id, "quantity": 2, "email": "h@example.com", "gateway": "stripe"}),
    )
    .await;
    assert_eq!(paid.data()["delivery"]["item_count"], 2, "{}", paid.body);
}

#[tokio::test]
async fn every_list_page_is_full_and_the_largest_page_fits_a_lambda_response() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    // 100 products near the largest a product may be (40 KiB): 3.9 MB, four Query pages.
    let description = "d".repeat(19_000);
    let images: Vec<String> =
        (0..10).map(|i| format!("https://img.example/{i}/{}", "p".repeat(1_900))).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..100 {
        let (app, key) = (app.clone(), store.test.clone());
        let body = json!({"title": format!("Big {n:03}"), "type": "service", "price": n + 1,
                          "description": description, "images": images});
        tasks.spawn(async move { app.product(&key, body).await });
    }
    tasks.join_all().await;
    let largest = app.get("/products?per_page=100", &store.test).await;
    assert_eq!(largest.data().as_array().unwrap().len(), 100);
    let bytes = largest.body.to_string().len();
    let escaped = bytes + largest.body.to_string().bytes().filter(|b| matches!(b, b'"' | b'\\')).count();
    println!(
        "the largest product page: 100 products, {} KiB ({} KiB once a Lambda escapes it)",
        bytes / 1024,
        escaped / 1024
    );
    assert!(escaped < 6 * 1024 * 1024 - 64 * 1024, "inside Lambda's 6 MB response");
    for query in ["/products?per_page=30", "/products?per_page=30&sort=price&order=asc"] {
        let mut seen = HashSet::new();
        let mut sizes = Vec::new();
        for page in 1..=4 {
            let r = app.get(&format!("{query}&page={page}"), &store.test).await;
            assert_eq!(r.body["meta"]["total"], 100);
            sizes.push(r.data().as_array().unwrap().len());
            seen.extend(r.data().as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()));
        }
        assert_eq!(sizes, [30, 30, 30, 10], "{query}: every page full but the last");
        assert_eq!(seen.len(), 100, "{query}: every product once");
    }
}

#[tokio::test]
async fn bodies_that_would_make_items_too_large_are_refused_before_any_write() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    // 25 select fields of 100 options of 200 characters: half a megabyte in one product.
    let option = "o".repeat(200);
    let custom: Vec<Value> = (0..25)
        .map(|n| json!({"type": "select", "name": format!("F{n}"), "options": vec![option.clone(); 100]}))
        .collect();
    let r = app
        .post(
            "/products",
            &store.test,
            json!({"title": "Fields", "type": "service", "price": 1, "custom": custom}),
        )
        .await;
    assert_eq!(r.fields(), ["custom"]);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("40 KiB"), "{}", r.body);
    assert_eq!(app.get("/products", &store.test).await.body["meta"]["total"], 0, "nothing written");
    // Two variants of 250 KB of serials each: the pools hold them, the product stays small.
    let (eu, us) = (serials(250, 1000, "E"), serials(250, 1000, "U"));
    let r = app
        .post("/products", &store.test, json!({"title": "Regions", "type": "serials", "price": 1,
            "variants": [{"title": "EU", "price": 1, "info": eu.join(",")}, {"title": "US", "price": 1, "info": us.join(",")}]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let got = app.get(&format!("/products/{}", r.data()["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(got.data()["variants"][1]["info"].as_str().unwrap().split(',').count(), 250);
    // An order's answers to custom fields: 16 KiB in all.
    let product = app
        .product(&store.test, json!({"title": "Form", "type": "service", "price": 1,
            "custom": (0..5).map(|n| json!({"type": "textarea", "name": format!("Q{n}")})).collect::<Vec<_>>()}))
        .await;
    let answers: serde_json::Map<String, Value> =
        (0..5).map(|n| (format!("Q{n}"), json!("a".repeat(4000)))).collect();
    let r = app
        .post(
            "/storefront/checkout",
            &pk,
            json!({"product_id": product["id"], "quantity": 1, "email": "f@example.com",
            "gateway": "stripe", "custom_fields": answers}),
        )
        .await;
    assert_eq!(r.fields(), ["custom_fields"]);
}

#[tokio::test]
async fn a_delivery_keeps_at_most_15_attempts() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let receiver = sellvy_tests::Receiver::start().await;
    receiver.always(500, "no", std::time::Duration::ZERO);
    app.post("/webhook_endpoints", &store.test, json!({"url": receiver.url, "events": ["product.created"]}))
        .await;
    app.product(&store.test, json!({"title": "Retried", "type": "service", "price": 1})).await;
    let mut id = String::new();
    for _ in 0..400 {
        let failed = app.get("/webhook_deliveries?status=failed", &store.test).await;
        if let Some(d) = failed.data().as_array().and_then(|a| a.first()) {
            id = d["id"].as_str().unwrap().to_string();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!id.is_empty(), "the delivery failed its automatic attempts");
    for n in 6..=15 {
        let r = app.post(&format!("/webhook_deliveries/{id}/retry"), &store.test, json!({})).await;
        assert_eq!(r.data()["attempt_count"], n, "{}", r.body);
    }
    let r = app.post(&format!("/webhook_deliveries/{id}/retry"), &store.test, json!({})).await;
    assert_eq!(r.fields(), ["id"], "{}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("15 attempts"));
}

#[tokio::test]
async fn a_product_written_before_pools_keeps_its_serials_and_its_held_units() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app.product(&store.test, json!({"title": "Old", "type": "serials", "price": 1})).await;
    let id = product["id"].as_str().unwrap();
    // As an item was before pools: serials inline, `available` 2 of 3 (an open order holds one),
    // no `held`.
    crate::raw_dynamodb()
        .update_item()
        .table_name(app.db.table())
        .key("PK", A::S(format!("T#{}#test", store.store_id)))
        .key("SK", A::S(format!("PRODUCT#{id}")))
        .update_expression("SET serials = :s, available = :a REMOVE held, pool_bytes, serial_len_max, vstock")
        .expression_attribute_values(
            ":s",
            A::L(["L1", "L2", "L3"].iter().map(|v| A::S(v.to_string())).collect()),
        )
        .expression_attribute_values(":a", A::N("2".into()))
        .send()
        .await
        .unwrap();
    let got = app.get(&format!("/products/{id}"), &store.test).await;
    assert_eq!(got.data()["info"], "L1,L2,L3", "moved to the pool, in order");
    assert_eq!(got.data()["stock"], 3, "two available, one held");
    let three = app
        .post(
            "/storefront/checkout",
            &pk,
            json!({"product_id": id, "quantity": 3, "email": "o@example.com", "gateway": "stripe"}),
        )
        .await;
    assert_eq!(three.fields(), ["quantity"], "the held unit stays held");
    let (_, paid) = buy(
        &app,
        &pk,
        json!({"product_id": id, "quantity": 2, "email": "o@example.com", "gateway": "stripe"}),
    )
    .await;
    assert_eq!(paid.data()["delivery"]["item_count"], 2, "{}", paid.body);
}

#[tokio::test]
async fn an_answer_too_large_to_keep_is_never_done_twice() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    // 900 serials of 1,000 characters: the answer (the product with its info) cannot be kept.
    let body = json!({"title": "Big answer", "type": "serials", "price": 1, "info": serials(900, 1000, "I").join(",")});
    let post = |idem: &'static str| {
        let (app, key, body) = (app.clone(), store.test.clone(), body.clone());
        async move {
            let resp = reqwest::Client::new()
                .post(format!("{}/products", app.base))
                .bearer_auth(key)
                .header("Idempotency-Key", idem)
                .json(&body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, first) = post("big-1").await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = post("big-1").await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("idempotency_key_in_use")), "{again}");
    assert!(again["error"]["message"].as_str().unwrap().contains("answered 201"), "{again}");
    assert_eq!(app.get("/products", &store.test).await.body["meta"]["total"], 1, "done once");
}

/// A body of countless mistakes (a 1 MiB body holds 90,000 unknown fields, or one field name of
/// 1 MB) still gets an answer Lambda can return (6 MB at most): the first problems, each field
/// name shortened, and how many more there were.
#[tokio::test]
async fn countless_mistakes_get_a_short_answer() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let mut body = serde_json::Map::new();
    for i in 0..90_000 {
        body.insert(format!("k{i}"), json!(0));
    }
    let r = app.post("/categories", &k, Value::Object(body)).await;
    assert_eq!(r.status, 422, "{}", &r.body.to_string()[..200]);
    let size = r.body.to_string().len();
    assert!(size < 64 * 1024, "the answer is {size} bytes");
    assert_eq!(r.fields().len(), 100);
    assert_eq!(r.fields()[..2], ["name", "k0"]);
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.ends_with("and 89901 more"), "{}", &message[message.len() - 80..]);

    let long = "x".repeat(900_000);
    let r = app.post("/categories", &k, json!({"name": "A", long.clone(): 1})).await;
    assert_eq!(r.status, 422);
    assert!(r.body.to_string().len() < 4 * 1024, "the answer is {} bytes", r.body.to_string().len());
    assert!(r.fields()[0].starts_with("xxxx") && r.fields()[0].ends_with('…'));
}

#[tokio::test]
async fn one_order_buys_no_more_serials_than_its_payment_can_hand_out_in_one_transaction() {
    // Short serials fit 256 KiB by the tens of thousands, but one payment's transaction deletes
    // a parked chunk per 90 of them: 7,200 at most, refused at checkout, never after payment.
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(&store.test, json!({"title": "Tiny keys", "type": "serials", "price": 1, "info": serials(10, 8, "T").join(",")}))
        .await;
    let r = app
        .post("/storefront/checkout", &pk, json!({"product_id": product["id"], "quantity": 7201, "email": "many@example.com", "gateway": "stripe"}))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.to_string().contains("must be at most 7200 serials in one order"), "{}", r.body);
}
