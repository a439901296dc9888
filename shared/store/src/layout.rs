//! Every item's keys, built here and nowhere else (the table in the crate's docs and in
//! `docs/data-model.md`). The tests at the bottom pin the layout without a database: a change
//! of key shape fails them, not a deploy.
//!
//! `<tenant>` is `T#<store_id>#<live|test>`: every tenant item's key starts with it, so no
//! query of one tenant can reach another's items.

use sellvy_models::Tenant;
use sellvy_models::time::Timestamp;

/// A tenant's collection of objects (products, categories, …): items under the tenant's
/// partition with sort keys `<KIND>#<id>` in creation order (ids are time-sortable), an entry
/// each in GSI1 (`<tenant>#<KIND>`, by id) for cheap skipping and filtering, and a maintained
/// counter whose sort key `<KIND>#~COUNT` sorts after every id.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Collection {
    /// Sort-key prefix, e.g. `PRODUCT#`.
    pub prefix: &'static str,
    /// Sort key of the counter item, e.g. `PRODUCT#~COUNT` (with `#<n>` per shard when sharded).
    pub counter: &'static str,
    /// GSI1 partition suffix, e.g. `#PRODUCT`.
    pub index: &'static str,
    /// Counter shards: a collection every purchase adds to (orders, customers) spreads its
    /// count over several items, so concurrent checkouts of a store rarely write the same one.
    pub shards: u8,
}

pub(crate) const PRODUCTS: Collection =
    Collection { prefix: "PRODUCT#", counter: "PRODUCT#~COUNT", index: "#PRODUCT", shards: 1 };
pub(crate) const CATEGORIES: Collection =
    Collection { prefix: "CATEGORY#", counter: "CATEGORY#~COUNT", index: "#CATEGORY", shards: 1 };
pub(crate) const ORDERS: Collection =
    Collection { prefix: "ORDER#", counter: "ORDER#~COUNT", index: "#ORDER", shards: 8 };
pub(crate) const CUSTOMERS: Collection =
    Collection { prefix: "CUSTOMER#", counter: "CUSTOMER#~COUNT", index: "#CUSTOMER", shards: 8 };
pub(crate) const COUPONS: Collection =
    Collection { prefix: "COUPON#", counter: "COUPON#~COUNT", index: "#COUPON", shards: 1 };
pub(crate) const ENDPOINTS: Collection =
    Collection { prefix: "WEBHOOK#", counter: "WEBHOOK#~COUNT", index: "#WEBHOOK", shards: 1 };
pub(crate) const REVIEWS: Collection =
    Collection { prefix: "REVIEW#", counter: "REVIEW#~COUNT", index: "#REVIEW", shards: 1 };
pub(crate) const SUBSCRIPTIONS: Collection =
    Collection { prefix: "SUBSCRIPTION#", counter: "SUBSCRIPTION#~COUNT", index: "#SUBSCRIPTION", shards: 1 };
pub(crate) const DELIVERIES: Collection =
    Collection { prefix: "WHDELIVERY#", counter: "WHDELIVERY#~COUNT", index: "#WHDELIVERY", shards: 1 };

impl Collection {
    /// An object's table key.
    pub fn key(&self, t: &Tenant, id: &str) -> (String, String) {
        (tenant_pk(t), format!("{}{id}", self.prefix))
    }

    /// The counter item's table key.
    pub fn counter_key(&self, t: &Tenant) -> (String, String) {
        self.counter_shard_key(t, 0)
    }

    /// One shard of the counter: `<KIND>#~COUNT` unsharded, `<KIND>#~COUNT#<n>` sharded.
    pub fn counter_shard_key(&self, t: &Tenant, shard: u8) -> (String, String) {
        match self.shards {
            1 => (tenant_pk(t), self.counter.to_string()),
            _ => (tenant_pk(t), format!("{}#{shard}", self.counter)),
        }
    }

    /// The GSI1 partition of the tenant's objects of this kind.
    pub fn index_pk(&self, t: &Tenant) -> String {
        format!("{}{}", tenant_pk(t), self.index)
    }
}

