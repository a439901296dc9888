//! A launch: many buyers racing for one hot product, with a fixed number of purchases (the
//! stock), not a duration. Every purchase either succeeds whole (paid and delivered) or is
//! refused as out of stock; nothing answers 5xx; no serial goes out twice; `total_sold` is exact.
//! The figures (purchases per second, payment latency) are printed for the docs.

use sellvy_tests::{Reply, TestApp};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

/// One buyer's client, at an address of its own (each has its own storefront limit).
fn client(n: u8) -> reqwest::Client {
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 3, n));
    reqwest::Client::builder().local_address(ip).build().unwrap()
}

async fn send(req: reqwest::RequestBuilder) -> Reply {
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    Reply { status, headers, body: resp.json().await.unwrap_or(Value::Null) }
}

/// What one buyer saw.
#[derive(Default)]
struct Outcome {
    paid: Vec<Value>,
    payment_ms: Vec<f64>,
    server_errors: Vec<String>,
}

/// Buys `quantity` at a time until the product is sold out (or `max` purchases are made).
async fn buyer(app: TestApp, pk: String, product: String, n: u8, quantity: u32, max: usize) -> Outcome {
    let http = client(n);
    let mut out = Outcome::default();
    while out.paid.len() < max {
        let body = json!({"product_id": product, "quantity": quantity, "email": format!("buyer{n}@example.com"), "gateway": "stripe"});
        let r =
            send(http.post(format!("{}/storefront/checkout", app.base)).bearer_auth(&pk).json(&body)).await;
        if r.status.is_server_error() {
            out.server_errors.push(format!("checkout {}: {}", r.status, r.body));
            continue;
        }
        if r.status == 422 {
            assert_eq!(r.fields(), ["quantity"], "only stock may refuse a checkout: {}", r.body);
            break;
        }
        assert_eq!(r.status, 201, "{}", r.body);
        let (id, token) =
            (r.data()["order"]["id"].as_str().unwrap(), r.data()["access_token"].as_str().unwrap());
        let started = Instant::now();
        let paid = send(
            http.post(format!("{}/storefront/orders/{id}/sandbox_payment", app.base))
                .bearer_auth(&pk)
                .header("X-Order-Token", token)
                .json(&json!({"outcome": "succeeded"})),
        )
        .await;
        out.payment_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        if paid.status.is_server_error() {
            out.server_errors.push(format!("payment {}: {}", paid.status, paid.body));
            continue;
        }
        assert_eq!(paid.status, 200, "{}", paid.body);
        out.paid.push(paid.data().clone());
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs `buyers` concurrent buyers, then reports the figures.
async fn race(
    app: &TestApp,
    pk: &str,
    product: &str,
    buyers: u8,
    quantity: u32,
    max: usize,
    label: &str,
) -> Vec<Outcome> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 1..=buyers {
        tasks.spawn(buyer(app.clone(), pk.to_string(), product.to_string(), n, quantity, max));
    }
    let outcomes = tasks.join_all().await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut ms: Vec<f64> = outcomes.iter().flat_map(|o| o.payment_ms.iter().copied()).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    let paid: usize = outcomes.iter().map(|o| o.paid.len()).sum();
    let errors: usize = outcomes.iter().map(|o| o.server_errors.len()).sum();
    println!(
        "{label}: {buyers} buyers, {paid} paid purchases in {elapsed:.2} s ({:.1}/s), payment p50 {:.0} ms, p99 {:.0} ms, {errors} answers 5xx",
        paid as f64 / elapsed,
        percentile(&ms, 0.5),
        percentile(&ms, 0.99)
    );
    outcomes
}

#[tokio::test]
async fn a_key_drop_sells_every_serial_exactly_once_while_the_seller_adds_more() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let serials: Vec<String> = (0..200).map(|n| format!("DROP-{n:04}-XXXXX-YYYYY")).collect();
    let product = app
        .product(
            &store.test,
            json!({"title": "Launch key", "type": "serials", "price": 9.99, "info": serials.join(",")}),
        )
        .await;
    let id = product["id"].as_str().unwrap().to_string();
    // The seller adds 50 more while buyers race (appended, never a rewrite of the list).
    let seller = {
        let (app, key, id) = (app.clone(), store.test.clone(), id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let more: Vec<String> = (0..50).map(|n| format!("MORE-{n:04}-XXXXX-YYYYY")).collect();
            app.post(&format!("/products/{id}/serials"), &key, json!({"info": more.join(",")})).await
        })
    };
    let outcomes = race(&app, &pk, &id, 32, 1, usize::MAX, "key drop (200 + 50 serials)").await;
    let appended = seller.await.unwrap();
    assert_eq!(appended.status, 200, "the seller's append succeeds during the launch: {}", appended.body);

    let errors: Vec<_> = outcomes.iter().flat_map(|o| o.server_errors.iter()).collect();
    assert!(errors.is_empty(), "no 5xx: {errors:?}");
    let delivered: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.paid.iter())
        .flat_map(|order| {
            assert_eq!(order["delivery"]["status"], "delivered", "{order}");
            order["delivery"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let distinct: HashSet<_> = delivered.iter().collect();
    assert_eq!(delivered.len(), 250, "every serial sold");
    assert_eq!(distinct.len(), 250, "no serial twice");
    let after = app.get(&format!("/products/{id}"), &store.test).await;
    assert_eq!(after.data()["total_sold"], 250);
    assert_eq!(after.data()["stock"], 0);
    assert_eq!(after.data()["info"], "");
}

#[tokio::test]
async fn a_launch_of_a_service_sells_every_purchase_without_a_failure() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product =
        app.product(&store.test, json!({"title": "Coaching", "type": "service", "price": 20})).await;
    let id = product["id"].as_str().unwrap().to_string();
    let outcomes = race(&app, &pk, &id, 16, 1, 20, "service launch (16 buyers x 20)").await;
    let errors: Vec<_> = outcomes.iter().flat_map(|o| o.server_errors.iter()).collect();
    assert!(errors.is_empty(), "no 5xx: {errors:?}");
    let paid: usize = outcomes.iter().map(|o| o.paid.len()).sum();
    assert_eq!(paid, 320);
    assert_eq!(app.get(&format!("/products/{id}"), &store.test).await.data()["total_sold"], 320);
}
