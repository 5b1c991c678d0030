"""What browsers load besides the API: the web chat widget and the demo shop page.

``/chat/widget.js`` and ``/chat/widget.css`` are embedded by other sites (one script tag), so
they are served from memory with an ETag and a short cache, on the event loop, never waiting for
the database. ``/demo/shop`` exists only while the demo's web chat channel does (``kefu demo``).
"""

from __future__ import annotations

from html import escape
from string import Template

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kefu.api.deps import DB
from kefu.demo.webchat import DEMO_CHANNEL_KEY, demo_channel
from kefu.web.assets import Asset, static_asset, template

router = APIRouter(include_in_schema=False)

WIDGET_JS = "/chat/widget.js"
WIDGET_CSS = "/chat/widget.css"
SHOP_CSS = "/demo/shop.css"
# Static paths: no database, so app.py lets them past the database gate.
UNGATED_PATHS = frozenset({WIDGET_JS, WIDGET_CSS, SHOP_CSS})
ASSET_CACHE = "public, max-age=300"  # a new widget reaches sites within minutes

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
