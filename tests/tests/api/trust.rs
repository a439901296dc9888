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
    let out = crate::raw_dynamodb()
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

#[tokio::test]
async fn test_keys_work_on_a_sandboxed_copy_of_the_stores_settings_and_secret() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let live = app
        .patch(
            "/store",
            &store.live,
            json!({"blocked_countries": ["KP"], "allowed_origins": ["https://shop.example.com"]}),
        )
        .await;
    assert_eq!(live.status, 200, "{}", live.body);
    let live_secret = live.data()["delivery_secret"].as_str().unwrap().to_string();

    // A full test key (handed to CI or a contractor) sees only test mode's settings and secret.
    let test = app.get("/store", &store.test).await;
    let test_secret = test.data()["delivery_secret"].as_str().unwrap().to_string();
    assert_ne!(test_secret, live_secret, "each mode has its own delivery secret");
    assert_eq!(test.data()["blocked_countries"], json!([]));
    // It clears and rotates test mode's alone.
    let changed = app
        .patch("/store", &store.test, json!({"allowed_origins": [], "rotate_delivery_secret": true}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_ne!(changed.data()["delivery_secret"], test_secret.as_str());
    let renamed = app.patch("/store", &store.test, json!({"name": "Taken over"})).await;
    assert_eq!(renamed.fields(), ["name"], "the store's name is changed with a live key only");
    let after = app.get("/store", &store.live).await;
    assert_eq!(after.data()["delivery_secret"], live_secret.as_str(), "the live secret never moves");
    assert_eq!(after.data()["blocked_countries"], json!(["KP"]));
    assert_eq!(after.data()["allowed_origins"], json!(["https://shop.example.com"]));
    assert_eq!(after.data()["name"], "Test store");

    // A dynamic delivery says which mode it comes from, and is signed with that mode's secret.
    let test_secret = changed.data()["delivery_secret"].as_str().unwrap().to_string();
    let seller = sellvy_tests::Receiver::start().await;
    seller.always(200, "CODE-1", std::time::Duration::ZERO);
    let product = app
        .product(
            &store.test,
            json!({"title": "Gen", "type": "dynamic", "price": 1, "dynamic_url": seller.url}),
        )
        .await;
    let pk = app.publishable_key(&store.test).await;
    let order = app
        .post("/storefront/checkout", &pk, json!({"product_id": product["id"], "quantity": 1, "email": "d@example.com", "gateway": "stripe"}))
        .await;
    let (id, token) =
        (order.data()["order"]["id"].as_str().unwrap(), order.data()["access_token"].as_str().unwrap());
    let paid = app
        .call(
            Method::POST,
            &format!("/storefront/orders/{id}/sandbox_payment?token={token}"),
            Some(&pk),
            Some(&json!({"outcome": "succeeded"})),
        )
        .await;
    assert_eq!(paid.data()["delivery"]["content"], "CODE-1", "{}", paid.body);
    let got = &seller.received()[0];
    assert_eq!(got.header("x-sellvy-mode"), "test");
    assert_eq!(got.json()["mode"], "test");
    assert!(sellvy_models::signature::verify(&got.body, got.header("x-sellvy-signature"), &test_secret));
    assert!(!sellvy_models::signature::verify(&got.body, got.header("x-sellvy-signature"), &live_secret));
    assert!(
        standard_verifies("python", "standard_webhooks.py", got, &test_secret),
        "signed the Standard Webhooks way too"
    );
}

#[tokio::test]
async fn caps_hold_under_concurrent_creates() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let receiver = sellvy_tests::Receiver::start().await;
    let answers =
        at_once(&app, &store.test, "/webhook_endpoints", 25, |_| json!({"url": receiver.url})).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 20, "the cap is 20 per store and mode, whatever the race");
    assert!(answers.iter().filter(|r| r.status != 201).all(|r| r.fields() == ["url"]));
    assert_eq!(app.get("/webhook_endpoints", &store.test).await.body["meta"]["total"], 20);
    // A freed place can be taken again.
    let one = answers.iter().find(|r| r.status == 201).unwrap().data()["id"].as_str().unwrap().to_string();
    assert_eq!(app.delete(&format!("/webhook_endpoints/{one}"), &store.test).await.status, 204);
    assert_eq!(app.post("/webhook_endpoints", &store.test, json!({"url": receiver.url})).await.status, 201);

    // API keys: 100 per store and mode (the operator's first key counts).
    let answers = at_once(
        &app,
        &store.test,
        "/api_keys",
        110,
        |n| json!({"name": format!("k{n}"), "permissions": "read"}),
    )
    .await;
    assert_eq!(answers.iter().filter(|r| r.status == 201).count(), 99);
    assert!(answers.iter().filter(|r| r.status != 201).all(|r| r.status == 422 && r.fields() == ["name"]));
    assert_eq!(app.get("/api_keys?per_page=100", &store.test).await.body["meta"]["total"], 100);
    let live_key = app.post("/api_keys", &store.live, json!({"name": "live", "permissions": "read"})).await;
    assert_eq!(live_key.status, 201, "each mode has its own cap");
    let revoke = answers.iter().find(|r| r.status == 201).unwrap().data()["id"].as_str().unwrap().to_string();
    assert_eq!(app.delete(&format!("/api_keys/{revoke}"), &store.test).await.status, 204);
    assert_eq!(
        app.post("/api_keys", &store.test, json!({"name": "again", "permissions": "read"})).await.status,
        201
    );
}

