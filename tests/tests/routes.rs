//! Every route API Gateway sends to a function (template.yaml) is served by the gateway's
//! routers, the very ones the Lambdas run: none answers "No route" (404) or 405.

use reqwest::Method;
use sellvy_tests::spawn_app;

/// (method, path) of every HttpApi event in template.yaml, `$default` aside.
fn template_routes() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let mut routes = Vec::new();
    let mut path = None;
    for line in text.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("Path: ") {
            path = Some(p.to_string());
        } else if let (Some(m), Some(p)) = (line.strip_prefix("Method: "), path.take())
            && p.starts_with("/v1/")
        {
            routes.push((m.to_string(), p));
        }
    }
    routes
}

#[tokio::test]
async fn every_templated_route_is_served_by_the_routers() {
    let routes = template_routes();
    assert!(routes.len() >= 19, "{routes:?}");
    let app = spawn_app().await;
    let k = app.new_store().await.test;
    for (method, path) in routes {
        let concrete = path.replace("{id}", "x_00000000000000000000000000");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (method != Method::GET && method != Method::DELETE).then(|| serde_json::json!({}));
        let r = app.call(method.clone(), concrete.trim_start_matches("/v1"), Some(&k), body.as_ref()).await;
        let message = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(!message.starts_with("No route"), "{method} {path} is not routed");
        assert_ne!(r.status, 405, "{method} {path}");
        assert!(r.status.as_u16() < 500, "{method} {path}: {}", r.body);
    }
}
