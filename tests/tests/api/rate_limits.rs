//! Per-plan rate limits: exactly `burst` requests pass at once, the rest get 429 with a
//! Retry-After that is enough, and every response says where the caller stands.

use reqwest::Method;
use sellvy_tests::{Clock, Plan, RateLimit, TestApp};
use std::time::Duration;

/// A stopped clock: a burst is "at once" whatever the machine's speed.
fn frozen() -> Clock {
    Clock::manual(1_800_000_000_000_000)
}

/// Sends `n` concurrent GETs; returns (accepted, refused) replies.
async fn burst(app: &TestApp, key: &str, n: usize) -> (Vec<sellvy_tests::Reply>, Vec<sellvy_tests::Reply>) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (app, key) = (app.clone(), key.to_string());
        tasks.spawn(async move { app.get("/products", &key).await });
    }
    let replies = tasks.join_all().await;
    let (ok, refused): (Vec<_>, Vec<_>) = replies.into_iter().partition(|r| r.status == 200);
    assert!(refused.iter().all(|r| r.status == 429), "only 200 and 429 expected");
    (ok, refused)
}

#[tokio::test]
async fn each_plan_lets_exactly_its_burst_through_at_once() {
    let app = TestApp::builder().clock(frozen()).spawn().await;
    for (plan, custom, limit) in [
        (Plan::Free, None, RateLimit::FREE),
        (Plan::Pro, None, RateLimit::PRO),
        (Plan::Business, None, RateLimit::BUSINESS),
        (Plan::Enterprise, RateLimit::custom(120, 7), RateLimit::custom(120, 7).unwrap()),
    ] {
        let k = app.new_store_on(plan, custom).await.test;
        let (ok, refused) = burst(&app, &k, limit.burst as usize + 15).await;
        assert_eq!(ok.len(), limit.burst as usize, "{plan:?}");
        assert_eq!(refused.len(), 15, "{plan:?}");
        let r = &refused[0];
        assert_eq!(r.body["error"]["code"], "rate_limited");
        assert_eq!(r.body["error"]["status"], 429);
        let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
        let interval_secs = (60.0 / limit.per_minute as f64).ceil() as u64;
        assert_eq!(retry, interval_secs.max(1), "{plan:?}: one interval away");
        for reply in ok.iter().chain(&refused) {
            assert_eq!(reply.header("x-ratelimit-limit").unwrap(), limit.per_minute.to_string());
            assert!(reply.header("x-ratelimit-remaining").is_some());
            assert!(reply.header("x-ratelimit-reset").is_some());
        }
        let remaining: Vec<u32> =
            ok.iter().map(|r| r.header("x-ratelimit-remaining").unwrap().parse().unwrap()).collect();
        assert_eq!(remaining.iter().min(), Some(&0));
        assert_eq!(remaining.iter().max(), Some(&(limit.burst - 1)));
    }
}

#[tokio::test]
async fn waiting_retry_after_is_enough_and_a_minute_refills_the_burst() {
    let clock = frozen();
    let app = TestApp::builder().clock(clock.clone()).spawn().await;
    let k = app.new_store_on(Plan::Free, None).await.test;
    let (ok, refused) = burst(&app, &k, 12).await;
    assert_eq!((ok.len(), refused.len()), (10, 2));
    let retry: i64 = refused[0].header("retry-after").unwrap().parse().unwrap();
    clock.advance(retry * 1_000_000 - 1);
    assert_eq!(app.get("/products", &k).await.status, 429, "not a microsecond early");
    clock.advance(1);
    assert_eq!(app.get("/products", &k).await.status, 200);
    clock.advance(60_000_000);
    let (ok, _) = burst(&app, &k, 12).await;
    assert_eq!(ok.len(), 10);
}

