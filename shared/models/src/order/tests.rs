use super::*;

pub(crate) fn paid_order(gateway: &str) -> Order {
    let (product, _) = Product::create(
        serde_json::json!({"title": "P", "type": "service", "price": 10, "gateways": ["stripe", "paypal"]}),
        crate::Mode::Test,
    )
    .unwrap();
    let req = CheckoutRequest::parse(
        serde_json::json!({"product_id": product.id, "quantity": 1, "email": "a@example.com", "gateway": "stripe"}),
    )
    .unwrap();
    let now = Timestamp::now();
    let placed = Order::place(&req, &product, None, 1, now, false).unwrap();
    Order {
        gateway: gateway.into(),
        ..placed.order.paid(Goods::Note(None), &Payment::Sandbox, &crate::id::CustomerId::new(), now)
    }
}

#[test]
fn partial_refunds_are_for_stripe_payments_only() {
    let now = Timestamp::now();
    let stripe = paid_order("stripe");
    let part = stripe.refund(Some(400), None, now).unwrap();
    assert_eq!((part.refunded_minor, part.payment_status), (400, PaymentStatus::Paid));
    let rest = part.refund(None, None, now).unwrap();
    assert_eq!((rest.refunded_minor, rest.status), (1000, OrderStatus::Refunded));
    assert_eq!(rest.refund(Some(1), None, now).unwrap_err().errors[0].field, "id");

    let paypal = paid_order("paypal");
    let e = paypal.refund(Some(400), None, now).unwrap_err();
    assert_eq!(e.errors[0].field, "amount");
    assert!(e.errors[0].message.contains("Stripe payments only"), "{e}");
    // In full (omitted, or the whole amount) it is fine.
    assert_eq!(paypal.refund(None, None, now).unwrap().status, OrderStatus::Refunded);
    assert_eq!(paypal.refund(Some(1000), None, now).unwrap().status, OrderStatus::Refunded);
}

fn pending_order(kind: &str, extra: serde_json::Value) -> (Order, Product) {
    let mut body = serde_json::json!({"title": "P", "type": kind, "price": 10});
    if kind == "serials" {
        body["info"] = "K1,K2,K3".into();
    }
    body.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    let (product, pools) = Product::create(body, crate::Mode::Test).unwrap();
    let product = product.expecting(&pools);
    let req = CheckoutRequest::parse(
        serde_json::json!({"product_id": product.id, "quantity": 2, "email": "a@example.com", "gateway": "stripe"}),
    )
    .unwrap();
    (Order::place(&req, &product, None, 7, Timestamp::from_millis(1_000_000), false).unwrap().order, product)
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_millis(1_000_000 + secs * 1000)
}

#[test]
fn a_placed_order_holds_its_stock_until_paid_or_ended() {
    let (order, product) = pending_order("serials", serde_json::json!({}));
    assert_eq!((order.status, order.payment_status), (OrderStatus::Pending, PaymentStatus::Pending));
    assert_eq!((order.reserved, order.total_minor, order.version), (2, 2000, 1));
    // Two of three units: a large order, paid within the shorter window.
    assert_eq!(order.pay_by, at(crate::hold::LARGE_ORDER_PAY_WINDOW_SECS));
    assert_eq!(order.order_number(), "ORD-7");
    assert!(order.awaits_payment() && !order.awaits_delivery());
    // A service has no counted stock: nothing is held.
    let (service, _) = pending_order("service", serde_json::json!({}));
    assert_eq!(service.reserved, 0);
    // More than the stock is refused, naming the field.
    let req = CheckoutRequest::parse(
        serde_json::json!({"product_id": product.id, "quantity": 4, "email": "a@example.com", "gateway": "stripe"}),
    )
    .unwrap();
    let e = Order::place(&req, &product, None, 8, at(0), false).err().unwrap();
    assert_eq!(
        (e.errors[0].field.as_str(), e.errors[0].message.as_str()),
        ("quantity", "only 3 left in stock")
    );
}

#[test]
fn paying_delivers_each_kind_of_goods_and_releases_the_hold() {
    let (order, _) = pending_order("serials", serde_json::json!({}));
    let buyer = crate::id::CustomerId::new();
    let paid = order.paid(Goods::Serials(vec!["K1".into(), "K2".into()]), &Payment::Sandbox, &buyer, at(5));
    assert_eq!((paid.status, paid.payment_status), (OrderStatus::Completed, PaymentStatus::Paid));
    assert_eq!(paid.delivery.status, GoodsStatus::Delivered);
    assert_eq!(paid.delivery.items, ["K1", "K2"]);
    assert_eq!((paid.reserved, paid.version), (0, 2));
    assert_eq!(paid.payment_id.as_deref(), Some("sandbox"));
    assert_eq!(paid.customer_id.as_ref(), Some(&buyer));
    assert!(!paid.awaits_payment(), "a paid order takes no second payment");

    let stripe = Payment::Stripe { payment_intent: "pi_1".into(), card: None };
    let note =
        order.paid(Goods::Note(Some("See you Monday".into())), &stripe, &crate::id::CustomerId::new(), at(5));
    assert_eq!(note.delivery.note.as_deref(), Some("See you Monday"));
    assert_eq!(note.payment_id.as_deref(), Some("pi_1"));
    let file = order.paid(
        Goods::Download { token: "dl_x".into() },
        &Payment::Sandbox,
        &crate::id::CustomerId::new(),
        at(5),
    );
    assert_eq!(file.delivery.download_url.as_deref(), Some("/v1/storefront/downloads/dl_x"));
}

