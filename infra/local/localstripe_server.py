"""The local stack's Stripe: localstripe (PyPI), a stateful Stripe emulator, with what Sellvy's
calls need and it lacks:

- **Accounts.** Each secret key is a Stripe account of its own: a webhook registered with
  `POST /_config/webhooks/<secret key>` receives the events of what that key did, and nothing
  else, so test processes sharing one emulator never see each other's callbacks.
- **Idempotency keys.** A POST repeated with the same `Idempotency-Key` (per account) answers
  what the first answered, without doing it again; with other parameters it is a 400, and
  while the first still runs a 409, as Stripe answers.
- **Callbacks retried** until the endpoint answers 2xx (a few times), as Stripe retries them.
- **PaymentIntent parameters** Sellvy sends that localstripe refuses: `description`,
  `receipt_email`, `automatic_payment_methods`, and `setup_future_usage`, which, once the
  payment succeeds, attaches the payment method to the PaymentIntent's customer (so it can be
  charged off-session later).
- **SetupIntents that save a card**: a confirmed SetupIntent attaches its payment method to
  its customer and sends `setup_intent.succeeded`, as Stripe does.

Nothing is kept on disk: each start is from scratch.

    python infra/local/localstripe_server.py --port 8420
"""

import asyncio
import base64
import contextvars
import hashlib
import hmac
import json
import sys

import aiohttp
from aiohttp import web
from localstripe import resources, webhooks
from localstripe.errors import UserError

ACCOUNT = contextvars.ContextVar("account", default=None)
# (account, Idempotency-Key) -> (status, body bytes, content type)
ANSWERS = {}


def account_of(request):
    """The secret key of a call (Bearer, or Basic as curl's `-u key:` sends it)."""
    header = request.headers.get("Authorization", "")
    kind, _, key = header.partition(" ")
    if kind == "Basic":
        key = base64.b64decode(key.encode()).decode(errors="replace").split(":")[0]
    return key if key.startswith("sk_") else None


@web.middleware
async def accounts_and_idempotency(request, handler):
    """As Stripe: a POST repeated with the same key answers what the first answered; with
    other parameters it is a 400, and while the first is still running a 409."""
    account = account_of(request)
    ACCOUNT.set(account)
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not account:
        return await handler(request)
    fingerprint = hashlib.sha256(request.path.encode() + b"?" + await request.read()).hexdigest()
    remembered = ANSWERS.get((account, key))
    if remembered == "running":
        return error(409, "idempotency_key_in_use", "A request with this idempotency key is running")
    if remembered:
        first, status, body, content_type = remembered
        if first != fingerprint:
            return error(400, "idempotency_error", "Keys for idempotent requests can only be used with the same parameters")
        return web.Response(status=status, body=body, content_type=content_type)
    ANSWERS[(account, key)] = "running"
    try:
        response = await handler(request)
    except UserError as e:
        response = e.to_response()
    except BaseException:
        ANSWERS.pop((account, key), None)
        raise
    if response.status < 500:
        ANSWERS[(account, key)] = (fingerprint, response.status, response.body, response.content_type)
    else:
        ANSWERS.pop((account, key), None)
    return response


def error(status, code, message):
    return web.json_response({"error": {"type": "idempotency_error", "code": code, "message": message}}, status=status)


async def send_to_the_account(event):
    """Sends an event, signed as Stripe signs (`t=<time>,v1=<HMAC-SHA256 of "<time>.<body>">`),
    to the webhook of the account whose call caused it, and to no other."""
    hook = webhooks._webhooks.get(ACCOUNT.get())
    if hook is None or (hook.events is not None and event.type not in hook.events):
        return
    body = json.dumps(event._export(), sort_keys=True).encode()
    mac = hmac.new(hook.secret.encode(), b"%d.%s" % (event.created, body), hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={event.created},v1={mac}"}
    # As Stripe: a moment after the call that caused it, and again (a few times here) until
    # the endpoint answers 2xx.
    for wait in (1, 1, 2, 4):
        await asyncio.sleep(wait)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
                async with session.post(hook.url, data=body, headers=headers) as r:
                    print(f"webhook {event.type} to {hook.url}: {r.status}", flush=True)
                    if 200 <= r.status < 300:
                        return
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            print(f"webhook {event.type} to {hook.url} failed: {e!r}", flush=True)
            if isinstance(e, aiohttp.ClientConnectorError):
                return  # nothing listens there any more (a finished test)


original_init = resources.PaymentIntent.__init__
original_on_success = resources.PaymentIntent._on_success


def payment_intent_init(self, description=None, receipt_email=None, automatic_payment_methods=None,
                        setup_future_usage=None, **kwargs):
    if setup_future_usage not in (None, "off_session", "on_session"):
        raise UserError(400, "Bad request")
    original_init(self, **kwargs)
    self.description = description
    self.receipt_email = receipt_email
    self.setup_future_usage = setup_future_usage


def payment_intent_on_success(self):
    if getattr(self, "setup_future_usage", None) and self.customer and self.payment_method:
        resources.PaymentMethod._api_retrieve(self.payment_method).customer = self.customer
    original_on_success(self)


original_setup_confirm = resources.SetupIntent._api_confirm


def setup_intent_confirm(id, **kwargs):
    setup = original_setup_confirm(id, **kwargs)
    if setup.status == "succeeded" and setup.customer and setup.payment_method:
        resources.PaymentMethod._api_retrieve(setup.payment_method).customer = setup.customer
        webhooks.schedule_webhook(resources.Event("setup_intent.succeeded", setup))
    return setup


def main():
    resources.PaymentIntent.__init__ = payment_intent_init
    resources.PaymentIntent._on_success = payment_intent_on_success
    resources.SetupIntent._api_confirm = setup_intent_confirm
    for i, (method, url, func) in enumerate(resources.extra_apis):
        if url == "/v1/setup_intents/{id}/confirm":
            resources.extra_apis[i] = (method, url, setup_intent_confirm)
    webhooks._send_webhook = send_to_the_account
    resources.store.dump_to_disk = lambda *a, **k: None
    # The server registers its routes when imported: after the changes above.
    from localstripe import server

    server.app.middlewares.insert(0, accounts_and_idempotency)
    if "--from-scratch" not in sys.argv:
        sys.argv.append("--from-scratch")
    server.start()


if __name__ == "__main__":
    main()
