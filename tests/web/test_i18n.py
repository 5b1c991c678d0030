"""The workspace's catalogue: every string its pages show has an English translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kefu.web import i18n

WEB = Path(i18n.__file__).parent
ROOT = WEB.parents[2]


def _shown_strings() -> set[str]:
    found = extract_from_dir(
        str(WEB),
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "N_": None, "gettext": (2,)},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str) and message}


def test_every_string_of_the_pages_is_in_the_english_catalogue() -> None:
    with open(i18n.LOCALE_DIR / "en.po", "rb") as po:
        catalog = read_po(po, locale="en")
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(_shown_strings() - translated)
    assert not missing, f"add these to {i18n.LOCALE_DIR / 'en.po'} (make i18n): {missing}"


def test_english_is_looked_up_and_chinese_is_as_written() -> None:
    assert i18n.gettext("en", "收件箱") == "Inbox"
    assert i18n.gettext("zh-CN", "收件箱") == "收件箱"
    assert i18n.normal_language("en-US") == "en"
    assert i18n.normal_language("fr") == "zh-CN"
