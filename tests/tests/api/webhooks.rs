//! Webhooks end to end: endpoints, signed deliveries checked by the seed's own verification
//! functions, the retry ladder (scaled), hops past the queue's delay cap, failed deliveries and
//! retries by hand, duplicates, and the Lambda adapter's partial batch responses.

use sellvy_tests::{Receiver, TestApp, WebhookSettings, eventually};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

async fn endpoint(app: &TestApp, key: &str, url: &str, events: Value) -> Value {
    let r = app.post("/webhook_endpoints", key, json!({"url": url, "events": events})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.data().clone()
}

async fn deliveries(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    app.get(&format!("/webhook_deliveries{query}"), key).await.data().as_array().cloned().unwrap_or_default()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Runs the seed's verification function (`verify_webhook.py` / `.mjs`) on a saved body.
fn seed_verifies(program: &str, script: &str, body: &[u8], signature: &str, secret: &str) -> bool {
    let file =
        std::env::temp_dir().join(format!("sellvy-webhook-{}.json", sellvy_models::id::random_base62(10)));
    std::fs::write(&file, body).unwrap();
    let program = match program {
        "python" => std::env::var("SELLVY_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo_root().join(".local/venv/bin/python")),
        other => PathBuf::from(other),
    };
    let out = std::process::Command::new(program)
        .arg(repo_root().join("tests/seed_examples").join(script))
        .arg(&file)
        .env("SIGNATURE", signature)
        .env("SECRET", secret)
        .output()
        .expect("run the seed's verification code");
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim() == "valid"
}

#[tokio::test]
async fn endpoints_are_managed_with_full_keys_and_show_their_secret_only_twice() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let created =
        endpoint(&app, &store.test, "http://127.0.0.1:9/hook", json!(["order.created", "order.completed"]))
            .await;
    let id = created["id"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(id.starts_with("we_") && secret.starts_with("whsec_"));
    assert_eq!(created["enabled"], true);

    let listed = app.get("/webhook_endpoints", &store.test).await;
    assert_eq!(listed.body["meta"]["total"], 1);
    assert!(listed.data()[0].get("secret").is_none(), "no secret in lists");
    let path = format!("/webhook_endpoints/{id}");
    assert!(app.get(&path, &store.test).await.data().get("secret").is_none());
    let patched =
        app.patch(&path, &store.test, json!({"events": ["*"], "enabled": false, "description": "CRM"})).await;
    assert_eq!(
        (patched.data()["events"].clone(), patched.data()["enabled"].clone()),
        (json!(["*"]), json!(false))
    );
    let rotated = app.post(&format!("{path}/rotate_secret"), &store.test, json!({})).await;
    let new_secret = rotated.data()["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    // Other keys and modes.
    let write = app.key_with(&store.test, "write").await;
    assert_eq!(app.get("/webhook_endpoints", &write).await.status, 403);
    assert_eq!(app.get(&path, &store.live).await.status, 404, "test endpoints are not live ones");
    let other = app.new_store().await;
    assert_eq!(app.get(&path, &other.test).await.status, 404);

    // Validation and the SSRF guard at creation (loopback is allowed here by the local switch only).
    let bad = app
        .post(
            "/webhook_endpoints",
            &store.test,
            json!({"url": "http://127.0.0.1:9", "events": ["order.made"]}),
        )
        .await;
    assert_eq!(bad.fields(), ["events[0]"]);
    let plain =
        app.post("/webhook_endpoints", &store.live, json!({"url": "http://hooks.example.com/x"})).await;
    assert_eq!(plain.fields(), ["url"], "live endpoints are https");
    for internal in ["https://10.0.0.7/hook", "https://169.254.169.254/latest", "https://192.168.1.20/"] {
        let r = app.post("/webhook_endpoints", &store.live, json!({"url": internal})).await;
        assert_eq!(r.fields(), ["url"], "{internal}: {}", r.body);
        assert!(r.body["error"]["message"].as_str().unwrap().contains("not a public address"), "{}", r.body);
    }
    assert_eq!(app.delete(&path, &store.test).await.status, 204);
    assert_eq!(app.get(&path, &store.test).await.status, 404);
}

#[tokio::test]
async fn deliveries_are_signed_as_the_seeds_verification_code_expects() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let receiver = Receiver::start().await;
    let only_orders = Receiver::start().await;
    let e = endpoint(&app, &store.test, &receiver.url, json!(["*"])).await;
    endpoint(&app, &store.test, &only_orders.url, json!(["order.created"])).await;
    let secret = e["secret"].as_str().unwrap().to_string();

    let product = app.product(&store.test, json!({"title": "Hooked", "type": "service", "price": 5})).await;
    app.product(&store.live, json!({"title": "Live one", "type": "service", "price": 5})).await;
    // The fan-out happened before the request answered: the log holds every delivery there
    // will be. One, to the endpoint subscribed to everything; once it is delivered, nothing more
    // goes out.
    assert!(
        eventually(Duration::from_secs(10), || async {
            deliveries(&app, &store.test, "?status=delivered").await.len() == 1
        })
        .await,
        "delivered"
    );
    assert_eq!(deliveries(&app, &store.test, "").await.len(), 1, "one event, one delivery");
    let got = receiver.received();
    assert_eq!(got.len(), 1, "one event, one delivery; the live event stays with live endpoints");
    assert!(only_orders.received().is_empty(), "not subscribed to product.created");
    let d = &got[0];
    let body = d.json();
    assert_eq!(body["type"], "product.created");
    assert_eq!(body["data"]["id"], product["id"]);
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body.as_object().unwrap().len(), 4, "{{id, type, created_at, data}}");
    assert_eq!(d.header("x-sellvy-event"), "product.created");
    assert!(d.header("x-sellvy-delivery").starts_with("whd_"));
    assert!(d.header("x-sellvy-timestamp").parse::<i64>().is_ok());
    assert!(d.header("user-agent").starts_with("Sellvy/"));
    let signature = d.header("x-sellvy-signature").to_string();
    assert_eq!(signature, signature.to_lowercase());

    // The seed's own functions, unchanged, accept it, and reject a tampered body.
    let mut tampered = d.body.clone();
    let last = tampered.len() - 2;
    tampered[last] = b' ';
    for (program, script) in [("python", "verify_webhook.py"), ("node", "verify_webhook.mjs")] {
        assert!(
            seed_verifies(program, script, &d.body, &signature, &secret),
            "{script} accepts the delivery"
        );
        assert!(
            !seed_verifies(program, script, &tampered, &signature, &secret),
            "{script} rejects a tampered body"
        );
    }

    // The log: one delivered delivery with its attempt.
    let log = deliveries(&app, &store.test, "?status=delivered").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["id"], d.header("x-sellvy-delivery"));
    assert_eq!(log[0]["attempts"][0]["status_code"], 200);
    assert_eq!(log[0]["attempts"][0]["response_body"], "ok");
    assert!(log[0].get("payload").is_none(), "lists leave the payload out");
    let one = app.get(&format!("/webhook_deliveries/{}", log[0]["id"].as_str().unwrap()), &store.test).await;
    assert_eq!(one.data()["payload"], body);
    assert_eq!(deliveries(&app, &store.test, "?type=order.created").await.len(), 0);
    assert_eq!(app.get("/webhook_deliveries?status=lost", &store.test).await.fields(), ["status"]);
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_on_attempt_three_after_the_ladders_waits() {
    // The ladder scaled from minutes to seconds (0, 1, 2, 3, 4 s) through a queue whose delays
    // are capped at 1 s, so the 2-second wait hops through the queue twice.
    let app = TestApp::builder()
        .webhooks(WebhookSettings {
            ladder: sellvy_models::webhook::Ladder::seconds(&[0, 1, 2, 3, 4]),
            max_delay_secs: 1,
            ..WebhookSettings::default()
        })
        .spawn()
        .await;
    let store = app.new_store().await;
    let receiver = Receiver::start().await;
    receiver.then(500, "down").then(503, "still down");
    endpoint(&app, &store.test, &receiver.url, json!(["product.created"])).await;
    let started = Instant::now();
    app.product(&store.test, json!({"title": "Retry me", "type": "service", "price": 1})).await;
    assert!(eventually(Duration::from_secs(15), || async { receiver.received().len() >= 3 }).await);
    let got = receiver.received();
    let first = got[0].at.duration_since(started).as_secs_f64();
    let wait1 = got[1].at.duration_since(got[0].at).as_secs_f64();
    let wait2 = got[2].at.duration_since(got[1].at).as_secs_f64();
    println!(
        "ladder (scaled 0/1/2 s, queue cap 1 s): attempt 1 after {first:.3} s, then {wait1:.3} s, then {wait2:.3} s"
    );
    assert!(first < 1.0, "attempt 1 goes out at once");
    assert!((1.0..2.5).contains(&wait1), "attempt 2 one (scaled) minute after the first failure: {wait1}");
    assert!((2.0..3.5).contains(&wait2), "attempt 3 five (scaled) minutes after: {wait2}");
    assert_eq!(
        got[0].header("x-sellvy-delivery"),
        got[2].header("x-sellvy-delivery"),
        "one delivery, three attempts"
    );
    // Delivered is final: the log says so, with no next attempt.
    let delivered = eventually(Duration::from_secs(5), || async {
        deliveries(&app, &store.test, "").await[0]["status"] == "delivered"
    })
    .await;
    assert!(delivered, "the third attempt is recorded as delivered");
    let log = deliveries(&app, &store.test, "").await;
    assert!(log[0]["next_attempt_at"].is_null(), "no more attempts: {}", log[0]);
    assert_eq!(receiver.received().len(), 3);
    let codes: Vec<_> =
        log[0]["attempts"].as_array().unwrap().iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(codes, [json!(500), json!(503), json!(200)]);
    assert_eq!(log[0]["attempts"][0]["error_kind"], "http_status");
    assert_eq!(log[0]["attempts"][1]["response_body"], "still down");
    assert_eq!(log[0]["status"], "delivered");
}

#[tokio::test]
async fn five_failures_fail_a_delivery_and_retries_by_hand_deliver_it() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let receiver = Receiver::start().await;
    receiver.always(500, "nope", Duration::ZERO);
    let e = endpoint(&app, &store.test, &receiver.url, json!(["product.created", "product.updated"])).await;
    let since = sellvy_models::time::Timestamp::now();
    let p = app.product(&store.test, json!({"title": "Doomed", "type": "service", "price": 1})).await;
    app.patch(&format!("/products/{}", p["id"].as_str().unwrap()), &store.test, json!({"price": 2})).await;
    let failed = eventually(Duration::from_secs(20), || async {
        deliveries(&app, &store.test, "?status=failed").await.len() == 2
    })
    .await;
    assert!(failed, "both deliveries fail after the ladder");
    // Failed is final: 5 attempts each, no next attempt, and the receiver saw exactly those.
    let log = deliveries(&app, &store.test, "?status=failed").await;
    assert!(log.iter().all(|d| d["attempts"].as_array().unwrap().len() == 5));
    assert!(log.iter().all(|d| d["next_attempt_at"].is_null()));
    assert_eq!(receiver.received().len(), 10, "exactly 5 attempts each");

    // By hand: one at once (the answer has the attempt), then all the endpoint's failed ones.
    receiver.always(200, "fine", Duration::ZERO);
    let one = log[0]["id"].as_str().unwrap();
    let r = app.post(&format!("/webhook_deliveries/{one}/retry"), &store.test, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], "delivered");
    assert_eq!(r.data()["attempts"][5]["manual"], true);
    assert_eq!(receiver.received().len(), 11);
    let all = app
        .post(
            &format!("/webhook_endpoints/{}/retry_failed", e["id"].as_str().unwrap()),
            &store.test,
            json!({"since": since}),
        )
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.data()["queued"], 1, "the other failed one");
    assert!(
        eventually(Duration::from_secs(10), || async {
            deliveries(&app, &store.test, "?status=delivered").await.len() == 2
        })
        .await
    );
    assert_eq!(receiver.received().len(), 12);
    let bad = app
        .post(
            &format!("/webhook_endpoints/{}/retry_failed", e["id"].as_str().unwrap()),
            &store.test,
            json!({}),
        )
        .await;
    assert_eq!(bad.fields(), ["since"]);
}

