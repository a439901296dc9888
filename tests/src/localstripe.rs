//! The local stack's Stripe emulator (localstripe, started by `infra/local/stack.sh`): each
//! test app is a Stripe account of its own (its own secret key), whose signed callbacks the
//! emulator sends to that app's gateway. What a buyer does in the browser with Stripe.js
//! (enter a card, confirm) is done here through the emulator's API.

use serde_json::Value;

/// A card that pays.
pub const CARD_OK: &str = "4242424242424242";
/// A card that can be saved, but whose charges are declined (Stripe's `4000000000000341`).
pub const CARD_DECLINED_LATER: &str = "4000000000000341";

#[derive(Clone)]
pub struct Localstripe {
    /// The emulator's API base.
    pub base: String,
    /// This app's account.
    pub secret_key: String,
    pub webhook_secret: String,
    http: reqwest::Client,
}

impl Localstripe {
    /// A new account on the stack's emulator (`SELLVY_LOCALSTRIPE_PORT`, default 8420).
    pub fn account() -> Localstripe {
        let port = std::env::var("SELLVY_LOCALSTRIPE_PORT").unwrap_or_else(|_| "8420".into());
        Localstripe {
            base: format!("http://127.0.0.1:{port}"),
            secret_key: format!("sk_test_local_{}", sellvy_models::id::random_base62(24)),
            webhook_secret: format!("whsec_local_{}", sellvy_models::id::random_base62(24)),
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.secret_key)
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("localstripe {path}: {e} (is the local stack running?)"));
        r.json().await.expect("localstripe answers JSON")
    }

    /// Sends this account's events to `url`, signed with its webhook secret.
    pub async fn listen(&self, url: &str) {
        let path = format!("/_config/webhooks/{}", self.secret_key);
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&[("url", url), ("secret", self.webhook_secret.as_str())])
            .send()
            .await
            .expect("localstripe is running (infra/local/stack.sh start)");
        assert!(r.status().is_success(), "registering the webhook: {}", r.status());
    }

    /// A card as the buyer enters it in Stripe.js: a payment method (`pm_…`).
    async fn card(&self, number: &str) -> String {
        let card = [
            ("type", "card"),
            ("card[number]", number),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2034"),
            ("card[cvc]", "123"),
        ];
        let pm = self.call(reqwest::Method::POST, "/v1/payment_methods", &card).await;
        pm["id"].as_str().expect("a payment method").to_string()
    }

    /// The buyer enters `card` and confirms the PaymentIntent (what Stripe.js does): its
    /// state afterwards. Stripe's callback follows about a second later.
    pub async fn buyer_pays(&self, payment_intent: &str, card: &str) -> Value {
        let pm = self.card(card).await;
        let path = format!("/v1/payment_intents/{payment_intent}");
        self.call(reqwest::Method::POST, &path, &[("payment_method", &pm)]).await;
        self.call(reqwest::Method::POST, &format!("{path}/confirm"), &[]).await
    }

    /// The customer is deleted (in Stripe's dashboard, say): its saved cards go with it.
    pub async fn delete_customer(&self, id: &str) -> Value {
        self.call(reqwest::Method::DELETE, &format!("/v1/customers/{id}"), &[]).await
    }

    /// What was refunded of a PaymentIntent, in minor units.
    pub async fn refunded(&self, payment_intent: &str) -> i64 {
        let path = format!("/v1/refunds?payment_intent={payment_intent}");
        let all = self.call(reqwest::Method::GET, &path, &[]).await;
        all["data"].as_array().into_iter().flatten().filter_map(|r| r["amount"].as_i64()).sum()
    }

    /// The buyer enters `card` to confirm a SetupIntent (a free trial's): the card is saved, and
    /// Stripe's `setup_intent.succeeded` follows.
    pub async fn buyer_saves_card(&self, setup_intent: &str, card: &str) -> Value {
        let pm = self.card(card).await;
        let path = format!("/v1/setup_intents/{setup_intent}/confirm");
        self.call(reqwest::Method::POST, &path, &[("payment_method", &pm)]).await
    }

    pub async fn payment_intent(&self, id: &str) -> Value {
        self.call(reqwest::Method::GET, &format!("/v1/payment_intents/{id}"), &[]).await
    }

    /// The PaymentIntents of `customer` (the emulator lists every account's, a page at a time).
    pub async fn payment_intents_of(&self, customer: &str) -> Vec<Value> {
        let mut found = Vec::new();
        let mut after = String::new();
        loop {
            let path = match after.as_str() {
                "" => "/v1/payment_intents?limit=100".to_string(),
                last => format!("/v1/payment_intents?limit=100&starting_after={last}"),
            };
            let page = self.call(reqwest::Method::GET, &path, &[]).await;
            let items = page["data"].as_array().cloned().unwrap_or_default();
            found.extend(items.iter().filter(|pi| pi["customer"] == customer).cloned());
            match (page["has_more"].as_bool(), items.last().and_then(|pi| pi["id"].as_str())) {
                (Some(true), Some(last)) => after = last.to_string(),
                _ => return found,
            }
        }
    }
}
