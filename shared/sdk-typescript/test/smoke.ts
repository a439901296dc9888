// Calls the local gateway through the generated client; compiled by tsc first, so a type
// mismatch between this code and the contract fails the build.
import { createSellvyClient, verifyWebhook, type NewProduct, type Product } from "../src/index.js";
import { createHmac } from "node:crypto";
import assert from "node:assert/strict";

const sellvy = createSellvyClient({
  baseUrl: process.env.SELLVY_API_BASE ?? "http://127.0.0.1:3000",
  apiKey: process.env.SELLVY_API_KEY ?? "",
});

const body: NewProduct = { title: "Typed Icon Pack", type: "digital_download", price: 29.99 };
const created = await sellvy.POST("/v1/products", { body });
assert.equal(created.response.status, 201, JSON.stringify(created.error));
const product: Product = created.data!.data;
assert.equal(product.price, 29.99);
assert.equal(product.stock, "∞");

const got = await sellvy.GET("/v1/products/{id}", { params: { path: { id: product.id } } });
assert.equal(got.data!.data.title, "Typed Icon Pack");

const patched = await sellvy.PATCH("/v1/products/{id}", {
  params: { path: { id: product.id } },
  body: { price: 19.5 },
});
assert.equal(patched.data!.data.price, 19.5);

const list = await sellvy.GET("/v1/products", { params: { query: { per_page: 10, sort: "price", order: "asc" } } });
assert.ok(list.data!.meta.total >= 1);

const missing = await sellvy.GET("/v1/products/{id}", { params: { path: { id: "prod_00000000000000000000000000" } } });
assert.equal(missing.response.status, 404);
assert.equal(missing.error!.error.code, "not_found");

const invalid = await sellvy.POST("/v1/categories", { body: { name: "" } });
assert.equal(invalid.response.status, 422);
assert.equal(invalid.error!.error.field, "name");

const deleted = await sellvy.DELETE("/v1/products/{id}", { params: { path: { id: product.id } } });
assert.equal(deleted.response.status, 204);

const payload = JSON.stringify({ id: "evt_1", type: "product.created", created_at: "2026-03-20T15:30:00Z", data: {} });
const signature = createHmac("sha256", "whsec_x").update(payload).digest("hex");
assert.ok(verifyWebhook(payload, signature, "whsec_x"));
assert.ok(!verifyWebhook(payload + " ", signature, "whsec_x"));

console.log("typescript sdk: 8 calls checked against the gateway");
