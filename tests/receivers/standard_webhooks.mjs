// A receiver that verifies a Sellvy delivery with the reference Standard Webhooks library (npm
// `standardwebhooks`), exactly as a seller's server would: the raw body (a file, argv[2]), the
// three headers (JSON in HEADERS) and the secret as Sellvy shows it (SECRET). Prints `valid`, or
// `invalid: <why>`.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const body = readFileSync(process.argv[2], "utf8");
const headers = JSON.parse(process.env.HEADERS);
try {
  new Webhook(process.env.SECRET).verify(body, headers);
  console.log("valid");
} catch (e) {
  console.log(`invalid: ${e.message}`);
}
