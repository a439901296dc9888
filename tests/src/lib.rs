//! Test helpers that read like a user: [`TestApp::spawn`] starts the gateway (the very routers
//! the Lambdas run) on a free loopback port against the real local DynamoDB and SQS started by
//! `infra/local/stack.sh`, and talks to it over HTTP. [`TestApp::builder`] changes what a test
//! needs changed (a manual clock, the webhook ladder).

pub mod localstripe;
pub mod receiver;
pub mod stripe_fake;

pub use localstripe::Localstripe;
pub use receiver::Receiver;
use reqwest::{Method, StatusCode};
pub use sellvy_app::Clock;
use sellvy_app::{AppState, Config};
pub use sellvy_models::RateLimit;
use sellvy_models::Tenant;
pub use sellvy_models::apikey::Plan;
pub use sellvy_ops::NewStore;
use sellvy_store::Db;
use serde_json::Value;
pub use stripe_fake::FakeStripe;

#[derive(Clone)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT/v1`
    pub base: String,
    pub db: Db,
    /// The app's Stripe: a local fake speaking Stripe's format (see
    /// [`TestAppBuilder::localstripe`] for the stateful emulator).
    pub stripe: FakeStripe,
    /// The app's account on the stack's Stripe emulator, when built with it.
    pub localstripe: Option<Localstripe>,
    /// The app's webhook machinery (its own delivery queue, consumed in the background as the
    /// Lambda event source would), for tests that run the forwarder themselves.
    pub webhooks: sellvy_webhooks::Webhooks,
    /// The app's own state, for tests that run a flow (the sweeper's expiry) themselves.
    pub state: AppState,
    http: reqwest::Client,
}

/// A store's two full-access keys, as the operator command prints them.
#[derive(Debug, Clone)]
pub struct StoreKeys {
    pub store_id: sellvy_models::id::StoreId,
    pub live: String,
    pub test: String,
    pub live_key_id: String,
    pub test_key_id: String,
}

impl StoreKeys {
    pub fn tenant(&self, mode: sellvy_models::Mode) -> Tenant {
        Tenant { store_id: self.store_id.clone(), mode }
    }
}

