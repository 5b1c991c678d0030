"""GET /api/v1/attachments/{id}: download a file, if the caller may see its ticket."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import FileResponse

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id
from kefu.errors import NotFound
from kefu.services.cases.tickets import access_attachment
from kefu.services.intake.attachments import blob_path, sanitize_filename

router = APIRouter(prefix="/attachments", tags=["attachments"], responses=ERRORS)


@router.get(
    "/{attachment_id}",
    summary="Download an attachment",
    response_class=FileResponse,
    **allow(*STAFF),
)
def download(attachment_id: Id, db: DB, actor: CurrentActor, settings: AppSettings) -> FileResponse:
    attachment = access_attachment(db, actor, attachment_id)
    path = blob_path(settings.attachments_dir, attachment.sha256)
    if not path.exists():
        raise NotFound("attachment")
    # Served as a download in a sandbox: an uploaded HTML file must never run as our origin.
    return FileResponse(
        path,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with the name as RFC 6266 / 5987 want it: an ASCII ``filename`` for old
    clients and the exact UTF-8 name percent-encoded in ``filename*``. The name is cleaned
    again, as files stored before names were cleaned may still hold control characters."""
    name = sanitize_filename(filename)
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;%' else "_" for ch in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