#[test]
fn dynamic_goods_wait_in_processing_until_the_sellers_server_answers() {
    let (order, _) =
        pending_order("dynamic", serde_json::json!({"dynamic_url": "https://seller.example.com/goods"}));
    let paid = order.paid(Goods::Dynamic, &Payment::Sandbox, &crate::id::CustomerId::new(), at(1));
    assert_eq!((paid.status, paid.delivery.status), (OrderStatus::Processing, GoodsStatus::Pending));
    assert!(paid.awaits_delivery());

    let sending = paid.delivering(at(2));
    assert_eq!(sending.delivery.status, GoodsStatus::Sending);
    assert!(sending.delivery_in_flight(at(2 + DELIVERY_IN_FLIGHT_SECS - 1)), "another fetch waits");
    assert!(!sending.delivery_in_flight(at(2 + DELIVERY_IN_FLIGHT_SECS)), "a dead fetch stops blocking");

    let failed = sending.delivery_failed("timed out".into(), at(3));
    assert_eq!((failed.status, failed.delivery.status), (OrderStatus::Processing, GoodsStatus::Failed));
    assert_eq!(failed.delivery.error.as_deref(), Some("timed out"));
    assert!(failed.awaits_delivery(), "a failed fetch can be redelivered");

    let done = failed.delivering(at(4)).delivered("CODE-123".into(), at(5));
    assert_eq!((done.status, done.delivery.status), (OrderStatus::Completed, GoodsStatus::Delivered));
    assert_eq!((done.delivery.content.as_deref(), done.delivery.error.as_deref()), (Some("CODE-123"), None));
    assert!(!done.awaits_delivery());
    assert_eq!(done.version, paid.version + 4, "every step is a new version");
}

#[test]
fn paid_goods_stay_watched_until_delivered_or_given_up() {
    let (order, _) =
        pending_order("dynamic", serde_json::json!({"dynamic_url": "https://seller.example.com/goods"}));
    let paid = order
        .paid(Goods::Dynamic, &Payment::Sandbox, &crate::id::CustomerId::new(), at(1))
        .goods_due_by(at(61));
    assert!(!paid.goods_due(at(60)) && paid.goods_due(at(61)), "the sweeper steps in after the grace");
    // A call in flight: the sweeper steps in once it can no longer be alive.
    let sending = paid.delivering(at(100));
    assert_eq!(sending.delivery.retry_at, Some(at(100 + DELIVERY_IN_FLIGHT_SECS)));
    assert_eq!(sending.delivery.attempts, 1);
    // Each failure waits longer; after the last wait, nothing is due and the error says why.
    let mut o = sending;
    for wait in GOODS_RETRY_WAITS_SECS {
        o = o.delivery_failed("503".into(), at(200));
        assert_eq!(o.delivery.retry_at, Some(at(200 + wait)));
        o = o.delivering(at(200 + wait));
    }
    let given_up = o.delivery_failed("503".into(), at(900_000));
    assert_eq!((given_up.delivery.attempts, given_up.delivery.retry_at), (6, None));
    assert!(!given_up.goods_due(at(10_000_000)));
    assert!(given_up.delivery.error.as_deref().unwrap().contains("/redeliver"));
    assert!(given_up.awaits_delivery(), "the seller can still redeliver");
    let done = given_up.delivering(at(900_001)).delivered("CODE".into(), at(900_002));
    assert_eq!(done.delivery.retry_at, None);
    // A paid order of other goods is never watched.
    let (serials, _) = pending_order("serials", serde_json::json!({}));
    let paid = serials.paid(
        Goods::Serials(vec!["K".into()]),
        &Payment::Sandbox,
        &crate::id::CustomerId::new(),
        at(1),
    );
    assert_eq!(paid.goods_due_by(at(2)).delivery.retry_at, None);
}

