"""What a customer newly wrote in a mail: quoted history and signatures cut from the text.

The whole text is kept elsewhere (``ParsedMail.full_text``); this only decides what is shown.
Cut points, the first one wins: a quote header ("-----Original Message-----", QQ/Foxmail's
"------------------ 原始邮件 ------------------", "在 …，张三 <a@b.com> 写道：", "On … wrote:",
an Outlook header block "发件人: / 发送时间: / 收件人: / 主题:" or "From: / Sent: / To: /
Subject:"), the signature separator "-- ", and a phone's "发自我的iPhone" line. Lines quoted with
">" are dropped wherever they are. If nothing would be left (a mail that is only a quote), the
text is kept whole: a message is never shown empty when it had words.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:original message|原始邮件|原邮件|邮件原件|回复的原邮件)\s*-{2,}"
    r"|_{8,}"  # Outlook's line above its header block
    r")\s*$",
    re.IGNORECASE,
)
_WROTE = re.compile(
    r"^\s*(?:"
    r"(?:在|于).{0,160}写道\s*[:：]"
    r"|.{0,160}于\s*\d{4}.{0,60}写道\s*[:：]"
    r"|on\b.{0,200}\bwrote\s*:"
    r"|.{0,160}<[^>\s]+@[^>\s]+>\s*(?:wrote|写道)\s*[:：]"
    r")\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(?:发件人|from)\s*\*?\s*[:：]", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"^\s*\*?(?:发送时间|时间|日期|sent|date|收件人|to|抄送|cc|主题|subject)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_PHONE_SIGNATURES = re.compile(
    r"^\s*(?:"
    r"发自我的\s*\S{0,20}"
    r"|来自我的\s*\S{0,20}"
    r"|从我的\s*\S{0,20}\s*发送"
    r"|发自\s*(?:网易邮箱大师|网易邮箱|QQ邮箱|QQ 邮箱|手机QQ邮箱|Outlook|阿里邮箱|钉钉|企业微信)\S{0,10}"
    r"|获取\s*Outlook\s*for\s*\S+"
    r"|get\s+outlook\s+for\s+\S+"
    r"|sent\s+from\s+(?:my\s+\S.{0,30}|mail\s+for\s+windows.{0,12}|outlook.{0,20}|yahoo\s+mail.{0,30})"
    r")\s*$",
    re.IGNORECASE,
)
_SIGNATURE = "-- "
_SHORT_SIGNATURE_LINES = 10  # a bare "--" counts as a separator only near the end


def strip_quoted(text: str) -> str:
    """The new part of ``text`` (see the module docstring); line ends become "\\n"."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_point(lines)
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    shown = "\n".join(kept).strip()
    if shown:
        return shown
    return "\n".join(lines).strip()


def _cut_point(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _SEPARATORS.match(line) or _PHONE_SIGNATURES.match(stripped):
            return index
        if line.rstrip("\n") == _SIGNATURE or (
            stripped == "--" and len(lines) - index <= _SHORT_SIGNATURE_LINES
        ):
            return index
        if _is_wrote_line(lines, index):
            return index
        if _HEADER_FROM.match(line) and _header_block_follows(lines, index):
            return index
    return len(lines)


def _is_wrote_line(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if len(line) > 240:
        return False
    if _WROTE.match(line):
        return True
    # Clients wrap a long "On … <a@b.com>\nwrote:" over two lines.
    if index + 1 < len(lines):
        joined = f"{line} {lines[index + 1].strip()}"
        return bool(_WROTE.match(joined)) and (
            line.lower().startswith(("on ", "在", "于")) or "<" in line
        )
    return False


def _header_block_follows(lines: list[str], index: int) -> bool:
    """A From/发件人 line counts as a quote header when two more header lines follow it."""
    others = 0
    for line in lines[index + 1 : index + 8]:
        if _HEADER_OTHER.match(line):
            others += 1
        elif line.strip() and others == 0:
            return False
    return others >= 2