/// One HTTP response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    /// The seed's error code, if this is an error.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    /// Fields named by a 422.
    pub fn fields(&self) -> Vec<String> {
        self.body["error"]["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The DynamoDB work the request did, from the gateway's `X-Sellvy-Cost` header.
    pub fn cost(&self, what: &str) -> f64 {
        let h = self.header("x-sellvy-cost").unwrap_or("");
        h.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{what}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

/// Points the AWS SDK at the local stack when the environment does not already.
fn local_env() {
    // SAFETY: called before any thread of the test reads the environment.
    unsafe {
        for (k, v) in [
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324"),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            if std::env::var_os(k).is_none() {
                std::env::set_var(k, v);
            }
        }
    }
}

/// How a test app's webhooks run: the ladder, the queue's longest delay, the forwarder's grace.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub ladder: sellvy_models::webhook::Ladder,
    pub max_delay_secs: u32,
    pub grace: std::time::Duration,
    pub timeout: std::time::Duration,
}

impl Default for WebhookSettings {
    /// A fast ladder (0, 0.2, 0.4, 0.6, 0.8 s; the queue rounds delays up to whole seconds),
    /// SQS's own cap.
    fn default() -> WebhookSettings {
        WebhookSettings {
            ladder: sellvy_models::webhook::Ladder::millis(&[0, 200, 400, 600, 800]),
            max_delay_secs: 900,
            // Long enough that a forwarder of another process sharing the table (a gateway in
            // another test) never takes this app's deliveries for lost ones during a test.
            grace: std::time::Duration::from_secs(60),
            timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// What a test changes about its app before starting it; the rest is [`TestApp::spawn`]'s.
#[derive(Default)]
pub struct TestAppBuilder {
    clock: Clock,
    webhooks: WebhookSettings,
    client_limit: Option<RateLimit>,
    localstripe: bool,
}

impl TestAppBuilder {
    /// The limiter and idempotency keys go by `clock` (a [`Clock::manual`] one only moves when
    /// told).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// What one client address may send to one store's storefront (and spend in refusals).
    pub fn storefront_client_limit(mut self, limit: RateLimit) -> Self {
        self.client_limit = Some(limit);
        self
    }

    /// Stripe is the local stack's emulator (localstripe), an account of this app's own whose
    /// signed callbacks come to this app's gateway, instead of the hand-written fake.
    pub fn localstripe(mut self) -> Self {
        self.localstripe = true;
        self
    }

    /// The webhook ladder, queue cap, forwarder grace and timeout.
    pub fn webhooks(mut self, settings: WebhookSettings) -> Self {
        self.webhooks = settings;
        self
    }

    /// Starts the gateway on a free port, serving in the background of this test's runtime,
    /// with a fake Stripe and a delivery queue of its own.
    pub async fn spawn(self) -> TestApp {
        local_env();
        let db = Db::from_env().await;
        let stripe = FakeStripe::start().await;
        let localstripe = self.localstripe.then(Localstripe::account);
        let stripe_settings = match &localstripe {
            Some(ls) => sellvy_app::StripeSettings {
                api_base: ls.base.clone(),
                secret_key: ls.secret_key.clone(),
                webhook_secret: ls.webhook_secret.clone(),
                publishable_key: Some("pk_test_localstripe".into()),
            },
            None => sellvy_app::StripeSettings {
                api_base: stripe.base.clone(),
                secret_key: stripe_fake::SECRET_KEY.into(),
                webhook_secret: stripe_fake::WEBHOOK_SECRET.into(),
                publishable_key: Some("pk_test_fakestripe".into()),
            },
        };
        let config = Config {
            cost_headers: true,
            clock: self.clock,
            stripe: Some(stripe_settings),
            // Dynamic goods and webhooks are served by receivers on loopback in the tests.
            reach: sellvy_webhooks::Reach::AllowLoopback,
            ..Config::default()
        };
        let config = match self.client_limit {
            Some(limit) => Config { storefront_client_limit: limit, ..config },
            None => config,
        };
        let mut state = AppState::new(db.clone(), config);
        let settings = self.webhooks;
        let name = format!("sellvy-test-{}", sellvy_models::id::random_base62(12));
        let queue = sellvy_webhooks::Queue::create(&name, settings.max_delay_secs)
            .await
            .expect("create this test's delivery queue (is the local stack running?)");
        let services = state.configure();
        services.webhooks.queue = Some(queue);
        services.webhooks.ladder = settings.ladder;
        services.webhooks.grace = settings.grace;
        services.webhooks.timeout = settings.timeout;
        let webhooks = state.webhooks.clone();
        tokio::spawn(webhooks.clone().consume(4));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(sellvy_ops::serve(listener, state.clone()));
        if let Some(ls) = &localstripe {
            ls.listen(&format!("http://{addr}/v1/gateways/stripe/webhook")).await;
        }
        TestApp {
            base: format!("http://{addr}/v1"),
            db,
            stripe,
            localstripe,
            webhooks,
            state,
            http: reqwest::Client::new(),
        }
    }
}

impl TestApp {
    /// A test app with the defaults: the system clock, a fast webhook ladder.
    pub async fn spawn() -> TestApp {
        TestApp::builder().spawn().await
    }

    /// A test app with some settings changed.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// A new store with a full-access key per mode, made with the operator command's code. Its
    /// rate limit is far above what functional tests send; [`TestApp::new_store_on`] picks a plan.
    pub async fn new_store(&self) -> StoreKeys {
        self.create(NewStore {
            custom_limit: RateLimit::custom(1_000_000, 1_000_000),
            ..NewStore::new("Test store", Plan::Enterprise)
        })
        .await
    }

    /// A new store on a plan (`custom` for Enterprise).
    pub async fn new_store_on(&self, plan: Plan, custom: Option<RateLimit>) -> StoreKeys {
        self.create(NewStore { custom_limit: custom, ..NewStore::new("Plan store", plan) }).await
    }

    async fn create(&self, spec: NewStore) -> StoreKeys {
        let v = sellvy_ops::create_store(&self.db, &spec).await.expect("create store");
        let key = |mode: &str, field: &str| v["keys"][mode][field].as_str().unwrap().to_string();
        StoreKeys {
            store_id: sellvy_models::id::StoreId::parse(v["store_id"].as_str().unwrap()).unwrap(),
            live: key("live", "key"),
            test: key("test", "key"),
            live_key_id: key("live", "id"),
            test_key_id: key("test", "id"),
        }
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(&self, method: Method, path: &str, key: Option<&str>, body: Option<&Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        self.read(req).await
    }

    /// Delivers a Stripe callback as Stripe would: the raw event, signed with `secret`
    /// `age` seconds ago.
    pub async fn stripe_callback(&self, event: &Value, secret: &str, age: i64) -> Reply {
        let body = serde_json::to_vec(event).unwrap();
        let req = self
            .http
            .post(format!("{}/gateways/stripe/webhook", self.base))
            .header("content-type", "application/json")
            .header("stripe-signature", stripe_fake::sign(&body, secret, age))
            .body(body);
        self.read(req).await
    }

    /// Sends a raw body (for malformed-JSON tests).
    pub async fn call_raw(&self, method: Method, path: &str, key: &str, body: &str) -> Reply {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string());
        self.read(req).await
    }

    async fn read(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("the gateway answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("read body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call(Method::GET, path, Some(key), None).await
    }
    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(key), Some(&body)).await
    }
    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(key), Some(&body)).await
    }
    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.call(Method::DELETE, path, Some(key), None).await
    }

    /// Creates a product and returns it, failing the test unless it is a 201.
    pub async fn product(&self, key: &str, body: Value) -> Value {
        let r = self.post("/products", key, body).await;
        assert_eq!(r.status, 201, "create product: {}", r.body);
        r.body["data"].clone()
    }

    /// Creates a publishable (storefront) key with a full key and returns it.
    pub async fn publishable_key(&self, full_key: &str) -> String {
        let r = self
            .post("/api_keys", full_key, serde_json::json!({"name": "Web shop", "type": "publishable"}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.data()["type"], "publishable");
        r.data()["key"].as_str().unwrap().to_string()
    }

    /// Creates a key with the given permission (using a full key) and returns its secret.
    pub async fn key_with(&self, full_key: &str, permissions: &str) -> String {
        let r = self
            .post("/api_keys", full_key, serde_json::json!({"name": permissions, "permissions": permissions}))
            .await;
        assert_eq!(r.status, 201, "create key: {}", r.body);
        r.data()["key"].as_str().unwrap().to_string()
    }
}

/// Waits until `check` holds (polling every 50 ms), at most `limit`.
pub async fn eventually<F: Future<Output = bool>>(
    limit: std::time::Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}