/// A product's serial pools: one partition, a lane per variant (`-` for the product's own).
/// Each serial is an item whose sort key is its lane and a hash of the serial, so one serial
/// can be in a lane once (by construction), and a buyer's pick starts at a random hash.
pub(crate) fn pool_pk(t: &Tenant, product_id: &str) -> String {
    format!("{}#POOL#{product_id}", tenant_pk(t))
}

pub(crate) fn pool_sk(lane: &str, serial: &str) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(serial.as_bytes());
    format!("{lane}#{}", &hex::encode(hash)[..32])
}

/// Serials a large order claimed while it is being paid (a chunk an item), until the payment
/// commits them to the order or an unpaid end gives them back.
pub(crate) fn parked_pk(t: &Tenant, order_id: &str) -> String {
    format!("{}#PARKED#{order_id}", tenant_pk(t))
}

/// One holder's count of unpaid orders of one product (and the end of their renewal
/// cooldown): the reservation policy's counters, a partition per product.
pub(crate) fn hold_key(t: &Tenant, product_id: &str, holder: &str) -> (String, String) {
    (format!("{}#HOLD#{product_id}", tenant_pk(t)), holder.to_string())
}

/// The partition of every item of one store's mode.
/// A product's reviews, newest first (`visible` on each): the storefront's list of them reads
/// this partition, not the store's every review.
pub(crate) fn product_reviews_pk(t: &Tenant, product_id: &str) -> String {
    format!("{}#PRODUCTREVIEWS#{product_id}", tenant_pk(t))
}

/// A product's rating counters (its visible reviews).
pub(crate) fn rating_key(t: &Tenant, product_id: &str) -> (String, String) {
    (tenant_pk(t), format!("RATING#{product_id}"))
}

/// One shard of a tenant's daily figures, and a UTC day's item in it (`DAY#2026-11-30`).
pub(crate) fn stats_key(t: &Tenant, shard: u8, day: &str) -> (String, String) {
    (format!("{}#STATS#{shard}", tenant_pk(t)), format!("DAY#{day}"))
}

pub(crate) fn tenant_pk(t: &Tenant) -> String {
    format!("T#{}#{}", t.store_id, t.mode.as_str())
}

/// A seller account (an owner of stores); its sessions share the partition.
pub(crate) fn owner_key(id: &str) -> (String, String) {
    (format!("OWNER#{id}"), "OWNER".into())
}

/// The claim of an email by one owner (it holds the owner's id).
pub(crate) fn owner_email_key(email: &str) -> (String, String) {
    (format!("OWNEREMAIL#{email}"), "OWNEREMAIL".into())
}

/// A signed-in browser of an owner, by the SHA-256 of its token.
pub(crate) fn session_key(owner: &str, token_hash: &str) -> (String, String) {
    (owner_key(owner).0, format!("SESSION#{token_hash}"))
}

/// A one-time link that sets an owner's password, by the SHA-256 of its token.
pub(crate) fn setup_link_key(token_hash: &str) -> (String, String) {
    (format!("SETUPLINK#{token_hash}"), "SETUPLINK".into())
}

/// A sign-in waiting for its second factor.
pub(crate) fn challenge_key(token_hash: &str) -> (String, String) {
    (format!("SIGNINCHALLENGE#{token_hash}"), "SIGNINCHALLENGE".into())
}

/// A form that may be sent once (its nonce's SHA-256), kept a day.
pub(crate) fn form_once_key(nonce_hash: &str) -> (String, String) {
    (format!("FORMONCE#{nonce_hash}"), "FORMONCE".into())
}

/// One throttled sign-in subject (an account from an address, an address, an account).
pub(crate) fn throttle_key(subject: &str) -> (String, String) {
    (format!("SIGNINTHROTTLE#{subject}"), "SIGNINTHROTTLE".into())
}

/// A store (shared by both modes).
pub(crate) fn store_key(store_id: &str) -> (String, String) {
    (format!("STORE#{store_id}"), STORE_SK.into())
}

pub(crate) const STORE_SK: &str = "STORE";

/// An API key, found by the SHA-256 of its secret.
pub(crate) fn api_key_key(hash: &str) -> (String, String) {
    (format!("{API_KEY_PREFIX}{hash}"), API_KEY_SK.into())
}

