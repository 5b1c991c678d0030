"""The workspace's own files (``/static/…``): served from memory, with an ETag; a URL that names
the file's version (``?v=``, web/assets.py ``static_url``) is cached for a year."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kefu.errors import KefuError
from kefu.web.assets import public_static

router = APIRouter(include_in_schema=False)

STATIC_PREFIX = "/static/"


@router.get(STATIC_PREFIX + "{relative:path}")
async def static_file(relative: str, request: Request) -> Response:
    asset = public_static(relative)
    if asset is None:
        raise KefuError("not_found", status_code=404, what="file")
    versioned = request.query_params.get("v") == asset.etag.strip('"')[:12]
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
