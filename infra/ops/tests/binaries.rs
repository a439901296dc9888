//! The operator command and the local gateway as a newcomer runs them: separate processes,
//! talking to the local stack and over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `sellvy-gateway --port 0` and returns it with its base URL.
fn start_gateway() -> (Gateway, String) {
    start_gateway_with(&[])
}

fn start_gateway_with(env: &[(&str, &str)]) -> (Gateway, String) {
    let mut child = local_env(&mut Command::new(env!("CARGO_BIN_EXE_sellvy-gateway")))
        .envs(env.iter().copied())
        .args(["--port", "0"])
        .env("SELLVY_COST_HEADERS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
    (Gateway(child), base)
}

/// `sellvy-admin create-store --json` with extra arguments.
fn admin_store(args: &[&str]) -> serde_json::Value {
    let out = local_env(&mut Command::new(env!("CARGO_BIN_EXE_sellvy-admin")))
        .args(["create-store", "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The local stack's default addresses and credentials (the environment's own win).
const LOCAL_STACK: [(&str, &str); 5] = [
    ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
    ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324"),
    ("AWS_ACCESS_KEY_ID", "local"),
    ("AWS_SECRET_ACCESS_KEY", "local"),
    ("AWS_REGION", "us-east-1"),
];

fn local_env(cmd: &mut Command) -> &mut Command {
    for (k, v) in LOCAL_STACK {
        if std::env::var_os(k).is_none() {
            cmd.env(k, v);
        }
    }
    cmd
}

#[tokio::test]
async fn admin_creates_a_store_whose_keys_work_on_the_gateway() {
    let store = admin_store(&["--name", "Binary Store", "--plan", "business"]);
    assert_eq!(store["plan"], "business");
    let key = store["keys"]["test"]["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk_test_"));
    assert!(store["keys"]["live"]["key"].as_str().unwrap().starts_with("sk_live_"));

    let bad = local_env(&mut Command::new(env!("CARGO_BIN_EXE_sellvy-admin")))
        .args(["create-store", "--name", "X", "--plan", "platinum"])
        .output()
        .unwrap();
    assert!(!bad.status.success());

    let (_gateway, base) = start_gateway();

    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/v1/products"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"title": "Via binaries", "type": "service", "price": "12.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let list: serde_json::Value =
        http.get(format!("{base}/v1/products")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["meta"]["total"], 1);
    assert_eq!(list["data"][0]["price"], 12);
}

/// The rate limit holds across processes: two gateways (as two Lambda instances would) share
/// one store's bucket in DynamoDB, so together they accept what the plan allows.
#[tokio::test]
async fn two_gateway_processes_share_one_stores_rate_limit() {
    let (_a, base_a) = start_gateway();
    let (_b, base_b) = start_gateway();
    let http = reqwest::Client::new();
    for (plan, burst, per_minute, sent) in [("free", 10u64, 60u64, 40usize), ("pro", 50, 300, 120)] {
        let store = admin_store(&["--name", "Shared", "--plan", plan]);
        let key = store["keys"]["test"]["key"].as_str().unwrap().to_string();
        let started = std::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..sent {
            let url = format!("{}/v1/products", if n % 2 == 0 { &base_a } else { &base_b });
            let (http, key) = (http.clone(), key.clone());
            tasks.spawn(async move {
                let r = http.get(url).bearer_auth(key).send().await.unwrap();
                let cost =
                    r.headers().get("x-sellvy-cost").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                (r.status().as_u16(), cost)
            });
        }
        let replies = tasks.join_all().await;
        let elapsed = started.elapsed().as_secs_f64();
        let accepted = replies.iter().filter(|(s, _)| *s == 200).count() as u64;
        assert!(replies.iter().all(|(s, _)| *s == 200 || *s == 429));
        // Calls per request besides the limiter: the key lookup, and the page Query if accepted.
        let limiter_calls: u64 = replies
            .iter()
            .map(|(s, cost)| {
                let calls: u64 = cost
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix("calls="))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                calls - if *s == 200 { 2 } else { 1 }
            })
            .sum();
        // Tokens refill at per_minute / 60 per second while the burst is in flight.
        let refill = (elapsed * per_minute as f64 / 60.0).ceil() as u64;
        eprintln!(
            "{plan}: {sent} requests over 2 processes in {elapsed:.2} s: {accepted} accepted (burst {burst}, \
             up to {refill} refilled meanwhile); limiter calls {limiter_calls} ({:.2} per request)",
            limiter_calls as f64 / sent as f64
        );
        assert!(accepted >= burst, "{plan}: {accepted} < burst {burst}");
        assert!(accepted <= burst + refill, "{plan}: {accepted} > {burst} + {refill}");
    }
}

/// A webhook receiver on loopback: the bodies it got.
async fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = got.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or_default());
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

/// A delivery queue of the calling test's own on the local stack (whose addresses this process
/// takes from the environment, as the gateways it starts do).
async fn crash_queue() -> String {
    // SAFETY: set before the test reads the environment from other threads.
    unsafe {
        for (k, v) in LOCAL_STACK {
            if std::env::var_os(k).is_none() {
                std::env::set_var(k, v);
            }
        }
    }
    let queue = format!("sellvy-crash-{}", sellvy_models::id::random_base62(10));
    sellvy_webhooks::Queue::create(&queue, 900).await.expect("a queue of this test's own");
    queue
}

#[tokio::test]
async fn an_event_survives_its_process_dying_between_the_write_and_the_fan_out() {
    let queue = crash_queue().await;
    let (url, got) = receiver().await;
    let store = admin_store(&["--name", "Crash Store", "--plan", "business"]);
    let key = store["keys"]["test"]["key"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let env = [("SELLVY_DELIVERY_QUEUE_NAME", queue.as_str()), ("SELLVY_ALLOW_LOOPBACK", "1")];

    // A gateway that dies right after a request's transaction commits, before its fan-out.
    let (mut doomed, base) =
        start_gateway_with(&[env[0], env[1], ("SELLVY_FAILPOINT", "crash_before_fan_out")]);
    let r = http
        .post(format!("{base}/v1/webhook_endpoints"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "no event, no crash");
    let crashed = http
        .post(format!("{base}/v1/products"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"title": "Survivor", "type": "service", "price": 3}))
        .send()
        .await;
    assert!(crashed.is_err(), "the process died before answering");
    let status = doomed.0.wait().unwrap();
    assert!(!status.success(), "the gateway aborted: {status}");

    // The product and its event were written; nothing was delivered.
    let db = sellvy_store::Db::from_env().await;
    let tenant = sellvy_models::Tenant {
        store_id: sellvy_models::id::StoreId::parse(store["store_id"].as_str().unwrap()).unwrap(),
        mode: sellvy_models::Mode::Test,
    };
    let far = sellvy_models::time::Timestamp::from_millis(
        sellvy_models::time::Timestamp::now().millis() + 3_600_000,
    );
    let pending = db.undispatched_events(far, 1000).await.unwrap();
    assert!(pending.iter().any(|(t, _)| *t == tenant), "the event waits in the outbox");
    assert!(db.delivery_summaries(&tenant).await.unwrap().is_empty(), "no delivery was made");
    assert!(got.lock().unwrap().is_empty());

    // A new process's forwarder (every second here) finds it and delivers it. Its grace (2 s)
    // keeps it off events that other tests' requests are still fanning out themselves.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (_next, _) = start_gateway_with(&[
        env[0],
        env[1],
        ("SELLVY_SWEEP_SECONDS", "1"),
        ("SELLVY_WEBHOOK_GRACE_SECS", "2"),
    ]);
    let started = std::time::Instant::now();
    while got.lock().unwrap().is_empty() && started.elapsed() < std::time::Duration::from_secs(15) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "delivered once");
    assert_eq!(bodies[0]["type"], "product.created");
    assert_eq!(bodies[0]["data"]["title"], "Survivor");
}

