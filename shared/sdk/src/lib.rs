//! The official Rust client of the Sellvy API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sellvy_sdk::Error> {
//! use sellvy_sdk::{Client, wire::{NewProduct, ProductChanges, Amount}, ProductType};
//! let sellvy = Client::new("https://api.sellvy.io", "sk_test_…");
//! let product = sellvy.products().create(&NewProduct {
//!     title: "Premium Icon Pack".into(), product_type: ProductType::DigitalDownload,
//!     price: Amount(29.99), more: ProductChanges::default() }).await?;
//! let mut pages = sellvy.products().pages(Default::default());
//! while let Some(page) = pages.next().await { for p in page? { println!("{}", p.title); } }
//! # Ok(()) }
//! ```
//!
//! It uses the very types the server answers with (`sellvy_wire`), retries 429 (after
//! `Retry-After`) and 5xx/connection errors with backoff, and sends every POST with an
//! `Idempotency-Key` that its retries reuse, so a retry never creates twice.

pub mod webhooks;

pub use sellvy_wire as wire;
pub use sellvy_wire::{CouponType, EventType, KeyKind, Mode, Permission, ProductType};

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use wire::*;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with its error object.
    #[error("{status} {}: {}", error.code, error.message)]
    Api {
        status: u16,
        error: ErrorObject,
        /// Seconds to wait, on 429.
        retry_after: Option<u64>,
        /// Quote it to support.
        request_id: Option<String>,
    },
    /// The request did not get an answer (after the retries).
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was not what the API promises.
    #[error("unexpected response: {0}")]
    Decode(String),
}

impl Error {
    /// The API's error code (`not_found`, `validation_error`, …), if the API answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { error, .. } => Some(&error.code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The longest `Retry-After` the client waits by itself; beyond it the 429 is returned.
const MAX_RETRY_AFTER_SECS: u64 = 60;

/// A client for one key. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    max_retries: u32,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

#[derive(serde::Deserialize)]
struct Data<T> {
    data: T,
}

impl Client {
    /// `base_url` is the API's origin (`https://api.sellvy.io`), with or without `/v1`.
    pub fn new(base_url: &str, key: &str) -> Client {
        let base = base_url.trim_end_matches('/').trim_end_matches("/v1").to_string() + "/v1";
        Client { http: reqwest::Client::new(), base, key: key.to_string(), max_retries: 3 }
    }

    /// How many times a call is retried after a 429, a 5xx or a connection error (default 3).
    pub fn with_max_retries(mut self, retries: u32) -> Client {
        self.max_retries = retries;
        self
    }