/// `n` POSTs of `body(i)` to `path`, all at once.
async fn at_once(
    app: &TestApp,
    key: &str,
    path: &str,
    n: usize,
    body: impl Fn(usize) -> Value,
) -> Vec<Reply> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (app, key, path, body) = (app.clone(), key.to_string(), path.to_string(), body(i));
        tasks.spawn(async move { app.post(&path, &key, body).await });
    }
    tasks.join_all().await
}

/// Runs a Standard Webhooks reference verifier (`tests/receivers/…`) on a received request.
fn standard_verifies(
    program: &str,
    script: &str,
    got: &sellvy_tests::receiver::Received,
    secret: &str,
) -> bool {
    let headers = json!({
        "webhook-id": got.header("webhook-id"),
        "webhook-timestamp": got.header("webhook-timestamp"),
        "webhook-signature": got.header("webhook-signature"),
    });
    standard_verifier(program, script, &got.body, &headers, secret).trim() == "valid"
}

fn standard_verifier(program: &str, script: &str, body: &[u8], headers: &Value, secret: &str) -> String {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let file =
        std::env::temp_dir().join(format!("sellvy-standard-{}.json", sellvy_models::id::random_base62(10)));
    std::fs::write(&file, body).unwrap();
    let program = match program {
        "python" => std::env::var("SELLVY_PYTHON")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| root.join("../.local/venv/bin/python")),
        other => std::path::PathBuf::from(other),
    };
    let out = std::process::Command::new(program)
        .arg(root.join("receivers").join(script))
        .arg(&file)
        .env("HEADERS", headers.to_string())
        .env("SECRET", secret)
        .output()
        .expect("run the Standard Webhooks verifier");
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn deliveries_verify_with_the_standard_webhooks_libraries_replays_fail_and_rotation_has_a_grace() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let receiver = sellvy_tests::Receiver::start().await;
    let e = app
        .post("/webhook_endpoints", &store.test, json!({"url": receiver.url, "events": ["product.created"]}))
        .await;
    let (id, old) =
        (e.data()["id"].as_str().unwrap().to_string(), e.data()["secret"].as_str().unwrap().to_string());
    app.product(&store.test, json!({"title": "One", "type": "service", "price": 1})).await;
    let got = wait_for(&receiver, 1).await;
    for (program, script) in [("python", "standard_webhooks.py"), ("node", "standard_webhooks.mjs")] {
        assert!(
            standard_verifies(program, script, &got, &old),
            "{script} accepts the delivery as Sellvy shows the secret"
        );
        // The timestamp is signed: moved, the signature no longer matches.
        let ts: i64 = got.header("webhook-timestamp").parse().unwrap();
        let moved = json!({"webhook-id": got.header("webhook-id"), "webhook-timestamp": (ts - 1).to_string(),
                           "webhook-signature": got.header("webhook-signature")});
        assert!(
            standard_verifier(program, script, &got.body, &moved, &old).starts_with("invalid"),
            "{script}"
        );
        // A capture replayed later (re-signed for an old time, as only Sellvy could) is too old.
        let stale = ts - 600;
        let resigned =
            sellvy_models::signature::standard_signature(&old, got.header("webhook-id"), stale, &got.body);
        let replayed = json!({"webhook-id": got.header("webhook-id"), "webhook-timestamp": stale.to_string(), "webhook-signature": resigned});
        assert!(
            standard_verifier(program, script, &got.body, &replayed, &old).starts_with("invalid"),
            "{script}: replay window"
        );
    }
    assert_eq!(got.header("x-sellvy-mode"), "test");
    assert_eq!(got.header("webhook-id"), got.header("x-sellvy-delivery"));

    // After a rotation both secrets verify `webhook-signature` for the grace period, while
    // `X-Sellvy-Signature` (one value, as the contract's verifiers want) uses the new one.
    let rotated = app.post(&format!("/webhook_endpoints/{id}/rotate_secret"), &store.test, json!({})).await;
    let new = rotated.data()["secret"].as_str().unwrap().to_string();
    assert!(rotated.data()["previous_secret_expires_at"].is_string(), "{}", rotated.body);
    app.product(&store.test, json!({"title": "Two", "type": "service", "price": 1})).await;
    let got = wait_for(&receiver, 2).await;
    assert_eq!(got.header("webhook-signature").split(' ').count(), 2);
    assert!(standard_verifies("python", "standard_webhooks.py", &got, &new));
    assert!(
        standard_verifies("python", "standard_webhooks.py", &got, &old),
        "a receiver not yet switched keeps verifying"
    );
    assert!(standard_verifies("node", "standard_webhooks.mjs", &got, &old));
    assert!(sellvy_models::signature::verify(&got.body, got.header("x-sellvy-signature"), &new));
    assert!(!sellvy_models::signature::verify(&got.body, got.header("x-sellvy-signature"), &old));
}

