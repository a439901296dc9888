//! The storefront: publishable keys, what buyers may see, per-client limits, CORS.

use reqwest::Method;
use sellvy_tests::{Clock, Reply, TestApp};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};

/// A GET from a given client address and origin.
async fn visit(app: &TestApp, path: &str, key: &str, from: IpAddr, origin: Option<&str>) -> Reply {
    let http = reqwest::Client::builder().local_address(from).build().unwrap();
    let mut req = http.get(format!("{}{path}", app.base)).bearer_auth(key);
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    Reply { status, headers, body: resp.json().await.unwrap_or(Value::Null) }
}

fn ids(r: &Reply) -> Vec<String> {
    r.data().as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn publishable_keys_reach_only_the_storefront_and_secret_keys_never_do() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    assert!(pk.starts_with("pk_test_"));
    let listed = app.get("/api_keys", &store.test).await;
    assert!(listed.data().as_array().unwrap().iter().any(|k| k["type"] == "publishable"));

    assert_eq!(app.get("/storefront/products", &pk).await.status, 200);
    let r = app.get("/products", &pk).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"));
    assert_eq!(
        app.post("/products", &pk, json!({"title": "x", "type": "service", "price": 1})).await.status,
        403
    );
    let r = app.get("/storefront/products", &store.test).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"), "a secret key never goes in a storefront");
    assert_eq!(app.call(Method::GET, "/storefront/products", None, None).await.status, 401);
    assert_eq!(app.get("/storefront/products", &format!("pk_test_{}", "a".repeat(40))).await.status, 401);
    let r = app
        .post("/api_keys", &store.test, json!({"name": "x", "type": "publishable", "permissions": "full"}))
        .await;
    assert_eq!(r.fields(), ["permissions"]);
}

#[tokio::test]
async fn buyers_see_listed_products_without_their_secrets() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let k = &store.test;
    let listed = app
        .product(
            k,
            json!({"title": "Listed", "type": "serials", "price": 5, "info": "KEY-S1,KEY-S2", "hide_stock": true}),
        )
        .await;
    let unlisted =
        app.product(k, json!({"title": "Unlisted", "type": "service", "price": 5, "unlisted": true})).await;
    let private =
        app.product(k, json!({"title": "Private", "type": "service", "price": 5, "private": true})).await;
    let hidden =
        app.product(k, json!({"title": "Hidden", "type": "service", "price": 5, "is_visible": false})).await;
    app.product(k, json!({"title": "Counted", "type": "serials", "price": 5, "info": "A"})).await;
    let live_only = app.product(&store.live, json!({"title": "Live", "type": "service", "price": 5})).await;

    let list = app.get("/storefront/products", &pk).await;
    assert_eq!(ids(&list), ["Counted", "Listed"]);
    assert_eq!(list.body["meta"]["total"], 2);
    let shown = &list.data()[1];
    assert_eq!(shown["stock"], "in stock", "hide_stock shows a label");
    assert_eq!(list.data()[0]["stock"], 1);
    for secret in ["info", "file_url", "dynamic_url", "seller_note", "private", "unlisted", "total_sold"] {
        assert!(shown.get(secret).is_none(), "{secret} leaked");
    }
    // A serial holds a `-`, which no id or timestamp in the answer can: a random id may
    // contain "S1".
    assert!(!list.body.to_string().contains("KEY-S"), "serials never reach buyers");

    let get = |p: &Value| format!("/storefront/products/{}", p["id"].as_str().unwrap());
    assert_eq!(app.get(&get(&listed), &pk).await.data()["title"], "Listed");
    assert_eq!(app.get(&get(&unlisted), &pk).await.status, 200, "unlisted: by id only");
    assert_eq!(app.get(&get(&private), &pk).await.status, 404);
    assert_eq!(app.get(&get(&hidden), &pk).await.status, 404);
    assert_eq!(app.get(&get(&live_only), &pk).await.status, 404, "a test key sees test data only");
    assert_eq!(app.get("/storefront/products/nope", &pk).await.code(), "not_found");

    let page = app.get("/storefront/products?per_page=1&page=2", &pk).await;
    assert_eq!(ids(&page), ["Listed"]);
    assert_eq!(ids(&app.get("/storefront/products?search=count", &pk).await), ["Counted"]);
    assert_eq!(app.get("/storefront/products?per_page=500", &pk).await.fields(), ["per_page"]);
}

#[tokio::test]
async fn categories_for_buyers() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let cat = app.post("/categories", &store.test, json!({"name": "Keys", "description": "Game keys"})).await;
    let cat_id = cat.data()["id"].as_str().unwrap();
    app.product(&store.test, json!({"title": "In", "type": "service", "price": 1, "category_id": cat_id}))
        .await;
    app.product(&store.test, json!({"title": "Out", "type": "service", "price": 1})).await;
    let list = app.get("/storefront/categories", &pk).await;
    assert_eq!(list.data(), &json!([{"id": cat_id, "name": "Keys", "description": "Game keys"}]));
    assert_eq!(ids(&app.get(&format!("/storefront/products?category_id={cat_id}"), &pk).await), ["In"]);
}

