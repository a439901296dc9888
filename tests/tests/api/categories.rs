//! Categories, and the link products keep to them.

use sellvy_tests::TestApp;
use serde_json::{Value, json};

#[tokio::test]
async fn create_list_get_update_delete() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let r = app
        .post("/categories", &k, json!({"name": "Templates", "description": "Website and app templates"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.data().clone();
    let id = c["id"].as_str().unwrap();
    assert!(id.starts_with("cat_"));
    assert_eq!(c["product_count"], 0);

    for n in 0..3 {
        app.post("/categories", &k, json!({"name": format!("C{n}")})).await;
    }
    let list = app.get("/categories?per_page=2", &k).await;
    assert_eq!(list.body["meta"], json!({"page": 1, "per_page": 2, "total": 4}));
    assert_eq!(list.data()[0]["name"], "Templates", "oldest first");
    let page2 = app.get("/categories?per_page=2&page=2", &k).await;
    assert_eq!(page2.data()[1]["name"], "C2");
    assert_eq!(app.get("/categories?per_page=2&page=3", &k).await.data(), &json!([]));
    assert_eq!(app.get("/categories?order=desc", &k).await.data()[0]["name"], "C2");
    assert_eq!(app.get("/categories?per_page=0", &k).await.fields(), ["per_page"]);

    assert_eq!(app.get(&format!("/categories/{id}"), &k).await.data(), &c);
    let u = app.patch(&format!("/categories/{id}"), &k, json!({"name": "Site templates"})).await;
    assert_eq!(u.status, 200);
    assert_eq!(u.data()["name"], "Site templates");
    assert_eq!(u.data()["description"], "Website and app templates");

    assert_eq!(app.delete(&format!("/categories/{id}"), &k).await.status, 204);
    assert_eq!(app.get(&format!("/categories/{id}"), &k).await.status, 404);
    assert_eq!(app.get("/categories", &k).await.body["meta"]["total"], 3);
}

#[tokio::test]
async fn validation() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    assert_eq!(app.post("/categories", &k, json!({})).await.fields(), ["name"]);
    let r =
        app.post("/categories", &k, json!({"name": "x".repeat(101), "description": 3, "slug": "x"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["name", "description", "slug"]);
    let c = app.post("/categories", &k, json!({"name": "A"})).await;
    let id = c.data()["id"].as_str().unwrap();
    assert_eq!(app.patch(&format!("/categories/{id}"), &k, json!({"name": null})).await.fields(), ["name"]);
    assert_eq!(
        app.patch(&format!("/categories/{id}"), &k, json!({"product_count": 5})).await.status,
        200,
        "read-only count is ignored"
    );
}

#[tokio::test]
async fn products_must_name_an_existing_category_of_the_same_store_and_mode() {
    let app = TestApp::spawn().await;
    let store = app.new_store().await;
    let other = app.new_store().await;
    let theirs = app.post("/categories", &other.test, json!({"name": "Theirs"})).await.data()["id"].clone();
    let live = app.post("/categories", &store.live, json!({"name": "Live"})).await.data()["id"].clone();
    for bad in [theirs, live, json!("cat_00000000000000000000000000"), json!("nope")] {
        let r = app
            .post(
                "/products",
                &store.test,
                json!({"title": "P", "type": "service", "price": 1, "category_id": bad}),
            )
            .await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.fields(), ["category_id"], "{bad}");
    }
    assert_eq!(
        app.get("/products", &store.test).await.body["meta"]["total"],
        0,
        "a refused product is not half-written"
    );
}

#[tokio::test]
async fn a_category_with_products_cannot_be_deleted_and_counts_follow_its_products() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    let a =
        app.post("/categories", &k, json!({"name": "A"})).await.data()["id"].as_str().unwrap().to_string();
    let b =
        app.post("/categories", &k, json!({"name": "B"})).await.data()["id"].as_str().unwrap().to_string();
    let p1 = app.product(&k, json!({"title": "P1", "type": "service", "price": 1, "category_id": a})).await;
    app.product(&k, json!({"title": "P2", "type": "service", "price": 1, "category_id": a})).await;
    let count = |id: String| {
        let app = app.clone();
        let k = k.clone();
        async move { app.get(&format!("/categories/{id}"), &k).await.data()["product_count"].clone() }
    };
    assert_eq!(count(a.clone()).await, 2);

    // The single-product view names its category.
    let p1_id = p1["id"].as_str().unwrap();
    let shown = app.get(&format!("/products/{p1_id}"), &k).await;
    assert_eq!(shown.data()["category"], json!({"id": a, "name": "A"}));

    let refused = app.delete(&format!("/categories/{a}"), &k).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.fields(), ["id"]);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("2 product"));

    // Moving a product moves its count.
    assert_eq!(app.patch(&format!("/products/{p1_id}"), &k, json!({"category_id": b})).await.status, 200);
    assert_eq!(count(a.clone()).await, 1);
    assert_eq!(count(b.clone()).await, 1);
    assert_eq!(app.patch(&format!("/products/{p1_id}"), &k, json!({"category_id": null})).await.status, 200);
    assert_eq!(count(b.clone()).await, 0);
    assert_eq!(app.delete(&format!("/categories/{b}"), &k).await.status, 204);
    // Moving into a deleted category is refused.
    assert_eq!(
        app.patch(&format!("/products/{p1_id}"), &k, json!({"category_id": b})).await.fields(),
        ["category_id"]
    );

    // Deleting the last product frees the category.
    let list: Value = app.get(&format!("/products?category_id={a}"), &k).await.body;
    let last = list["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(app.delete(&format!("/products/{last}"), &k).await.status, 204);
    assert_eq!(app.delete(&format!("/categories/{a}"), &k).await.status, 204);
}

#[tokio::test]
async fn deleting_a_category_races_with_a_product_joining_it_and_never_strands_the_product() {
    let app = TestApp::spawn().await;
    let k = app.new_store().await.test;
    for _ in 0..5 {
        let c = app.post("/categories", &k, json!({"name": "Race"})).await.data()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (a1, k1, c1) = (app.clone(), k.clone(), c.clone());
        let join = tokio::spawn(async move {
            a1.post(
                "/products",
                &k1,
                json!({"title": "Joiner", "type": "service", "price": 1, "category_id": c1}),
            )
            .await
        });
        let delete = app.delete(&format!("/categories/{c}"), &k).await;
        let joined = join.await.unwrap();
        // Exactly one of them wins.
        assert!(
            (delete.status == 204) != (joined.status == 201),
            "delete {} / create {}",
            delete.status,
            joined.status
        );
        if joined.status == 201 {
            assert_eq!(app.get(&format!("/categories/{c}"), &k).await.data()["product_count"], 1);
        }
    }
}
