//! The credential matrix, generated from the served OpenAPI document: every operation, tried
//! with every kind of credential, answers what its declared security says, and nothing refused
//! for its kind of key or its permission spends the store's quota. A route added tomorrow is in
//! the matrix the day it is documented (its ids come from its parameters' descriptions).

use reqwest::Method;
use sellvy_tests::{Clock, Plan, RateLimit, Reply, StoreKeys, TestApp};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The credentials, in the order the matrix tries them.
const CREDENTIALS: [&str; 10] = [
    "none",
    "malformed",
    "unknown",
    "revoked",
    "other store",
    "other mode",
    "publishable",
    "read",
    "write",
    "full",
];

/// What an operation declares it takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Declared {
    Public,
    Publishable,
    Secret(u8), // 0 read, 1 write, 2 full
}

fn declared(op: &Value) -> Declared {
    let security = op["security"].as_array().unwrap_or_else(|| panic!("no declared security: {op}"));
    let req = security[0].as_object().unwrap();
    if req.is_empty() {
        Declared::Public
    } else if req.contains_key("publishable_key") {
        Declared::Publishable
    } else {
        let scope = req["secret_key"][0].as_str().unwrap_or_else(|| panic!("no permission scope: {op}"));
        Declared::Secret(
            ["read", "write", "full"].iter().position(|s| *s == scope).expect("a known scope") as u8
        )
    }
}

/// Store A's objects (test mode), by id prefix, for the path parameters.
async fn fixtures(app: &TestApp, a: &StoreKeys, pk: &str) -> HashMap<&'static str, String> {
    let receiver = sellvy_tests::Receiver::start().await;
    let endpoint = app.post("/webhook_endpoints", &a.test, json!({"url": receiver.url})).await;
    let product = app.product(&a.test, json!({"title": "M", "type": "service", "price": 5})).await;
    let category = app.post("/categories", &a.test, json!({"name": "C"})).await;
    let coupon =
        app.post("/coupons", &a.test, json!({"code": "MATRIX", "type": "percentage", "value": 10})).await;
    let victim = app.post("/api_keys", &a.test, json!({"name": "victim", "permissions": "read"})).await;
    let buy =
        json!({"product_id": product["id"], "quantity": 1, "email": "m@example.com", "gateway": "stripe"});
    let order = app.post("/storefront/checkout", pk, buy).await;
    let (oid, token) =
        (order.data()["order"]["id"].as_str().unwrap(), order.data()["access_token"].as_str().unwrap());
    let paid = app
        .call(
            Method::POST,
            &format!("/storefront/orders/{oid}/sandbox_payment?token={token}"),
            Some(pk),
            Some(&json!({"outcome": "succeeded"})),
        )
        .await;
    let mut delivery = Value::Null;
    for _ in 0..100 {
        delivery = app.get("/webhook_deliveries", &a.test).await.data()[0]["id"].clone();
        if delivery.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let id = |v: &Value| v.as_str().unwrap_or_else(|| panic!("fixture: {v}")).to_string();
    HashMap::from([
        ("prod_", id(&product["id"])),
        ("cat_", id(&category.data()["id"])),
        ("cpn_", id(&coupon.data()["id"])),
        ("key_", id(&victim.data()["id"])),
        ("ord_", id(&paid.data()["id"])),
        ("cus_", id(&paid.data()["customer_id"])),
        ("we_", id(&endpoint.data()["id"])),
        ("whd_", id(&delivery)),
    ])
}

