//! A seller's server on loopback whose replies a test scripts: it records every request
//! (headers and raw body) and answers from a queue of `(status, body, delay)`, then with its
//! default reply.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

#[derive(Clone)]
struct Script {
    replies: Arc<Mutex<VecDeque<(u16, String, Duration)>>>,
    default: Arc<Mutex<(u16, String, Duration)>>,
    got: Arc<Mutex<Vec<Received>>>,
}

#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hook`
    pub url: String,
    script: Script,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_on("127.0.0.1").await
    }

    /// A receiver on another loopback address (`127.0.0.2`, …).
    pub async fn start_on(ip: &str) -> Receiver {
        let script = Script {
            replies: Arc::default(),
            default: Arc::new(Mutex::new((200, "ok".into(), Duration::ZERO))),
            got: Arc::default(),
        };
        let app = Router::new().fallback(handle).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url: format!("http://{addr}/hook"), script }
    }

    /// The next requests get these replies, in order.
    pub fn then(&self, status: u16, body: &str) -> &Self {
        self.script.replies.lock().unwrap().push_back((status, body.into(), Duration::ZERO));
        self
    }

    /// Every request after the scripted ones gets this.
    pub fn always(&self, status: u16, body: &str, delay: Duration) {
        *self.script.default.lock().unwrap() = (status, body.into(), delay);
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.got.lock().unwrap().clone()
    }
}

async fn handle(State(script): State<Script>, headers: HeaderMap, body: Bytes) -> Response {
    script.got.lock().unwrap().push(Received { headers, body: body.to_vec(), at: Instant::now() });
    let next = script.replies.lock().unwrap().pop_front();
    let (status, body, delay) = next.unwrap_or_else(|| script.default.lock().unwrap().clone());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    (StatusCode::from_u16(status).unwrap(), body).into_response()
}
