//! The products API end to end, over HTTP against the local DynamoDB.

use reqwest::Method;
use sellvy_models::Mode;
use sellvy_tests::TestApp;
use serde_json::{Value, json};

fn ids(r: &Value) -> Vec<String> {
    r["data"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect()
}

async fn seed_catalog(app: &TestApp, key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (title, ty, price, visible) in [
        ("Alpha Icons", "digital_download", "19.99", true),
        ("beta keys", "serials", "5.00", true),
        ("Gamma Service", "service", "120", false),
        ("Delta Generator", "dynamic", "0.99", true),
        ("Epsilon Icons", "file", "29.99", false),
    ] {
        let mut body = json!({"title": title, "type": ty, "price": price, "is_visible": visible});
        if ty == "dynamic" {
            body["dynamic_url"] = json!("https://seller.example/generate");
        }
        out.push(app.product(key, body).await);
    }
    out
}

#[tokio::test]
async fn create_get_update_delete() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let created = app
        .product(
            &k,
            json!({"title": "Premium Icon Pack", "type": "digital_download", "price": 29.99, "currency": "usd",
                   "description": "500+ hand-crafted icons in SVG and PNG formats.", "is_visible": true,
                   "images": ["https://cdn.example/icon.png"], "file_url": "https://files.example/icons.zip"}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("prod_"));
    assert_eq!(created["price"].to_string(), "29.99");
    assert_eq!(created["currency"], "USD");
    assert_eq!(created["stock"], "∞");

    let got = app.get(&format!("/products/{id}"), &k).await;
    assert_eq!(got.status, 200);
    let mut shown = got.data().clone();
    assert_eq!(shown.as_object_mut().unwrap().remove("category"), None, "no category");
    assert_eq!(shown, created);
    assert!(got.body.get("meta").is_none());

    let patched =
        app.patch(&format!("/products/{id}"), &k, json!({"title": "New title", "description": null})).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.data()["title"], "New title");
    assert_eq!(patched.data()["description"], Value::Null);
    assert_eq!(patched.data()["price"].to_string(), "29.99", "untouched fields stay");
    assert_eq!(patched.data()["created_at"], created["created_at"]);

    let put =
        app.call(Method::PUT, &format!("/products/{id}"), Some(&k), Some(&json!({"price": "31.50"}))).await;
    assert_eq!(put.status, 200);
    assert_eq!(put.data()["price"].to_string(), "31.5");
    assert_eq!(put.data()["title"], "New title");

    let del = app.delete(&format!("/products/{id}"), &k).await;
    assert_eq!(del.status, 204);
    assert_eq!(del.body, Value::Null);
    let gone = app.get(&format!("/products/{id}"), &k).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body["error"],
        json!({"code": "not_found", "message": "Product not found", "status": 404})
    );
    assert_eq!(app.delete(&format!("/products/{id}"), &k).await.status, 404);
    assert_eq!(app.patch(&format!("/products/{id}"), &k, json!({"title": "x"})).await.status, 404);
    assert_eq!(app.get("/products", &k).await.body["meta"]["total"], 0);
}

#[tokio::test]
async fn prices_round_trip_exactly() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    for (sent, shown) in [
        (json!(29.99), "29.99"),
        (json!("0.10"), "0.1"),
        (json!(0.07), "0.07"),
        (json!(1234567.89), "1234567.89"),
        (json!(5), "5"),
    ] {
        let p = app.product(&k, json!({"title": "P", "type": "service", "price": sent})).await;
        let got = app.get(&format!("/products/{}", p["id"].as_str().unwrap()), &k).await;
        assert_eq!(got.data()["price"].to_string(), shown, "sent {sent}");
    }
    let jpy =
        app.product(&k, json!({"title": "Yen", "type": "service", "price": 1200, "currency": "JPY"})).await;
    assert_eq!(jpy["price"], 1200);
    let r = app
        .post("/products", &k, json!({"title": "Yen", "type": "service", "price": 12.5, "currency": "JPY"}))
        .await;
    assert_eq!(r.fields(), ["price"]);
    let r = app.post("/products", &k, json!({"title": "P", "type": "service", "price": 29.999})).await;
    assert_eq!(r.fields(), ["price"]);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("price"));
}

