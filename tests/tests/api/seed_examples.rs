//! The seed's own JavaScript (fetch) and Python (requests) product examples, run unchanged but
//! for the base URL and key, against the local gateway.

use sellvy_tests::TestApp;
use std::path::PathBuf;
use std::process::Command;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The project's Python (the virtualenv the local-stack scripts install, which has requests).
fn python() -> PathBuf {
    std::env::var_os("SELLVY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".local/venv/bin/python"))
}

/// Runs one example with the gateway's base URL and a key; returns its stdout.
async fn run(program: PathBuf, script: &str, base: &str, key: &str) -> String {
    let path = repo_root().join("tests/seed_examples").join(script);
    let (base, key) = (base.to_string(), key.to_string());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&program)
            .arg(&path)
            .env("SELLVY_API_BASE", base)
            .env("SELLVY_API_KEY", key)
            .output()
            .unwrap_or_else(|e| panic!("run {program:?} (the test command installs it): {e}"))
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn check_examples(program: PathBuf, ext: &str) {
    let app = TestApp::spawn().await;
    let key = app.new_store().await.live;
    assert_eq!(
        run(program.clone(), &format!("list_products.{ext}"), &app.base, &key).await,
        "Found 0 products"
    );

    let created = run(program.clone(), &format!("create_product.{ext}"), &app.base, &key).await;
    let id = created.strip_prefix("Created product: ").unwrap_or_else(|| panic!("{created}"));
    let product = app.get(&format!("/products/{id}"), &key).await;
    assert_eq!(product.status, 200);
    assert_eq!(product.data()["title"], "Premium Icon Pack");
    assert_eq!(product.data()["price"].to_string(), "29.99");
    assert_eq!(product.data()["type"], "digital_download");

    assert_eq!(run(program, &format!("list_products.{ext}"), &app.base, &key).await, "Found 1 products");
}

#[tokio::test]
async fn the_seeds_javascript_examples_pass() {
    check_examples(PathBuf::from("node"), "mjs").await;
}

#[tokio::test]
async fn the_seeds_python_examples_pass() {
    check_examples(python(), "py").await;
}