#[tokio::test]
async fn retry_after_works_on_the_real_clock() {
    let app = TestApp::spawn().await;
    let k = app.new_store_on(Plan::Free, None).await.test;
    let mut refused = None;
    for _ in 0..15 {
        let r = app.get("/products", &k).await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the free plan refuses a quick 15");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(app.get("/products", &k).await.status, 200);
}

#[tokio::test]
async fn modes_and_stores_have_their_own_buckets() {
    let app = TestApp::builder().clock(frozen()).spawn().await;
    let a = app.new_store_on(Plan::Free, None).await;
    let b = app.new_store_on(Plan::Free, None).await;
    assert_eq!(burst(&app, &a.test, 12).await.0.len(), 10);
    assert_eq!(burst(&app, &a.live, 12).await.0.len(), 10);
    assert_eq!(burst(&app, &b.test, 12).await.0.len(), 10);
}

#[tokio::test]
async fn every_route_counts_writes_included_and_401s_carry_no_limit_headers() {
    let app = TestApp::builder().clock(frozen()).spawn().await;
    let k = app.new_store_on(Plan::Free, None).await.test;
    for n in 0..10 {
        let r = app.post("/categories", &k, serde_json::json!({"name": format!("C{n}")})).await;
        assert_eq!(r.status, 201);
    }
    assert_eq!(app.get("/coupons", &k).await.status, 429);
    let anonymous = app.call(Method::GET, "/products", None, None).await;
    assert_eq!(anonymous.status, 401);
    assert!(anonymous.header("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn a_plan_change_applies_at_once() {
    let app = TestApp::builder().clock(frozen()).spawn().await;
    let store = app.new_store_on(Plan::Free, None).await;
    assert_eq!(app.get("/products", &store.test).await.header("x-ratelimit-limit"), Some("60"));
    let done = sellvy_ops::set_plan(&app.db, &store.store_id, Plan::Business, None).await.unwrap();
    assert_eq!(done["keys_updated"], 2);
    assert_eq!(app.get("/products", &store.test).await.header("x-ratelimit-limit"), Some("1000"));
    assert!(sellvy_ops::set_plan(&app.db, &store.store_id, Plan::Enterprise, None).await.is_err());
    assert!(sellvy_ops::set_plan(&app.db, "store_nope", Plan::Pro, None).await.is_err());
}

/// A read on a key this process remembers starts while the limiter's write for it is on its
/// way. When another process has spent the store's burst meanwhile, the answer is the 429,
/// never the data (the read itself is what the refusal cost).
#[tokio::test]
async fn a_read_started_before_its_limit_is_known_answers_429_when_the_burst_is_spent() {
    let app = TestApp::builder().clock(frozen()).spawn().await;
    let other_process = TestApp::builder().clock(frozen()).spawn().await;
    let store = app.new_store_on(Plan::Enterprise, RateLimit::custom(60, 3)).await;
    let product = app
        .product(&store.test, serde_json::json!({"title": "Secret stock", "type": "service", "price": 1}))
        .await;
    let path = format!("/products/{}", product["id"].as_str().unwrap());
    // This process remembers the key, and that two of the three were spent.
    let warm = app.get(&path, &store.test).await;
    assert_eq!((warm.status.as_u16(), warm.header("x-ratelimit-remaining")), (200, Some("1")));
    // Another process spends the last one.
    assert_eq!(other_process.get(&path, &store.test).await.status, 200);
    assert_eq!(other_process.get(&path, &store.test).await.status, 429);

    let refused = app.get(&path, &store.test).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["error"]["code"], "rate_limited", "{}", refused.body);
    assert!(!refused.body.to_string().contains("Secret stock"), "no data in a refusal: {}", refused.body);
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert!(refused.header("retry-after").is_some());
    // The limiter's write and the product's read, made side by side.
    assert_eq!(refused.cost("calls"), 2.0, "{:?}", refused.header("x-sellvy-cost"));
    // A write waits for the limiter: refused without touching the catalog.
    let write = app.patch(&path, &store.test, serde_json::json!({"title": "Changed"})).await;
    assert_eq!((write.status.as_u16(), write.cost("calls")), (429, 1.0));
}