#[tokio::test]
async fn validation_names_every_bad_field() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let r = app.post("/products", &k, json!({})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["error"]["status"], 422);
    assert_eq!(r.fields(), ["title", "type", "price"]);

    // Wrong types.
    let r = app
        .post(
            "/products",
            &k,
            json!({"title": 5, "type": "service", "price": true, "is_visible": "yes", "images": "x",
                                      "minimum_quantity": 1.5, "custom": {}}),
        )
        .await;
    assert_eq!(r.fields(), ["title", "price", "is_visible", "images", "minimum_quantity", "custom"]);

    // Unknown fields.
    let r = app
        .post(
            "/products",
            &k,
            json!({"title": "T", "type": "service", "price": 1, "colour": "red", "theme": "x"}),
        )
        .await;
    assert_eq!(r.fields(), ["colour", "theme"]);

    // Rules from the seeds.
    let r = app
        .post(
            "/products",
            &k,
            json!({"title": "  ", "type": "potion", "price": -1, "gateways": ["venmo"],
              "maximum_quantity": 0, "max_risk_level": 150, "warranty_duration": -5, "stock_delimiter": "",
              "custom": [{"type": "text"}, {"type": "select", "name": "Size", "options": []}],
              "redirect_url": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(
        r.fields(),
        [
            "title",
            "type",
            "price",
            "stock_delimiter",
            "gateways[0]",
            "maximum_quantity",
            "custom[0].name",
            "custom[1].options",
            "warranty_duration",
            "redirect_url",
            "max_risk_level"
        ]
    );

    // A failed update changes nothing.
    let p = app.product(&k, json!({"title": "Keep", "type": "service", "price": 3})).await;
    let id = p["id"].as_str().unwrap();
    let r = app.patch(&format!("/products/{id}"), &k, json!({"title": "Changed", "price": "abc"})).await;
    assert_eq!(r.fields(), ["price"]);
    assert_eq!(app.get(&format!("/products/{id}"), &k).await.data()["title"], "Keep");
    // Read-only fields may be sent back unchanged, not changed.
    let r = app.patch(&format!("/products/{id}"), &k, json!({"id": "prod_other", "stock": 5})).await;
    assert_eq!(r.fields(), ["id", "stock"]);
}

#[tokio::test]
async fn every_selly_field_is_stored_and_returned() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let body = json!({
        "title": "Game keys", "product_type": "serials", "price": "5.00", "currency": "EUR",
        "info": "KEY-1\nKEY-2\nKEY-3", "stock_delimiter": "\n",
        "gateways": ["stripe", "paypal", "bitcoin"], "minimum_quantity": 1, "maximum_quantity": 2,
        "custom": [
            {"type": "text", "name": "Username", "required": true},
            {"type": "select", "name": "Region", "required": false, "options": ["EU", "US"]},
            {"type": "number", "name": "Age"}, {"type": "hidden", "name": "ref"},
            {"type": "textarea", "name": "Notes"}, {"type": "checkbox", "name": "Agree", "required": true},
            {"type": "country_dropdown", "name": "Country"}
        ],
        "customer_details_required": true, "warranty": "Replaced if invalid", "warranty_duration": 86400,
        "redirect_url": "https://seller.example/thanks", "unlisted": true, "private": false, "hide_stock": true,
        "vpn_block": true, "max_risk_level": 30, "seller_note": "Thanks!", "low_stock_threshold": 2
    });
    let p = app.product(&k, body.clone()).await;
    assert_eq!(p["type"], "serials");
    assert!(p.get("product_type").is_none(), "aliases are never echoed");
    assert_eq!(p["stock"], 3);
    assert_eq!(p["info"], "KEY-1\nKEY-2\nKEY-3");
    assert_eq!(p["custom"].as_array().unwrap().len(), 7);
    assert_eq!(p["custom"][1], body["custom"][1]);
    assert_eq!(
        p["custom"][2],
        json!({"type": "number", "name": "Age", "required": false}),
        "required defaults to false"
    );
    for field in [
        "gateways",
        "maximum_quantity",
        "customer_details_required",
        "warranty",
        "warranty_duration",
        "redirect_url",
        "unlisted",
        "hide_stock",
        "vpn_block",
        "max_risk_level",
        "seller_note",
        "low_stock_threshold",
        "stock_delimiter",
    ] {
        assert_eq!(p[field], body[field], "{field}");
    }
    let mut got = app.get(&format!("/products/{}", p["id"].as_str().unwrap()), &k).await.data().clone();
    got.as_object_mut().unwrap().remove("category");
    assert_eq!(got, p);
}

#[tokio::test]
async fn stock_follows_the_product_type() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let serials =
        app.product(&k, json!({"title": "S", "type": "serials", "price": 1, "info": "a, b ,c,,"})).await;
    assert_eq!(serials["stock"], 3);
    assert_eq!(serials["info"], "a,b,c");
    let limited =
        app.product(&k, json!({"title": "F", "type": "file", "price": 1, "stock_amount": 10})).await;
    assert_eq!(limited["stock"], 10);
    assert_eq!(limited["type"], "digital_download");
    for ty in ["digital_download", "service"] {
        assert_eq!(app.product(&k, json!({"title": "U", "type": ty, "price": 1})).await["stock"], "∞");
    }
    let dynamic = app
        .product(
            &k,
            json!({"title": "D", "type": "dynamic", "price": 1, "dynamic_url": "http://localhost:9/gen"}),
        )
        .await;
    assert_eq!(dynamic["stock"], "∞");
    let r =
        app.post("/products", &k, json!({"title": "S", "type": "serials", "price": 1, "info": "a,a"})).await;
    assert_eq!(r.fields(), ["info"]);
    let r = app
        .post("/products", &k, json!({"title": "S", "type": "service", "price": 1, "stock_amount": 3}))
        .await;
    assert_eq!(r.fields(), ["stock_amount"]);

    // Restocking a serials product through PATCH.
    let id = serials["id"].as_str().unwrap();
    let r = app.patch(&format!("/products/{id}"), &k, json!({"info": "a,b,c,d,e"})).await;
    assert_eq!(r.data()["stock"], 5);
}