async fn wait_for(receiver: &sellvy_tests::Receiver, n: usize) -> sellvy_tests::receiver::Received {
    for _ in 0..200 {
        if let Some(r) = receiver.received().get(n - 1) {
            return r.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no delivery {n}");
}

#[tokio::test]
async fn test_mode_urls_may_be_plain_http_to_public_hosts_and_live_ones_must_be_https() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let bin = json!({"url": "http://93.184.216.34/requestbin"});
    assert_eq!(app.post("/webhook_endpoints", &store.test, bin.clone()).await.status, 201);
    assert_eq!(app.post("/webhook_endpoints", &store.live, bin).await.fields(), ["url"]);
    let internal =
        app.post("/webhook_endpoints", &store.test, json!({"url": "http://169.254.169.254/latest"})).await;
    assert_eq!(internal.fields(), ["url"], "the SSRF guard holds in test mode");
    let product =
        json!({"title": "D", "type": "dynamic", "price": 1, "dynamic_url": "http://93.184.216.34/goods"});
    assert_eq!(app.post("/products", &store.test, product.clone()).await.status, 201);
    assert_eq!(app.post("/products", &store.live, product).await.fields(), ["dynamic_url"]);
}

#[tokio::test]
async fn outbound_calls_never_go_through_an_environment_proxy() {
    let app = TestApp::spawn().await;
    // A "proxy" that only counts the connections it gets.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((_sock, _)) = proxy.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    // Everything but the local stack (127.0.0.1) would go through it; the seller's server is on
    // another loopback address.
    // SAFETY: this test runs in its own process (nextest), before the app's first outbound call.
    unsafe {
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
            std::env::set_var(var, &proxy_url);
        }
        std::env::set_var("NO_PROXY", "127.0.0.1,localhost");
        std::env::set_var("no_proxy", "127.0.0.1,localhost");
    }
    let store = app.new_store().await;
    let receiver = sellvy_tests::Receiver::start_on("127.0.0.2").await;
    app.post("/webhook_endpoints", &store.test, json!({"url": receiver.url, "events": ["product.created"]}))
        .await;
    app.product(&store.test, json!({"title": "Direct", "type": "service", "price": 1})).await;
    let got = wait_for(&receiver, 1).await;
    assert_eq!(got.json()["data"]["title"], "Direct");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "the proxy saw nothing");
}
