# The seed's Python webhook verification function, unchanged; the lines after it feed it a
# delivery a test saved: the raw body's file, the X-Sellvy-Signature header and the secret.
import os
import sys

import hmac
import hashlib
def verify_webhook(payload: bytes, signature: str, secret: str) -> bool:
    expected = hmac.new(
        secret.encode(),
        payload,
        hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(signature, expected)

with open(sys.argv[1], "rb") as f:
    body = f.read()
print("valid" if verify_webhook(body, os.environ["SIGNATURE"], os.environ["SECRET"]) else "invalid")
