//! The product entity's rules: parsing, updates, stock, and what buyers see.

use super::*;
use serde_json::json;

fn fields(e: ValidationError) -> Vec<String> {
    e.errors.into_iter().map(|e| e.field).collect()
}

/// A new product as it is once its pools hold what it was created with.
pub(super) fn made(body: Value) -> Product {
    let (p, pools) = Product::create(body, Mode::Test).unwrap();
    p.expecting(&pools)
}

/// An update, as the product is once its pools hold what it asks.
pub(super) fn changed(p: &Product, patch: Value) -> Result<Product, ValidationError> {
    p.apply_update(patch, Mode::Test).map(|(u, pools, _)| u.expecting(&pools))
}

#[test]
fn the_seeds_example_creates_with_defaults() {
    let (p, _) = Product::create(
        json!({"title": "Premium Icon Pack", "type": "digital_download", "price": 29.99,
               "description": "500+ hand-crafted icons"}),
        Mode::Live,
    )
    .unwrap();
    let j = p.to_json();
    assert_eq!(j["price"].to_string(), "29.99");
    assert_eq!(j["currency"], "USD");
    assert_eq!(j["stock"], "∞");
    assert_eq!(j["is_visible"], true);
    assert_eq!(j["minimum_quantity"], 1);
    assert!(j["id"].as_str().unwrap().starts_with("prod_"));
    assert!(j.get("product_type").is_none());
}

#[test]
fn serials_count_their_stock_from_info() {
    let (p, pools) = Product::create(
        json!({"title": "Keys", "product_type": "serials", "price": "5.00",
               "info": "A\nB\r\nC\n\n", "stock_delimiter": "\n"}),
        Mode::Test,
    )
    .unwrap();
    assert_eq!(pools.lanes[crate::pool::PRODUCT_LANE], ["A", "B", "C"]);
    assert_eq!(p.stock(), Stock::Count(0), "the pool's own writes count the serials in");
    let p = p.expecting(&pools);
    assert_eq!(p.stock(), Stock::Count(3));
    assert_eq!(p.to_object_with(&pools.lanes).info.as_deref(), Some("A\nB\nC"));
    assert_eq!(p.to_json()["info"], Value::Null, "lists and events carry no serials");
    let e =
        Product::create(json!({"title": "K", "type": "serials", "price": 1, "info": "A,B,A"}), Mode::Test)
            .unwrap_err();
    assert_eq!(fields(e), ["info"]);
}

#[test]
fn file_is_an_alias_of_digital_download_and_stock_amount_limits_it() {
    let p = made(json!({"title": "F", "type": "file", "price": 1, "stock_amount": 7}));
    assert_eq!(p.product_type, ProductType::DigitalDownload);
    assert_eq!(p.to_json()["stock"], 7);
    // Two units held by open orders: the stock is still 7; setting it to 5 leaves 3 to sell.
    let held = Product { available: Some(5), held: 2, ..p.clone() };
    assert_eq!(held.to_json()["stock"], 7);
    let (_, _, change) = held.apply_update(json!({"stock_amount": 5}), Mode::Test).unwrap();
    assert_eq!(change.available, Some(Some(3)));
    assert_eq!(
        fields(held.apply_update(json!({"stock_amount": 1}), Mode::Test).unwrap_err()),
        ["stock_amount"]
    );
}

#[test]
fn every_rule_names_its_field() {
    let e = Product::create(
        json!({"price": -1, "type": "potion", "currency": "XXX", "gateways": ["stripe", "venmo", "stripe"],
               "minimum_quantity": 0, "max_risk_level": 101, "custom": [{"type": "select", "name": "Size"},
               {"type": "radio", "name": "X"}], "images": ["ftp://x"], "colour": "red"}),
        Mode::Live,
    )
    .unwrap_err();
    // In the order of the schema's properties (a missing title first), unknown fields last.
    assert_eq!(
        fields(e),
        [
            "title",
            "type",
            "currency",
            "price",
            "images[0]",
            "gateways[1]",
            "gateways[2]",
            "minimum_quantity",
            "custom[0].options",
            "custom[1].type",
            "max_risk_level",
            "colour"
        ]
    );
}