    pub fn products(&self) -> Products<'_> {
        Products(self)
    }
    pub fn categories(&self) -> Categories<'_> {
        Categories(self)
    }
    pub fn coupons(&self) -> Coupons<'_> {
        Coupons(self)
    }
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys(self)
    }
    pub fn reviews(&self) -> Reviews<'_> {
        Reviews(self)
    }
    pub fn subscriptions(&self) -> Subscriptions<'_> {
        Subscriptions(self)
    }

    /// Sends one call with its retries; the body of the success (`None` for a 204).
    async fn execute(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<Option<Vec<u8>>> {
        // One key per logical call: every retry of this POST carries it.
        let idempotency_key = (method == Method::POST).then(|| format!("sdk_{}", random_hex()));
        let mut attempt = 0;
        loop {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.key)
                .query(query);
            if let Some(k) = &idempotency_key {
                req = req.header("Idempotency-Key", k);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let wait = match req.send().await {
                Err(e) if attempt >= self.max_retries => return Err(e.into()),
                Err(_) => backoff(attempt),
                Ok(resp) if resp.status() == StatusCode::NO_CONTENT => return Ok(None),
                Ok(resp) if resp.status().is_success() => return Ok(Some(resp.bytes().await?.to_vec())),
                Ok(resp) => {
                    let error = api_error(resp).await;
                    let Error::Api { status, retry_after, .. } = &error else { return Err(error) };
                    if !(*status == 429 || *status >= 500) || attempt >= self.max_retries {
                        return Err(error);
                    }
                    match retry_after {
                        Some(secs) if *secs <= MAX_RETRY_AFTER_SECS => Duration::from_secs(*secs),
                        Some(_) => return Err(error),
                        None => backoff(attempt),
                    }
                }
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<T> {
        let bytes =
            self.execute(method, path, query, body).await?.ok_or_else(|| Error::Decode("no body".into()))?;
        serde_json::from_slice::<Data<T>>(&bytes)
            .map(|d| d.data)
            .map_err(|e| Error::Decode(format!("{e}: {}", String::from_utf8_lossy(&bytes))))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::GET, path, &[], None).await
    }

    async fn write<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let body = serde_json::to_value(body).map_err(|e| Error::Decode(e.to_string()))?;
        self.call(method, path, &[], Some(body)).await
    }

    async fn delete(&self, path: &str) -> Result<()> {
        self.execute(Method::DELETE, path, &[], None).await.map(|_| ())
    }

    /// A list page: `data` and `meta`.
    async fn list_envelope<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Page<T>> {
        let bytes = self
            .execute(Method::GET, path, query, None)
            .await?
            .ok_or_else(|| Error::Decode("no body".into()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Decode(format!("{e}: {}", String::from_utf8_lossy(&bytes))))
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64 << attempt.min(5))
}

async fn api_error(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let retry_after =
        resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let request_id = resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(String::from);
    let bytes = resp.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Error::Api { status, error: body.error, retry_after, request_id },
        Err(_) => Error::Api {
            status,
            error: ErrorObject {
                code: if status >= 500 { "internal_error" } else { "unexpected" }.into(),
                message: String::from_utf8_lossy(&bytes).into_owned(),
                status,
                field: None,
                errors: None,
            },
            retry_after,
            request_id,
        },
    }
}

/// Walks every page of a list, one request per page.
pub struct Pages<'c, T> {
    client: &'c Client,
    path: String,
    query: Vec<(&'static str, String)>,
    page: u32,
    done: bool,
    _t: std::marker::PhantomData<T>,
}

impl<T: DeserializeOwned> Pages<'_, T> {
    /// The next page's items; `None` after the last page.
    pub async fn next(&mut self) -> Option<Result<Vec<T>>> {
        if self.done {
            return None;
        }
        let mut query = self.query.clone();
        query.push(("page", self.page.to_string()));
        match self.client.list_envelope::<T>(&self.path, &query).await {
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
            Ok(page) => {
                let seen = (page.meta.page as u64 - 1) * page.meta.per_page as u64 + page.data.len() as u64;
                self.done = page.data.is_empty() || seen >= page.meta.total;
                self.page += 1;
                if page.data.is_empty() { None } else { Some(Ok(page.data)) }
            }
        }
    }

    /// Every item of every page.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(page) = self.next().await {
            all.extend(page?);
        }
        Ok(all)
    }
}

fn pages<'c, T>(client: &'c Client, path: &str, query: Vec<(&'static str, String)>) -> Pages<'c, T> {
    Pages { client, path: path.to_string(), query, page: 1, done: false, _t: std::marker::PhantomData }
}

fn product_query(p: &ProductListParams) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    let mut push = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            q.push((k, v));
        }
    };
    push("per_page", p.per_page.map(|v| v.to_string()));
    push("search", p.search.clone());
    push("type", p.product_type.map(|t| t.as_str().to_string()));
    push("category_id", p.category_id.clone());
    push("visible", p.visible.map(|v| v.to_string()));
    push("sort", p.sort.clone());
    push("order", p.order.clone());
    q
}

/// `/v1/products`
pub struct Products<'c>(&'c Client);