#[tokio::test]
async fn a_duplicate_queue_message_never_makes_a_second_attempt() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let receiver = Receiver::start().await;
    receiver.always(200, "ok", Duration::from_millis(300));
    endpoint(&app, &store.test, &receiver.url, json!(["*"])).await;
    // A delivery written by hand, and its first attempt's message handled three times at once
    // (SQS delivering it more than once).
    let t = store.tenant(sellvy_models::Mode::Test);
    let endpoints = app.db.endpoints(&t).await.unwrap();
    let event =
        sellvy_models::Event::new(sellvy_models::EventType::OrderCreated, &json!({"id": "ord_x"})).unwrap();
    let now = sellvy_models::time::Timestamp::now();
    let d = sellvy_models::webhook::WebhookDelivery::new(&event, &endpoints[0].id, now);
    assert!(app.db.put_new_delivery(&t, &d, now).await.unwrap());
    assert!(!app.db.put_new_delivery(&t, &d, now).await.unwrap(), "a repeated fan-out finds it");
    let msg = sellvy_webhooks::AttemptMessage::new(&t, &d.id, 1, now);
    let (a, b, c) = tokio::join!(
        app.webhooks.handle(&msg, now),
        app.webhooks.handle(&msg, now),
        app.webhooks.handle(&msg, now)
    );
    let outcomes = [a.unwrap(), b.unwrap(), c.unwrap()];
    let attempted = outcomes.iter().filter(|h| matches!(h, sellvy_webhooks::Handled::Attempted(_))).count();
    assert_eq!(attempted, 1, "{outcomes:?}");
    // And once more after it was delivered.
    assert_eq!(app.webhooks.handle(&msg, now).await.unwrap(), sellvy_webhooks::Handled::Skipped);
    assert_eq!(receiver.received().len(), 1);
    // A retry by hand queued once but received three times makes one attempt too.
    let by_hand = sellvy_webhooks::AttemptMessage::by_hand(&t, &d.id, 1, now);
    let (a, b, c) = tokio::join!(
        app.webhooks.handle(&by_hand, now),
        app.webhooks.handle(&by_hand, now),
        app.webhooks.handle(&by_hand, now)
    );
    let outcomes = [a.unwrap(), b.unwrap(), c.unwrap()];
    let attempted = outcomes.iter().filter(|h| matches!(h, sellvy_webhooks::Handled::Attempted(_))).count();
    assert_eq!(attempted, 1, "{outcomes:?}");
    assert_eq!(app.webhooks.handle(&by_hand, now).await.unwrap(), sellvy_webhooks::Handled::Skipped);
    assert_eq!(receiver.received().len(), 2);
    let stored = app.db.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(stored.attempts.len(), 2);
    assert!(stored.attempts[1].manual);
}