#[tokio::test]
async fn live_mode_requires_https_for_dynamic_urls() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let body =
        json!({"title": "D", "type": "dynamic", "price": 1, "dynamic_url": "http://seller.example/gen"});
    assert_eq!(app.post("/products", &store.live, body.clone()).await.fields(), ["dynamic_url"]);
    assert_eq!(app.post("/products", &store.test, body).await.status, 201);
}

#[tokio::test]
async fn variants_have_their_own_title_price_and_serials() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let p = app
        .product(&k, json!({"title": "Game", "type": "serials", "price": 10,
            "variants": [{"title": "EU", "price": 9.99, "info": "E1,E2"}, {"title": "US", "price": "10.50", "info": "U1"}]}))
        .await;
    assert_eq!(p["stock"], 3);
    assert_eq!(p["variants"][0]["price"].to_string(), "9.99");
    assert_eq!(p["variants"][0]["stock"], 2);
    assert_eq!(p["variants"][1]["stock"], 1);
    let eu = p["variants"][0]["id"].as_str().unwrap().to_string();
    assert!(eu.starts_with("var_"));

    let id = p["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/products/{id}"),
            &k,
            json!({"variants": [{"id": eu, "title": "EU", "price": 8, "info": "E1,E2,E3"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["variants"].as_array().unwrap().len(), 1);
    assert_eq!(r.data()["variants"][0]["id"], eu.as_str());
    assert_eq!(r.data()["stock"], 3);

    let r = app
        .patch(
            &format!("/products/{id}"),
            &k,
            json!({"variants": [{"id": "var_unknown", "title": "X", "price": 1}]}),
        )
        .await;
    assert_eq!(r.fields(), ["variants[0].id"]);
    let r = app.patch(&format!("/products/{id}"), &k, json!({"variants": [{"title": "X"}]})).await;
    assert_eq!(r.fields(), ["variants[0].price"]);
}

#[tokio::test]
async fn pagination_walks_every_product_once() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let mut created = Vec::new();
    for n in 0..7 {
        created.push(
            app.product(&k, json!({"title": format!("P{n}"), "type": "service", "price": n})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let mut seen = Vec::new();
    for page in 1..=3 {
        let r = app.get(&format!("/products?per_page=3&page={page}"), &k).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["meta"], json!({"page": page, "per_page": 3, "total": 7}));
        seen.extend(ids(&r.body));
    }
    assert_eq!(seen, newest_first);

    let asc: Vec<String> = {
        let mut v = Vec::new();
        for page in 1..=3 {
            v.extend(ids(&app.get(&format!("/products?per_page=3&page={page}&order=asc"), &k).await.body));
        }
        v
    };
    assert_eq!(asc, created);

    // Past the end: an empty page, the same total.
    let r = app.get("/products?per_page=3&page=4", &k).await;
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["meta"]["total"], 7);
    let r = app.get("/products?page=99", &k).await;
    assert_eq!(r.body["data"], json!([]));

    // Default per_page is 25.
    assert_eq!(app.get("/products", &k).await.body["meta"]["per_page"], 25);

    for bad in ["per_page=0", "per_page=101", "per_page=abc", "page=0", "page=-1", "page=x"] {
        let r = app.get(&format!("/products?{bad}"), &k).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.fields(), [bad.split('=').next().unwrap()], "{bad}");
    }
}

#[tokio::test]
async fn filters_search_and_sorts() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let catalog = seed_catalog(&app, &k).await;
    let titles = |r: &Value| -> Vec<String> {
        r["data"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_string()).collect()
    };

    let r = app.get("/products?search=icons", &k).await;
    assert_eq!(titles(&r.body), ["Epsilon Icons", "Alpha Icons"]);
    assert_eq!(r.body["meta"]["total"], 2);

    let r = app.get("/products?type=digital_download", &k).await;
    assert_eq!(r.body["meta"]["total"], 2);
    assert_eq!(app.get("/products?type=file", &k).await.body["meta"]["total"], 2);
    assert_eq!(app.get("/products?type=serials", &k).await.body["meta"]["total"], 1);

    assert_eq!(app.get("/products?visible=false", &k).await.body["meta"]["total"], 2);
    assert_eq!(app.get("/products?visible=true", &k).await.body["meta"]["total"], 3);

    let r = app.get("/products?sort=price&order=asc", &k).await;
    assert_eq!(
        titles(&r.body),
        ["Delta Generator", "beta keys", "Alpha Icons", "Epsilon Icons", "Gamma Service"]
    );
    let r = app.get("/products?sort=price", &k).await;
    assert_eq!(titles(&r.body)[0], "Gamma Service", "desc is the default order");
    let r = app.get("/products?sort=title&order=asc&per_page=2&page=2", &k).await;
    assert_eq!(titles(&r.body), ["Delta Generator", "Epsilon Icons"]);
    assert_eq!(r.body["meta"], json!({"page": 2, "per_page": 2, "total": 5}));
    let r = app.get("/products?sort=total_sold&order=asc", &k).await;
    assert_eq!(r.body["meta"]["total"], 5);

    // Combined filters.
    let r = app.get("/products?search=icons&visible=true", &k).await;
    assert_eq!(titles(&r.body), ["Alpha Icons"]);

    // category_id filters on what products carry.
    let category = app.post("/categories", &k, json!({"name": "Keys"})).await;
    let cat = category.data()["id"].as_str().unwrap();
    let id = catalog[1]["id"].as_str().unwrap();
    assert_eq!(app.patch(&format!("/products/{id}"), &k, json!({"category_id": cat})).await.status, 200);
    let r = app.get(&format!("/products?category_id={cat}"), &k).await;
    assert_eq!(titles(&r.body), ["beta keys"]);

    let r = app.get("/products?sort=colour&order=sideways&visible=maybe&type=potion", &k).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["type", "visible", "sort", "order"]);
}

