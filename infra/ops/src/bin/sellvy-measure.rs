//! Measures what requests cost in DynamoDB work, as the store grows:
//! `cargo run --release -p sellvy-ops --bin sellvy-measure -- --sizes 100,10000`.
//!
//! Starts the gateway in-process against the local stack (`make stack` first), fills a fresh
//! store to each size, and reports, from the gateway's `X-Sellvy-Cost` header, the DynamoDB
//! calls, items read and capacity of each request, with the median latency of a few runs.
//! Latencies are only compared within one run (this machine is noisy).

use clap::Parser;
use sellvy_app::{AppState, Config};
use sellvy_models::apikey::Plan;
use sellvy_models::{Event, EventType, Mode, Product, RateLimit, Tenant};
use serde_json::json;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Store sizes (number of products) to measure at.
    #[arg(long, value_delimiter = ',', default_value = "100,10000")]
    sizes: Vec<usize>,
    /// Timed repetitions per request (the median is reported).
    #[arg(long, default_value_t = 15)]
    runs: usize,
}

struct Sample {
    cost: String,
    median_ms: f64,
}

async fn sample(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    key: &str,
    body: Option<serde_json::Value>,
    runs: usize,
) -> Sample {
    let mut times = Vec::new();
    let mut cost = String::new();
    for _ in 0..runs {
        let mut req = http.request(method.clone(), url).bearer_auth(key);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let t = Instant::now();
        let resp = req.send().await.expect("gateway answers");
        let status = resp.status();
        cost = resp.headers().get("x-sellvy-cost").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let _ = resp.bytes().await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(status.is_success(), "{method} {url}: {status}");
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Sample { cost, median_ms: times[times.len() / 2] }
}

/// Fills the store to `target` products directly through the store crate (the same
/// transaction the API runs), 32 at a time.
async fn fill(state: &AppState, tenant: &Tenant, from: usize, target: usize) {
    let mut n = from;
    while n < target {
        let batch = (target - n).min(32);
        let mut tasks = tokio::task::JoinSet::new();
        for i in n..n + batch {
            let (db, tenant) = (state.db.clone(), tenant.clone());
            tasks.spawn(async move {
                let (p, pools) = Product::create(
                    json!({"title": format!("Product {i}"), "type": "serials", "price": (i % 500) as f64 + 0.99,
                           "description": "Seeded for measurement", "info": "K1,K2,K3"}),
                    Mode::Test,
                )
                .expect("valid product");
                let e = Event::new(EventType::ProductCreated, &p.to_object()).expect("a product is an object");
                db.create_product(&tenant, &p, &e).await.expect("create product");
                db.write_pools(&tenant, &p, &pools).await.expect("fill the pool");
            });
        }
        tasks.join_all().await;
        n += batch;
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let state =
        AppState::new(sellvy_store::Db::from_env().await, Config { cost_headers: true, ..Config::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(sellvy_ops::serve(listener, state.clone()));
    let http = reqwest::Client::new();

    let store = sellvy_ops::create_store(
        &state.db,
        &sellvy_ops::NewStore {
            custom_limit: RateLimit::custom(1_000_000, 1_000_000),
            ..sellvy_ops::NewStore::new("Measure", Plan::Enterprise)
        },
    )
    .await
    .unwrap();
    let key = store["keys"]["test"]["key"].as_str().unwrap().to_string();
    let store_id = sellvy_models::id::StoreId::parse(store["store_id"].as_str().unwrap()).unwrap();
    let tenant = Tenant { store_id, mode: Mode::Test };
    // Warm the key's last_used_at so it does not add a write to the first sample.
    let _ = http.get(format!("{base}/products")).bearer_auth(&key).send().await;

    println!("| products | request | DynamoDB work | median ms |");
    println!("|---:|---|---|---:|");
    let mut filled = 0;
    let mut page1 = Vec::new();
    for &size in &args.sizes {
        let t = Instant::now();
        fill(&state, &tenant, filled, size).await;
        filled = size;
        eprintln!("filled to {size} products in {:.1} s", t.elapsed().as_secs_f64());
        let one = state.db.product_page(&tenant, 0, 1, sellvy_models::SortOrder::Desc).await.unwrap();
        let id = one.items[0].id.clone();
        let requests: Vec<(&str, reqwest::Method, String, Option<serde_json::Value>)> = vec![
            ("GET /v1/products?page=1", reqwest::Method::GET, format!("{base}/products?page=1"), None),
            (
                "GET /v1/products?per_page=100",
                reqwest::Method::GET,
                format!("{base}/products?per_page=100"),
                None,
            ),
            ("GET /v1/products?page=4", reqwest::Method::GET, format!("{base}/products?page=4"), None),
            (
                "GET /v1/products?sort=price",
                reqwest::Method::GET,
                format!("{base}/products?sort=price"),
                None,
            ),
            ("GET /v1/products/:id", reqwest::Method::GET, format!("{base}/products/{id}"), None),
            (
                "PATCH /v1/products/:id",
                reqwest::Method::PATCH,
                format!("{base}/products/{id}"),
                Some(json!({"description": "patched"})),
            ),
        ];
        for (name, method, url, body) in requests {
            let runs = if name.contains("sort=price") { args.runs.min(5) } else { args.runs };
            let s = sample(&http, method, &url, &key, body, runs).await;
            println!("| {size} | `{name}` | {} | {:.1} |", s.cost, s.median_ms);
            if name == "GET /v1/products?page=1" {
                page1.push(s.median_ms);
            }
        }
        let s = sample(
            &http,
            reqwest::Method::POST,
            &format!("{base}/products"),
            &key,
            Some(json!({"title": "Measured", "type": "service", "price": 1})),
            1,
        )
        .await;
        filled += 1;
        println!("| {size} | `POST /v1/products` | {} | {:.1} |", s.cost, s.median_ms);
    }
    if page1.len() >= 2 {
        println!(
            "\npage-1 latency ratio, largest store / smallest: {:.2}",
            page1[page1.len() - 1] / page1[0]
        );
    }
}
