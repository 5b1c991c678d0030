"""How a case's facts read inside a script: the customer's courteous form of address, times in
China time, amounts in yuan. No I/O."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
YOU = "您"  # the form of address when the name is unknown
_HONORIFICS = ("先生", "女士", "小姐", "老师", "同学", "总", "经理", "阿姨", "叔叔")
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "长孙", "慕容",
                      "令狐", "司徒", "夏侯", "公孙", "端木", "独孤")  # fmt: skip
_HAN_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
# Names that are not a person's: what channels give anonymous visitors and placeholders.
_NOT_A_NAME = re.compile(r"^(?:顾客|客户|访客|游客|用户|匿名|买家|visitor|guest|customer|user)[\w-]*$",
                         re.IGNORECASE)  # fmt: skip


def courteous_name(name: str | None) -> str:
    """王小明 → 王先生/女士; 欧阳娜娜 → 欧阳先生/女士; 李女士 stays; Tom stays; unknown → 您."""
    name = (name or "").strip()
    if not name or _NOT_A_NAME.match(name):
        return YOU
    if name.endswith(_HONORIFICS):
        return name
    if _HAN_NAME.match(name):
        surname = name[:2] if name.startswith(_COMPOUND_SURNAMES) and len(name) > 2 else name[0]
        return f"{surname}先生/女士"
    return name


def china_time(moment: datetime) -> str:
    """12月7日 09:30 (China time): how a time reads in a reply."""
    local = moment.astimezone(CHINA)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def yuan(fen: int) -> str:
    """1250 → 12.50元; 3000 → 30元."""
    whole, cents = divmod(int(fen), 100)
    return f"{whole}元" if not cents else f"{whole}.{cents:02d}元"
