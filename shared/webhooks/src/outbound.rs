//! Signed POSTs to sellers' servers: the raw JSON body, `X-Sellvy-Signature` (lowercase hex
//! HMAC-SHA256 of that body with the seller's secret, as the seed's verification code expects),
//! the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`, which
//! signs the id and the timestamp too, so a captured request cannot be replayed to a receiver
//! that checks them), `X-Sellvy-Event`, `X-Sellvy-Delivery`, `X-Sellvy-Timestamp` (Unix
//! seconds), `X-Sellvy-Mode` and a User-Agent. Redirects are not followed; no environment proxy
//! is used; the connection goes only to addresses the guard accepts, checked again when the
//! connection is made.

use crate::guard::{self, Reach};
use reqwest::dns::{Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const USER_AGENT: &str = "Sellvy/1.0 (+https://sellvy.io/docs/webhooks)";

/// One signed POST to make.
#[derive(Debug, Clone)]
pub struct SignedPost<'a> {
    pub url: &'a str,
    pub body: &'a [u8],
    pub secret: &'a str,
    /// A secret rotated out that still signs (`webhook-signature` only).
    pub previous_secret: Option<&'a str>,
    /// `X-Sellvy-Mode`: `live` or `test`.
    pub mode: sellvy_models::Mode,
    /// `X-Sellvy-Event`: the event type (or `order.delivery` for dynamic goods).
    pub event: &'a str,
    /// `X-Sellvy-Delivery` and `webhook-id`: unique per delivery, the same across its attempts.
    pub delivery_id: &'a str,
    pub timeout: Duration,
    /// At most this much of the response body is kept.
    pub keep: usize,
}

/// Why an attempt did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The guard refused the URL (never sent).
    Refused(String),
    Timeout,
    /// DNS, TCP or TLS failure.
    Connect(String),
    /// A non-2xx answer (redirects included: they are not followed).
    Status(u16),
    /// The answer's body could not be read whole.
    Body(String),
}

impl Failure {
    /// A short, stable name for logs and the delivery log (`error_kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Refused(_) => "refused",
            Failure::Timeout => "timeout",
            Failure::Connect(_) => "connection",
            Failure::Status(_) => "http_status",
            Failure::Body(_) => "body",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(m) => write!(f, "the URL {m}"),
            Failure::Timeout => f.write_str("no answer before the timeout"),
            Failure::Connect(m) => write!(f, "could not connect: {m}"),
            Failure::Status(s) => write!(f, "answered HTTP {s}"),
            Failure::Body(m) => write!(f, "the answer could not be read: {m}"),
        }
    }
}

/// What one signed POST to a seller's server did (a webhook attempt, a dynamic-goods call).
#[derive(Debug, Clone)]
pub struct PostOutcome {
    pub status: Option<u16>,
    pub duration: Duration,
    /// The start of the response body (at most `keep` bytes, lossy UTF-8).
    pub body: String,
    /// The body was longer than `keep`.
    pub truncated: bool,
    pub failure: Option<Failure>,
}

impl PostOutcome {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// Resolves names for the HTTP client and drops any address the guard refuses, so the
/// connection itself can never reach an internal address (DNS rebinding included).
struct GuardedResolver(Reach);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::time::timeout(guard::DNS_TIMEOUT, tokio::net::lookup_host((host.as_str(), 0)))
                    .await??
                    .collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| {
                    guard::is_public(a.ip()) || (reach == Reach::AllowLoopback && a.ip().is_loopback())
                })
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(allowed.into_iter()) as Box<dyn Iterator<Item = SocketAddr> + Send>)
        })
    }
}

/// The outbound HTTP client: build once per process, share it.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// Built on the first call, so functions that never call out (most of them) do not pay
    /// for it at cold start.
    client: Arc<std::sync::OnceLock<reqwest::Client>>,
    reach: Reach,
}

