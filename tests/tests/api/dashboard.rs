//! The sellers' dashboard over HTTP: setup links, sign-in, sessions, CSRF, and Settings →
//! Integrations → API Keys, with what every kind of credential gets on its routes. (The same
//! pages are driven in Chromium by `tests/browser/dashboard_test.py`.)

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sellvy_models::account::{SESSION_SECS, Session, read_session_cookie};
use sellvy_models::time::Timestamp;
use sellvy_models::totp;
use sellvy_models::webhook::Ladder;
use sellvy_tests::{Receiver, StoreKeys, TestApp, WebhookSettings, eventually};
use serde_json::json;
use std::time::Duration;

/// A browser without a cookie jar or redirects: each test sees every hop.
struct Browser {
    http: reqwest::Client,
    origin: String,
    cookie: Option<String>,
}

struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    location: String,
    set_cookie: String,
    html: String,
}

impl Page {
    /// The value of the first `name="…" value="…"` input.
    fn input(&self, name: &str) -> String {
        let at = self
            .html
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no {name} in {}", self.html));
        let rest = &self.html[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    fn secret(&self) -> String {
        let at = self.html.find("id=\"new-secret\">").expect("a new secret shown");
        let rest = &self.html[at + 16..];
        rest[..rest.find('<').unwrap()].to_string()
    }
}

impl Browser {
    /// A browser on an address of its own (any of 127.0.0.0/8 reaches the gateway), so the
    /// sign-in throttle of one test's failures never meets another's.
    fn new(app: &TestApp) -> Browser {
        let [a, b, c] = sellvy_models::id::random_bytes::<3>();
        let address = std::net::IpAddr::from([127, a, b, c.max(2)]);
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(address)
                .build()
                .unwrap(),
            origin: app.base.trim_end_matches("/v1").to_string(),
            cookie: None,
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header(COOKIE, format!("sellvy_session={c}")),
            None => req,
        };
        let r = req.send().await.unwrap();
        let header = |name| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let (location, set_cookie) = (header(LOCATION), header(SET_COOKIE));
        let headers = r.headers().clone();
        if let Some(v) = set_cookie.strip_prefix("sellvy_session=") {
            let v = &v[..v.find(';').unwrap()];
            self.cookie = (!v.is_empty()).then(|| v.to_string());
        }
        Page { status: r.status(), headers, location, set_cookie, html: r.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.origin));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.origin)).form(form);
        self.send(req).await
    }

    async fn post_owned(&mut self, path: &str, form: &[(&str, String)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.origin)).form(form);
        self.send(req).await
    }
}

const PASSWORD: &str = "a long enough password";

/// An email no earlier run used (the local table outlives test runs).
fn email(name: &str) -> String {
    format!("{name}-{}@example.com", sellvy_models::id::random_base62(10).to_lowercase())
}

