//! Trust boundaries, tried from outside as an attacker or a careless integrator would: what a
//! publishable key, a lesser secret key, another client or another key can (not) reach, spend
//! or replay.

use reqwest::Method;
use sellvy_tests::{Clock, Plan, Reply, TestApp};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};

fn frozen() -> Clock {
    Clock::manual(1_800_000_000_000_000)
}

/// Where a request comes from and what it adds: the client address `127.0.2.<from>`, an
/// `Idempotency-Key`, an `Origin`.
#[derive(Clone, Copy, Default)]
struct Via<'a> {
    from: u8,
    idem: Option<&'a str>,
    origin: Option<&'a str>,
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    via: Via<'_>,
    body: Option<&Value>,
) -> Reply {
    let Via { from, idem, origin } = via;
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 2, from));
    let http = reqwest::Client::builder().local_address(ip).build().unwrap();
    let mut req = http.request(method, format!("{}{path}", app.base)).bearer_auth(key);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let text = resp.text().await.unwrap();
    Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
}

fn remaining(r: &Reply) -> u64 {
    r.header("x-ratelimit-remaining").unwrap().parse().unwrap()
}

#[tokio::test]
async fn keys_refused_for_their_kind_or_permission_never_spend_the_stores_quota() {
    let app = TestApp::builder().clock(frozen()).spawn().await;
    let store = app.new_store_on(Plan::Free, None).await; // burst 10
    let pk = app.publishable_key(&store.test).await; // 1 request of the test bucket
    let read = app.key_with(&store.test, "read").await; // 2
    for _ in 0..15 {
        let r = app.get("/products", &pk).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"), "{}", r.body);
        assert!(r.header("x-ratelimit-remaining").is_none(), "a refusal reports no store quota");
    }
    for _ in 0..15 {
        let r = app.post("/categories", &read, json!({"name": "x"})).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let ok = app.get("/products", &store.test).await;
    assert_eq!(ok.status, 200, "the seller's key still works: {}", ok.body);
    assert_eq!(remaining(&ok), 7, "10 - 2 keys created - this request: the 30 refusals spent nothing");

    // Such traffic counts against the caller's per-client storefront limit instead (30 at once).
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(app.get("/products", &pk).await.status.as_u16());
    }
    assert!(statuses.contains(&429), "a flood of refused requests is limited per client: {statuses:?}");
    assert_eq!(remaining(&app.get("/products", &store.test).await), 6);
}

#[tokio::test]
async fn an_idempotent_replay_belongs_to_the_key_that_made_it_and_passes_its_permission_check() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let write = app.key_with(&store.test, "write").await;
    let other_full = app.key_with(&store.test, "full").await;
    let body = json!({"name": "CI", "permissions": "full"});
    let mint = Via { from: 1, idem: Some("mint-1"), origin: None };
    let first = send(&app, Method::POST, "/api_keys", &store.test, mint, Some(&body)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let minted = first.data()["key"].as_str().unwrap().to_string();

    let lesser = send(&app, Method::POST, "/api_keys", &write, mint, Some(&body)).await;
    assert_eq!((lesser.status.as_u16(), lesser.code()), (403, "forbidden"));
    assert!(!lesser.body.to_string().contains(&minted), "never the minted secret");
    let stranger = send(&app, Method::POST, "/api_keys", &other_full, mint, Some(&body)).await;
    assert_eq!(stranger.status, 422, "another key reusing the Idempotency-Key: {}", stranger.body);
    assert_eq!(stranger.fields(), ["Idempotency-Key"]);
    assert!(!stranger.body.to_string().contains(&minted));

    let again = send(&app, Method::POST, "/api_keys", &store.test, mint, Some(&body)).await;
    assert_eq!((again.status.as_u16(), again.header("idempotent-replayed")), (201, Some("true")));
    assert_eq!(again.data()["key"], minted.as_str(), "the sender's own retry gets its answer back");

    // At rest: the kept record holds neither the key nor the secret in clear.
    let items = raw_items(&app, &format!("T#{}#test", store.store_id), "IDEM#").await;
    assert!(!items.is_empty());
    for item in &items {
        assert!(!item.contains(&minted[8..]), "the minted secret rests in clear: {item}");
        assert!(!item.contains("mint-1"), "the Idempotency-Key rests in clear: {item}");
    }
}

