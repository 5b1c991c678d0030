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
        keywords={"_": None, "N_": None, "gettext": (2,), "ngettext": (1, 2)},
    )
    return {_key(message) for _, _, message, _, _ in found if message and all(message)}


def _key(message: str | tuple[str, ...]) -> str:
    """A message's singular: the catalogue's id of a plural message is its pair."""
    return message if isinstance(message, str) else message[0]


def test_every_string_of_the_pages_is_in_the_english_catalogue() -> None:
    with open(i18n.LOCALE_DIR / "en.po", "rb") as po:
        catalog = read_po(po, locale="en")
    translated = {_key(m.id) for m in catalog if m.id and m.string and all(m.string)}
    missing = sorted(_shown_strings() - translated)
    assert not missing, f"add these to {i18n.LOCALE_DIR / 'en.po'} (make i18n): {missing}"


def test_english_is_looked_up_and_chinese_is_as_written() -> None:
    assert i18n.gettext("en", "收件箱") == "Inbox"
    assert i18n.gettext("zh-CN", "收件箱") == "收件箱"
    assert i18n.normal_language("en-US") == "en"
    assert i18n.normal_language("fr") == "zh-CN"


def test_a_count_takes_the_english_singular_or_plural() -> None:
    english = i18n.translations("en")
    assert english.ngettext("%(num)s 次", "%(num)s 次", 1) % {"num": 1} == "1 time"
    assert english.ngettext("%(num)s 次", "%(num)s 次", 4) % {"num": 4} == "4 times"
    assert english.ngettext("重新打开 %(num)s 次", "重新打开 %(num)s 次", 1) == "Reopened once"
    chinese = i18n.translations("zh-CN")
    assert chinese.ngettext("%(num)s 次", "%(num)s 次", 1) % {"num": 1} == "1 次"