/// An owner of `store` with a password set through their setup link: signed in.
async fn owner(app: &TestApp, store: &StoreKeys, email: &str) -> Browser {
    let mut b = Browser::new(app);
    let link = sellvy_ops::add_owner(&app.db, &store.store_id, email, &b.origin).await.unwrap();
    let path = link["setup_link"].as_str().unwrap().trim_start_matches(&b.origin).to_string();
    assert_eq!(b.get(&path).await.status, 200);
    let done = b.post(&path, &[("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/dashboard"));
    b
}

fn keys_page(store: &StoreKeys, mode: &str) -> String {
    format!("/dashboard/{}/{mode}/settings/integrations/api-keys", store.store_id)
}

#[tokio::test]
async fn an_owner_sets_a_password_once_then_creates_uses_and_revokes_a_key() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let mut b = Browser::new(&app);
    let address = email("Owner");
    let link =
        sellvy_ops::add_owner(&app.db, &store.store_id, &address.to_uppercase(), &b.origin).await.unwrap();
    assert_eq!(link["email"], address.to_lowercase());
    let path = link["setup_link"].as_str().unwrap().trim_start_matches(&b.origin).to_string();

    let short = b.post(&path, &[("password", "short"), ("password_again", "short")]).await;
    assert_eq!(short.status, 422);
    assert!(short.html.contains("Password must be at least 12 characters"), "{}", short.html);
    let set = b.post(&path, &[("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/dashboard"] {
        assert!(set.set_cookie.contains(attribute), "{attribute} in {}", set.set_cookie);
    }
    let again = Browser::new(&app).post(&path, &[("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!(again.status, 404, "a setup link works once");
    assert!(again.html.contains("expired or was used"));

    let home = b.get("/dashboard").await;
    assert_eq!(home.location, format!("/dashboard/{}/test", store.store_id), "to the store's home");
    let page = b.get(&keys_page(&store, "test")).await;
    assert_eq!(page.status, 200);
    // A page with a CSRF token is never cached or framed.
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let name = app.db.get_store(&store.store_id).await.unwrap().unwrap().name;
    assert!(
        page.html.contains("TEST MODE") && page.html.contains(&name),
        "the store and its mode, unmistakable"
    );
    assert!(page.html.contains(&store.test_key_id), "the operator's test key is listed");
    assert!(!page.html.contains(&store.live_key_id), "live keys are not on the test page");
    assert!(!page.html.contains(&store.test), "no secret is ever listed");

    let (csrf, nonce) = (page.input("csrf"), page.input("nonce"));
    let form =
        [("csrf", csrf.as_str()), ("nonce", nonce.as_str()), ("name", "Reporting"), ("access", "read")];
    let created = b.post(&keys_page(&store, "test"), &form).await;
    assert_eq!(created.status, 201, "{}", created.html);
    // The same form sent again (a reload) creates nothing more.
    let resent = b.post(&keys_page(&store, "test"), &form).await;
    assert_eq!(resent.status, 409);
    assert!(resent.html.contains("already sent") && !resent.html.contains("id=\"new-secret\""));
    assert!(created.html.contains("will not be shown again"));
    let secret = created.secret();
    assert!(secret.starts_with("sk_test_"));
    // The new key works against the API, with the permissions chosen.
    assert_eq!(app.get("/products", &secret).await.status, 200);
    let write = app.post("/categories", &secret, serde_json::json!({"name": "X"})).await;
    assert_eq!(write.status, 403);
    let listed = b.get(&keys_page(&store, "test")).await;
    assert!(listed.html.contains("Reporting") && !listed.html.contains(&secret), "listed, never shown again");

    let id = app
        .get("/api_keys", &store.test)
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Reporting")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke = format!("{}/{id}/revoke", keys_page(&store, "test"));
    let done = b.post(&revoke, &[("csrf", &csrf)]).await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (StatusCode::SEE_OTHER, keys_page(&store, "test").as_str())
    );
    assert_eq!(app.get("/products", &secret).await.status, 401, "revoked at once");
    assert_eq!(b.post(&revoke, &[("csrf", &csrf)]).await.status, 404);
}

#[tokio::test]
async fn forms_say_what_is_wrong_and_live_keys_ask_for_the_password() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let mut b = owner(&app, &store, &email("live")).await;
    let live = keys_page(&store, "live");
    let page = b.get(&live).await;
    assert!(page.html.contains("LIVE MODE"));
    let csrf = page.input("csrf");
    let bad =
        b.post(&live, &[("csrf", &csrf), ("name", ""), ("access", "admin"), ("password", "wrong")]).await;
    assert_eq!(bad.status, 422);
    for shown in ["Name must not be empty", "Permissions must be one of", "Password is not your password"] {
        assert!(bad.html.contains(shown), "{shown}");
    }
    let no_password = b.post(&live, &[("csrf", &csrf), ("name", "Server"), ("access", "full")]).await;
    assert_eq!(no_password.status, 422);
    assert!(no_password.html.contains("value=\"Server\""), "the name is kept");
    let nonce = no_password.input("nonce");
    let ok = b
        .post(
            &live,
            &[
                ("csrf", &csrf),
                ("nonce", &nonce),
                ("name", "Server"),
                ("access", "full"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status, 201);
    assert!(ok.secret().starts_with("sk_live_"));
    let nonce = ok.input("nonce");
    let pk = b
        .post(
            &live,
            &[
                ("csrf", &csrf),
                ("nonce", &nonce),
                ("name", "Shop"),
                ("access", "publishable"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(pk.secret().starts_with("pk_live_"));
}

#[tokio::test]
async fn what_each_credential_gets_on_the_dashboard() {
    let app = TestApp::spawn().await;
    let mine = app.new_store().await;
    let theirs = app.new_store().await;
    let mut me = owner(&app, &mine, &email("me")).await;
    let mut them = owner(&app, &theirs, &email("them")).await;
    let page = keys_page(&mine, "test");
    let keys_before = app.get("/api_keys", &mine.test).await.data().as_array().unwrap().len();

    // No session, a made-up one, or an API key: to the sign-in page, nothing shown.
    let mut stranger = Browser::new(&app);
    assert_eq!(stranger.get(&page).await.location, "/dashboard/sign-in");
    stranger.cookie = Some(format!("{}.{}", sellvy_models::id::OwnerId::new(), "x".repeat(43)));
    assert_eq!(stranger.get(&page).await.location, "/dashboard/sign-in");
    let with_key = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{page}", me.origin))
        .bearer_auth(&mine.live)
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), StatusCode::SEE_OTHER, "an API key never opens the dashboard");
    let posted = stranger.post(&page, &[("csrf", "x"), ("name", "Evil"), ("access", "full")]).await;
    assert_eq!(posted.location, "/dashboard/sign-in");

    // A session never authenticates the API.
    let api = reqwest::Client::new()
        .get(format!("{}/products", app.base))
        .header(COOKIE, format!("sellvy_session={}", me.cookie.clone().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);

    // Another store's owner: not found, as if it did not exist; nor can they post there.
    assert_eq!(them.get(&page).await.status, 404);
    let their_csrf = them.get(&keys_page(&theirs, "test")).await.input("csrf");
    assert_eq!(
        them.post(&page, &[("csrf", &their_csrf), ("name", "Evil"), ("access", "full")]).await.status,
        404
    );
    // A mode that is not one, a store that does not exist.
    assert_eq!(
        me.get(&format!("/dashboard/{}/prod/settings/integrations/api-keys", mine.store_id)).await.status,
        404
    );
    assert_eq!(me.get(&keys_page(&theirs, "test")).await.status, 404);

    // A form without this session's CSRF token changes nothing.
    let missing = me.post(&page, &[("name", "Evil"), ("access", "full")]).await;
    assert_eq!(missing.status, 403);
    let forged = me.post(&page, &[("csrf", &their_csrf), ("name", "Evil"), ("access", "full")]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(app.get("/api_keys", &mine.test).await.data().as_array().unwrap().len(), keys_before);

    // An expired session is no session.
    let (owner_id, _) = read_session_cookie(me.cookie.as_deref().unwrap()).unwrap();
    let (mut old, cookie) = Session::issue(&owner_id, Timestamp::now().plus_seconds(-SESSION_SECS - 1));
    old.ends_at = Timestamp::now().plus_seconds(-1);
    app.db.put_session(&old).await.unwrap();
    let mut expired = Browser::new(&app);
    expired.cookie = Some(cookie);
    assert_eq!(expired.get(&page).await.location, "/dashboard/sign-in");

    // Signed out: the cookie no longer opens anything, even if kept.
    let kept = me.cookie.clone();
    let csrf = me.get(&page).await.input("csrf");
    let out = me.post("/dashboard/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.location, "/dashboard/sign-in");
    assert!(out.set_cookie.contains("Max-Age=0"));
    me.cookie = kept;
    assert_eq!(me.get(&page).await.location, "/dashboard/sign-in");
}

#[tokio::test]
async fn signing_in_and_out_everywhere() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let both = email("both");
    let _first = owner(&app, &store, &both).await;
    let mut phone = Browser::new(&app);
    let wrong = phone.post("/dashboard/sign-in", &[("email", &both), ("password", "not it at all")]).await;
    let unknown =
        phone.post("/dashboard/sign-in", &[("email", &email("nobody")), ("password", "not it at all")]).await;
    assert_eq!((wrong.status, unknown.status), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert!(
        wrong.html.contains("do not match an account") && unknown.html.contains("do not match an account")
    );
    assert!(phone.cookie.is_none());
    // An "email" far past what an account may have (past DynamoDB's 2 KB key) is just wrong.
    let long = phone.post("/dashboard/sign-in", &[("email", &"a".repeat(10_000)), ("password", "x")]).await;
    assert_eq!(long.status, StatusCode::UNAUTHORIZED);
    assert!(long.html.contains("do not match an account"));
    let ok = phone
        .post(
            "/dashboard/sign-in",
            &[("email", &format!(" {} ", both.to_uppercase())), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(ok.location, "/dashboard");
    let page = keys_page(&store, "test");
    let mut laptop = Browser::new(&app);
    laptop.post("/dashboard/sign-in", &[("email", &both), ("password", PASSWORD)]).await;
    assert_eq!(laptop.get(&page).await.status, 200);

    let csrf = phone.get(&page).await.input("csrf");
    phone.post("/dashboard/sign-out-everywhere", &[("csrf", &csrf)]).await;
    assert_eq!(laptop.get(&page).await.location, "/dashboard/sign-in", "every session ended");
    // A second store for the same owner: the switcher lists both.
    let second = app.new_store().await;
    sellvy_ops::add_owner(&app.db, &second.store_id, &both, "http://x").await.unwrap();
    laptop.post("/dashboard/sign-in", &[("email", &both), ("password", PASSWORD)]).await;
    let page = laptop.get(&page).await;
    assert!(page.html.contains(second.store_id.as_str()), "the store switcher lists the second store");
    let switched = laptop.get(&format!("/dashboard/switch?store={}", second.store_id)).await;
    assert_eq!(switched.location, format!("/dashboard/{}/test", second.store_id));
}

#[tokio::test]
async fn failed_sign_ins_slow_the_guesser_not_the_owner() {
    let clock = sellvy_app::Clock::manual(Timestamp::now().millis() * 1000);
    let app = TestApp::builder().clock(clock.clone()).spawn().await;
    let store = app.new_store().await;
    let address = email("guessed");
    let _owner = owner(&app, &store, &address).await;
    let mut guesser = Browser::new(&app);
    let guess = |password: &'static str| [("email", address.clone()), ("password", password.to_string())];
    for _ in 0..3 {
        let r = guesser.post_owned("/dashboard/sign-in", &guess("wrong guess")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the first failures are free");
    }
    // After the third, the next try waits a second (then two, four, … up to 15 minutes).
    let held = guesser.post_owned("/dashboard/sign-in", &guess(PASSWORD)).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert_eq!(held.headers["retry-after"], "1");
    assert!(held.html.contains("try again in 1 seconds") && guesser.cookie.is_none());
    clock.advance(1_000_000);
    assert_eq!(guesser.post_owned("/dashboard/sign-in", &guess("wrong guess")).await.status, 401);
    assert_eq!(guesser.post_owned("/dashboard/sign-in", &guess(PASSWORD)).await.headers["retry-after"], "2");

    // Meanwhile the owner, from their own address, signs in at once: a throttle, not a lockout.
    let mut owner_browser = Browser::new(&app);
    let ok = owner_browser.post_owned("/dashboard/sign-in", &guess(PASSWORD)).await;
    assert_eq!(ok.location, "/dashboard");

    // Once the wait is over, the right password works, and the failures are forgotten.
    clock.advance(2_000_000);
    assert_eq!(guesser.post_owned("/dashboard/sign-in", &guess(PASSWORD)).await.location, "/dashboard");
    for _ in 0..3 {
        assert_eq!(guesser.post_owned("/dashboard/sign-in", &guess("wrong guess")).await.status, 401);
    }
}

fn hooks_page(store: &StoreKeys, mode: &str) -> String {
    format!("/dashboard/{}/{mode}/settings/integrations/webhooks", store.store_id)
}

#[tokio::test]
async fn webhook_endpoints_are_added_changed_and_deleted_from_the_dashboard() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let mut b = owner(&app, &store, &email("hooks")).await;
    let page = b.get(&hooks_page(&store, "test")).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("No endpoints in this mode yet"));
    let (csrf, nonce) = (page.input("csrf"), page.input("nonce"));

    // Nothing ticked: the form says so, and the nonce is not spent.
    let none = b
        .post(
            &hooks_page(&store, "test"),
            &[("csrf", &csrf), ("nonce", &nonce), ("url", "http://127.0.0.1:9/hook")],
        )
        .await;
    assert_eq!(none.status, 422);
    assert!(none.html.contains("Events must name at least one event type"), "{}", none.html);
    assert!(none.html.contains("value=\"http://127.0.0.1:9/hook\""), "what was sent is kept");

    let form = [
        ("csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("url", "http://127.0.0.1:9/hook"),
        ("description", "Fulfilment"),
        ("event", "order.completed"),
        ("event", "order.refunded"),
    ];
    let added = b.post(&hooks_page(&store, "test"), &form).await;
    assert_eq!(added.status, 201, "{}", added.html);
    let secret = added.secret();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(b.post(&hooks_page(&store, "test"), &form).await.status, 409, "a resent form adds nothing");
    let listed = app.get("/webhook_endpoints", &store.test).await;
    let endpoint = &listed.data()[0];
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
    assert_eq!(endpoint["events"], serde_json::json!(["order.completed", "order.refunded"]));
    assert_eq!(endpoint["description"], "Fulfilment");
    let id = endpoint["id"].as_str().unwrap().to_string();
    let at = |action: &str| format!("{}/{id}/{action}", hooks_page(&store, "test"));
    let shown = b.get(&hooks_page(&store, "test")).await;
    assert!(
        shown.html.contains("http://127.0.0.1:9/hook") && !shown.html.contains(&secret),
        "the secret is shown once"
    );

    assert_eq!(b.post(&at("disable"), &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/webhook_endpoints/{id}"), &store.test).await.data()["enabled"], false);
    b.post(&at("enable"), &[("csrf", &csrf)]).await;
    assert_eq!(app.get(&format!("/webhook_endpoints/{id}"), &store.test).await.data()["enabled"], true);

    let rotated = b.post(&at("rotate"), &[("csrf", &csrf)]).await;
    let new_secret = rotated.secret();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    let edited = b
        .post(
            &at("edit"),
            &[("csrf", &csrf), ("url", "http://127.0.0.1:9/v2"), ("description", ""), ("all_events", "on")],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.html);
    let got = app.get(&format!("/webhook_endpoints/{id}"), &store.test).await;
    assert_eq!(
        (got.data()["url"].as_str(), got.data()["events"].clone()),
        (Some("http://127.0.0.1:9/v2"), serde_json::json!(["*"]))
    );

    // Refusals of the API's own rules show on the form: a live endpoint must be https.
    let live = b.get(&hooks_page(&store, "live")).await;
    let refused = b
        .post(
            &hooks_page(&store, "live"),
            &[
                ("csrf", &csrf),
                ("nonce", &live.input("nonce")),
                ("url", "http://127.0.0.1:9/hook"),
                ("all_events", "on"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("URL must be an https URL"), "{}", refused.html);
    // A live endpoint's secret is shown after the password, at creation and at rotation.
    let live_hook = |password: &'static str, nonce: String| {
        [
            ("csrf", csrf.clone()),
            ("nonce", nonce),
            ("url", "https://127.0.0.1:9/hook".to_string()),
            ("all_events", "on".to_string()),
            ("password", password.to_string()),
        ]
    };
    let asked = b.post_owned(&hooks_page(&store, "live"), &live_hook("", refused.input("nonce"))).await;
    assert_eq!(asked.status, 422);
    assert!(asked.html.contains("Password is not your password"));
    let made = b.post_owned(&hooks_page(&store, "live"), &live_hook(PASSWORD, asked.input("nonce"))).await;
    assert_eq!(made.status, 201, "{}", made.html);
    let live_id =
        app.get("/webhook_endpoints", &store.live).await.data()[0]["id"].as_str().unwrap().to_string();
    let rotate = format!("{}/{live_id}/rotate", hooks_page(&store, "live"));
    let unasked = b.post(&rotate, &[("csrf", &csrf)]).await;
    assert_eq!(unasked.status, 422);
    assert!(!unasked.html.contains("id=\"new-secret\""));
    assert!(b.post(&rotate, &[("csrf", &csrf), ("password", PASSWORD)]).await.secret().starts_with("whsec_"));

    // Another owner, or a form without the token, changes nothing.
    let mut them = owner(&app, &app.new_store().await, &email("other")).await;
    assert_eq!(them.get(&hooks_page(&store, "test")).await.status, 404);
    assert_eq!(b.post(&at("delete"), &[]).await.status, 403);
    assert_eq!(app.get("/webhook_endpoints", &store.test).await.data().as_array().unwrap().len(), 1);
    assert_eq!(b.post(&at("delete"), &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/webhook_endpoints", &store.test).await.data().as_array().unwrap().len(), 0);
    assert_eq!(b.post(&at("delete"), &[("csrf", &csrf)]).await.status, 404);
}

fn logs_page(store: &StoreKeys, mode: &str) -> String {
    format!("/dashboard/{}/{mode}/settings/integrations/webhook-logs", store.store_id)
}

#[tokio::test]
async fn the_webhook_log_lists_filters_shows_and_retries_deliveries() {
    // Two automatic attempts, so a delivery fails within a second or two.
    let app = TestApp::builder()
        .webhooks(WebhookSettings { ladder: Ladder::millis(&[0, 100]), ..WebhookSettings::default() })
        .spawn()
        .await;
    let store = app.new_store().await;
    let receiver = Receiver::start().await;
    receiver.always(500, "receiver down", Duration::ZERO);
    let hook = app
        .post(
            "/webhook_endpoints",
            &store.test,
            json!({"url": receiver.url, "events": ["product.created", "product.updated"]}),
        )
        .await;
    let hook_id = hook.data()["id"].as_str().unwrap().to_string();
    let quiet = app
        .post(
            "/webhook_endpoints",
            &store.test,
            json!({"url": "http://127.0.0.1:9/quiet", "events": ["order.created"]}),
        )
        .await;
    let quiet_id = quiet.data()["id"].as_str().unwrap().to_string();
    let product =
        app.product(&store.test, json!({"title": "Logged goods", "type": "service", "price": 1})).await;
    let product_path = format!("/products/{}", product["id"].as_str().unwrap());
    app.patch(&product_path, &store.test, json!({"price": 2})).await;
    let failed = || async {
        app.get("/webhook_deliveries?status=failed", &store.test).await.data().as_array().unwrap().len() == 2
    };
    assert!(eventually(Duration::from_secs(20), failed).await, "both deliveries fail");

    let mut b = owner(&app, &store, &email("logs")).await;
    let log = b.get(&logs_page(&store, "test")).await;
    assert_eq!(log.status, 200, "{}", log.html);
    assert!(log.html.contains("2 deliveries, newest first"), "{}", log.html);
    assert_eq!(log.html.matches("data-status=\"failed\"").count(), 2);
    assert!(log.html.contains(&receiver.url));
    let (updated, created) = (
        log.html.find("<td data-label=\"Event\">product.updated</td>").unwrap(),
        log.html.find("<td data-label=\"Event\">product.created</td>").unwrap(),
    );
    assert!(updated < created, "newest first");

    // Filters: by type, status and endpoint; a bad one is named.
    let filtered = |q: &str| format!("{}?{q}", logs_page(&store, "test"));
    assert!(b.get(&filtered("type=product.created")).await.html.contains("1 delivery, newest first"));
    let none = b.get(&filtered("status=delivered")).await;
    assert!(none.html.contains("0 deliveries") && none.html.contains("No deliveries match."));
    assert!(b.get(&filtered(&format!("endpoint_id={quiet_id}"))).await.html.contains("0 deliveries"));
    assert!(
        b.get(&filtered(&format!("endpoint_id={hook_id}&status=failed"))).await.html.contains("2 deliveries")
    );
    let bad = b.get(&filtered("status=lost")).await;
    assert_eq!(bad.status, 422);
    assert!(bad.html.contains("Status must be one of scheduled, sending, delivered, failed"), "{}", bad.html);

    // A delivery's page: its payload and every attempt with the receiver's answer.
    let first = app.get("/webhook_deliveries?type=product.created", &store.test).await;
    let id = first.data()[0]["id"].as_str().unwrap().to_string();
    let shown = b.get(&format!("{}/{id}", logs_page(&store, "test"))).await;
    assert_eq!(shown.status, 200);
    assert!(shown.html.contains("Logged goods"), "the payload is shown");
    assert!(
        shown.html.contains("receiver down")
            && shown.html.contains("<td data-label=\"Status code\">500</td>")
    );
    assert!(shown.html.contains("data-attempt=\"1\"") && shown.html.contains("data-attempt=\"2\""));
    assert!(shown.html.contains("Retry now"));

    // Nobody else sees it: not another owner, not the other mode, not without a session.
    let mut them = owner(&app, &app.new_store().await, &email("nosy")).await;
    assert_eq!(them.get(&format!("{}/{id}", logs_page(&store, "test"))).await.status, 404);
    assert_eq!(them.get(&logs_page(&store, "test")).await.status, 404);
    assert_eq!(b.get(&format!("{}/{id}", logs_page(&store, "live"))).await.status, 404);
    assert_eq!(b.get(&format!("{}/whd_nothing", logs_page(&store, "test"))).await.status, 404);
    let retry = format!("{}/{id}/retry", logs_page(&store, "test"));
    assert_eq!(Browser::new(&app).post(&retry, &[("csrf", "x")]).await.location, "/dashboard/sign-in");
    let csrf = shown.input("csrf");
    assert_eq!(them.post(&retry, &[("csrf", "x")]).await.status, 404);
    assert_eq!(b.post(&retry, &[]).await.status, 403, "no CSRF token, no retry");
    assert_eq!(receiver.received().len(), 4, "nothing was sent by the refused retries");

    // Retry now: the receiver is back, the attempt is made while the page waits.
    receiver.always(200, "thanks", Duration::ZERO);
    let retried = b.post(&retry, &[("csrf", &csrf)]).await;
    assert_eq!(retried.status, 200, "{}", retried.html);
    assert!(retried.html.contains("Attempt 3 delivered (200)."), "{}", retried.html);
    assert!(retried.html.contains("(by hand)"));
    assert_eq!(
        app.get(&format!("/webhook_deliveries/{id}"), &store.test).await.data()["status"],
        "delivered"
    );
    assert_eq!(receiver.received().len(), 5);

    // Retry all failed since…: the other failed delivery of the endpoint.
    let all = format!("{}/retry-failed", logs_page(&store, "test"));
    let unreadable =
        b.post(&all, &[("csrf", &csrf), ("endpoint_id", &hook_id), ("since", "yesterday")]).await;
    assert_eq!(unreadable.status, 422);
    assert!(unreadable.html.contains("Since must be a date and time"));
    let since = Timestamp::now().plus_seconds(-3600).to_rfc3339()[..16].to_string();
    let unknown = b.post(&all, &[("csrf", &csrf), ("endpoint_id", "we_nothing"), ("since", &since)]).await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.html.contains("Endpoint does not exist"));
    let queued = b.post(&all, &[("csrf", &csrf), ("endpoint_id", &hook_id), ("since", &since)]).await;
    assert_eq!(queued.status, 200, "{}", queued.html);
    assert!(queued.html.contains("Queued 1 failed delivery to"), "{}", queued.html);
    let delivered = || async {
        app.get("/webhook_deliveries?status=delivered", &store.test).await.data().as_array().unwrap().len()
            == 2
    };
    assert!(eventually(Duration::from_secs(10), delivered).await, "the queued retry delivers it");
    assert_eq!(receiver.received().len(), 6);
}

#[tokio::test]
async fn store_settings_are_saved_per_mode_with_the_apis_rules() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let mut b = owner(&app, &store, &email("settings")).await;
    let path = format!("/dashboard/{}/test/settings/store", store.store_id);
    let page = b.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("value=\"UTC\""), "UTC until chosen");
    let csrf = page.input("csrf");

    // Every bad field is named next to it, and nothing is saved.
    let bad = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "Renamed shop"),
                ("time_zone", "Mars/Olympus_Mons"),
                ("allowed_origins", "https://shop.example.com\nftp://nope"),
                ("blocked_countries", "KP, France"),
                ("blocked_ips", "203.0.113.0/24"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.html);
    for said in [
        "Time zone must be an IANA time zone name",
        "Allowed origins item 2: must be an origin",
        "Blocked countries item 2: must be a country code",
    ] {
        assert!(bad.html.contains(said), "{said} in {}", bad.html);
    }
    assert!(bad.html.contains("ftp://nope"), "what was sent is kept");
    assert_eq!(app.get("/store", &store.test).await.data()["allowed_origins"], json!([]));
    assert_ne!(app.get("/store", &store.live).await.data()["name"], "Renamed shop");

    // Saved from test mode: the name and time zone are the store's, the rest test mode's own.
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Renamed shop"),
        ("time_zone", "asia/kolkata"),
        ("allowed_origins", "https://shop.example.com\n\nhttps://www.example.com:8443"),
        ("blocked_countries", "kp, ir"),
        ("blocked_ips", "203.0.113.0/24\n2001:db8::/32"),
    ];
    let saved = b.post(&path, &form).await;
    assert_eq!(
        (saved.status, saved.location.as_str()),
        (StatusCode::SEE_OTHER, format!("{path}?saved=1").as_str())
    );
    assert!(b.get(&saved.location).await.html.contains("Saved."));
    let test = app.get("/store", &store.test).await;
    assert_eq!(
        test.data()["allowed_origins"],
        json!(["https://shop.example.com", "https://www.example.com:8443"])
    );
    assert_eq!(test.data()["blocked_countries"], json!(["KP", "IR"]));
    assert_eq!(test.data()["blocked_ips"], json!(["203.0.113.0/24", "2001:db8::/32"]));
    let live = app.get("/store", &store.live).await;
    assert_eq!(
        (live.data()["name"].as_str(), live.data()["time_zone"].as_str()),
        (Some("Renamed shop"), Some("Asia/Kolkata"))
    );
    assert_eq!(live.data()["allowed_origins"], json!([]), "live mode's own settings are untouched");
    assert_eq!(live.data()["blocked_countries"], json!([]));

    // The most the API takes fits the form: 500 addresses (long IPv6 ranges), 250 countries.
    let many_ips: Vec<String> =
        (0..500).map(|n| format!("2001:db8:{n:x}:ffff:ffff:ffff:ffff:0/112")).collect();
    let countries: Vec<String> = (0..250)
        .map(|n| format!("{}{}", (b'A' + (n / 26) as u8) as char, (b'A' + (n % 26) as u8) as char))
        .collect();
    let biggest = b
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Renamed shop"),
                ("time_zone", "Asia/Kolkata"),
                ("allowed_origins", ""),
                ("blocked_countries", &countries.join(", ")),
                ("blocked_ips", &many_ips.join("\n")),
            ],
        )
        .await;
    assert_eq!(biggest.status, StatusCode::SEE_OTHER, "{}", biggest.html);
    assert_eq!(app.get("/store", &store.test).await.data()["blocked_ips"].as_array().unwrap().len(), 500);

    // Another owner, or a form without the token, changes nothing.
    let mut them = owner(&app, &app.new_store().await, &email("settings-other")).await;
    assert_eq!(them.post(&path, &form).await.status, 404);
    assert_eq!(b.post(&path, &[("name", "Hijacked"), ("time_zone", "UTC")]).await.status, 403);
    assert_eq!(app.get("/store", &store.live).await.data()["name"], "Renamed shop");
}

#[tokio::test]
async fn the_home_page_charts_the_last_30_days_and_lists_what_needs_attention() {
    let app = TestApp::builder()
        .webhooks(WebhookSettings { ladder: Ladder::millis(&[0]), ..WebhookSettings::default() })
        .spawn()
        .await;
    let store = app.new_store().await;
    let mut b = owner(&app, &store, &email("home")).await;
    let home = format!("/dashboard/{}/test", store.store_id);
    let empty = b.get(&home).await;
    assert_eq!(empty.status, 200, "{}", empty.html);
    assert!(empty.html.contains("No payments or refunds in these days yet."));
    assert!(empty.html.contains("No orders in this mode yet."));

    // A receiver that is down, two paid orders (one partly refunded), one unpaid.
    let receiver = Receiver::start().await;
    receiver.always(500, "down", Duration::ZERO);
    app.post("/webhook_endpoints", &store.test, json!({"url": receiver.url, "events": ["order.refunded"]}))
        .await;
    let pk = app.publishable_key(&store.test).await;
    let product = app.product(&store.test, json!({"title": "Lessons", "type": "service", "price": 40})).await;
    let mut paid = Vec::new();
    for n in 0..3 {
        let body = json!({"product_id": product["id"], "quantity": 1, "email": format!("home{n}@example.com"), "gateway": "stripe"});
        let r = app.post("/storefront/checkout", &pk, body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        if n == 2 {
            continue;
        }
        let (id, token) =
            (r.data()["order"]["id"].as_str().unwrap(), r.data()["access_token"].as_str().unwrap());
        let path = format!("/storefront/orders/{id}/sandbox_payment?token={token}");
        let done =
            app.call(reqwest::Method::POST, &path, Some(&pk), Some(&json!({"outcome": "succeeded"}))).await;
        assert_eq!(done.status, 200, "{}", done.body);
        paid.push(id.to_string());
    }
    let refund = app.post(&format!("/orders/{}/refund", paid[0]), &store.test, json!({"amount": 15})).await;
    assert_eq!(refund.status, 200, "{}", refund.body);
    let failed = || async {
        app.get("/webhook_deliveries?status=failed", &store.test).await.data().as_array().unwrap().len() == 1
    };
    assert!(eventually(Duration::from_secs(10), failed).await);

    let shown = b.get(&home).await;
    assert_eq!(shown.status, 200);
    let html = &shown.html;
    assert!(html.contains("data-currency=\"USD\""), "{html}");
    assert!(html.contains("<strong>2</strong> orders · <strong>80.00 USD</strong> revenue · <strong>15.00 USD</strong> refunds"), "{html}");
    assert_eq!(html.matches("<rect class=\"revenue\"").count(), 30, "a bar a day");
    let stats = app.get("/stats", &store.test).await;
    let today = stats.data()["to"].as_str().unwrap();
    assert!(
        html.contains(&format!(
            "<tr data-day=\"{today}\"><td>{today}</td><td>2</td><td>80.00 USD</td><td>15.00 USD</td></tr>"
        )),
        "today's row: {html}"
    );
    assert!(html.contains("ORD-"), "the latest orders");
    assert!(
        html.contains("home2@example.com") && html.contains("3 orders in all."),
        "unpaid orders are listed too"
    );
    assert!(html.contains("1 failed delivery needs attention."), "{html}");
    assert!(html.contains("order.refunded of "));

    // The other mode has its own figures; another owner sees nothing.
    let live = b.get(&format!("/dashboard/{}/live", store.store_id)).await;
    assert!(
        live.html.contains("No payments or refunds in these days yet.") && live.html.contains("LIVE MODE")
    );
    let mut them = owner(&app, &app.new_store().await, &email("home-other")).await;
    assert_eq!(them.get(&home).await.status, 404);
}

/// A code `secret` does not make around `now`.
fn wrong_code(secret: &str, now: Timestamp) -> String {
    let now = totp::step_at(now);
    let current: Vec<String> = (now - 2..=now + 2).map(|s| totp::code_at(secret, s).unwrap()).collect();
    (0..10).map(|d| format!("{d}{d}{d}{d}{d}{d}")).find(|c| !current.contains(c)).unwrap()
}

#[tokio::test]
async fn a_new_password_ends_other_sessions_and_a_second_factor_guards_sign_in() {
    // Codes go by the app's clock, moved by the test: each use of a code is a step later.
    let clock = sellvy_app::Clock::manual(Timestamp::now().millis() * 1000);
    let app = TestApp::builder().clock(clock.clone()).spawn().await;
    let tick = || clock.advance(totp::STEP_SECS * 1_000_000);
    let store = app.new_store().await;
    let mail = email("factor");
    let mut b = owner(&app, &store, &mail).await;
    let mut elsewhere = Browser::new(&app);
    elsewhere.post("/dashboard/sign-in", &[("email", &mail), ("password", PASSWORD)]).await;
    assert_eq!(elsewhere.get("/dashboard/account").await.status, 200);

    // A new password: the current one is asked, the rules hold, the form's token is needed.
    let csrf = b.get("/dashboard/account").await.input("csrf");
    let change = "/dashboard/account/password";
    let bad = b
        .post(
            change,
            &[
                ("csrf", &csrf),
                ("current_password", "not it"),
                ("password", "short"),
                ("password_again", "short"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.html.contains("Current password is not your password"), "{}", bad.html);
    assert!(bad.html.contains("New password must be at least 12 characters"));
    const NEW: &str = "an even longer new password";
    let form = [("current_password", PASSWORD), ("password", NEW), ("password_again", NEW)];
    assert_eq!(b.post(change, &form).await.status, 403, "no CSRF token");
    let changed = b.post(change, &[&form[..], &[("csrf", csrf.as_str())]].concat()).await;
    assert_eq!(changed.location, "/dashboard/account?done=password");
    assert!(changed.set_cookie.contains("HttpOnly"), "this browser gets a new session");
    assert!(b.get(&changed.location).await.html.contains("Your password was changed"));
    assert_eq!(
        elsewhere.get("/dashboard/account").await.location,
        "/dashboard/sign-in",
        "other sessions end"
    );
    let mut again = Browser::new(&app);
    assert_eq!(
        again.post("/dashboard/sign-in", &[("email", &mail), ("password", PASSWORD)]).await.status,
        401
    );
    assert_eq!(
        again.post("/dashboard/sign-in", &[("email", &mail), ("password", NEW)]).await.location,
        "/dashboard"
    );

    // The second factor: set up with the password, confirmed with a code of the new secret.
    let csrf = b.get("/dashboard/account").await.input("csrf");
    let refused = b.post("/dashboard/account/totp/start", &[("csrf", &csrf), ("password", "not it")]).await;
    assert_eq!(refused.status, 422);
    let started = b.post("/dashboard/account/totp/start", &[("csrf", &csrf), ("password", NEW)]).await;
    let at = started.html.find("id=\"totp-secret\">").expect("the secret is shown") + 17;
    let secret = started.html[at..at + started.html[at..].find('<').unwrap()].to_string();
    assert!(started.html.contains("otpauth://totp/Sellvy:"));
    let confirm = "/dashboard/account/totp/confirm";
    let wrong = b.post(confirm, &[("csrf", &csrf), ("code", &wrong_code(&secret, clock.now()))]).await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.html.contains("is not the app&#x27;s current code")
            || wrong.html.contains("is not the app's current code")
    );
    let code = |offset: i64| totp::code_at(&secret, totp::step_at(clock.now()) + offset).unwrap();
    let on = b.post(confirm, &[("csrf", &csrf), ("code", &code(0))]).await;
    assert_eq!(on.location, "/dashboard/account?done=totp-on", "{}", on.html);
    assert!(on.set_cookie.contains("HttpOnly"), "sessions opened without the factor end; this one is new");
    let on_again = b.post("/dashboard/account/totp/start", &[("csrf", &csrf), ("password", NEW)]).await;
    assert_eq!(on_again.status, 403, "the old session's token is gone with it");
    let csrf = b.get("/dashboard/account").await.input("csrf");
    let replace = b.post("/dashboard/account/totp/start", &[("csrf", &csrf), ("password", NEW)]).await;
    assert_eq!(replace.status, 409, "a factor that is on is not replaced without turning it off");
    assert!(!replace.html.contains("id=\"totp-secret\""));

    // A live key takes a code instead of the password.
    let live = keys_page(&store, "live");
    let page = b.get(&live).await;
    assert!(page.html.contains("Your password or a code from your authenticator app"));
    tick();
    let code_now = code(0);
    let made = b
        .post(
            &live,
            &[
                ("csrf", &csrf),
                ("nonce", &page.input("nonce")),
                ("name", "By code"),
                ("access", "full"),
                ("password", &code_now),
            ],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.html);
    let nonce = b.get(&live).await.input("nonce");
    let replayed_key = b
        .post(
            &live,
            &[
                ("csrf", &csrf),
                ("nonce", &nonce),
                ("name", "Again"),
                ("access", "full"),
                ("password", &code_now),
            ],
        )
        .await;
    assert_eq!(replayed_key.status, 422, "a code proves once");

    // Sign-in now asks for a code after the password; a code works once.
    let mut phone = Browser::new(&app);
    let first = phone.post("/dashboard/sign-in", &[("email", &mail), ("password", NEW)]).await;
    assert_eq!(first.status, 200);
    assert!(
        first.html.contains("Enter your code") && phone.cookie.is_none(),
        "no session from the password alone"
    );
    let challenge = first.input("challenge");
    let no = phone
        .post(
            "/dashboard/sign-in/code",
            &[("challenge", &challenge), ("code", &wrong_code(&secret, clock.now()))],
        )
        .await;
    assert_eq!(no.status, 401);
    assert!(phone.cookie.is_none());
    tick();
    let next = code(0);
    let yes = phone.post("/dashboard/sign-in/code", &[("challenge", &challenge), ("code", &next)]).await;
    assert_eq!(yes.location, "/dashboard", "{}", yes.html);
    assert!(phone.cookie.is_some());
    let mut replay = Browser::new(&app);
    let challenge =
        replay.post("/dashboard/sign-in", &[("email", &mail), ("password", NEW)]).await.input("challenge");
    let replayed =
        replay.post("/dashboard/sign-in/code", &[("challenge", &challenge), ("code", &next)]).await;
    assert_eq!(replayed.status, 401, "a code is used once");
    assert!(replay.cookie.is_none());

    // A challenge takes 5 wrong codes, from wherever they come; then even a right one is late.
    let mut guesser = Browser::new(&app);
    let challenge =
        guesser.post("/dashboard/sign-in", &[("email", &mail), ("password", NEW)]).await.input("challenge");
    for _ in 0..5 {
        let mut from = Browser::new(&app);
        from.post(
            "/dashboard/sign-in/code",
            &[("challenge", &challenge), ("code", &wrong_code(&secret, clock.now()))],
        )
        .await;
    }
    let late = code(1);
    let expired =
        guesser.post("/dashboard/sign-in/code", &[("challenge", &challenge), ("code", &late)]).await;
    assert!(expired.html.contains("enter your password again"), "{}", expired.html);
    assert!(guesser.cookie.is_none());

    // Turned off with the password and a code: sign-in takes the password alone again.
    let csrf = b.get("/dashboard/account").await.input("csrf");
    let off = "/dashboard/account/totp/disable";
    let half =
        b.post(off, &[("csrf", &csrf), ("password", NEW), ("code", &wrong_code(&secret, clock.now()))]).await;
    assert_eq!(half.status, 422);
    tick();
    let code_now = code(0);
    assert_eq!(
        b.post(off, &[("csrf", &csrf), ("password", NEW), ("code", &code_now)]).await.location,
        "/dashboard/account?done=totp-off"
    );
    let mut plain = Browser::new(&app);
    assert_eq!(
        plain.post("/dashboard/sign-in", &[("email", &mail), ("password", NEW)]).await.location,
        "/dashboard"
    );

    // An owner who lost their app: the operator's setup link sets a new password and turns the
    // second factor off.
    let csrf = b.get("/dashboard/account").await.input("csrf");
    b.post("/dashboard/account/totp/start", &[("csrf", &csrf), ("password", NEW)]).await;
    let pending = app.db.owner_by_email(&mail).await.unwrap().unwrap().totp_pending.unwrap();
    let pending_code = totp::code_at(&pending, totp::step_at(clock.now())).unwrap();
    b.post("/dashboard/account/totp/confirm", &[("csrf", &csrf), ("code", &pending_code)]).await;
    assert!(app.db.owner_by_email(&mail).await.unwrap().unwrap().totp.is_some());
    let mut lost = Browser::new(&app);
    let link = sellvy_ops::issue_setup_link(&app.db, &mail, &lost.origin).await.unwrap();
    let path = link["setup_link"].as_str().unwrap().trim_start_matches(&lost.origin).to_string();
    let reset = lost.post(&path, &[("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!(reset.location, "/dashboard");
    assert!(app.db.owner_by_email(&mail).await.unwrap().unwrap().totp.is_none());
    let mut back = Browser::new(&app);
    assert_eq!(
        back.post("/dashboard/sign-in", &[("email", &mail), ("password", PASSWORD)]).await.location,
        "/dashboard"
    );
}

#[tokio::test]
async fn every_dashboard_route_refuses_what_is_not_a_session_of_its_owner() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let mail = email("matrix");
    let mut me = owner(&app, &store, &mail).await;
    let mut them = owner(&app, &app.new_store().await, &email("matrix-other")).await;
    let key_id = app.get("/api_keys", &store.test).await.data()[0]["id"].as_str().unwrap().to_string();
    let hook = app
        .post("/webhook_endpoints", &store.test, json!({"url": "http://127.0.0.1:9/m", "events": ["*"]}))
        .await;
    let hook_id = hook.data()["id"].as_str().unwrap().to_string();
    let base = format!("/dashboard/{}/test", store.store_id);
    let store_gets = [
        base.clone(),
        format!("{base}/settings/store"),
        format!("{base}/settings/integrations/api-keys"),
        format!("{base}/settings/integrations/webhooks"),
        format!("{base}/settings/integrations/webhook-logs"),
        format!("{base}/settings/integrations/webhook-logs/whd_00000000000000000000000000"),
        format!("{base}/reviews"),
        format!("{base}/subscriptions"),
    ];
    let store_posts = [
        format!("{base}/settings/store"),
        format!("{base}/settings/integrations/api-keys"),
        format!("{base}/settings/integrations/api-keys/{key_id}/revoke"),
        format!("{base}/settings/integrations/webhooks"),
        format!("{base}/settings/integrations/webhooks/{hook_id}/delete"),
        format!("{base}/settings/integrations/webhooks/{hook_id}/disable"),
        format!("{base}/settings/integrations/webhooks/{hook_id}/rotate"),
        format!("{base}/settings/integrations/webhook-logs/retry-failed"),
        format!("{base}/settings/integrations/webhook-logs/whd_00000000000000000000000000/retry"),
        format!("{base}/reviews/rev_00000000000000000000000000/hide"),
        format!("{base}/reviews/rev_00000000000000000000000000/reply"),
        format!("{base}/subscriptions/sub_00000000000000000000000000/cancel"),
    ];
    let account_posts = [
        "/dashboard/account/password",
        "/dashboard/account/totp/start",
        "/dashboard/account/totp/confirm",
        "/dashboard/account/totp/disable",
        "/dashboard/sign-out",
        "/dashboard/sign-out-everywhere",
    ];
    let form = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("name", "Changed".to_string()),
            ("time_zone", "UTC".to_string()),
            ("access", "full".to_string()),
            ("nonce", sellvy_models::id::random_base62(32)),
            ("url", "http://127.0.0.1:9/evil".to_string()),
            ("all_events", "on".to_string()),
            ("endpoint_id", hook_id.clone()),
            ("since", "2026-01-01T00:00".to_string()),
            ("current_password", PASSWORD.to_string()),
            ("password", PASSWORD.to_string()),
            ("password_again", PASSWORD.to_string()),
            ("code", "123456".to_string()),
        ]
    };

    // Without a session (none, made up, expired) or with an API key: to the sign-in page.
    let (owner_id, _) = read_session_cookie(me.cookie.as_deref().unwrap()).unwrap();
    let (mut old, expired_cookie) =
        Session::issue(&owner_id, Timestamp::now().plus_seconds(-SESSION_SECS - 1));
    old.ends_at = Timestamp::now().plus_seconds(-1);
    app.db.put_session(&old).await.unwrap();
    let made_up = format!("{owner_id}.{}", "x".repeat(43));
    for cookie in [None, Some(made_up), Some(expired_cookie)] {
        let mut b = Browser::new(&app);
        b.cookie = cookie.clone();
        for path in store_gets.iter().map(String::as_str).chain(["/dashboard/account", "/dashboard"]) {
            assert_eq!(b.get(path).await.location, "/dashboard/sign-in", "GET {path} with {cookie:?}");
        }
        for path in store_posts.iter().map(String::as_str).chain(account_posts) {
            assert_eq!(b.post_owned(path, &form("x")).await.location, "/dashboard/sign-in", "POST {path}");
        }
    }
    let keyed = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in &store_gets {
        let r = keyed.get(format!("{}{path}", me.origin)).bearer_auth(&store.test).send().await.unwrap();
        assert_eq!(r.headers()[LOCATION], "/dashboard/sign-in", "an API key on {path}");
    }

    // Another owner: every store route is "not found", with their own valid token too.
    let their_csrf = them.get("/dashboard/account").await.input("csrf");
    for path in &store_gets {
        assert_eq!(them.get(path).await.status, 404, "GET {path}");
    }
    for path in &store_posts {
        assert_eq!(them.post_owned(path, &form(&their_csrf)).await.status, 404, "POST {path}");
    }

    // The owner without the form's token (or with another session's): 403 everywhere.
    for path in store_posts.iter().map(String::as_str).chain(account_posts) {
        assert_eq!(me.post_owned(path, &form("")).await.status, 403, "POST {path} without a token");
        assert_eq!(me.post_owned(path, &form(&their_csrf)).await.status, 403, "POST {path} with theirs");
    }
    // ... and nothing changed.
    assert_eq!(app.get("/api_keys", &store.test).await.data().as_array().unwrap().len(), 1);
    let endpoints = app.get("/webhook_endpoints", &store.test).await;
    assert_eq!(
        (endpoints.data()[0]["url"].as_str(), endpoints.data()[0]["enabled"].as_bool()),
        (Some("http://127.0.0.1:9/m"), Some(true))
    );
    assert_ne!(app.get("/store", &store.live).await.data()["name"], "Changed");
    assert_eq!(me.get(&base).await.status, 200, "still signed in");
    assert!(app.db.owner_by_email(&mail).await.unwrap().unwrap().totp_pending.is_none());
}

#[tokio::test]
async fn reviews_are_replied_to_hidden_and_shown_from_the_dashboard() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app.product(&store.test, json!({"title": "Workshop", "type": "service", "price": 8})).await;
    let r = app
        .post("/storefront/checkout", &pk, json!({"product_id": product["id"], "quantity": 1, "email": "rev@example.com", "gateway": "stripe"}))
        .await;
    let (order, token) =
        (r.data()["order"]["id"].as_str().unwrap(), r.data()["access_token"].as_str().unwrap());
    let paid = json!({"outcome": "succeeded"});
    app.call(
        reqwest::Method::POST,
        &format!("/storefront/orders/{order}/sandbox_payment?token={token}"),
        Some(&pk),
        Some(&paid),
    )
    .await;
    let made = app
        .post(
            &format!("/storefront/orders/{order}/review?token={token}"),
            &pk,
            json!({"rating": 3, "message": "Good but long", "name": "Cy"}),
        )
        .await;
    let id = made.data()["id"].as_str().unwrap().to_string();

    let mut b = owner(&app, &store, &email("reviews")).await;
    let path = format!("/dashboard/{}/test/reviews", store.store_id);
    let page = b.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("1 review, newest first.") && page.html.contains("Good but long"));
    assert!(page.html.contains("rev@example.com"), "the seller sees the buyer's email");
    assert!(b.get(&format!("{path}?rating=5")).await.html.contains("No reviews match."));
    assert!(b.get(&format!("{path}?rating=3")).await.html.contains("1 review"));
    let bad = b.get(&format!("{path}?rating=8")).await;
    assert_eq!(bad.status, 422);
    let csrf = page.input("csrf");
    let act = |what: &str| format!("{path}/{id}/{what}");

    let empty = b.post(&act("reply"), &[("csrf", &csrf), ("message", "  ")]).await;
    assert_eq!(empty.status, 422, "{}", empty.html);
    let replied = b.post(&act("reply"), &[("csrf", &csrf), ("message", "Thanks, Cy!")]).await;
    assert_eq!(replied.location, path);
    let public = |app: &TestApp| {
        let (app, pk, pid) = (app.clone(), pk.clone(), product["id"].as_str().unwrap().to_string());
        async move { app.get(&format!("/storefront/products/{pid}/reviews"), &pk).await }
    };
    assert_eq!(public(&app).await.data()[0]["reply"]["message"], "Thanks, Cy!");
    b.post(&act("hide"), &[("csrf", &csrf)]).await;
    assert_eq!(public(&app).await.body["meta"]["total"], 0, "hidden from buyers");
    assert!(b.get(&path).await.html.contains("<strong>hidden</strong>"));
    b.post(&act("unhide"), &[("csrf", &csrf)]).await;
    assert_eq!(public(&app).await.body["meta"]["total"], 1);
    b.post(&act("remove-reply"), &[("csrf", &csrf)]).await;
    assert!(public(&app).await.data()[0]["reply"].is_null());

    // Another owner, the other mode, a form without the token: nothing.
    let mut them = owner(&app, &app.new_store().await, &email("reviews-other")).await;
    assert_eq!(them.post(&act("hide"), &[("csrf", &csrf)]).await.status, 404);
    assert_eq!(b.post(&act("hide"), &[]).await.status, 403);
    let live = format!("/dashboard/{}/live/reviews/{id}/hide", store.store_id);
    assert_eq!(b.post(&live, &[("csrf", &csrf)]).await.status, 404, "a test review is not in live mode");
    assert_eq!(public(&app).await.body["meta"]["total"], 1);
}

#[tokio::test]
async fn subscriptions_are_listed_filtered_and_cancelled_from_the_dashboard() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let pk = app.publishable_key(&store.test).await;
    let product = app
        .product(
            &store.test,
            json!({"title": "Coaching", "type": "service", "price": 30,
                "recurring": {"interval": "month", "interval_count": 3}}),
        )
        .await;
    let mut ids = Vec::new();
    for buyer in ["one@example.com", "two@example.com"] {
        let r = app
            .post(
                "/storefront/checkout",
                &pk,
                json!({"product_id": product["id"], "quantity": 1, "email": buyer, "gateway": "stripe"}),
            )
            .await;
        let (order, token) =
            (r.data()["order"]["id"].as_str().unwrap(), r.data()["access_token"].as_str().unwrap());
        let paid = app
            .call(
                reqwest::Method::POST,
                &format!("/storefront/orders/{order}/sandbox_payment?token={token}"),
                Some(&pk),
                Some(&json!({"outcome": "succeeded"})),
            )
            .await;
        ids.push(paid.data()["subscription_id"].as_str().unwrap().to_string());
    }

    let mut b = owner(&app, &store, &email("subscriptions")).await;
    let path = format!("/dashboard/{}/test/subscriptions", store.store_id);
    let page = b.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("2 subscriptions, newest first."), "{}", page.html);
    assert!(page.html.contains("30.00 USD every 3 months") && page.html.contains("one@example.com"));
    let only = b.get(&format!("{path}?customer_email=two@example.com")).await;
    assert!(only.html.contains("1 subscription,") && !only.html.contains("one@example.com"));
    assert_eq!(b.get(&format!("{path}?status=paused")).await.status, 422);
    let csrf = page.input("csrf");
    let cancel = |id: &str| format!("{path}/{id}/cancel");

    // At the period's end, with a reason; then the other at once.
    let done = b
        .post(&cancel(&ids[0]), &[("csrf", &csrf), ("when", "period_end"), ("reason", "asked by phone")])
        .await;
    assert_eq!(done.location, path);
    let s = app.get(&format!("/subscriptions/{}", ids[0]), &store.test).await;
    assert_eq!(
        (s.data()["status"].as_str(), s.data()["cancel_at_period_end"].as_bool()),
        (Some("active"), Some(true))
    );
    assert_eq!(s.data()["cancellation"]["reason"], "asked by phone");
    assert!(b.get(&path).await.html.contains("ends at the period"));
    b.post(&cancel(&ids[1]), &[("csrf", &csrf), ("when", "now")]).await;
    let cancelled = b.get(&format!("{path}?status=cancelled")).await;
    assert!(cancelled.html.contains("1 subscription,") && cancelled.html.contains("two@example.com"));
    let again = b.post(&cancel(&ids[1]), &[("csrf", &csrf), ("when", "now")]).await;
    assert_eq!(again.status, 422, "an ended subscription: {}", again.html);
    assert!(again.html.contains("already ended"));

    // Another owner, the other mode, a form without the token: nothing.
    let mut them = owner(&app, &app.new_store().await, &email("subscriptions-other")).await;
    assert_eq!(them.post(&cancel(&ids[0]), &[("csrf", &csrf)]).await.status, 404);
    assert_eq!(b.post(&cancel(&ids[0]), &[]).await.status, 403);
    let live = format!("/dashboard/{}/live/subscriptions/{}/cancel", store.store_id, ids[0]);
    assert_eq!(b.post(&live, &[("csrf", &csrf), ("when", "now")]).await.status, 404);
    let s = app.get(&format!("/subscriptions/{}", ids[0]), &store.test).await;
    assert_eq!(s.data()["status"], "active", "still active until its period ends");
}

#[tokio::test]
async fn a_stolen_session_guesses_the_password_no_faster_than_the_sign_in_page() {
    // Waits are whole seconds: the app's clock stands still, so the first wait is not over by
    // the time the next try comes.
    let clock = sellvy_app::Clock::manual(Timestamp::now().millis() * 1000);
    let app = TestApp::builder().clock(clock).spawn().await;
    let store = app.new_store().await;
    let mut b = owner(&app, &store, &email("stolen")).await;
    let csrf = b.get("/dashboard/account").await.input("csrf");
    let guess = |password: &'static str| [("csrf", csrf.clone()), ("password", password.to_string())];
    // Three free wrong guesses (as at sign-in), then the forms that ask for the password wait.
    for _ in 0..3 {
        let wrong = b.post_owned("/dashboard/account/totp/start", &guess("not the password")).await;
        assert!(wrong.html.contains("is not your password"), "{}", wrong.html);
    }
    let waiting = b.post_owned("/dashboard/account/totp/start", &guess(PASSWORD)).await;
    assert_eq!(waiting.status, 422);
    assert!(
        waiting.html.contains("tried wrong too many times"),
        "even the right one waits: {}",
        waiting.html
    );
    // So does a live key, which takes the same proof.
    let live = keys_page(&store, "live");
    let page = b.get(&live).await;
    let key = b
        .post(
            &live,
            &[
                ("csrf", &csrf),
                ("nonce", &page.input("nonce")),
                ("name", "Thief"),
                ("access", "full"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(key.status, 422);
    assert!(key.html.contains("tried wrong too many times"));
    assert_eq!(app.get("/api_keys", &store.live).await.data().as_array().unwrap().len(), 1, "no key made");
}

#[tokio::test]
async fn guesses_sent_in_parallel_are_throttled_as_if_sent_one_by_one() {
    // The app's clock stands still: no wait runs out during the burst.
    let clock = sellvy_app::Clock::manual(Timestamp::now().millis() * 1000);
    let app = TestApp::builder().clock(clock).spawn().await;
    let store = app.new_store().await;
    let mail = email("burst");
    owner(&app, &store, &mail).await;
    // Twelve wrong passwords at once from one address: no more are checked than one by one
    // would allow (3 free), the others wait.
    let address = Browser::new(&app).http;
    let origin = app.base.trim_end_matches("/v1").to_string();
    let tries = (0..12).map(|n| {
        let (http, origin, mail) = (address.clone(), origin.clone(), mail.clone());
        async move {
            let form = [("email", mail.as_str()), ("password", &format!("wrong guess {n}"))];
            http.post(format!("{origin}/dashboard/sign-in")).form(&form).send().await.unwrap().status()
        }
    });
    let mut set = tokio::task::JoinSet::new();
    for t in tries {
        set.spawn(t);
    }
    let statuses = set.join_all().await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let waited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked + waited, 12, "{statuses:?}");
    assert!(checked <= 3, "{checked} guesses were checked at once: {statuses:?}");
}
