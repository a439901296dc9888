// The official TypeScript client of the Sellvy API (Node.js entry): the client, and webhook
// verification for the seller's server. Browsers import "@sellvy/sdk/client" (no Node.js APIs).
import { createHmac, timingSafeEqual } from "node:crypto";

export * from "./client.js";

/** Verifies a webhook's X-Sellvy-Signature over the raw body (the seed's algorithm). */
export function verifyWebhook(payload: string | Buffer, signature: string, secret: string): boolean {
  const expected = createHmac("sha256", secret).update(payload).digest("hex");
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
