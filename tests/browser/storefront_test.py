"""A storefront page in a real browser (Debian's Chromium, driven by Playwright): a page on an
allowed origin lists products and checks out through the TypeScript SDK (which sends an
Idempotency-Key on every POST); a repeated key replays the same order; an error from the API is
readable by the page (CORS on errors); a page on an origin the store does not allow is told so.

Usage: storefront_test.py API_BASE SECRET_KEY   (a gateway already running; test mode key)
Screenshots go to .local/browser/.
"""
import http.server
import json
import os
import pathlib
import sys
import threading
import urllib.request

from playwright.sync_api import expect, sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".local" / "browser"
API, KEY = sys.argv[1].rstrip("/"), sys.argv[2]


def api(method, path, body=None, key=KEY):
    req = urllib.request.Request(f"{API}/v1{path}", method=method, data=json.dumps(body).encode() if body else None)
    req.add_header("Authorization", f"Bearer {key}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        return json.load(r)


class Files(http.server.SimpleHTTPRequestHandler):
    """The page, the SDK's browser build and openapi-fetch, from their places in the repo."""

    ROUTES = {
        "/vendor/sdk/": ROOT / "shared/sdk-typescript/dist/src",
        "/vendor/openapi-fetch/": ROOT / "shared/sdk-typescript/node_modules/openapi-fetch/dist",
        "/": ROOT / "tests/browser",
    }

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        for prefix, folder in self.ROUTES.items():
            if path.startswith(prefix):
                return str(folder / path[len(prefix):])
        return super().translate_path(path)

    def guess_type(self, path):
        return "text/javascript" if str(path).endswith((".js", ".mjs")) else super().guess_type(path)

    def log_message(self, *args):
        pass


def serve():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main():
    SHOTS.mkdir(parents=True, exist_ok=True)
    shop, elsewhere = serve(), serve()
    product = api("POST", "/products", {"title": "Browser key", "type": "serials", "price": 4.5, "info": "B1,B2,B3"})["data"]
    pk = api("POST", "/api_keys", {"name": "Browser shop", "type": "publishable"})["data"]["key"]
    api("PATCH", "/store", {"allowed_origins": [shop]})
    query = f"?api={API}&pk={pk}"

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("SELLVY_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page()
        console = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(f"{shop}/storefront.html{query}")
        buy = page.get_by_role("button", name="Buy Browser key", exact=True)
        expect(buy).to_be_visible(timeout=10_000)
        page.screenshot(path=str(SHOTS / "storefront-products.png"))

        # Checkout through the SDK (with its own Idempotency-Key), as a buyer clicks.
        buy.click()
        result = page.locator("#result")
        expect(result).to_contain_text("Order ord_", timeout=10_000)
        first = result.get_attribute("data-order")
        page.screenshot(path=str(SHOTS / "storefront-checkout.png"))

        # The same Idempotency-Key twice: one order, replayed.
        keyed = page.get_by_role("button", name="Buy Browser key (key page-1)")
        keyed.click()
        expect(result).to_contain_text("Order ord_", timeout=10_000)
        replayed_from = result.get_attribute("data-order")
        page.evaluate("document.getElementById('result').textContent = ''")
        keyed.click()
        expect(result).to_contain_text("Order ord_", timeout=10_000)
        assert result.get_attribute("data-order") == replayed_from, "the same key replays the same order"
        assert replayed_from != first

        # An error from the API reaches the page with its message (CORS on errors too).
        page.get_by_role("button", name="Buy 1000 Browser key").click()
        expect(page.locator("#error")).to_contain_text("validation_error: quantity", timeout=10_000)
        page.screenshot(path=str(SHOTS / "storefront-error.png"))

        # A page on an origin the store does not allow reads why it was refused.
        other = browser.new_page()
        other.goto(f"{elsewhere}/storefront.html{query}")
        expect(other.locator("#error")).to_contain_text("forbidden: The origin", timeout=10_000)
        other.screenshot(path=str(SHOTS / "storefront-origin-refused.png"))
        browser.close()

    blocked = [m for m in console if "CORS" in m]
    assert not blocked, f"the browser blocked a response: {blocked}"
    orders = api("GET", f"/orders?product_id={product['id']}")["meta"]["total"]
    assert orders == 2, f"two orders placed (one replayed), found {orders}"
    print(f"browser storefront: products listed, 2 checkouts (1 replay), error and refused origin read; screenshots in {SHOTS}")


if __name__ == "__main__":
    main()
