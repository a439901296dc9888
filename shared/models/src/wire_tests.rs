//! The request types describe exactly what the parsers accept: a body with every field the
//! document lists is valid, so the document never offers a field the API would refuse.

use crate::apikey::NewApiKey;
use crate::wire::*;
use crate::{Category, Coupon, Currency, Product};
use serde_json::json;

fn every_product_field() -> ProductChanges {
    ProductChanges {
        title: Some("All fields".into()),
        product_type: Some(ProductType::Serials),
        price: Some("5.5".into()),
        currency: Some("EUR".into()),
        description: Some("d".into()),
        category_id: Some("cat_00000000000000000000000001".into()),
        is_visible: Some(true),
        images: Some(vec!["https://cdn.example/i.png".into()]),
        file_url: None, // digital_download only
        info: None,     // the variants hold the serials
        stock_delimiter: Some("\n".into()),
        stock_amount: None, // digital_download only
        gateways: Some(vec!["stripe".into(), "paypal".into()]),
        minimum_quantity: Some(1),
        maximum_quantity: Some(3),
        custom: Some(vec![CustomFieldInput {
            kind: Some("select".into()),
            name: Some("Region".into()),
            required: Some(true),
            options: Some(vec!["EU".into()]),
        }]),
        customer_details_required: Some(true),
        warranty: Some("w".into()),
        warranty_duration: Some(60),
        redirect_url: Some("https://seller.example/thanks".into()),
        unlisted: Some(false),
        private: Some(false),
        hide_stock: Some(true),
        vpn_block: Some(true),
        dynamic_url: None, // dynamic only
        max_risk_level: Some(50),
        seller_note: Some("n".into()),
        low_stock_threshold: Some(2),
        variants: Some(vec![VariantInput {
            id: None,
            title: Some("EU".into()),
            price: Some(5.0.into()),
            info: Some("A\nB".into()),
        }]),
        recurring: Some(Recurring { interval: Interval::Month, interval_count: 1, trial_days: None }.into()),
    }
}

#[test]
fn a_product_with_every_documented_field_is_accepted() {
    let body = serde_json::to_value(every_product_field()).unwrap();
    let (p, pools) = Product::create(body, crate::Mode::Test).unwrap();
    let p = p.expecting(&pools);
    assert_eq!(p.stock(), crate::product::Stock::Count(2));
    let round: ProductObject = serde_json::from_value(p.to_json()).unwrap();
    assert_eq!(round, p.to_object());
    // The type-specific fields, each with its type.
    for (ty, field, value) in [
        ("digital_download", "file_url", json!("https://f.example/a.zip")),
        ("digital_download", "stock_amount", json!(3)),
        ("serials", "info", json!("A,B")),
        ("dynamic", "dynamic_url", json!("https://seller.example/gen")),
    ] {
        let mut body = json!({"title": "T", "type": ty, "price": 1});
        body[field] = value;
        if ty == "dynamic" && field != "dynamic_url" {
            body["dynamic_url"] = json!("https://seller.example/gen");
        }
        assert!(Product::create(body, crate::Mode::Live).is_ok(), "{field}");
    }
    let new = NewProduct {
        title: "T".into(),
        product_type: ProductType::Service,
        price: 1.0.into(),
        more: ProductChanges::default(),
    };
    assert!(Product::create(serde_json::to_value(new).unwrap(), crate::Mode::Live).is_ok());
}

#[test]
fn categories_coupons_and_keys_with_every_documented_field_are_accepted() {
    let c = CategoryInput { name: Some("N".into()), description: Some("D".into()) };
    assert!(Category::create(serde_json::to_value(c).unwrap()).is_ok());
    let coupon = NewCoupon {
        code: Some("ALL".into()),
        kind: Some(CouponType::Fixed),
        value: Some(2.5.into()),
        max_uses: Some(3),
        expires_at: Timestamp::parse("2099-01-01T00:00:00Z"),
        min_order_amount: Some(10.0.into()),
        applies_to_products: Some(vec!["prod_00000000000000000000000001".into()]),
    };
    assert!(Coupon::create(serde_json::to_value(coupon).unwrap(), Currency::USD, Timestamp::now()).is_ok());
    let key = NewApiKeyInput { name: Some("K".into()), kind: None, permissions: Some(Permission::Write) };
    assert!(NewApiKey::parse(serde_json::to_value(key).unwrap()).is_ok());
    let key = NewApiKeyInput {
        name: Some("K".into()),
        kind: Some(crate::apikey::KeyKind::Publishable),
        permissions: None,
    };
    assert!(NewApiKey::parse(serde_json::to_value(key).unwrap()).is_ok());
}

/// Every integer a request body may carry states its maximum: the reader checks the bound
/// before serde reads the number into its Rust type, so a number past the type's range is a
/// named 422, never a body that cannot be read.
#[test]
fn request_integers_are_bounded() {
    fn walk(v: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                let is_int = match m.get("type") {
                    Some(serde_json::Value::String(t)) => t == "integer",
                    Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
                    _ => false,
                };
                if is_int
                    && !m.contains_key("maximum")
                    && m.get("format").and_then(|f| f.as_str()) != Some("int64")
                {
                    missing.push(at.to_string());
                }
                for (k, c) in m {
                    walk(c, &format!("{at}.{k}"), missing);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|c| walk(c, at, missing)),
            _ => {}
        }
    }
    fn of<T: utoipa::ToSchema>(missing: &mut Vec<String>) {
        let mut refs = Vec::new();
        T::schemas(&mut refs);
        walk(&serde_json::to_value(T::schema()).unwrap(), &T::name(), missing);
        for (name, s) in refs {
            walk(&serde_json::to_value(s).unwrap(), &name, missing);
        }
    }
    let mut missing = Vec::new();
    of::<NewProduct>(&mut missing);
    of::<ProductChanges>(&mut missing);
    of::<SerialsInput>(&mut missing);
    of::<CategoryInput>(&mut missing);
    of::<NewCoupon>(&mut missing);
    of::<NewApiKeyInput>(&mut missing);
    of::<EndpointInput>(&mut missing);
    of::<EndpointChanges>(&mut missing);
    of::<RetryFailedInput>(&mut missing);
    of::<StoreSettings>(&mut missing);
    of::<CheckoutInput>(&mut missing);
    of::<RefundInput>(&mut missing);
    of::<BlacklistInput>(&mut missing);
    of::<SandboxPaymentInput>(&mut missing);
    assert!(missing.is_empty(), "integers without a maximum: {missing:?}");
}
