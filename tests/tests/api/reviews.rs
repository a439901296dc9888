//! Reviews: a buyer reviews a completed order once with its access token; the seller lists,
//! replies, hides and shows; buyers see visible reviews and each product's rating, kept exact
//! by the reviews' own transactions.

use sellvy_tests::{Receiver, StoreKeys, TestApp, eventually};
use serde_json::{Value, json};
use std::time::Duration;

/// Checks out and pays (sandbox) one unit as `email`: the order and its access token.
async fn bought(app: &TestApp, pk: &str, product: &Value, email: &str) -> (Value, String) {
    let r = app
        .post(
            "/storefront/checkout",
            pk,
            json!({"product_id": product["id"], "quantity": 1, "email": email, "gateway": "stripe"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (order, token) = (r.data()["order"].clone(), r.data()["access_token"].as_str().unwrap().to_string());
    let paid = pay(app, pk, &order, &token).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    (paid.data().clone(), token)
}

async fn pay(app: &TestApp, pk: &str, order: &Value, token: &str) -> sellvy_tests::Reply {
    let path = format!("/storefront/orders/{}/sandbox_payment?token={token}", order["id"].as_str().unwrap());
    app.call(reqwest::Method::POST, &path, Some(pk), Some(&json!({"outcome": "succeeded"}))).await
}

async fn review(app: &TestApp, pk: &str, order: &Value, token: &str, body: Value) -> sellvy_tests::Reply {
    let path = format!("/storefront/orders/{}/review?token={token}", order["id"].as_str().unwrap());
    app.post(&path, pk, body).await
}

async fn rating_of(app: &TestApp, pk: &str, product: &Value) -> Value {
    app.get(&format!("/storefront/products/{}", product["id"].as_str().unwrap()), pk).await.data()["rating"]
        .clone()
}

async fn setup(app: &TestApp) -> (StoreKeys, String, Value) {
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app.product(&store.test, json!({"title": "Lessons", "type": "service", "price": 10})).await;
    (store, pk, product)
}

#[tokio::test]
async fn a_buyer_reviews_a_completed_order_once_and_the_seller_replies_and_moderates() {
    let app = TestApp::builder()
        .storefront_client_limit(sellvy_tests::RateLimit::custom(1_000_000, 100_000).unwrap())
        .spawn()
        .await;
    let (store, pk, product) = setup(&app).await;
    let receiver = Receiver::start().await;
    app.post("/webhook_endpoints", &store.test, json!({"url": receiver.url, "events": ["review.created"]}))
        .await;
    assert_eq!(rating_of(&app, &pk, &product).await, json!({"average": null, "count": 0}));

    // An unpaid order cannot be reviewed; a wrong token finds no order.
    let unpaid = app
        .post("/storefront/checkout", &pk, json!({"product_id": product["id"], "quantity": 1, "email": "u@example.com", "gateway": "stripe"}))
        .await;
    let unpaid_token = unpaid.data()["access_token"].as_str().unwrap().to_string();
    let r = review(&app, &pk, &unpaid.data()["order"], &unpaid_token, json!({"rating": 5})).await;
    assert_eq!((r.status.as_u16(), r.fields()), (422, vec!["id".to_string()]), "{}", r.body);
    assert!(r.body.to_string().contains("only a completed order"));

    let (order, token) = bought(&app, &pk, &product, "ann@example.com").await;
    assert_eq!(review(&app, &pk, &order, "wrong-token", json!({"rating": 5})).await.status, 404);
    // Bad fields are named.
    assert_eq!(review(&app, &pk, &order, &token, json!({})).await.fields(), ["rating"]);
    assert_eq!(review(&app, &pk, &order, &token, json!({"rating": 6})).await.fields(), ["rating"]);
    let long = "x".repeat(2001);
    assert_eq!(
        review(&app, &pk, &order, &token, json!({"rating": 4, "message": long})).await.fields(),
        ["message"]
    );
    assert_eq!(
        review(&app, &pk, &order, &token, json!({"rating": 4, "name": "ann@example.com"})).await.fields(),
        ["name"],
        "a name is public: never an email"
    );
    let secret_key = review(&app, &store.test, &order, &token, json!({"rating": 4})).await;
    assert_eq!(secret_key.status, 403, "a storefront route takes a publishable key");

    // The review: public, with the chosen name and no email.
    let made =
        review(&app, &pk, &order, &token, json!({"rating": 4, "message": "  Clear lessons ", "name": "Ann"}))
            .await;
    assert_eq!(made.status, 201, "{}", made.body);
    println!("a review written: {}", made.header("x-sellvy-cost").unwrap_or("-"));
    assert_eq!(
        (made.data()["rating"].clone(), made.data()["message"].clone(), made.data()["name"].clone()),
        (json!(4), json!("Clear lessons"), json!("Ann"))
    );
    assert!(!made.body.to_string().contains("ann@example.com"));
    let id = made.data()["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("rev_"));
    let again = review(&app, &pk, &order, &token, json!({"rating": 1})).await;
    assert_eq!(again.fields(), ["id"], "one review per order: {}", again.body);

    // A second buyer, anonymous.
    let (order2, token2) = bought(&app, &pk, &product, "bob@example.com").await;
    let anon = review(&app, &pk, &order2, &token2, json!({"rating": 2})).await;
    assert_eq!(anon.data()["name"], "Verified buyer");
    assert_eq!(rating_of(&app, &pk, &product).await, json!({"average": 3.0, "count": 2}));

    // The seller's list: newest first, with the emails; filters; a bad filter named.
    let listed = app.get("/reviews", &store.test).await;
    let emails: Vec<_> =
        listed.data().as_array().unwrap().iter().map(|r| r["customer_email"].clone()).collect();
    assert_eq!(emails, [json!("bob@example.com"), json!("ann@example.com")]);
    assert_eq!(listed.body["meta"]["total"], 2);
    assert_eq!(app.get("/reviews?rating=4", &store.test).await.data().as_array().unwrap().len(), 1);
    let pid = product["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/reviews?product_id={pid}&rating=2"), &store.test).await.data()[0]["name"],
        "Verified buyer"
    );
    assert_eq!(app.get("/reviews?rating=9", &store.test).await.fields(), ["rating"]);
    assert_eq!(app.get("/reviews", &store.live).await.data(), &json!([]), "the other mode has its own");
    assert_eq!(app.get("/reviews", &pk).await.status, 403);
    let shown = app.get(&format!("/reviews/{id}"), &store.test).await;
    assert_eq!(
        (shown.data()["order_id"].clone(), shown.data()["product"]["title"].clone()),
        (order["id"].clone(), json!("Lessons"))
    );

    // review.created carries the review as the API returns it.
    let delivered = || async { receiver.received().len() == 2 };
    assert!(eventually(Duration::from_secs(10), delivered).await);
    let sent: Vec<Value> = receiver.received().iter().map(|r| r.json()).collect();
    let ann = sent.iter().find(|e| e["data"]["id"] == id.as_str()).expect("ann's review event");
    assert_eq!(ann["type"], "review.created");
    assert_eq!(ann["data"], *shown.data());

    // Reply and moderation: write keys, not read ones.
    let read = app.key_with(&store.test, "read").await;
    assert_eq!(app.post(&format!("/reviews/{id}/hide"), &read, json!({})).await.status, 403);
    let write = app.key_with(&store.test, "write").await;
    assert_eq!(
        app.post(&format!("/reviews/{id}/reply"), &write, json!({"message": " "})).await.fields(),
        ["message"]
    );
    let replied =
        app.post(&format!("/reviews/{id}/reply"), &write, json!({"message": "Thank you, Ann!"})).await;
    assert_eq!(replied.data()["reply"]["message"], "Thank you, Ann!");
    let public = app.get(&format!("/storefront/products/{pid}/reviews"), &pk).await;
    assert_eq!(public.body["meta"]["total"], 2);
    assert_eq!(public.data()[1]["reply"]["message"], "Thank you, Ann!");
    assert!(!public.body.to_string().contains("@example.com"), "no email on the storefront: {}", public.body);
    let removed = app.delete(&format!("/reviews/{id}/reply"), &write).await;
    assert!(removed.data()["reply"].is_null());

    let hidden = app.post(&format!("/reviews/{id}/hide"), &write, json!({})).await;
    assert_eq!(hidden.data()["hidden"], true);
    println!("a review hidden: {}", hidden.header("x-sellvy-cost").unwrap_or("-"));
    assert_eq!(
        rating_of(&app, &pk, &product).await,
        json!({"average": 2.0, "count": 1}),
        "a hidden review leaves the rating"
    );
    let public = app.get(&format!("/storefront/products/{pid}/reviews"), &pk).await;
    assert_eq!(
        (public.body["meta"]["total"].clone(), public.data()[0]["rating"].clone()),
        (json!(1), json!(2))
    );
    app.post(&format!("/reviews/{id}/hide"), &write, json!({})).await;
    assert_eq!(rating_of(&app, &pk, &product).await["count"], 1, "hiding twice moves nothing");
    app.post(&format!("/reviews/{id}/unhide"), &write, json!({})).await;
    assert_eq!(rating_of(&app, &pk, &product).await, json!({"average": 3.0, "count": 2}));

    // A refund afterwards: the review stays, marked.
    let refund =
        app.post(&format!("/orders/{}/refund", order["id"].as_str().unwrap()), &store.test, json!({})).await;
    assert_eq!(refund.status, 200, "{}", refund.body);
    assert_eq!(app.get(&format!("/reviews/{id}"), &store.test).await.data()["refunded"], true);
    let public = app.get(&format!("/storefront/products/{pid}/reviews"), &pk).await;
    assert_eq!(public.data()[1]["refunded"], true);

    // A product buyers cannot see has no public reviews; unknown ids are 404.
    app.patch(&format!("/products/{pid}"), &store.test, json!({"private": true})).await;
    assert_eq!(app.get(&format!("/storefront/products/{pid}/reviews"), &pk).await.status, 404);
    assert_eq!(app.get("/reviews/rev_00000000000000000000000000", &store.test).await.status, 404);
}

#[tokio::test]
async fn raced_reviews_of_one_order_make_one_and_ratings_stay_exact() {
    // Every buyer here shares one address: the storefront's per-client limit is lifted.
    let app = TestApp::builder()
        .storefront_client_limit(sellvy_tests::RateLimit::custom(1_000_000, 100_000).unwrap())
        .spawn()
        .await;
    let (store, pk, product) = setup(&app).await;
    let mut orders = Vec::new();
    for n in 0..10 {
        orders.push(bought(&app, &pk, &product, &format!("r{n}@example.com")).await);
    }
    // One order reviewed twice at once: one review.
    let (order, token) = &orders[0];
    let (a, b) = tokio::join!(
        review(&app, &pk, order, token, json!({"rating": 5})),
        review(&app, &pk, order, token, json!({"rating": 1}))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 422], "{} / {}", a.body, b.body);
    let first = if a.status == 201 {
        a.data()["rating"].as_u64().unwrap()
    } else {
        b.data()["rating"].as_u64().unwrap()
    };

    // The nine others at once, ratings 1..5 over and over.
    let mut tasks = tokio::task::JoinSet::new();
    for (n, (order, token)) in orders[1..].iter().cloned().enumerate() {
        let (app, pk) = (app.clone(), pk.clone());
        tasks.spawn(async move {
            let rating = (n % 5 + 1) as u64;
            let r = review(&app, &pk, &order, &token, json!({"rating": rating})).await;
            assert_eq!(r.status, 201, "{}", r.body);
            (r.data()["id"].as_str().unwrap().to_string(), rating)
        });
    }
    let made = tasks.join_all().await;
    let sum: u64 = first + made.iter().map(|(_, r)| r).sum::<u64>();
    let expected = |count: u64, sum: u64| json!({"average": ((sum as f64 / count as f64) * 10.0).round() / 10.0, "count": count});
    assert_eq!(rating_of(&app, &pk, &product).await, expected(10, sum));

    // Three hidden at once, one of them twice: the rating moves by exactly those three.
    let hidden = &made[..3];
    let mut tasks = tokio::task::JoinSet::new();
    for (id, _) in hidden.iter().chain(&hidden[..1]) {
        let (app, key, id) = (app.clone(), store.test.clone(), id.clone());
        tasks.spawn(async move {
            app.post(&format!("/reviews/{id}/hide"), &key, json!({})).await.status.as_u16()
        });
    }
    assert!(tasks.join_all().await.iter().all(|s| *s == 200));
    let hidden_sum: u64 = hidden.iter().map(|(_, r)| r).sum();
    assert_eq!(rating_of(&app, &pk, &product).await, expected(7, sum - hidden_sum));
    // The product list carries the same rating.
    let listed = app.get("/storefront/products", &pk).await;
    assert_eq!(listed.data()[0]["rating"], expected(7, sum - hidden_sum), "{}", listed.body);
    assert_eq!(app.get("/reviews", &store.test).await.body["meta"]["total"], 10);

    // Another product's reviews are read from its own partition: the cost follows its one
    // review, not the store's ten.
    let other = app.product(&store.test, json!({"title": "Other", "type": "service", "price": 1})).await;
    let (order, token) = bought(&app, &pk, &other, "other@example.com").await;
    review(&app, &pk, &order, &token, json!({"rating": 5})).await;
    let listed =
        app.get(&format!("/storefront/products/{}/reviews", other["id"].as_str().unwrap()), &pk).await;
    assert_eq!(listed.body["meta"]["total"], 1);
    let read = listed.cost("items_read");
    println!("one product's reviews in a store of 11: {}", listed.header("x-sellvy-cost").unwrap_or("-"));
    assert!(read <= 5.0, "{read} items read for one review");
}