#[tokio::test]
async fn live_and_test_data_are_separate() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let p = app.product(&store.test, json!({"title": "Test only", "type": "service", "price": 1})).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/products/{id}"), &store.live).await.status, 404);
    assert_eq!(app.patch(&format!("/products/{id}"), &store.live, json!({"title": "x"})).await.status, 404);
    assert_eq!(app.delete(&format!("/products/{id}"), &store.live).await.status, 404);
    assert_eq!(app.get("/products", &store.live).await.body["meta"]["total"], 0);
    assert_eq!(app.get("/products", &store.test).await.body["meta"]["total"], 1);
    assert_eq!(app.get(&format!("/products/{id}"), &store.test).await.data()["title"], "Test only");
}

#[tokio::test]
async fn another_stores_product_answers_404() {
    let app = TestApp::spawn().await;
    let a = app.new_store().await;
    let b = app.new_store().await;
    let p = app.product(&a.live, json!({"title": "Mine", "type": "service", "price": 1})).await;
    let id = p["id"].as_str().unwrap();
    for r in [
        app.get(&format!("/products/{id}"), &b.live).await,
        app.patch(&format!("/products/{id}"), &b.live, json!({"title": "Stolen"})).await,
        app.delete(&format!("/products/{id}"), &b.live).await,
    ] {
        assert_eq!(r.status, 404);
        assert_eq!(r.code(), "not_found");
    }
    assert_eq!(app.get("/products", &b.live).await.body["meta"]["total"], 0);
    assert_eq!(app.get(&format!("/products/{id}"), &a.live).await.data()["title"], "Mine");
}

