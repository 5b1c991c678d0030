"""Turning the bytes of a mail part or header into text, whatever its charset label claims.

Chinese mail is often labelled wrongly: ``gb2312`` on text that uses GBK or GB18030
characters, ``iso-8859-1`` / ``us-ascii`` / no label at all on GBK, Big5 or UTF-8 bytes, and
now and then ``gb2312`` on UTF-8. The rules here:

- a GB label decodes as GB18030 (a superset of GB2312 and GBK), a Big5 label as Big5-HKSCS;
- a Western or missing label on bytes that are not plain ASCII is not believed: the bytes are
  tried as UTF-8, then GB18030, then Big5, and the decoding that gives the most common Chinese
  characters wins (``guess``);
- a CJK label on bytes that are valid, non-trivial UTF-8 is taken as UTF-8 (random GBK or Big5
  text is almost never valid UTF-8);
- bytes that fit no candidate decode with replacement characters, and the caller records why.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import lru_cache

# Labels mapped to the codec that decodes everything their senders actually put under them.
_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "x-gbk": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "big-5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
# Labels that say nothing trustworthy about non-ASCII bytes.
_UNTRUSTED = {
    "",
    "us-ascii",
    "ascii",
    "iso-8859-1",
    "iso8859-1",
    "latin1",
    "latin-1",
    "windows-1252",
    "cp1252",
    "unknown-8bit",
    "x-unknown",
    "unknown",
    "default",
    "none",
    "8bit",
}
_CJK_CODECS = {"gb18030", "big5hkscs"}
_SAMPLE = 4000  # characters judged when guessing; enough to tell, cheap on big parts


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # the codec actually used
    note: str | None = None  # why the label was not followed, for the mail's defects


def codec_for(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when the label is unknown or says nothing."""
    name = (label or "").strip().strip('"').lower()
    if name in _UNTRUSTED:
        return None
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # unknown, or not even a name (a NUL in it)
        return None


def decode_bytes(data: bytes, label: str | None) -> Decoded:
    """Decode ``data`` labelled ``label`` as well as it can be; never raises."""
    if data.isascii():
        return Decoded(data.decode("ascii"), "ascii")
    codec = codec_for(label)
    shown = (label or "none").strip().lower() or "none"
    if codec is None:
        guessed = guess(data)
        if guessed is not None:
            return Decoded(guessed[0], guessed[1], f"charset {shown} on {guessed[1]} text")
        return Decoded(
            data.decode("gb18030", "replace"), "gb18030", f"charset {shown}: undecodable bytes"
        )
    if codec in _CJK_CODECS and _is_real_utf8(data):
        return Decoded(data.decode("utf-8"), "utf-8", f"charset {shown} on utf-8 text")
    try:
        return Decoded(data.decode(codec), codec)
    except UnicodeDecodeError:
        pass
    guessed = guess(data)
    if guessed is not None:
        return Decoded(guessed[0], guessed[1], f"charset {shown} on {guessed[1]} text")
    return Decoded(data.decode(codec, "replace"), codec, f"charset {shown}: undecodable bytes")


def guess(data: bytes) -> tuple[str, str] | None:
    """(text, codec) for bytes of unknown charset: UTF-8 if valid, else the CJK codec whose
    decoding reads most like Chinese; None when no candidate decodes."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[float, str, str] | None = None
    for codec in ("gb18030", "big5hkscs"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        score = chinese_score(text, codec)
        if best is None or score > best[0]:
            best = (score, text, codec)
    if best is None:
        return None
    return best[1], best[2]


def chinese_score(text: str, codec: str) -> float:
    """Share of the non-ASCII characters that are common in text written in ``codec``.

    Common means GB2312 level 1 (the 3,755 most used simplified characters) for GB18030 and
    Big5's frequent-character block (常用字) for Big5. Right decodings score near 1; Big5 read as
    GBK or GBK read as Big5 land about half their characters outside those blocks.
    """
    sample = text[:_SAMPLE]
    total = 0
    common = 0
    for char in sample:
        if char.isascii():
            continue
        total += 1
        if _is_common(char, codec):
            common += 1
    return common / total if total else 0.0


@lru_cache(maxsize=8192)
def _is_common(char: str, codec: str) -> bool:
    if char in "，。、；：？！“”‘’（）《》【】…—　":
        return True
    if codec == "gb18030":
        try:
            encoded = char.encode("gb2312")
        except UnicodeEncodeError:
            return False
        return len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xD7
    try:
        encoded = char.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and (0xA440 <= (encoded[0] << 8 | encoded[1]) <= 0xC67E)


def _is_real_utf8(data: bytes) -> bool:
    """Valid UTF-8 with at least two multi-byte characters (one could be chance)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sum(1 for char in text[:_SAMPLE] if not char.isascii()) >= 2