/// What an API key's partition starts with (the hash follows), and its sort key.
pub(crate) const API_KEY_PREFIX: &str = "KEY#";
pub(crate) const API_KEY_SK: &str = "KEY";

/// The GSI1 partition of a tenant's API keys (sorted by key id).
pub(crate) fn api_key_index_pk(t: &Tenant) -> String {
    format!("{}#APIKEY", tenant_pk(t))
}

/// The count of a tenant's API keys (the keys themselves are found by their hash).
pub(crate) fn api_key_counter_key(t: &Tenant) -> (String, String) {
    (tenant_pk(t), "APIKEY#~COUNT".into())
}

/// The item that claims a coupon code in a tenant (`code_key` is the code as compared).
pub(crate) fn coupon_code_key(t: &Tenant, code_key: &str) -> (String, String) {
    (tenant_pk(t), format!("COUPONCODE#{code_key}"))
}

/// The item that finds a buyer by email in a tenant (with their blacklist flag).
pub(crate) fn customer_email_key(t: &Tenant, email: &str) -> (String, String) {
    (tenant_pk(t), format!("CUSTOMEREMAIL#{}", email.to_lowercase()))
}

/// A tenant's order-number sequence.
pub(crate) fn order_number_key(t: &Tenant) -> (String, String) {
    (tenant_pk(t), "SEQ#ORDER".into())
}

/// An event in the outbox.
pub(crate) fn event_key(t: &Tenant, event_id: &str) -> (String, String) {
    (tenant_pk(t), format!("{EVENT_PREFIX}{event_id}"))
}

/// What every outbox event's sort key starts with (newest-first reads of the outbox).
pub(crate) const EVENT_PREFIX: &str = "EVENT#";

/// A kept `Idempotency-Key` answer.
pub(crate) fn idempotency_key(t: &Tenant, key: &str) -> (String, String) {
    (tenant_pk(t), format!("IDEM#{key}"))
}

/// A Stripe PaymentIntent's record of the order it paid (global: Stripe names no tenant).
pub(crate) fn stripe_payment_key(payment_intent: &str) -> (String, String) {
    (format!("STRIPEPI#{payment_intent}"), "STRIPEPI".into())
}

/// A download link's grant, found by the SHA-256 of its token (global: the link names no
/// tenant).
pub(crate) fn download_key(token_hash: &str) -> (String, String) {
    (format!("DOWNLOAD#{token_hash}"), "DOWNLOAD".into())
}

/// A tenant's rate-limit bucket (its own partition, so limiter writes never touch the tenant's).
pub(crate) fn rate_bucket_pk(t: &Tenant) -> String {
    format!("RATE#{}#{}", t.store_id, t.mode.as_str())
}

/// Every rate-limit bucket's sort key.
pub(crate) const RATE_SK: &str = "RATE";

/// One storefront client's rate-limit bucket in a tenant.
pub(crate) fn client_bucket_pk(t: &Tenant, client: &str) -> String {
    format!("{}#client#{client}", rate_bucket_pk(t))
}

/// The sparse `Pending` index: what the sweeper and the forwarder must look at after a time.
/// Partitions: unpaid orders (by `pay_by`), the outbox (by creation) and webhook deliveries
/// (by when a lost attempt would need repair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Watch {
    UnpaidOrders,
    Outbox,
    Deliveries,
    /// Paid orders whose dynamic goods the sweeper fetches (again) at `delivery.retry_at`.
    Goods,
    /// Subscriptions, by when their next renewal, dunning retry or expiry is due.
    Renewals,
}

impl Watch {
    pub fn partition(self) -> &'static str {
        match self {
            Watch::UnpaidOrders => "PENDING",
            Watch::Outbox => "OUTBOX",
            Watch::Deliveries => "WEBHOOK",
            Watch::Goods => "GOODS",
            Watch::Renewals => "RENEWAL",
        }
    }
}

/// The `Pending` index's sort key: due time (ms, zero-padded so it sorts), tenant, id.
pub(crate) fn pending_sk(at: Timestamp, t: &Tenant, id: &str) -> String {
    format!("{}#{}#{id}", pending_time(at), tenant_pk(t))
}

