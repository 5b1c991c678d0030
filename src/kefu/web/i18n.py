"""The workspace's languages: Simplified Chinese as written in the templates, English from one
catalogue (``locale/en.po``, gettext's format, read with Babel when first needed).

Every string a page shows is written in Chinese inside ``_()`` and looked up in the catalogue
for English; a string missing from it shows in Chinese (tests/web/test_i18n.py keeps the
catalogue complete). The choice is a cookie set by the language switch, else the browser's
``Accept-Language``.
"""

from __future__ import annotations

import io
from functools import cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection

from kefu.errors import pick_language

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_COOKIE = "kefu_lang"


def language_of(connection: HTTPConnection) -> str:
    """``zh-CN`` or ``en`` for this request: the switch's cookie, else the browser's wish."""
    chosen = connection.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return pick_language(connection.headers.get("accept-language"))


def normal_language(value: str | None) -> str:
    return "en" if (value or "").lower().startswith("en") else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    if language != "en":
        return NullTranslations()  # the templates are written in Simplified Chinese
    with open(LOCALE_DIR / "en.po", "rb") as po:
        catalog = read_po(po, locale="en")
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return GNUTranslations(compiled)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)