/// Every attribute of the items of partition `pk` whose sort key starts with `prefix`, as
/// text (read straight from DynamoDB Local, as a backup or the stream would show them).
async fn raw_items(app: &TestApp, pk: &str, prefix: &str) -> Vec<String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or("http://127.0.0.1:8000".into());
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .build();
    let out = aws_sdk_dynamodb::Client::from_conf(conf)
        .query()
        .table_name(app.db.table())
        .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
        .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
        .expression_attribute_values(":p", AttributeValue::S(prefix.into()))
        .send()
        .await
        .unwrap();
    out.items().iter().map(|i| format!("{i:?}")).collect()
}

#[tokio::test]
async fn the_storefront_honours_idempotency_keys_per_buyer_and_every_answer_carries_cors() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    app.patch("/store", &store.test, json!({"allowed_origins": ["https://shop.example.com"]})).await;
    let product = app.product(&store.test, json!({"title": "Key", "type": "service", "price": 5})).await;
    let body =
        json!({"product_id": product["id"], "quantity": 1, "email": "b@example.com", "gateway": "stripe"});
    let origin = Some("https://shop.example.com");
    let post = |from, idem, body| {
        send(&app, Method::POST, "/storefront/checkout", &pk, Via { from, idem, origin }, body)
    };

    let first = post(1, Some("sdk-uuid-1"), Some(&body)).await;
    assert_eq!(first.status, 201, "an SDK's Idempotency-Key is honoured: {}", first.body);
    assert_eq!(first.header("access-control-allow-origin"), origin);
    let again = post(1, Some("sdk-uuid-1"), Some(&body)).await;
    assert_eq!((again.status.as_u16(), again.header("idempotent-replayed")), (201, Some("true")));
    assert_eq!(again.data()["order"]["id"], first.data()["order"]["id"], "one order");
    assert_eq!(again.data()["access_token"], first.data()["access_token"]);
    assert_eq!(again.header("access-control-allow-origin"), origin);

    let other_buyer = post(2, Some("sdk-uuid-1"), Some(&body)).await;
    assert_eq!(
        other_buyer.status, 422,
        "another client never gets this buyer's answer: {}",
        other_buyer.body
    );
    assert!(!other_buyer.body.to_string().contains(first.data()["access_token"].as_str().unwrap()));
    let other_body =
        json!({"product_id": product["id"], "quantity": 2, "email": "b@example.com", "gateway": "stripe"});
    assert_eq!(post(1, Some("sdk-uuid-1"), Some(&other_body)).await.fields(), ["Idempotency-Key"]);

    // Errors from every layer carry CORS, so the page can read why.
    let bad_key = post(1, Some(""), Some(&body)).await;
    assert_eq!((bad_key.status.as_u16(), bad_key.header("access-control-allow-origin")), (422, origin));
    let no_key = send(
        &app,
        Method::POST,
        "/storefront/checkout",
        "",
        Via { from: 1, idem: None, origin },
        Some(&body),
    )
    .await;
    assert_eq!((no_key.status.as_u16(), no_key.header("access-control-allow-origin")), (401, origin));
    let unknown =
        send(&app, Method::GET, "/storefront/nothing", &pk, Via { from: 1, idem: None, origin }, None).await;
    assert_eq!((unknown.status.as_u16(), unknown.header("access-control-allow-origin")), (404, origin));
    let huge = json!({"email": "x".repeat(1_100_000)});
    let too_large = post(1, None, Some(&huge)).await;
    assert_eq!((too_large.status.as_u16(), too_large.header("access-control-allow-origin")), (413, origin));
    let too_large_keyed = post(1, Some("sdk-uuid-2"), Some(&huge)).await;
    assert_eq!(too_large_keyed.status, 413);
    assert_eq!(too_large_keyed.header("access-control-allow-origin"), origin);
    // The seller's routes stay without CORS: no browser should hold a secret key.
    let seller =
        send(&app, Method::GET, "/products", &store.test, Via { from: 1, idem: None, origin }, None).await;
    assert!(seller.header("access-control-allow-origin").is_none());
    // A preflight of any storefront path is answered without a key.
    let http = reqwest::Client::new();
    let pre = http
        .request(Method::OPTIONS, format!("{}/storefront/checkout", app.base))
        .header("Origin", "https://shop.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert!(pre.headers()["access-control-allow-headers"].to_str().unwrap().contains("idempotency-key"));
}