#[test]
fn type_rules_tie_fields_to_types() {
    let e = Product::create(json!({"title": "D", "type": "dynamic", "price": 1}), Mode::Live).unwrap_err();
    assert_eq!(fields(e), ["dynamic_url"]);
    let e = Product::create(
        json!({"title": "D", "type": "dynamic", "price": 1, "dynamic_url": "http://x.example"}),
        Mode::Live,
    )
    .unwrap_err();
    assert_eq!(fields(e), ["dynamic_url"]);
    let e = Product::create(
        json!({"title": "S", "type": "service", "price": 1, "stock_amount": 3, "info": "a,b", "file_url": "https://f"}),
        Mode::Live,
    )
    .unwrap_err();
    assert_eq!(fields(e), ["file_url", "info", "stock_amount"]);
}

#[test]
fn variants_carry_their_own_price_and_serials() {
    let p = made(json!({"title": "Game key", "type": "serials", "price": 10,
               "variants": [{"title": "EU", "price": 9.5, "info": "E1,E2"}, {"title": "US", "price": 10, "info": "U1"}]}));
    assert_eq!(p.stock(), Stock::Count(3));
    let j = p.to_json();
    assert_eq!(j["variants"][0]["price"].to_string(), "9.5");
    assert_eq!(j["variants"][1]["stock"], 1);
    // A serial may not appear in two variants.
    let e = Product::create(
        json!({"title": "G", "type": "serials", "price": 10,
               "variants": [{"title": "EU", "price": 1, "info": "X"}, {"title": "US", "price": 1, "info": "X"}]}),
        Mode::Test,
    )
    .unwrap_err();
    assert_eq!(fields(e), ["variants[1].info"]);
}

#[test]
fn update_changes_only_what_is_sent() {
    let p = made(json!({"title": "Keys", "type": "serials", "price": 5, "info": "A,B", "variants": []}));
    let (u, pools, change) = p.apply_update(json!({"title": "New title"}), Mode::Test).unwrap();
    assert_eq!(u.title, "New title");
    assert!(pools.is_empty(), "no info sent: the pool stays as it is");
    assert_eq!(change, StockChange::default());
    assert_eq!(u.stock(), p.stock());
    assert_eq!(u.id, p.id);
    assert_eq!(u.version, p.version + 1);
    let u2 = changed(&u, json!({"price": "7.25", "description": null})).unwrap();
    assert_eq!(u2.price_minor, 725);
    assert_eq!(fields(u2.apply_update(json!({"title": null}), Mode::Test).unwrap_err()), ["title"]);
    assert_eq!(fields(u2.apply_update(json!({"id": "prod_other"}), Mode::Test).unwrap_err()), ["id"]);
    // Sending back what was read is accepted.
    assert!(u2.apply_update(u2.to_json(), Mode::Test).is_ok());
    // A new info replaces what the pool holds; open orders' units must stay.
    let held = Product { available: Some(0), held: 2, ..u2.clone() };
    assert_eq!(fields(held.apply_update(json!({"info": "X"}), Mode::Test).unwrap_err()), ["info"]);
    let (_, pools, _) = held.apply_update(json!({"info": "X,Y,Z"}), Mode::Test).unwrap();
    assert_eq!(pools.lanes[crate::pool::PRODUCT_LANE], ["X", "Y", "Z"]);
}

#[test]
fn variant_ids_survive_updates() {
    let p = made(
        json!({"title": "V", "type": "service", "price": 5, "variants": [{"title": "Basic", "price": 5}]}),
    );
    let vid = p.variants[0].id.clone();
    let u = changed(
        &p,
        json!({"variants": [{"id": vid, "title": "Basic+", "price": 6}, {"title": "Pro", "price": 9}]}),
    )
    .unwrap();
    assert_eq!(u.variants[0].id, vid);
    assert_eq!(u.variants.len(), 2);
    let e = p
        .apply_update(json!({"variants": [{"id": "var_nope", "title": "X", "price": 1}]}), Mode::Test)
        .unwrap_err();
    assert_eq!(fields(e), ["variants[0].id"]);
}