impl<'c> Products<'c> {
    /// One page (`params.page`, default 1).
    pub async fn list(&self, params: &ProductListParams) -> Result<Page<ProductObject>> {
        let mut q = product_query(params);
        if let Some(p) = params.page {
            q.push(("page", p.to_string()));
        }
        self.0.list_envelope("/products", &q).await
    }
    /// Every page, in order (`params.page` is ignored).
    pub fn pages(&self, params: ProductListParams) -> Pages<'c, ProductObject> {
        pages(self.0, "/products", product_query(&params))
    }
    pub async fn get(&self, id: &str) -> Result<ProductObject> {
        self.0.get(&format!("/products/{id}")).await
    }
    pub async fn create(&self, product: &NewProduct) -> Result<ProductObject> {
        self.0.write(Method::POST, "/products", product).await
    }
    pub async fn update(&self, id: &str, changes: &ProductChanges) -> Result<ProductObject> {
        self.0.write(Method::PATCH, &format!("/products/{id}"), changes).await
    }
    /// The same as [`Products::update`], over PUT.
    pub async fn replace(&self, id: &str, changes: &ProductChanges) -> Result<ProductObject> {
        self.0.write(Method::PUT, &format!("/products/{id}"), changes).await
    }
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.delete(&format!("/products/{id}")).await
    }
}

/// `/v1/categories`
pub struct Categories<'c>(&'c Client);

impl<'c> Categories<'c> {
    pub async fn list(&self, page: u32, per_page: u32) -> Result<Page<CategoryObject>> {
        self.0
            .list_envelope("/categories", &[("page", page.to_string()), ("per_page", per_page.to_string())])
            .await
    }
    pub fn pages(&self) -> Pages<'c, CategoryObject> {
        pages(self.0, "/categories", vec![("per_page", "100".into())])
    }
    pub async fn get(&self, id: &str) -> Result<CategoryObject> {
        self.0.get(&format!("/categories/{id}")).await
    }
    pub async fn create(&self, category: &CategoryInput) -> Result<CategoryObject> {
        self.0.write(Method::POST, "/categories", category).await
    }
    pub async fn update(&self, id: &str, changes: &CategoryInput) -> Result<CategoryObject> {
        self.0.write(Method::PATCH, &format!("/categories/{id}"), changes).await
    }
    pub async fn replace(&self, id: &str, changes: &CategoryInput) -> Result<CategoryObject> {
        self.0.write(Method::PUT, &format!("/categories/{id}"), changes).await
    }
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.delete(&format!("/categories/{id}")).await
    }
}

/// `/v1/reviews`: buyers' reviews, replied to and moderated by the seller.
pub struct Reviews<'c>(&'c Client);

impl<'c> Reviews<'c> {
    /// One page, newest first; `product_id` and `rating` filter.
    pub async fn list(
        &self,
        page: u32,
        per_page: u32,
        product_id: Option<&str>,
        rating: Option<u8>,
    ) -> Result<Page<ReviewObject>> {
        let mut q = vec![("page", page.to_string()), ("per_page", per_page.to_string())];
        q.extend(product_id.map(|p| ("product_id", p.to_string())));
        q.extend(rating.map(|r| ("rating", r.to_string())));
        self.0.list_envelope("/reviews", &q).await
    }
    pub async fn get(&self, id: &str) -> Result<ReviewObject> {
        self.0.get(&format!("/reviews/{id}")).await
    }
    /// The seller's public reply (replacing an earlier one).
    pub async fn reply(&self, id: &str, message: &str) -> Result<ReviewObject> {
        let body = ReplyInput { message: Some(message.to_string()) };
        self.0.write(Method::POST, &format!("/reviews/{id}/reply"), &body).await
    }
    pub async fn remove_reply(&self, id: &str) -> Result<ReviewObject> {
        self.0.call(Method::DELETE, &format!("/reviews/{id}/reply"), &[], None).await
    }
    /// Hides a review from the storefront and its product's rating (`false` shows it again).
    pub async fn set_hidden(&self, id: &str, hidden: bool) -> Result<ReviewObject> {
        let action = if hidden { "hide" } else { "unhide" };
        self.0.write(Method::POST, &format!("/reviews/{id}/{action}"), &serde_json::json!({})).await
    }
}

/// `/v1/subscriptions`: what recurring products' checkouts started.
pub struct Subscriptions<'c>(&'c Client);

/// The filters of [`Subscriptions::list`].
#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter<'a> {
    pub status: Option<SubscriptionStatus>,
    pub product_id: Option<&'a str>,
    pub customer_email: Option<&'a str>,
}

