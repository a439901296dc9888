// The typed client, with no Node.js import: it runs in browsers (storefronts, with a
// publishable key) as well as on servers (with a secret key).
//
// `schema.d.ts` is generated from the API's OpenAPI document (npm run generate), so every
// path, parameter, body and response below is typed by the server's own contract.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";
export type Product = components["schemas"]["ProductObject"];
export type NewProduct = components["schemas"]["NewProduct"];
export type Category = components["schemas"]["CategoryObject"];
export type Coupon = components["schemas"]["CouponObject"];
export type ApiKey = components["schemas"]["ApiKeyObject"];
export type ApiError = components["schemas"]["ErrorObject"];
export type WebhookEvent = components["schemas"]["EventObject"];

export interface SellvyOptions {
  /** The API's origin, e.g. https://api.sellvy.io (no /v1). */
  baseUrl: string;
  /**
   * A secret key (sk_live_… / sk_test_…) on a server, or a publishable key (pk_live_… /
   * pk_test_…) in a storefront: never a secret key in a browser.
   */
  apiKey: string;
  /** Retries of a 429 (after Retry-After) or 5xx; default 3. */
  maxRetries?: number;
}

/** A typed client: `sellvy.GET("/v1/products/{id}", { params: { path: { id } } })`. */
export function createSellvyClient(options: SellvyOptions) {
  const client = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, "") });
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${options.apiKey}`);
      if (request.method === "POST" && !request.headers.has("Idempotency-Key")) {
        request.headers.set("Idempotency-Key", `ts_${crypto.randomUUID()}`);
      }
      return request;
    },
  };
  client.use(auth);
  return client;
}
