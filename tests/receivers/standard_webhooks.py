"""A receiver that verifies a Sellvy delivery with the reference Standard Webhooks library
(PyPI `standardwebhooks`), exactly as a seller's server would: the raw body (a file, argv[1]),
the three headers (JSON in HEADERS) and the secret as Sellvy shows it (SECRET). Prints `valid`,
or `invalid: <why>`."""
import json
import os
import sys

from standardwebhooks import Webhook

body = open(sys.argv[1], "rb").read()
headers = json.loads(os.environ["HEADERS"])
try:
    Webhook(os.environ["SECRET"]).verify(body, headers)
    print("valid")
except Exception as e:  # WebhookVerificationError, or a malformed header
    print(f"invalid: {e}")
