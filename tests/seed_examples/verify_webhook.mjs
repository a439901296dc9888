// The seed's JavaScript webhook verification function, unchanged; the lines after it feed it
// a delivery a test saved: the raw body's file, the X-Sellvy-Signature header and the secret.
import fs from 'fs';

import crypto from 'crypto';
function verifyWebhook(payload, signature, secret) {
  const expected = crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expected)
  );
}

const body = fs.readFileSync(process.argv[2]);
console.log(verifyWebhook(body, process.env.SIGNATURE, process.env.SECRET) ? 'valid' : 'invalid');