impl<'c> Subscriptions<'c> {
    /// One page, newest first.
    pub async fn list(
        &self,
        page: u32,
        per_page: u32,
        filter: &SubscriptionFilter<'_>,
    ) -> Result<Page<SubscriptionObject>> {
        let mut q = vec![("page", page.to_string()), ("per_page", per_page.to_string())];
        q.extend(filter.status.map(|s| ("status", s.as_str().to_string())));
        q.extend(filter.product_id.map(|p| ("product_id", p.to_string())));
        q.extend(filter.customer_email.map(|e| ("customer_email", e.to_string())));
        self.0.list_envelope("/subscriptions", &q).await
    }
    pub async fn get(&self, id: &str) -> Result<SubscriptionObject> {
        self.0.get(&format!("/subscriptions/{id}")).await
    }
    /// Ends it at its period's end (`at_period_end`) or at once, with the seller's reason.
    pub async fn cancel(
        &self,
        id: &str,
        at_period_end: bool,
        reason: Option<&str>,
    ) -> Result<SubscriptionObject> {
        let body = CancelSubscriptionInput {
            at_period_end: Some(at_period_end),
            reason: reason.map(str::to_string),
        };
        self.0.write(Method::POST, &format!("/subscriptions/{id}/cancel"), &body).await
    }
    /// Test mode: moves its clock forward to `to`, running what falls due by then, with the
    /// sandbox answering renewals as `renewals` says.
    pub async fn move_test_clock(
        &self,
        id: &str,
        to: Timestamp,
        renewals: Option<SandboxOutcome>,
    ) -> Result<SubscriptionObject> {
        let body = TestClockInput { advance_to: Some(to), renewals };
        self.0.write(Method::POST, &format!("/subscriptions/{id}/test_clock"), &body).await
    }
}

/// `/v1/coupons`
pub struct Coupons<'c>(&'c Client);

impl<'c> Coupons<'c> {
    pub async fn list(&self, page: u32, per_page: u32) -> Result<Page<CouponObject>> {
        self.0
            .list_envelope("/coupons", &[("page", page.to_string()), ("per_page", per_page.to_string())])
            .await
    }
    pub fn pages(&self) -> Pages<'c, CouponObject> {
        pages(self.0, "/coupons", vec![("per_page", "100".into())])
    }
    pub async fn get(&self, id: &str) -> Result<CouponObject> {
        self.0.get(&format!("/coupons/{id}")).await
    }
    pub async fn create(&self, coupon: &NewCoupon) -> Result<CouponObject> {
        self.0.write(Method::POST, "/coupons", coupon).await
    }
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.delete(&format!("/coupons/{id}")).await
    }
}

/// `/v1/api_keys` (full-access keys only)
pub struct ApiKeys<'c>(&'c Client);

impl<'c> ApiKeys<'c> {
    pub async fn list(&self, page: u32, per_page: u32) -> Result<Page<ApiKeyObject>> {
        self.0
            .list_envelope("/api_keys", &[("page", page.to_string()), ("per_page", per_page.to_string())])
            .await
    }
    pub fn pages(&self) -> Pages<'c, ApiKeyObject> {
        pages(self.0, "/api_keys", vec![("per_page", "100".into())])
    }
    /// A new secret key, with its secret in `key` (shown only now).
    pub async fn create(&self, name: &str, permissions: Permission) -> Result<CreatedApiKey> {
        let input = NewApiKeyInput { name: Some(name.into()), kind: None, permissions: Some(permissions) };
        self.0.write(Method::POST, "/api_keys", &input).await
    }
    /// A new publishable key (`pk_…`), for storefronts.
    pub async fn create_publishable(&self, name: &str) -> Result<CreatedApiKey> {
        let input =
            NewApiKeyInput { name: Some(name.into()), kind: Some(KeyKind::Publishable), permissions: None };
        self.0.write(Method::POST, "/api_keys", &input).await
    }
    pub async fn revoke(&self, id: &str) -> Result<()> {
        self.0.delete(&format!("/api_keys/{id}")).await
    }
}

/// 16 random bytes as hex: the SDK's own Idempotency-Keys.
fn random_hex() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source is available");
    hex::encode(b)
}
