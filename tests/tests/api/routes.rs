//! The contract cannot drift: the operations of the published OpenAPI document, the routes
//! API Gateway sends to the functions (template.yaml) and the routes the routers serve are the
//! same set. A route added to a router without documentation, or to the template without a
//! handler, fails here.

use reqwest::Method;
use sellvy_tests::TestApp;
use std::collections::BTreeSet;

/// (METHOD, path) of every HttpApi event in template.yaml, `$default` aside.
fn template_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let mut routes = BTreeSet::new();
    let mut path = None;
    for line in text.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("Path: ") {
            path = Some(p.to_string());
        } else if let (Some(m), Some(p)) = (line.strip_prefix("Method: "), path.take())
            && p.starts_with("/v1/")
            && m != "OPTIONS"
        {
            routes.insert((m.to_uppercase(), p));
        }
    }
    routes
}

/// (METHOD, path) of every operation in the OpenAPI document.
fn documented_routes() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(sellvy_reference::document()).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

#[test]
fn the_template_routes_exactly_the_documented_operations() {
    let documented = documented_routes();
    let templated = template_routes();
    assert!(documented.len() >= 20, "{documented:?}");
    let undocumented: Vec<_> = templated.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&templated).collect();
    assert!(undocumented.is_empty(), "in template.yaml but not in the OpenAPI document: {undocumented:?}");
    assert!(
        unrouted.is_empty(),
        "documented but API Gateway does not route them (template.yaml): {unrouted:?}"
    );
}

#[tokio::test]
async fn every_documented_operation_is_served_by_the_routers() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    for (method, path) in documented_routes() {
        let concrete = path.replace("{id}", "x_00000000000000000000000000");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body =
            matches!(method, Method::POST | Method::PATCH | Method::PUT).then(|| serde_json::json!({}));
        let r = app.call(method.clone(), concrete.trim_start_matches("/v1"), Some(&k), body.as_ref()).await;
        let message = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(!message.starts_with("No route"), "{method} {path} is not routed");
        assert_ne!(r.status, 405, "{method} {path}");
        assert!(r.status.as_u16() < 500, "{method} {path}: {}", r.body);
    }
}

#[tokio::test]
async fn the_document_is_served_without_a_key() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"], "3.1.0");
    assert_eq!(r.body, serde_json::to_value(sellvy_reference::document()).unwrap());
}

/// Two Rust types that share a name share one schema in the document, and one of them is then
/// described wrongly (a webhook delivery's status once listed the goods' states). Every status
/// enum says exactly the states its object takes.
#[test]
fn each_status_in_the_document_lists_its_own_states() {
    let doc = serde_json::to_value(sellvy_reference::document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let states = |object: &str| {
        let status = &schemas[object]["properties"]["status"];
        let name = status["$ref"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        serde_json::from_value::<Vec<String>>(schemas[name.as_str()]["enum"].clone()).unwrap()
    };
    assert_eq!(states("DeliveryObject"), ["scheduled", "sending", "delivered", "failed"]);
    assert_eq!(states("OrderDelivery"), ["pending", "sending", "delivered", "failed"]);
}