#[tokio::test]
async fn the_lambda_adapter_reports_only_failed_messages() {
    // An SQS event as Lambda hands it over (fixture), to a dispatcher with no queue: the
    // readable message fails (it cannot be handled) and is reported; the unreadable one is
    // dropped (never retried), as is the message of a delivery that does not exist... once a
    // queue exists.
    let fixture = std::fs::read_to_string(repo_root().join("tests/fixtures/sqs_event.json")).unwrap();
    let event: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_str(&fixture).unwrap();
    let app = TestApp::spawn().await;
    let mut no_queue = app.webhooks.clone();
    no_queue.queue = None;
    let response = sellvy_webhook_dispatcher::handle_batch(&no_queue, event.clone()).await;
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, ["msg-due"], "only the message that could not be handled");
    let fine = sellvy_webhook_dispatcher::handle_batch(&app.webhooks, event).await;
    assert!(fine.batch_item_failures.is_empty(), "an unknown delivery is skipped, not retried");
    let json = serde_json::to_value(&fine).unwrap();
    assert_eq!(json, json!({"batchItemFailures": []}));
}

#[tokio::test]
async fn a_task_that_panics_reports_its_message_for_another_delivery() {
    let fixture = std::fs::read_to_string(repo_root().join("tests/fixtures/sqs_event.json")).unwrap();
    let event: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_str(&fixture).unwrap();
    let ids: Vec<String> = event.records.iter().map(|r| r.message_id.clone().unwrap()).collect();
    let doomed = event.records[0].body.clone().unwrap();
    let response = sellvy_webhook_dispatcher::handle_batch_with(event, move |body| {
        let doomed = doomed.clone();
        async move {
            if body == doomed {
                panic!("a bug in the handling of one message");
            }
            Ok(sellvy_webhooks::Handled::Skipped)
        }
    })
    .await;
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, [ids[0].clone()], "the panicked message is delivered again, the others are not");
}