#[tokio::test]
async fn every_change_records_its_event_in_the_outbox() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let p = app.product(&store.test, json!({"title": "Evented", "type": "service", "price": 2})).await;
    let id = p["id"].as_str().unwrap();
    app.patch(&format!("/products/{id}"), &store.test, json!({"title": "Evented 2"})).await;
    app.delete(&format!("/products/{id}"), &store.test).await;
    // A refused change records nothing.
    app.post("/products", &store.test, json!({"title": "Bad"})).await;

    let events = app.db.recent_events(&store.tenant(Mode::Test), 10).await.unwrap();
    let types: Vec<_> = events.iter().rev().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["product.created", "product.updated", "product.deleted"]);
    for e in &events {
        assert!(e["id"].as_str().unwrap().starts_with("evt_"));
        assert!(e["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(e["data"]["id"], id);
    }
    assert_eq!(events[1]["data"]["title"], "Evented 2");
    assert!(app.db.recent_events(&store.tenant(Mode::Live), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_updates_are_all_applied_and_each_recorded() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let k = &store.test;
    let p = app.product(k, json!({"title": "Hot", "type": "serials", "price": 1, "info": ""})).await;
    let path = format!("/products/{}", p["id"].as_str().unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..10 {
        let (app, path, k) = (app.clone(), path.clone(), k.clone());
        tasks.spawn(async move { app.patch(&path, &k, json!({"title": format!("Hot {n}")})).await.status });
    }
    let statuses = tasks.join_all().await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let events = app.db.recent_events(&store.tenant(Mode::Test), 100).await.unwrap();
    assert_eq!(events.iter().filter(|e| e["type"] == "product.updated").count(), 10);
}

#[tokio::test]
async fn the_default_first_page_costs_one_query_whatever_the_store_size() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    for n in 0..30 {
        app.product(&k, json!({"title": format!("P{n}"), "type": "service", "price": 1})).await;
    }
    let r = app.get("/products?per_page=10", &k).await;
    // One conditional write for the rate limiter (the key comes from the process's memory,
    // trusted under the key version the write returns), one Query for the page (and its
    // counter), nothing else.
    assert_eq!(r.cost("calls"), 2.0, "{:?}", r.header("x-sellvy-cost"));
    assert_eq!(r.cost("items_read"), 1.0 + 10.0);
    assert_eq!(r.cost("wcu"), 1.0, "the limiter's one write");
    assert_eq!(r.body["meta"]["total"], 30);
    let r = app.get("/products/prod_00000000000000000000000000", &k).await;
    assert_eq!(r.cost("calls"), 2.0);
}