#[tokio::test]
async fn each_client_address_has_its_own_limit() {
    let app = TestApp::builder().clock(Clock::manual(1_800_000_000_000_000)).spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let one = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
    let two = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let mut statuses = Vec::new();
    for _ in 0..35 {
        statuses.push(visit(&app, "/storefront/categories", &pk, one, None).await.status.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 30, "{statuses:?}");
    let refused = visit(&app, "/storefront/categories", &pk, one, None).await;
    assert_eq!(refused.code(), "rate_limited");
    assert!(refused.header("retry-after").is_some());
    // Another visitor of the same store is not starved.
    assert_eq!(visit(&app, "/storefront/categories", &pk, two, None).await.status, 200);
}

#[tokio::test]
async fn cors_follows_the_stores_allowed_origins() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let local = IpAddr::V4(Ipv4Addr::LOCALHOST);

    // Any origin while the store lists none.
    let r = visit(&app, "/storefront/products", &pk, local, Some("https://anyone.example")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://anyone.example"));
    let exposed = r.header("access-control-expose-headers").unwrap_or_default();
    for name in ["x-request-id", "x-ratelimit-remaining", "retry-after"] {
        assert!(exposed.contains(name), "a page can read {name}: {exposed}");
    }

    // Preflight: no key needed.
    let pre = reqwest::Client::new()
        .request(Method::OPTIONS, format!("{}/storefront/products", app.base))
        .header("Origin", "https://shop.example.com")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(pre.headers()["access-control-allow-origin"], "https://shop.example.com");
    assert!(pre.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    assert_eq!(pre.headers()["access-control-max-age"], "600", "browsers keep the preflight 10 minutes");

    let r = app.patch("/store", &store.test, json!({"allowed_origins": ["https://shop.example.com"]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["allowed_origins"], json!(["https://shop.example.com"]));
    let ok = visit(&app, "/storefront/products", &pk, local, Some("https://shop.example.com")).await;
    assert_eq!(ok.status, 200);
    let refused = visit(&app, "/storefront/products", &pk, local, Some("https://evil.example")).await;
    assert_eq!((refused.status.as_u16(), refused.code()), (403, "forbidden"));
    // Apps and servers send no Origin: not a browser, nothing to check.
    assert_eq!(visit(&app, "/storefront/products", &pk, local, None).await.status, 200);
}

#[tokio::test]
async fn store_settings() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let got = app.get("/store", &store.test).await;
    assert_eq!(got.data()["id"], store.store_id.as_str());
    assert_eq!(got.data()["allowed_origins"], json!([]));
    let r = app
        .patch(
            "/store",
            &store.live,
            json!({"name": "Renamed", "allowed_origins": ["ftp://x", "https://ok.example/"]}),
        )
        .await;
    assert_eq!(r.fields(), ["allowed_origins[0]"]);
    let r = app.patch("/store", &store.live, json!({"name": "Renamed", "plan": "enterprise"})).await;
    assert_eq!(r.fields(), ["plan"], "the plan is the operator's");
    let read = app.key_with(&store.test, "read").await;
    assert_eq!(app.get("/store", &read).await.status, 200);
    assert_eq!(app.patch("/store", &read, json!({"name": "x"})).await.status, 403);
    let write = app.key_with(&store.test, "write").await;
    assert_eq!(
        app.patch("/store", &write, json!({"name": "x"})).await.status,
        403,
        "settings need full access"
    );
    assert_eq!(
        app.patch("/store", &store.test, json!({"name": "Renamed"})).await.fields(),
        ["name"],
        "live keys only"
    );
    assert_eq!(app.patch("/store", &store.live, json!({"name": "Renamed"})).await.data()["name"], "Renamed");
    assert_eq!(app.get("/store", &store.test).await.data()["name"], "Renamed", "the name is the store's");

    // The time zone: UTC until chosen, an IANA name (as the database spells it), the store's.
    assert_eq!(got.data()["time_zone"], "UTC");
    let unknown = app.patch("/store", &store.live, json!({"time_zone": "Mars/Olympus_Mons"})).await;
    assert_eq!(unknown.fields(), ["time_zone"]);
    assert!(unknown.body.to_string().contains("IANA time zone"));
    assert_eq!(
        app.patch("/store", &store.live, json!({"time_zone": "+02:00"})).await.fields(),
        ["time_zone"]
    );
    assert_eq!(
        app.patch("/store", &store.test, json!({"time_zone": "Europe/Paris"})).await.fields(),
        ["time_zone"]
    );
    let set = app.patch("/store", &store.live, json!({"time_zone": "europe/paris"})).await;
    assert_eq!(set.data()["time_zone"], "Europe/Paris", "{}", set.body);
    assert_eq!(app.get("/store", &store.test).await.data()["time_zone"], "Europe/Paris");
}