impl Outbound {
    pub fn new(reach: Reach) -> Outbound {
        Outbound { client: Arc::default(), reach }
    }

    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                // The guard resolves and pins the address: a proxy from the environment
                // (HTTPS_PROXY, …) would resolve the target itself and bypass it.
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .dns_resolver(Arc::new(GuardedResolver(self.reach)))
                .connect_timeout(Duration::from_secs(5))
                .user_agent(USER_AGENT)
                .build()
                .expect("an HTTP client with the platform's TLS roots")
        })
    }

    pub fn reach(&self) -> Reach {
        self.reach
    }

    /// Makes one attempt; never panics, every outcome is a [`PostOutcome`].
    pub async fn post(&self, p: &SignedPost<'_>) -> PostOutcome {
        let started = Instant::now();
        let done = |status, body, truncated, failure| PostOutcome {
            status,
            duration: started.elapsed(),
            body,
            truncated,
            failure,
        };
        if let Err(e) = guard::check(p.url, self.reach, p.mode == sellvy_models::Mode::Live).await {
            return done(None, String::new(), false, Some(Failure::Refused(e.0)));
        }
        let signature = sellvy_models::signature::sign(p.body, p.secret);
        let timestamp = sellvy_models::time::Timestamp::now().seconds();
        let standard: Vec<String> = std::iter::once(p.secret)
            .chain(p.previous_secret)
            .map(|s| sellvy_models::signature::standard_signature(s, p.delivery_id, timestamp, p.body))
            .collect();
        let sent = self
            .client()
            .post(p.url)
            .timeout(p.timeout)
            .header("content-type", "application/json")
            .header("x-sellvy-signature", signature)
            .header("webhook-id", p.delivery_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", standard.join(" "))
            .header("x-sellvy-event", p.event)
            .header("x-sellvy-delivery", p.delivery_id)
            .header("x-sellvy-mode", p.mode.as_str())
            .header("x-sellvy-timestamp", timestamp.to_string())
            .body(p.body.to_vec())
            .send()
            .await;
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return done(None, String::new(), false, Some(Failure::Timeout)),
            Err(e) => return done(None, String::new(), false, Some(Failure::Connect(root_cause(&e)))),
        };
        let status = resp.status().as_u16();
        let mut kept = Vec::new();
        let mut truncated = false;
        let read_error = loop {
            match tokio::time::timeout(p.timeout.saturating_sub(started.elapsed()), resp.chunk()).await {
                Err(_) => break Some(Failure::Timeout),
                Ok(Err(e)) => break Some(Failure::Body(root_cause(&e))),
                Ok(Ok(None)) => break None,
                Ok(Ok(Some(chunk))) => {
                    let room = p.keep.saturating_sub(kept.len());
                    if chunk.len() > room {
                        kept.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break None;
                    }
                    kept.extend_from_slice(&chunk);
                }
            }
        };
        let body = String::from_utf8_lossy(&kept).into_owned();
        let failure = read_error.or((!(200..300).contains(&status)).then_some(Failure::Status(status)));
        done(Some(status), body, truncated, failure)
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server answering every connection with `reply` after `delay`.
    async fn server(reply: &'static str, delay: Duration) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    tokio::time::sleep(delay).await;
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        });
        url
    }

    fn post(url: &str, timeout: Duration) -> SignedPost<'_> {
        SignedPost {
            url,
            body: b"{}",
            secret: "whsec_x",
            previous_secret: None,
            mode: sellvy_models::Mode::Test,
            event: "order.created",
            delivery_id: "whd_1",
            timeout,
            keep: 8,
        }
    }

    #[tokio::test]
    async fn only_a_2xx_in_time_succeeds_and_redirects_are_not_followed() {
        let out = Outbound::new(Reach::AllowLoopback);
        let ok = server("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", Duration::ZERO).await;
        assert!(out.post(&post(&ok, Duration::from_secs(2))).await.succeeded());

        let moved = server(
            "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n",
            Duration::ZERO,
        )
        .await;
        let a = out.post(&post(&moved, Duration::from_secs(2))).await;
        assert_eq!((a.status, a.failure), (Some(302), Some(Failure::Status(302))), "not followed");

        let chatty =
            server("HTTP/1.1 500 Oops\r\nContent-Length: 20\r\n\r\n0123456789abcdefghij", Duration::ZERO)
                .await;
        let a = out.post(&post(&chatty, Duration::from_secs(2))).await;
        assert_eq!((a.body.as_str(), a.truncated), ("01234567", true), "only the first bytes are kept");
        assert_eq!(a.failure.map(|f| f.kind()), Some("http_status"));

        let slow = server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Duration::from_secs(3)).await;
        let a = out.post(&post(&slow, Duration::from_millis(300))).await;
        assert_eq!(a.failure, Some(Failure::Timeout));
        assert!(a.duration < Duration::from_secs(2));

        let closed = out.post(&post("http://127.0.0.1:9/hook", Duration::from_secs(2))).await;
        assert_eq!(closed.failure.map(|f| f.kind()), Some("connection"));

        let guarded = Outbound::new(Reach::PublicOnly).post(&post(&ok, Duration::from_secs(2))).await;
        assert_eq!(guarded.failure.map(|f| f.kind()), Some("refused"), "loopback needs the local switch");
    }
}