#[test]
fn an_unpaid_order_ends_by_cancel_or_failed_payment_and_only_then() {
    let (order, _) = pending_order("serials", serde_json::json!({}));
    let declined = order.payment_attempt_failed("card declined".into(), at(1));
    assert_eq!((declined.status, declined.payment_status), (OrderStatus::Pending, PaymentStatus::Failed));
    assert!(declined.awaits_payment(), "a declined card can be retried until pay_by");
    assert_eq!(declined.reserved, 2, "still held");

    let cancelled = declined.cancelled(at(2)).unwrap();
    assert_eq!((cancelled.status, cancelled.reserved), (OrderStatus::Cancelled, 0));
    assert!(!cancelled.awaits_payment());
    assert_eq!(cancelled.cancelled(at(3)).unwrap_err().errors[0].field, "id", "once only");

    let expired = order.payment_failed(at(PAYMENT_WINDOW_SECS));
    assert_eq!((expired.status, expired.payment_status), (OrderStatus::Cancelled, PaymentStatus::Failed));
    assert_eq!(expired.reserved, 0);

    let paid = order.paid(Goods::Note(None), &Payment::Sandbox, &crate::id::CustomerId::new(), at(1));
    assert_eq!(
        paid.cancelled(at(2)).unwrap_err().errors[0].field,
        "id",
        "a paid order is refunded, not cancelled"
    );
    assert_eq!(
        order.refund(None, None, at(2)).unwrap_err().errors[0].field,
        "id",
        "an unpaid one has nothing to refund"
    );
}

#[test]
fn refunds_never_exceed_what_was_paid_and_a_dispute_is_recorded() {
    let (order, _) = pending_order("service", serde_json::json!({}));
    let paid = order.paid(
        Goods::Note(None),
        &Payment::Stripe { payment_intent: "pi_1".into(), card: None },
        &crate::id::CustomerId::new(),
        at(1),
    );
    let e = paid.refund(Some(2001), None, at(2)).unwrap_err();
    assert_eq!(e.errors[0].field, "amount");
    assert!(e.errors[0].message.contains("20.00"), "{e}");
    assert_eq!(paid.refund(Some(0), None, at(2)).unwrap_err().errors[0].field, "amount");
    let part = paid.refund(Some(500), Some("late".into()), at(2)).unwrap();
    assert_eq!(
        (part.refunded_minor, part.status, part.refund_reason.as_deref()),
        (500, OrderStatus::Completed, Some("late"))
    );
    let rest = part.refund(None, None, at(3)).unwrap();
    assert_eq!((rest.refunded_minor, rest.payment_status), (2000, PaymentStatus::Refunded));
    assert_eq!(rest.refund_reason.as_deref(), Some("late"), "the first reason stays");

    let dispute = Dispute {
        id: "dp_1".into(),
        reason: "fraudulent".into(),
        status: "needs_response".into(),
        opened_at: at(9),
    };
    let disputed = paid.disputed(dispute.clone(), at(9));
    assert_eq!((disputed.dispute, disputed.status), (Some(dispute), OrderStatus::Completed));
}

#[test]
fn order_list_filters_are_read_with_every_bad_one_named() {
    let q = |pairs: &[(&str, &str)]| {
        QueryParams(pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect())
    };
    let (page, query) = OrderListQuery::parse(&q(&[])).unwrap();
    assert!(query.is_unfiltered());
    assert_eq!(page, PageRequest::default());
    let (_, query) = OrderListQuery::parse(&q(&[
        ("status", "completed"),
        ("customer_email", "Ann@Example.com"),
        ("date_from", "2026-11-01"),
        ("date_to", "2026-11-01"),
    ]))
    .unwrap();
    assert_eq!(query.customer_email.as_deref(), Some("ann@example.com"));
    let day = Timestamp::parse("2026-11-01T12:00:00Z").unwrap();
    assert!(query.matches(OrderStatus::Completed, PaymentStatus::Paid, "ann@example.com", "prod_1", day));
    assert!(!query.matches(OrderStatus::Pending, PaymentStatus::Paid, "ann@example.com", "prod_1", day));
    let next_day = Timestamp::parse("2026-11-02T00:00:00Z").unwrap();
    assert!(!query.matches(
        OrderStatus::Completed,
        PaymentStatus::Paid,
        "ann@example.com",
        "prod_1",
        next_day
    ));
    let e = OrderListQuery::parse(&q(&[
        ("status", "lost"),
        ("payment_status", "x"),
        ("date_to", "soon"),
        ("per_page", "0"),
    ]))
    .unwrap_err();
    let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["per_page", "status", "payment_status", "date_to"]);
}

#[test]
fn fraud_rules_add_up() {
    assert_eq!(fraud_score("a@example.com", 1, 999, Currency::USD, false), 0);
    assert_eq!(fraud_score("a@example.com", 1, 999, Currency::USD, true), 10);
    assert_eq!(fraud_score("a@mailinator.com", 10, 100_000, Currency::USD, true), 90);
}
