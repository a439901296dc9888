//! A local stand-in for Stripe's HTTP API, speaking its documented format: form-encoded
//! requests with `Authorization: Bearer sk_…` and `Idempotency-Key`, JSON objects and
//! `{"error": {type, code, message}}` answers. It keeps PaymentIntents and refunds in memory,
//! honours idempotency keys (same key and parameters: the same answer; other parameters: a 400
//! `idempotency_error`), refuses refunds beyond what was paid, and can be told to fail. It
//! also builds the signed callbacks Stripe would send.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const SECRET_KEY: &str = "sk_test_fakestripe_51Hxxxxxxxxxxxxxxxxxxxx";
pub const WEBHOOK_SECRET: &str = "whsec_fakestripe_test_secret";

/// A request's form parameters, in order.
type Params = Vec<(String, String)>;
/// An answer: status and JSON body.
type Answer = (u16, Value);

#[derive(Default)]
struct Books {
    intents: HashMap<String, Value>,
    refunded: HashMap<String, i64>,
    /// Idempotency key -> (request parameters, answer).
    replies: HashMap<String, (Params, Answer)>,
    /// Every request: (path, parameters).
    requests: Vec<(String, Vec<(String, String)>)>,
    failing: bool,
}

#[derive(Clone, Default)]
pub struct FakeStripe {
    pub base: String,
    books: Arc<Mutex<Books>>,
}

fn error(status: u16, kind: &str, code: Option<&str>, message: &str) -> (u16, Value) {
    (status, json!({"error": {"type": kind, "code": code, "message": message}}))
}

fn random(n: usize) -> String {
    sellvy_models::id::random_base62(n)
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let fake = FakeStripe::default();
        let app = Router::new()
            .route("/v1/payment_intents", post(handle_create))
            .route("/v1/refunds", post(handle_refund))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeStripe { base: format!("http://{addr}"), ..fake }
    }

    /// Every later call answers 500 (Stripe having an outage) until `set_failing(false)`.
    pub fn set_failing(&self, failing: bool) {
        self.books.lock().unwrap().failing = failing;
    }

    /// The requests made to `path`, as their form parameters.
    pub fn requests(&self, path: &str) -> Vec<HashMap<String, String>> {
        let books = self.books.lock().unwrap();
        books.requests.iter().filter(|(p, _)| p == path).map(|(_, f)| f.iter().cloned().collect()).collect()
    }

    pub fn intent(&self, id: &str) -> Value {
        self.books.lock().unwrap().intents.get(id).cloned().unwrap_or(Value::Null)
    }

    /// What was refunded of a PaymentIntent, in minor units.
    pub fn refunded(&self, id: &str) -> i64 {
        self.books.lock().unwrap().refunded.get(id).copied().unwrap_or(0)
    }

    /// The buyer pays: the intent succeeds, and the callback Stripe would send is returned.
    pub fn pay(&self, id: &str) -> Value {
        let mut books = self.books.lock().unwrap();
        let pi = books.intents.get_mut(id).expect("a PaymentIntent of this fake");
        pi["status"] = json!("succeeded");
        pi["amount_received"] = pi["amount"].clone();
        event("payment_intent.succeeded", pi.clone())
    }

    /// The buyer's card is declined.
    pub fn decline(&self, id: &str) -> Value {
        let mut books = self.books.lock().unwrap();
        let pi = books.intents.get_mut(id).expect("a PaymentIntent of this fake");
        pi["status"] = json!("requires_payment_method");
        pi["last_payment_error"] = json!({"code": "card_declined", "message": "Your card was declined."});
        event("payment_intent.payment_failed", pi.clone())
    }

    /// The buyer's bank opens a chargeback.
    pub fn dispute(&self, id: &str) -> Value {
        let pi = self.intent(id);
        event(
            "charge.dispute.created",
            json!({"id": format!("dp_{}", random(24)), "object": "dispute", "amount": pi["amount"],
                "currency": pi["currency"], "charge": format!("ch_{}", random(24)), "payment_intent": id,
                "reason": "fraudulent", "status": "needs_response", "created": 1_763_000_000}),
        )
    }
}

/// A Stripe event object around `object`.
pub fn event(kind: &str, object: Value) -> Value {
    json!({"id": format!("evt_{}", random(24)), "object": "event", "api_version": "2024-06-20",
        "created": sellvy_models::time::Timestamp::now().seconds(), "livemode": false, "type": kind,
        "data": {"object": object}})
}