/// One dispatcher process (this app's consumer: 4 concurrent long polls of up to 10 messages)
/// delivering to 10 slow receivers (each answers after 200 ms). Prints deliveries per second
/// and the DynamoDB calls of the fan-out and of one attempt
/// (`cargo nextest run -p sellvy-tests --test webhooks throughput --no-capture`).
#[tokio::test]
async fn throughput_to_ten_slow_receivers_and_calls_per_delivery() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let quiet = app
        .post("/products", &store.test, json!({"title": "No endpoint yet", "type": "service", "price": 1}))
        .await;
    println!("POST /products with no endpoint: {}", quiet.header("x-sellvy-cost").unwrap_or("-"));
    let mut receivers = Vec::new();
    for _ in 0..10 {
        let r = Receiver::start().await;
        r.always(200, "ok", Duration::from_millis(200));
        endpoint(&app, &store.test, &r.url, json!(["product.created"])).await;
        receivers.push(r);
    }
    let events = 20;
    let r =
        app.post("/products", &store.test, json!({"title": "Fanned", "type": "service", "price": 1})).await;
    println!(
        "POST /products with 10 subscribed endpoints: {} (fan-out included)",
        r.header("x-sellvy-cost").unwrap_or("-")
    );
    assert!(
        eventually(Duration::from_secs(10), || async { receivers.iter().all(|r| r.received().len() == 1) })
            .await
    );

    // The dispatcher alone: 200 deliveries waiting in a queue of their own, then one consumer.
    let t = store.tenant(sellvy_models::Mode::Test);
    let mut bench = app.webhooks.clone();
    let name = format!("sellvy-bench-{}", sellvy_models::id::random_base62(10));
    bench.queue = Some(sellvy_webhooks::Queue::create(&name, 900).await.unwrap());
    let batch: Vec<_> = (0..events)
        .map(|n| {
            (
                t.clone(),
                sellvy_models::Event::new(sellvy_models::EventType::ProductCreated, &json!({"n": n}))
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(bench.fan_out(&batch).await.unwrap(), 10 * events);
    let started = Instant::now();
    tokio::spawn(bench.clone().consume(4));
    let all = eventually(Duration::from_secs(60), || async {
        receivers.iter().all(|r| r.received().len() > events)
    })
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    assert!(all, "every receiver got every event");
    // Every delivery of the store is final (delivered): nothing more will go out, so what the
    // receivers hold now is all they will get.
    let all_final = eventually(Duration::from_secs(10), || async {
        let log = app.db.delivery_summaries(&t).await.unwrap();
        log.len() == 10 * (events + 1)
            && log.iter().all(|d| d.status == sellvy_models::webhook::WebhookDeliveryStatus::Delivered)
    })
    .await;
    assert!(all_final, "every delivery recorded as delivered");
    assert!(receivers.iter().all(|r| r.received().len() == events + 1), "exactly once each");
    let total = 10 * events;
    println!(
        "one dispatcher process (4 pollers): {total} deliveries to 10 receivers answering in 200 ms, in {elapsed:.2} s: {:.1} deliveries/s",
        total as f64 / elapsed
    );

    // One attempt's own work: read the delivery, claim it, read the endpoint, record it.
    let event = sellvy_models::Event::new(sellvy_models::EventType::ReviewCreated, &json!({})).unwrap();
    let now = sellvy_models::time::Timestamp::now();
    let endpoints = app.db.endpoints(&t).await.unwrap();
    let d = sellvy_models::webhook::WebhookDelivery::new(&event, &endpoints[0].id, now);
    app.db.put_new_delivery(&t, &d, now).await.unwrap();
    let msg = sellvy_webhooks::AttemptMessage::new(&t, &d.id, 1, now);
    let (handled, cost) = sellvy_store::measure(app.webhooks.handle(&msg, now)).await;
    println!(
        "one delivered attempt: {cost} (plus 1 SQS DeleteMessage, and 1 SendMessage when a retry is scheduled)"
    );
    assert_eq!(
        handled.unwrap(),
        sellvy_webhooks::Handled::Attempted(sellvy_models::webhook::WebhookDeliveryStatus::Delivered)
    );
    assert_eq!(cost.calls, 4);
}

/// A delivery so close to DynamoDB's 400 KB item limit that no attempt can be recorded on it
/// (the API's own bounds no longer let one be made, so it is written straight to the table)
/// must not stop the forwarder: it is set aside and the run goes on to the others.
#[tokio::test]
async fn a_delivery_too_large_to_record_is_set_aside_and_the_forwarder_goes_on() {
    use sellvy_models::webhook::{WebhookDelivery, WebhookDeliveryStatus};
    use sellvy_models::{Event, EventType, Mode, time::Timestamp};
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let t = store.tenant(Mode::Test);
    let now = Timestamp::now();
    let sending = |payload: String| {
        let event = Event::new(EventType::OrderCompleted, &json!({})).unwrap();
        let d = WebhookDelivery::new(&event, &sellvy_models::id::EndpointId::new(), now).claimed(now, false);
        WebhookDelivery { payload, ..d }
    };

    // The largest payload DynamoDB still takes, found by writing (probes under another store,
    // watched in a distant future that no forwarder reaches).
    // (a store id of its own: no store, no endpoints)
    let probe = sellvy_models::Tenant { store_id: sellvy_models::id::StoreId::new(), mode: Mode::Test };
    let never = Timestamp::from_millis(now.millis() + 100 * 365 * 86_400_000);
    let (mut fits, mut too_big) = (300_000usize, 420_000usize);
    while too_big - fits > 8 {
        let mid = (fits + too_big) / 2;
        match app.db.put_new_delivery(&probe, &sending("x".repeat(mid)), never).await {
            Ok(_) => fits = mid,
            Err(_) => too_big = mid,
        }
    }
    // The oldest overdue items are three poison ones; a normal interrupted attempt comes after.
    let poisons: Vec<WebhookDelivery> = (0..3).map(|_| sending("x".repeat(fits))).collect();
    for (n, poison) in poisons.iter().enumerate() {
        app.db.put_new_delivery(&t, poison, now.plus_seconds(-7200 + n as i64)).await.unwrap();
    }
    let normal = sending("{}".into());
    app.db.put_new_delivery(&t, &normal, now.plus_seconds(-3600)).await.unwrap();

    let run = app.webhooks.forward(now).await.expect("poison items do not end the run");
    assert!(run.set_aside >= 3 && run.repaired >= 1, "{run:?}");

    let repaired = app.db.get_delivery(&t, &normal.id).await.unwrap().unwrap();
    // The interrupted attempt is closed (the next one may already have followed it).
    assert_eq!(repaired.attempts[0].error_kind.as_deref(), Some("interrupted"), "{repaired:?}");
    let watched = app.db.overdue_deliveries(now, 1000).await.unwrap();
    let log = deliveries(&app, &store.test, "?status=failed").await;
    for poison in &poisons {
        let aside = app.db.get_delivery(&t, &poison.id).await.unwrap().unwrap();
        assert_eq!(aside.status, WebhookDeliveryStatus::Failed, "the seller sees it failed");
        assert!(!watched.iter().any(|(_, id)| *id == poison.id), "it no longer blocks the forwarder");
        assert!(log.iter().any(|d| d["id"] == poison.id.as_str()), "listed among the failed");
    }
}
