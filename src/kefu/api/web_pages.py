"""What browsers load besides the API: the web chat widget and the demo shop page.

``POST /demo/shop/orders`` is the demo shop's order system answering kefu's order lookups
(demo/orders.py): signed like any shop's, checked like docs/order-lookup.md says, no database.

``/chat/widget.js`` and ``/chat/widget.css`` are embedded by other sites (one script tag), so
they are served from memory with an ETag and a short cache, on the event loop, never waiting for
the database. ``/demo/shop`` exists only while the demo's web chat channel does (``kefu demo``).
"""

from __future__ import annotations

import hmac
import json
import time
from html import escape
from string import Template

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from kefu.api.deps import DB
from kefu.channels.api_callback import sign
from kefu.db.base import utcnow
from kefu.demo import orders as demo_orders
from kefu.demo.content import load_content
from kefu.demo.webchat import DEMO_CHANNEL_KEY, demo_channel
from kefu.web.assets import Asset, static_asset, template

router = APIRouter(include_in_schema=False)

WIDGET_JS = "/chat/widget.js"
WIDGET_CSS = "/chat/widget.css"
SHOP_CSS = "/demo/shop.css"
# Static paths: no database, so app.py lets them past the database gate.
UNGATED_PATHS = frozenset({WIDGET_JS, WIDGET_CSS, SHOP_CSS, demo_orders.LOOKUP_PATH})
ASSET_CACHE = "public, max-age=300"
MAX_SKEW_SECONDS = 300  # a lookup signed longer ago than this is refused (docs/order-lookup.md)  # a new widget reaches sites within minutes

# The shop page runs no inline script or style: the widget and its stylesheet come from kefu.
SHOP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _serve(request: Request, asset: Asset) -> Response:
    headers = {
        "ETag": asset.etag,
        "Cache-Control": ASSET_CACHE,
        "X-Content-Type-Options": "nosniff",
        # Any site may embed the widget; its API checks the page's origin per channel.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get(WIDGET_JS)
async def widget_js(request: Request) -> Response:
    return _serve(request, static_asset("widget/kefu-widget.js", "text/javascript; charset=utf-8"))


@router.get(WIDGET_CSS)
async def widget_css(request: Request) -> Response:
    return _serve(request, static_asset("widget/kefu-widget.css", "text/css; charset=utf-8"))


@router.get(SHOP_CSS)
async def shop_css(request: Request) -> Response:
    return _serve(request, static_asset("demo/shop.css", "text/css; charset=utf-8"))


@router.get("/demo/shop", response_class=HTMLResponse)
def demo_shop(db: DB, lang: str = "zh-CN") -> HTMLResponse:
    """The shop page; ``?lang=en`` opens its widget in English (the shop itself stays Chinese)."""
    headers = {"Content-Security-Policy": SHOP_CSP, "X-Content-Type-Options": "nosniff"}
    if demo_channel(db) is None:
        return HTMLResponse(template("demo_shop_missing.html"), status_code=404, headers=headers)
    widget_lang = "en" if lang.lower().startswith("en") else "zh-CN"
    page = Template(template("demo_shop.html")).substitute(
        channel_key=escape(DEMO_CHANNEL_KEY), widget_lang=widget_lang
    )
    return HTMLResponse(page, headers=headers)


@router.post(demo_orders.LOOKUP_PATH)
async def demo_order_lookup(request: Request) -> Response:
    """The demo shop's order lookup: 401 unsigned, 404 for a number it does not know."""
    body = await request.body()
    timestamp = request.headers.get("x-kefu-timestamp", "")
    secret = demo_orders.lookup_secret(request.app.state.settings.secret_key)
    expected = sign(secret, timestamp, body)
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= MAX_SKEW_SECONDS
    if not fresh or not hmac.compare_digest(request.headers.get("x-kefu-signature", ""), expected):
        return JSONResponse({"error": "bad signature"}, status_code=401)
    try:
        asked = json.loads(body)
    except ValueError:
        return JSONResponse({"error": "not JSON"}, status_code=400)
    number = asked.get("order_no") if isinstance(asked, dict) else None
    order = demo_orders.demo_order(str(number or ""), load_content().catalog, utcnow())
    if order is None:
        return JSONResponse({"error": "no such order"}, status_code=404)
    return JSONResponse(order)