/// The `Stripe-Signature` header for `body`, signed now (or `age` seconds ago).
pub fn sign(body: &[u8], secret: &str, age: i64) -> String {
    sellvy_payments::stripe::signature_header(
        body,
        secret,
        sellvy_models::time::Timestamp::now().seconds() - age,
    )
}

fn form(body: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://form/?{body}"))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

/// Auth, idempotency and the outage switch around one handler.
fn answer(
    fake: &FakeStripe,
    path: &str,
    headers: &HeaderMap,
    body: &str,
    handle: impl FnOnce(&mut Books, &HashMap<String, String>) -> (u16, Value),
) -> Response {
    let params = form(body);
    let mut books = fake.books.lock().unwrap();
    books.requests.push((path.to_string(), params.clone()));
    let (status, value) = (|| {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {SECRET_KEY}"))
        {
            return error(401, "invalid_request_error", None, "Invalid API Key provided");
        }
        if books.failing {
            return error(500, "api_error", None, "An unknown error occurred");
        }
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(String::from);
        if let Some(k) = &key
            && let Some((sent, reply)) = books.replies.get(k)
        {
            return match *sent == params {
                true => reply.clone(),
                false => error(
                    400,
                    "idempotency_error",
                    None,
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                ),
            };
        }
        let map: HashMap<String, String> = params.iter().cloned().collect();
        let reply = handle(&mut books, &map);
        if let Some(k) = key {
            books.replies.insert(k, (params.clone(), reply.clone()));
        }
        reply
    })();
    (StatusCode::from_u16(status).unwrap(), axum::Json(value)).into_response()
}

async fn handle_create(State(fake): State<FakeStripe>, headers: HeaderMap, body: String) -> Response {
    answer(&fake, "/v1/payment_intents", &headers, &body, |books, p| {
        let Some(amount) = p.get("amount").and_then(|a| a.parse::<i64>().ok()) else {
            return error(
                400,
                "invalid_request_error",
                Some("parameter_missing"),
                "Missing required param: amount.",
            );
        };
        let Some(currency) = p.get("currency") else {
            return error(
                400,
                "invalid_request_error",
                Some("parameter_missing"),
                "Missing required param: currency.",
            );
        };
        if amount < 50 {
            return error(
                400,
                "invalid_request_error",
                Some("amount_too_small"),
                "Amount must be at least $0.50 usd",
            );
        }
        let id = format!("pi_{}", random(24));
        let metadata: serde_json::Map<String, Value> = p
            .iter()
            .filter_map(|(k, v)| {
                Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_string(), json!(v)))
            })
            .collect();
        let pi = json!({"id": id, "object": "payment_intent", "amount": amount, "amount_received": 0,
            "currency": currency, "status": "requires_payment_method",
            "client_secret": format!("{id}_secret_{}", random(24)), "metadata": metadata,
            "description": p.get("description"), "receipt_email": p.get("receipt_email")});
        books.intents.insert(id, pi.clone());
        (200, pi)
    })
}

async fn handle_refund(State(fake): State<FakeStripe>, headers: HeaderMap, body: String) -> Response {
    answer(&fake, "/v1/refunds", &headers, &body, |books, p| {
        let Some(pi) = p.get("payment_intent").and_then(|id| books.intents.get(id)).cloned() else {
            return error(400, "invalid_request_error", Some("resource_missing"), "No such payment_intent");
        };
        if pi["status"] != "succeeded" {
            return error(
                400,
                "invalid_request_error",
                Some("charge_not_captured"),
                "This PaymentIntent has no successful charge to refund.",
            );
        }
        let paid = pi["amount_received"].as_i64().unwrap_or(0);
        let id = pi["id"].as_str().unwrap_or_default().to_string();
        let done = books.refunded.get(&id).copied().unwrap_or(0);
        let amount = p.get("amount").and_then(|a| a.parse::<i64>().ok()).unwrap_or(paid - done);
        if amount <= 0 || done + amount > paid {
            return error(
                400,
                "invalid_request_error",
                Some("charge_already_refunded"),
                "Refund amount is greater than the unrefunded amount on the charge.",
            );
        }
        books.refunded.insert(id.clone(), done + amount);
        (
            200,
            json!({"id": format!("re_{}", random(24)), "object": "refund", "amount": amount,
            "payment_intent": id, "status": "succeeded", "currency": pi["currency"]}),
        )
    })
}
