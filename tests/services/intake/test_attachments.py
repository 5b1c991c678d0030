"""Attachment names and content types: what a client sends is cleaned and checked first."""

from __future__ import annotations

import base64
import io
import unicodedata
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.services.intake.attachments import (
    DEFAULT_FILENAME,
    MAX_FILENAME_CHARS,
    AttachmentIn,
    content_type_of,
    decode_attachment,
    sanitize_filename,
)

INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override: shows as "exe.jpg"
        ("发\u200b票\ufeff.pdf", "发票.pdf"),  # zero-width space, byte-order mark
        ("报告\r\n.txt", "报告.txt"),
        ("a\u2028b\u2029c.txt", "abc.txt"),  # line and paragraph separators
        ("合同😀.docx", "合同😀.docx"),  # Chinese and emoji stay
        ("ｒｅｐｏｒｔ　１.ｐｄｆ", "report 1.pdf"),  # full-width forms fold (NFKC)
        ("..／..／etc／passwd", "passwd"),  # a full-width slash is a slash after NFKC
        ("C:\\Users\\王\\照片.jpg", "照片.jpg"),
        ("../../etc/发票.txt", "发票.txt"),
        ("\u202e\u200b\r\n", DEFAULT_FILENAME),
        ("..", DEFAULT_FILENAME),
        ("dir/", DEFAULT_FILENAME),
        ("   ", DEFAULT_FILENAME),
    ],
)
def test_names_lose_what_cannot_be_seen_and_keep_what_can(raw, clean):
    assert sanitize_filename(raw) == clean


def test_a_long_name_is_cut_and_keeps_its_extension():
    name = sanitize_filename("很" * 500 + ".pdf")
    assert len(name) == MAX_FILENAME_CHARS and name.endswith("很.pdf")
    assert len(sanitize_filename("x" * 500)) == MAX_FILENAME_CHARS


TRICKY = "\u202e\u200b\u200d\ufeff\r\n\t/\\／.. e\u0301\u0308가\u11a8ﬁ😀\U0001f3fb"
NAMES = st.text(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from(TRICKY)), max_size=300
)


@given(NAMES)
def test_a_cleaned_name_is_visible_stable_and_never_empty(raw):
    name = sanitize_filename(raw)
    assert name and len(name) <= MAX_FILENAME_CHARS
    assert not {unicodedata.category(ch) for ch in name} & INVISIBLE
    assert unicodedata.normalize("NFKC", name) == name
    assert "/" not in name and "\\" not in name
    assert name.strip() == name and name not in {".", ".."}
    assert sanitize_filename(name) == name


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "你好")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "declared", "stored"),
    [
        (PNG, "image/png", "image/png"),
        (PNG, "text/html", "image/png"),  # the bytes say what it is
        (PDF, "application/pdf", "application/pdf"),
        (PDF, "image/jpeg", "application/pdf"),
        (PDF, "text/plain", "application/pdf"),  # looks like text at first, but is a PDF
        (_zip(), "application/zip", "application/zip"),
        (
            _zip(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"<html><script>alert(1)</script></html>", "image/png", "text/html"),
        ("你好，发票".encode(), "text/plain", "text/plain"),
        (b"a,b\n1,2\n", "text/csv", "text/csv"),  # text declared for text bytes
        ("你好".encode("gb18030"), "text/plain", "text/plain"),
        ("你好".encode(), "image/png", "text/plain"),  # text, whatever it was called
        (b"\x00\x01\x02\x03binary", "image/png", "application/octet-stream"),
        (b"\x00\x01\x02\x03binary", "text/plain", "application/octet-stream"),
    ],
)
def test_the_declared_content_type_is_kept_only_when_the_bytes_agree(data, declared, stored):
    assert content_type_of(data, declared) == stored


def test_decode_attachment_cleans_the_name_and_checks_the_type():
    item = AttachmentIn("照片\u202egnp.exe", "text/html", base64.b64encode(PNG).decode())
    data, meta = decode_attachment(item, max_bytes=1000)
    assert data == PNG
    assert (meta.filename, meta.content_type, meta.size) == ("照片gnp.exe", "image/png", len(PNG))