#[test]
fn a_product_stays_small_enough_for_a_full_list_page() {
    let option = "o".repeat(200);
    let fields_of_options: Vec<Value> = (0..25)
        .map(|n| json!({"type": "select", "name": format!("F{n}"), "options": vec![option.clone(); 100]}))
        .collect();
    let e = Product::create(
        json!({"title": "Big", "type": "service", "price": 1, "custom": fields_of_options}),
        Mode::Test,
    )
    .unwrap_err();
    assert_eq!(fields(e.clone()), ["custom"]);
    assert!(e.errors[0].message.contains("at most 40 KiB"), "{e}");
    // The largest description passes on its own, and the whole is measured as a Lambda escapes it.
    assert!(
        Product::create(
            json!({"title": "D", "type": "service", "price": 1, "description": "d".repeat(20_000)}),
            Mode::Test
        )
        .is_ok()
    );
    let quoted = "\"".repeat(20_000);
    let e = Product::create(
        json!({"title": "D", "type": "service", "price": 1, "description": quoted}),
        Mode::Test,
    )
    .unwrap_err();
    assert_eq!(fields(e), ["description"]);
}

#[test]
fn variants_count_their_own_stock_and_a_removed_one_gives_its_pool_up() {
    let p = made(json!({"title": "G", "type": "serials", "price": 10,
               "variants": [{"title": "EU", "price": 9, "info": "E1,E2"}, {"title": "US", "price": 10, "info": "U1"}]}));
    let (eu, us) = (p.variants[0].id.to_string(), p.variants[1].id.to_string());
    assert_eq!((p.lane(&eu).available, p.lane(&us).available), (2, 1));
    let (u, pools, change) =
        p.apply_update(json!({"variants": [{"id": eu, "title": "EU", "price": 9}, {"title": "UK", "price": 8, "info": "K1"}]}), Mode::Test).unwrap();
    let uk = u.variants[1].id.to_string();
    assert_eq!(change.lanes_removed, std::slice::from_ref(&us));
    assert_eq!(change.lanes_added, std::slice::from_ref(&uk));
    assert_eq!(pools.lanes[&us], Vec::<String>::new(), "the removed variant's pool is emptied");
    assert_eq!(pools.lanes[&uk], ["K1"]);
    assert!(!pools.lanes.contains_key(&eu), "EU's pool stays as it is");
    // A variant whose units open orders hold cannot go.
    let mut held = p.clone();
    held.vstock.insert(us.clone(), LaneStock { available: 0, held: 1 });
    let e = held
        .apply_update(json!({"variants": [{"id": eu, "title": "EU", "price": 9}]}), Mode::Test)
        .unwrap_err();
    assert_eq!(fields(e), ["variants"]);
}

#[test]
fn list_query_filters_and_sorts() {
    let q = |pairs: &[(&str, &str)]| {
        ProductListQuery::parse(&QueryParams(
            pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        ))
    };
    assert!(q(&[]).unwrap().is_key_ordered());
    assert!(!q(&[("sort", "price")]).unwrap().is_key_ordered());
    let e = q(&[("sort", "colour"), ("order", "up"), ("visible", "maybe"), ("type", "x")]).unwrap_err();
    assert_eq!(fields(e), ["type", "visible", "sort", "order"]);
}

mod public_tests {
    use super::{changed, made};
    use serde_json::json;

    #[test]
    fn buyers_never_see_serials_files_or_hidden_counts() {
        let p = made(
            json!({"title": "K", "type": "serials", "price": 5, "info": "A,B", "hide_stock": true, "seller_note": "x"}),
        );
        let public = serde_json::to_value(p.to_public(crate::review::rating(0, 0))).unwrap();
        assert_eq!(public["stock"], "in stock");
        for secret in
            ["info", "file_url", "dynamic_url", "seller_note", "max_risk_level", "private", "unlisted"]
        {
            assert!(public.get(secret).is_none(), "{secret}");
        }
        let empty = changed(&p, json!({"info": ""})).unwrap();
        assert_eq!(
            serde_json::to_value(empty.to_public(crate::review::rating(0, 0))).unwrap()["stock"],
            "out of stock"
        );
        let shown = changed(&p, json!({"hide_stock": false})).unwrap();
        assert_eq!(serde_json::to_value(shown.to_public(crate::review::rating(0, 0))).unwrap()["stock"], 2);
    }
}