/// A due time as the `Pending` index sorts it; `PENDINGSK < pending_time(now)` is what is due.
pub(crate) fn pending_time(at: Timestamp) -> String {
    format!("{:015}", at.millis())
}

/// The tenant and id a `Pending` sort key names (the inverse of [`pending_sk`]).
pub(crate) fn parse_pending_sk(key: &str) -> Option<(Tenant, String)> {
    let mut parts = key.split('#');
    let (_, _, store, mode, id) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let mode = match mode {
        "live" => sellvy_models::Mode::Live,
        "test" => sellvy_models::Mode::Test,
        _ => return None,
    };
    Some((Tenant { store_id: sellvy_models::id::StoreId::parse(store)?, mode }, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sellvy_models::Mode;
    use sellvy_models::id::StoreId;

    fn tenant(mode: Mode) -> Tenant {
        Tenant { store_id: StoreId::parse("store_01ABC000000000000000000000").unwrap(), mode }
    }

    fn pair(pk: &str, sk: &str) -> (String, String) {
        (pk.to_string(), sk.to_string())
    }

    #[test]
    fn tenant_items_live_under_the_tenants_partition_and_modes_never_share_one() {
        let (live, test) = (tenant(Mode::Live), tenant(Mode::Test));
        assert_eq!(tenant_pk(&live), "T#store_01ABC000000000000000000000#live");
        assert_eq!(tenant_pk(&test), "T#store_01ABC000000000000000000000#test");
        for (pk, _) in [
            PRODUCTS.key(&test, "prod_1"),
            PRODUCTS.counter_key(&test),
            coupon_code_key(&test, "summer20"),
            customer_email_key(&test, "a@example.com"),
            order_number_key(&test),
            event_key(&test, "evt_1"),
            idempotency_key(&test, "k"),
        ] {
            assert_eq!(pk, "T#store_01ABC000000000000000000000#test");
        }
    }

    #[test]
    fn collections_sort_their_counter_after_every_id() {
        let t = tenant(Mode::Test);
        for c in [PRODUCTS, CATEGORIES, ORDERS, CUSTOMERS, COUPONS, ENDPOINTS, DELIVERIES, SUBSCRIPTIONS] {
            let (_, object) = c.key(&t, "zzzzzzzzzzzzzzzzzzzzzzzzzz");
            let (_, counter) = c.counter_key(&t);
            assert!(counter > object, "{counter} sorts after {object}");
            assert!(counter.starts_with(c.prefix));
            assert_eq!(c.index_pk(&t), format!("T#store_01ABC000000000000000000000#test{}", c.index));
        }
        assert_eq!(
            PRODUCTS.key(&t, "prod_1"),
            pair("T#store_01ABC000000000000000000000#test", "PRODUCT#prod_1")
        );
        assert_eq!(
            PRODUCTS.counter_key(&t),
            pair("T#store_01ABC000000000000000000000#test", "PRODUCT#~COUNT")
        );
        assert_eq!(
            ORDERS.counter_key(&t),
            pair("T#store_01ABC000000000000000000000#test", "ORDER#~COUNT#0"),
            "sharded"
        );
        assert_eq!(DELIVERIES.index_pk(&t), "T#store_01ABC000000000000000000000#test#WHDELIVERY");
        assert_eq!(
            ORDERS.counter_shard_key(&t, 3),
            pair("T#store_01ABC000000000000000000000#test", "ORDER#~COUNT#3")
        );
        assert!(ORDERS.counter_shard_key(&t, 7).1 > ORDERS.key(&t, "ord_zzzzzzzzzzzzzzzzzzzzzzzzzz").1);
    }

    #[test]
    fn the_layout_is_pinned() {
        let t = tenant(Mode::Live);
        assert_eq!(store_key("store_1"), pair("STORE#store_1", "STORE"));
        assert_eq!(api_key_key("ab12"), pair("KEY#ab12", "KEY"));
        assert_eq!(api_key_index_pk(&t), "T#store_01ABC000000000000000000000#live#APIKEY");
        assert_eq!(api_key_counter_key(&t), pair("T#store_01ABC000000000000000000000#live", "APIKEY#~COUNT"));
        assert_eq!(coupon_code_key(&t, "summer20").1, "COUPONCODE#summer20");
        assert_eq!(customer_email_key(&t, "Ann@Example.com").1, "CUSTOMEREMAIL#ann@example.com");
        assert_eq!(order_number_key(&t).1, "SEQ#ORDER");
        assert_eq!(event_key(&t, "evt_9").1, "EVENT#evt_9");
        assert_eq!(idempotency_key(&t, "import-1").1, "IDEM#import-1");
        assert_eq!(stripe_payment_key("pi_1"), pair("STRIPEPI#pi_1", "STRIPEPI"));
        assert_eq!(download_key("f00d"), pair("DOWNLOAD#f00d", "DOWNLOAD"));
        assert_eq!(rating_key(&t, "prod_1").1, "RATING#prod_1");
        assert_eq!(
            product_reviews_pk(&t, "prod_1"),
            "T#store_01ABC000000000000000000000#live#PRODUCTREVIEWS#prod_1"
        );
        assert_eq!(REVIEWS.key(&t, "rev_1").1, "REVIEW#rev_1");
        assert_eq!(SUBSCRIPTIONS.key(&t, "sub_1").1, "SUBSCRIPTION#sub_1");
        assert_eq!(challenge_key("c0de"), pair("SIGNINCHALLENGE#c0de", "SIGNINCHALLENGE"));
        assert_eq!(
            (rate_bucket_pk(&t).as_str(), RATE_SK),
            ("RATE#store_01ABC000000000000000000000#live", "RATE")
        );
        assert_eq!(pool_pk(&t, "prod_1"), "T#store_01ABC000000000000000000000#live#POOL#prod_1");
        assert_eq!(pool_sk("-", "KEY-1"), pool_sk("-", "KEY-1"), "one serial, one place in a lane");
        assert!(pool_sk("var_1", "KEY-1").starts_with("var_1#") && pool_sk("var_1", "KEY-1").len() == 6 + 32);
        assert_ne!(pool_sk("-", "KEY-1"), pool_sk("-", "KEY-2"));
        assert_eq!(parked_pk(&t, "ord_1"), "T#store_01ABC000000000000000000000#live#PARKED#ord_1");
        assert_eq!(
            stats_key(&t, 3, "2026-11-30"),
            pair("T#store_01ABC000000000000000000000#live#STATS#3", "DAY#2026-11-30")
        );
        assert_eq!(
            hold_key(&t, "prod_1", "net:203.0.113.9"),
            pair("T#store_01ABC000000000000000000000#live#HOLD#prod_1", "net:203.0.113.9")
        );
        assert_eq!(
            client_bucket_pk(&t, "203.0.113.9"),
            "RATE#store_01ABC000000000000000000000#live#client#203.0.113.9"
        );
        assert_eq!(
            [Watch::UnpaidOrders, Watch::Outbox, Watch::Deliveries, Watch::Goods, Watch::Renewals]
                .map(Watch::partition),
            ["PENDING", "OUTBOX", "WEBHOOK", "GOODS", "RENEWAL"]
        );
    }

    #[test]
    fn the_pending_index_sorts_by_due_time_whatever_the_tenant() {
        let (a, b) = (
            tenant(Mode::Live),
            Tenant {
                store_id: StoreId::parse("store_00000000000000000000000000").unwrap(),
                mode: Mode::Test,
            },
        );
        let early = pending_sk(Timestamp::from_millis(999), &a, "ord_z");
        let late = pending_sk(Timestamp::from_millis(1_000), &b, "ord_a");
        assert_eq!(early, "000000000000999#T#store_01ABC000000000000000000000#live#ord_z");
        assert!(early < late);
        assert!(early < pending_time(Timestamp::from_millis(1_000)), "due once its time has passed");
        assert!(late >= pending_time(Timestamp::from_millis(1_000)));
        assert_eq!(parse_pending_sk(&early), Some((a, "ord_z".to_string())));
        assert_eq!(parse_pending_sk(&late), Some((b, "ord_a".to_string())));
        assert_eq!(parse_pending_sk("000000000000999#T#store_1#staging#ord_z"), None);
    }
}
