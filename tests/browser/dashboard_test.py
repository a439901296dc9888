"""The sellers' dashboard in a real browser (Debian's Chromium, driven by Playwright): the owner
follows their one-time link and chooses a password, lands on the store's home in test mode (nothing
sold yet), goes to Settings → Integrations → API Keys, creates a read-only key (shown once) and uses
it against /v1, switches to live mode (unmistakably shown) where a key asks for the password again,
revokes the test key (which stops working at once), adds and disables a webhook endpoint (and sees
live mode refuse a plain http URL next to the field), sees a failed delivery to a local receiver in
the Webhook Logs with the receiver's answer, retries it (delivered) and retries all failed since a
time, changes the store's settings (a bad origin named next to its field), sees a storefront sale on
the home page's chart, changes the password and turns on the second factor (an authenticator's code
computed here), signs out and back in (password, then a code), and the page reads on a phone's
width.

Usage: dashboard_test.py BASE SETUP_LINK EMAIL   (a gateway already running)
Screenshots go to .local/browser/dashboard-*.png.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import struct
import sys
import threading
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect, sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".local" / "browser"
BASE, LINK, EMAIL = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
PASSWORD = "browser test password"
NEW_PASSWORD = "a changed browser password"


def totp(secret, offset=0):
    """The authenticator app's code (RFC 6238: HMAC-SHA1, 30 s, 6 digits), `offset` steps on."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int(time.time()) // 30 + offset
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    at = digest[-1] & 15
    return "%06d" % ((struct.unpack(">I", digest[at:at + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def api_status(path, key):
    req = urllib.request.Request(f"{BASE}/v1{path}")
    req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req) as r:
            json.load(r)
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def api_get(path, key):
    req = urllib.request.Request(f"{BASE}/v1{path}")
    req.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def api_post(path, key, body):
    req = urllib.request.Request(f"{BASE}/v1{path}", data=json.dumps(body).encode(), method="POST")
    req.add_header("Authorization", f"Bearer {key}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        return json.load(r)["data"]


class Receiver:
    """A seller's webhook receiver on this machine, answering with `status` (500: it is down)."""

    def __init__(self):
        self.status = 500
        self.got = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.got += 1
                body = f"receiver says {outer.status}".encode()
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"


def reload_until(page, locator, what, seconds=30):
    """Reloads the page until `locator` shows (the webhook ladder runs in the background)."""
    deadline = time.monotonic() + seconds
    while locator.count() == 0:
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        page.wait_for_timeout(250)
        page.reload()


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"dashboard-{name}.png"), full_page=True)


def main():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("SELLVY_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page()
        page.on("dialog", lambda d: d.accept())

        # The one-time link: choose a password (a short one is refused next to its field).
        page.goto(LINK)
        page.get_by_label("New password").fill("short")
        page.get_by_label("The same password again").fill("short")
        page.get_by_role("button", name="Set password and sign in").click()
        expect(page.locator("#password-error")).to_contain_text("at least 12 characters")
        shot(page, "setup-refused")
        page.get_by_label("New password").fill(PASSWORD)
        page.get_by_label("The same password again").fill(PASSWORD)
        page.get_by_role("button", name="Set password and sign in").click()

        # Signed in: the store's home in test mode, with nothing sold yet.
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("TEST MODE")
        expect(page.get_by_text("No payments or refunds in these days yet.")).to_be_visible()
        page.get_by_role("link", name="API Keys").click()
        expect(page.get_by_role("heading", name="API Keys")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("TEST MODE")
        assert "/test/settings/integrations/api-keys" in page.url, page.url
        shot(page, "api-keys-test")

        # Create a read-only key: the secret is shown once and works against the API.
        page.get_by_label("Name").fill("Browser reporting")
        page.get_by_label("Permissions").select_option("read")
        page.get_by_role("button", name="Create API Key").click()
        expect(page.get_by_role("alert")).to_contain_text("will not be shown again")
        secret = page.locator("#new-secret").inner_text().strip()
        assert secret.startswith("sk_test_"), secret
        shot(page, "key-created")
        assert api_status("/products", secret) == 200
        # A reload sends the form again: nothing more is created, and the secret is not shown.
        page.reload()
        expect(page.get_by_role("alert")).to_contain_text("already sent")
        assert secret not in page.content(), "a secret is shown once"
        expect(page.get_by_role("row", name="Browser reporting")).to_have_count(1)

        # Live mode: unmistakable, and a key there asks for the password again.
        page.get_by_role("link", name="Switch to live mode").click()
        expect(page.get_by_role("status")).to_contain_text("LIVE MODE")
        page.get_by_label("Name").fill("Live server")
        page.get_by_label("Permissions").select_option("full")
        page.get_by_role("button", name="Create API Key").click()
        expect(page.locator("#password-error")).to_contain_text("is not your password")
        shot(page, "live-password-asked")
        page.get_by_label("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Create API Key").click()
        assert page.locator("#new-secret").inner_text().strip().startswith("sk_live_")

        # Back to test mode: revoke the key (after a confirmation); it stops working at once.
        page.get_by_role("link", name="Switch to test mode").click()
        page.get_by_role("button", name="Revoke Browser reporting").click()
        expect(page.get_by_text("Browser reporting")).to_have_count(0)
        assert api_status("/products", secret) == 401

        # Webhooks: add an endpoint for every event (its secret shown once), disable it; in live
        # mode a plain-http URL is refused next to its field.
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
        page.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/hooks")
        page.get_by_label("Description").fill("Browser receiver")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_role("alert")).to_contain_text("will not be shown again")
        assert page.locator("#new-secret").inner_text().strip().startswith("whsec_")
        shot(page, "webhook-added")
        page.get_by_role("button", name="Disable http://127.0.0.1:9/hooks").click()
        expect(page.get_by_text("(disabled)")).to_be_visible()
        page.get_by_role("link", name="Switch to live mode").click()
        expect(page.get_by_role("status")).to_contain_text("LIVE MODE")
        expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
        page.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/hooks")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.locator("#url-error")).to_contain_text("https")
        shot(page, "webhook-refused")
        page.get_by_role("link", name="API Keys").click()
        page.get_by_role("link", name="Switch to test mode").click()

        # Webhook Logs: an endpoint at a receiver that is down; a product created with a key made
        # here fails its delivery (the gateway's ladder is short); the log shows it with the
        # receiver's answer; retried by hand once the receiver is back, it is delivered. A second
        # failure is retried with "Retry all failed since…".
        receiver = Receiver()
        page.get_by_label("Name").fill("Browser writer")
        page.get_by_label("Permissions").select_option("write")
        page.get_by_role("button", name="Create API Key").click()
        writer = page.locator("#new-secret").inner_text().strip()
        page.get_by_role("link", name="Webhooks").click()
        page.locator("#url").fill(receiver.url)
        page.locator("#description").fill("Fulfilment server")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_role("alert")).to_contain_text("will not be shown again")
        goods = api_post("/products", writer, {"title": "Browser goods", "type": "service", "price": 5})
        page.get_by_role("link", name="Webhook Logs").click()
        expect(page.get_by_role("heading", name="Webhook Logs")).to_be_visible()
        page.locator("#filter-endpoint").select_option(label=receiver.url)
        page.get_by_label("Status").select_option("failed")
        page.get_by_role("button", name="Filter").click()
        failed_row = page.locator('tr[data-status="failed"]')
        reload_until(page, failed_row, "the delivery fails")
        shot(page, "webhook-logs")
        failed_row.first.get_by_role("link").click()
        expect(page.get_by_role("heading", name="Webhook delivery")).to_be_visible()
        expect(page.get_by_text("receiver says 500").first).to_be_visible()
        expect(page.locator(".payload")).to_contain_text("Browser goods")
        shot(page, "webhook-delivery-failed")
        receiver.status = 200
        page.get_by_role("button", name="Retry now").click()
        expect(page.get_by_role("status").filter(has_text="delivered")).to_contain_text("delivered (200)")
        expect(page.get_by_text("receiver says 200")).to_be_visible()
        shot(page, "webhook-delivery-retried")

        receiver.status = 500
        api_post("/products", writer, {"title": "More browser goods", "type": "service", "price": 6})
        page.get_by_role("link", name="All deliveries").click()
        page.locator("#filter-endpoint").select_option(label=receiver.url)
        page.get_by_label("Status").select_option("failed")
        page.get_by_role("button", name="Filter").click()
        reload_until(page, failed_row, "the second delivery fails")
        receiver.status = 200
        page.locator("#retry-endpoint").select_option(label=receiver.url)
        page.get_by_role("button", name="Retry failed deliveries").click()
        expect(page.get_by_role("status").filter(has_text="Queued")).to_contain_text("Queued 1 failed delivery")
        shot(page, "webhook-logs-retry-all")
        page.get_by_label("Status").select_option("delivered")
        page.get_by_role("button", name="Filter").click()
        reload_until(page, page.locator('tr[data-status="delivered"]').nth(1), "both deliveries delivered")
        assert receiver.got == 6, f"2 automatic attempts + 1 retry, twice: {receiver.got}"

        # Store settings: a bad origin is named next to its field; then saved.
        page.get_by_role("link", name="Store settings").click()
        expect(page.get_by_role("heading", name="Store settings")).to_be_visible()
        page.get_by_label("Time zone").fill("Europe/Paris")
        page.get_by_label("Allowed origins").fill("https://shop.example.com\nshop.example.com/path")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#allowed_origins-error")).to_contain_text("item 2: must be an origin")
        shot(page, "store-settings-refused")
        page.get_by_label("Allowed origins").fill("https://shop.example.com")
        page.get_by_label("Blocked countries").fill("kp")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
        expect(page.get_by_label("Blocked countries")).to_have_value("KP")
        shot(page, "store-settings")

        # A storefront sale (with a publishable key made here) shows on the home page's chart.
        page.get_by_role("link", name="API Keys").click()
        page.get_by_label("Name").fill("Browser storefront")
        page.get_by_label("Permissions").select_option("publishable")
        page.get_by_role("button", name="Create API Key").click()
        pk = page.locator("#new-secret").inner_text().strip()
        assert pk.startswith("pk_test_"), pk
        sale = api_post("/storefront/checkout", pk,
                        {"product_id": goods["id"], "quantity": 2, "email": "buyer@example.com", "gateway": "stripe"})
        api_post(f"/storefront/orders/{sale['order']['id']}/sandbox_payment?token={sale['access_token']}", pk,
                 {"outcome": "succeeded"})
        page.get_by_role("link", name="Home").click()
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        totals = page.locator('[data-currency="USD"] .totals')
        expect(totals).to_contain_text("1 order")
        expect(totals).to_contain_text("10.00 USD revenue")
        expect(page.get_by_role("img", name="USD: 1 order, 10.00 USD revenue")).to_be_visible()
        expect(page.get_by_role("row", name="buyer@example.com")).to_have_count(1)
        shot(page, "home")

        # The buyer reviews the order; the seller replies and hides it from the storefront.
        api_post(f"/storefront/orders/{sale['order']['id']}/review?token={sale['access_token']}", pk,
                 {"rating": 4, "message": "Quick and friendly", "name": "Dee"})
        page.get_by_role("link", name="Reviews").click()
        expect(page.get_by_role("heading", name="Reviews")).to_be_visible()
        card = page.get_by_role("region", name="Review by Dee")
        expect(card).to_contain_text("Quick and friendly")
        card.get_by_text("Reply", exact=True).click()
        card.get_by_label("Public reply").fill("Thank you, Dee!")
        card.get_by_role("button", name="Save reply").click()
        card = page.get_by_role("region", name="Review by Dee")
        expect(card).to_contain_text("Your reply: Thank you, Dee!")
        card.get_by_role("button", name="Hide the review by Dee").click()
        expect(page.get_by_role("region", name="Review by Dee")).to_contain_text("hidden")
        shot(page, "reviews")
        public = api_get(f"/storefront/products/{goods['id']}/reviews", pk)
        assert public["meta"]["total"] == 0, public
        page.get_by_role("button", name="Show the review by Dee").click()
        public = api_get(f"/storefront/products/{goods['id']}/reviews", pk)
        assert public["data"][0]["reply"]["message"] == "Thank you, Dee!", public

        # A monthly membership sold; the seller cancels it at the period's end.
        club = api_post("/products", writer, {"title": "Browser club", "type": "service", "price": 7,
                                              "recurring": {"interval": "month", "interval_count": 1}})
        member = api_post("/storefront/checkout", pk,
                          {"product_id": club["id"], "quantity": 1, "email": "member@example.com", "gateway": "stripe"})
        api_post(f"/storefront/orders/{member['order']['id']}/sandbox_payment?token={member['access_token']}", pk,
                 {"outcome": "succeeded"})
        page.get_by_role("link", name="Subscriptions").click()
        expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible()
        card = page.get_by_role("region", name="Subscription of member@example.com")
        expect(card).to_contain_text("7.00 USD every month")
        card.get_by_label("Reason (optional)").fill("moving away")
        card.get_by_role("button", name="Cancel the subscription of member@example.com").click()
        card = page.get_by_role("region", name="Subscription of member@example.com")
        expect(card).to_contain_text("ends at the period's end")
        expect(card).to_contain_text("Cancelled by seller (moving away)")
        shot(page, "subscriptions")

        # The account: a new password, then the second factor set up with the app's code.
        page.get_by_role("link", name="Account").click()
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()
        page.locator("#current_password").fill(PASSWORD)
        page.locator("#password").fill(NEW_PASSWORD)
        page.locator("#password_again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status")).to_contain_text("Your password was changed")
        page.locator("#totp_password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Set up two-factor authentication").click()
        secret = page.locator("#totp-secret").inner_text().strip()
        shot(page, "two-factor-setup")
        page.locator("#code").fill(totp(secret))
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("status")).to_contain_text("Two-factor authentication is on")
        shot(page, "account")
        page.get_by_role("link", name="Back to the dashboard").click()
        expect(page.get_by_role("heading", name="Home")).to_be_visible()

        # On a phone's width no page needs sideways scrolling.
        page.set_viewport_size({"width": 390, "height": 844})
        for link, name in [("Home", "home"), ("Store settings", "store-settings"), ("API Keys", "api-keys"),
                           ("Webhooks", "webhooks"), ("Webhook Logs", "webhook-logs"), ("Reviews", "reviews"),
                           ("Subscriptions", "subscriptions"), ("Account", "account")]:
            page.get_by_role("link", name=link, exact=True).click()
            wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            assert not wide, f"the {name} page scrolls sideways on a phone"
            shot(page, f"{name}-phone")
        page.get_by_role("link", name="Back to the dashboard").click()
        page.set_viewport_size({"width": 1280, "height": 800})

        # Sign out, and back in.
        page.get_by_role("button", name="Sign out", exact=True).click()
        expect(page.get_by_role("heading", name="Sign in to Sellvy")).to_be_visible()
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill("wrong password here")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#sign-in-error")).to_contain_text("do not match")
        shot(page, "sign-in-refused")
        page.get_by_label("Password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        # The second factor: a wrong code is refused, the app's next code signs in.
        expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
        page.get_by_label("Code from your authenticator app").fill("000000" if totp(secret, 1) != "000000" else "111111")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#code-error")).to_contain_text("not right")
        shot(page, "sign-in-code")
        page.get_by_label("Code from your authenticator app").fill(totp(secret, 1))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        browser.close()
    print(f"browser dashboard: setup link, test/live switch, key created/used/revoked, live password asked, "
          f"webhook added/disabled/refused, webhook log failed/retried/retried-all, store settings refused/saved, a sale on the home page's chart, its review replied to and hidden, a subscription cancelled, password changed, two-factor on, phone width, sign-out/in with a code; screenshots in {SHOTS}/dashboard-*.png")


if __name__ == "__main__":
    main()