#[tokio::test]
async fn every_operation_answers_every_credential_as_it_declares_and_refusals_spend_nothing() {
    let app = TestApp::builder()
        .clock(Clock::manual(1_800_000_000_000_000))
        .storefront_client_limit(RateLimit::custom(1_000_000, 100_000).unwrap())
        .spawn()
        .await;
    let burst = 100_000;
    let a = app.new_store_on(Plan::Enterprise, RateLimit::custom(1_000_000, burst)).await;
    let b = app.new_store().await;
    let pk = app.publishable_key(&a.test).await;
    let revoked = app.post("/api_keys", &a.test, json!({"name": "gone", "permissions": "full"})).await;
    let revoked_key = revoked.data()["key"].as_str().unwrap().to_string();
    app.delete(&format!("/api_keys/{}", revoked.data()["id"].as_str().unwrap()), &a.test).await;
    let read = app.key_with(&a.test, "read").await;
    let write = app.key_with(&a.test, "write").await;
    let ids = fixtures(&app, &a, &pk).await;
    let unknown = format!("sk_test_{}", "Z".repeat(40));
    let keys: [Option<&str>; 10] = [
        None,
        Some("not-a-key"),
        Some(&unknown),
        Some(&revoked_key),
        Some(&b.test),
        Some(&a.live),
        Some(&pk),
        Some(&read),
        Some(&write),
        Some(&a.test),
    ];

    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    let probe = || app.get("/store", &a.test);
    let spent_before =
        |r: &Reply| burst as i64 - r.header("x-ratelimit-remaining").unwrap().parse::<i64>().unwrap();
    let mut spent = spent_before(&probe().await);
    let mut cells = 0;
    let mut findings = Vec::new();
    // What each operation cost with the full-access key (remembered by then), for
    // docs/performance.md: writes here carry an empty body, so most are refused by validation.
    let mut costs = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let access = declared(op);
            let documented: Vec<String> = op["responses"].as_object().unwrap().keys().cloned().collect();
            let mut concrete = path.clone();
            for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
                let prefix = p["description"].as_str().unwrap_or("").trim_end_matches('…');
                let value =
                    ids.get(prefix).cloned().unwrap_or_else(|| format!("{prefix}00000000000000000000000000"));
                concrete = concrete.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), &value);
            }
            let v1 = concrete.strip_prefix("/v1").unwrap();
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
            let mut accepted_here = 0;
            let mut public_status = None;
            for (n, key) in keys.iter().enumerate() {
                let r = app.call(m.clone(), v1, *key, body.as_ref()).await;
                cells += 1;
                let (status, code) = (r.status.as_u16(), r.code().to_string());
                let who = CREDENTIALS[n];
                let want: Option<(u16, &str)> = match (access, who) {
                    (Declared::Public, _) => None,
                    (_, "none" | "malformed" | "unknown" | "revoked") => Some((401, "unauthorized")),
                    (Declared::Publishable, "publishable") => None,
                    (Declared::Publishable, _) => Some((403, "forbidden")),
                    (Declared::Secret(_), "publishable") => Some((403, "forbidden")),
                    (Declared::Secret(p), "read") if p > 0 => Some((403, "forbidden")),
                    (Declared::Secret(p), "write") if p > 1 => Some((403, "forbidden")),
                    (Declared::Secret(_), _) => None,
                };
                if who == "full" {
                    costs.push(format!(
                        "| {m} | `{path}` | {status} | {} |",
                        r.header("x-sellvy-cost").unwrap_or("-")
                    ));
                }
                let label = format!("{} {path} with {who}: {status} {}", m, r.body);
                match want {
                    Some((s, c)) => {
                        assert_eq!((status, code.as_str()), (s, c), "{label}");
                    }
                    // A route that takes no key answers every caller alike, whatever it sends.
                    None if access == Declared::Public => {
                        assert_eq!(*public_status.get_or_insert(status), status, "{label}");
                    }
                    None => {
                        assert!(![401, 403].contains(&status), "{label}");
                        // Another store's or mode's key never reaches store A's test objects.
                        if matches!(who, "other store" | "other mode") && path.contains('{') {
                            assert_eq!(status, 404, "{label}");
                        }
                        if matches!(who, "read" | "write" | "full") && matches!(access, Declared::Secret(_)) {
                            accepted_here += 1;
                        }
                    }
                }
                if !documented.contains(&status.to_string()) {
                    findings
                        .push(format!("{} {path} answered {status} to {who}, which it does not document", m));
                }
            }
            // Only this row's accepted requests with store A's test keys (and the probe) spent.
            spent += accepted_here;
            let now = spent_before(&probe().await);
            spent += 1;
            assert_eq!(now, spent, "{} {path}: a refused credential spent store A's quota", m);
        }
    }
    println!(
        "credential matrix: {cells} cells ({} credentials × {} operations)",
        CREDENTIALS.len(),
        cells / CREDENTIALS.len()
    );
    println!(
        "| method | route | status | DynamoDB work (full-access key) |\n|---|---|---|---|\n{}",
        costs.join("\n")
    );
    assert!(findings.is_empty(), "undocumented answers:\n{}", findings.join("\n"));
}