/// A process that dies right after recording a payment, before it calls the seller's server
/// for the order's dynamic goods: the order is paid but nothing would ever fetch its goods. The
/// next process's sweeper does, once the grace has passed, and only once.
#[tokio::test]
async fn a_paid_order_survives_its_process_dying_before_its_goods_are_fetched() {
    let queue = crash_queue().await;
    let (url, got) = receiver().await;
    let store = admin_store(&["--name", "Goods Crash Store", "--plan", "business"]);
    let key = store["keys"]["test"]["key"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let env = [
        ("SELLVY_DELIVERY_QUEUE_NAME", queue.as_str()),
        ("SELLVY_ALLOW_LOOPBACK", "1"),
        ("SELLVY_GOODS_GRACE_SECS", "2"),
    ];
    let post = |base: &str, path: &str, key: &str, body: serde_json::Value| {
        http.post(format!("{base}/v1{path}")).bearer_auth(key).json(&body).send()
    };

    // A gateway that dies right after a payment's transaction commits.
    let (mut doomed, base) =
        start_gateway_with(&[env[0], env[1], env[2], ("SELLVY_FAILPOINT", "crash_after_payment")]);
    let pk: serde_json::Value =
        post(&base, "/api_keys", &key, serde_json::json!({"name": "Shop", "type": "publishable"}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let pk = pk["data"]["key"].as_str().unwrap().to_string();
    let product =
        serde_json::json!({"title": "Generated", "type": "dynamic", "price": 5, "dynamic_url": url});
    let product: serde_json::Value =
        post(&base, "/products", &key, product).await.unwrap().json().await.unwrap();
    let buy = serde_json::json!({
        "product_id": product["data"]["id"], "quantity": 1, "email": "crash@example.com", "gateway": "stripe"
    });
    let checkout: serde_json::Value =
        post(&base, "/storefront/checkout", &pk, buy).await.unwrap().json().await.unwrap();
    let order_id = checkout["data"]["order"]["id"].as_str().unwrap().to_string();
    let token = checkout["data"]["access_token"].as_str().unwrap();
    let pay = format!("/storefront/orders/{order_id}/sandbox_payment?token={token}");
    let crashed = post(&base, &pay, &pk, serde_json::json!({"outcome": "succeeded"})).await;
    assert!(crashed.is_err(), "the process died before answering");
    assert!(!doomed.0.wait().unwrap().success(), "the gateway aborted");

    // Paid, and its goods never fetched.
    let db = sellvy_store::Db::from_env().await;
    let tenant = sellvy_models::Tenant {
        store_id: sellvy_models::id::StoreId::parse(store["store_id"].as_str().unwrap()).unwrap(),
        mode: sellvy_models::Mode::Test,
    };
    let order = db.get_order(&tenant, &order_id).await.unwrap().unwrap();
    assert_eq!(
        (order.status, order.payment_status, order.delivery.status),
        (
            sellvy_models::order::OrderStatus::Processing,
            sellvy_models::order::PaymentStatus::Paid,
            sellvy_models::order::GoodsStatus::Pending
        )
    );
    assert!(got.lock().unwrap().is_empty(), "the seller's server was never called");

    // Another process's sweeper (every second here) fetches the goods once the grace passed.
    let (_next, base) = start_gateway_with(&[env[0], env[1], env[2], ("SELLVY_SWEEP_SECONDS", "1")]);
    let started = std::time::Instant::now();
    let mut seen = serde_json::Value::Null;
    while started.elapsed() < std::time::Duration::from_secs(20) {
        let r = http.get(format!("{base}/v1/orders/{order_id}")).bearer_auth(&key).send().await.unwrap();
        seen = r.json().await.unwrap();
        if seen["data"]["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(seen["data"]["status"], "completed", "{seen}");
    assert_eq!(seen["data"]["delivery"]["content"], "ok");
    let calls = got.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "the seller's server was called once");
    assert_eq!(calls[0]["id"], order_id.as_str());
}
