"""Masking of personal data (phone, ID card, bank card, email) for logs and exports, masking by
role for what staff read (``sees_full_numbers``, ``mask_numbers``), and its redaction from what
is shared beyond the case (the case library)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from kefu.domain.roles import Role, at_least

# Order matters: the longest numbers first, so an ID card is not masked as a phone.
_ID_CARD = re.compile(
    r"(?<![0-9])([1-9][0-9]{5})(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{2}[0-9]{3}[0-9Xx](?![0-9])"
)
_BANK_CARD = re.compile(r"(?<![0-9])[0-9]{4}(?:[ -]?[0-9]{4}){3}(?:[ -]?[0-9]{1,3})?(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9][0-9])[ -]?[0-9]{4}[ -]?([0-9]{4})(?![0-9])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")

# For analysis: which kind of personal data each pattern finds, longest numbers first.
PERSONAL_DATA_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("idcard", _ID_CARD),
    ("phone", _MOBILE),
    ("card", _BANK_CARD),
    ("email", _EMAIL),
)


def _mask_ids_and_phones(text: str) -> str:
    """ID cards first: an 18-digit ID holds what reads as a phone number."""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(0)[-4:]}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def _mask_bank_card(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group(0))
    return f"{digits[:4]}********{digits[-4:]}"


def mask_personal_data(text: str) -> str:
    """Replace phone, ID-card, bank-card numbers and email local parts by masked forms.

    ``13812345678`` → ``138****5678``; an 18-digit ID keeps its region code and check digit.
    """
    text = _mask_ids_and_phones(text)
    text = _BANK_CARD.sub(_mask_bank_card, text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)


# --- masking by role: what staff read ----------------------------------------------------------
# Agents and complaint specialists answer the case without the customer's full numbers; they
# show one when the case needs it (audited). Supervisors and admins read them in full.


def sees_full_numbers(role: Role) -> bool:
    """Whether ``role`` reads phone, ID-card and bank-card numbers unmasked by default."""
    return at_least(role, Role.SUPERVISOR)


def mask_numbers(text: str) -> str:
    """Phone, ID-card and bank-card numbers masked for display: ``138****5678``,
    ``110101********1234``, ``****1234``; the rest of the text (e-mail included) as it is."""
    text = _mask_ids_and_phones(text)
    return _BANK_CARD.sub(lambda m: f"****{re.sub(r'[^0-9]', '', m.group(0))[-4:]}", text)


# --- redaction: text that leaves the case for good (the case library) ------------------------
# Masking keeps a hint for a log reader (138****5678); redaction keeps none: what is shared with
# every agent names no person, number or place. Each kind becomes a label in 【】.

PERSON, CUSTOMER, STAFF = "【姓名】", "【客户】", "【客服】"
_FULL_WIDTH = {
    c: c - 0xFEE0
    for c in (
        *range(0xFF10, 0xFF1A),
        *range(0xFF21, 0xFF3B),
        *range(0xFF41, 0xFF5B),
        0xFF20,
        0xFF0D,
    )
}  # ０-９, Ａ-Ｚ, ａ-ｚ, ＠, －: not the CJK punctuation （，：）
_SEP = r"[ \-.–—_/]?"
_ORDER_WORD = re.compile(
    r"((?:订单|运单|快递单|物流单|单|工单|交易|流水|保单|合同)(?:号码?|编号|ID|id)"
    r"(?:是|为|:|：)?\s*)[A-Za-z0-9][A-Za-z0-9\-_]{3,}"
)
_ACCOUNT_WORD = re.compile(
    r"((?:微信号?|QQ号?|qq号?|支付宝(?:账号)?|账号|账户|会员号|用户名|昵称|ID|id)(?:是|为|:|：)?\s*)"
    r"[A-Za-z0-9][A-Za-z0-9_\-.@]{3,}"
)
_ORDER_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,5}[-_]?[0-9]{4,}[A-Za-z0-9]*(?![A-Za-z0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0[0-9]{2,3}[ -]?[0-9]{7,8}(?![0-9])")
_DIGIT_RUN = re.compile(rf"(?<![0-9])[0-9](?:{_SEP}[0-9]){{6,}}(?![0-9])")
_DATE = re.compile(r"[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}(?:[ T][0-9:]+)?")
_EMAIL_LOOSE = re.compile(
    r"[A-Za-z0-9._%+-]+\s*(?:@|\(at\)|\[at\]|＠)\s*[A-Za-z0-9-]+(?:\s*(?:\.|\(dot\))\s*[A-Za-z0-9-]+)+"
)
_ADDRESS_WORD = re.compile(
    r"((?:收货|收件|寄件|寄送|配送|送货|家庭|家|公司|单位|联系|居住|详细)?(?:地址|住址|住在)"
    r"(?:是|为|在|:|：)?\s*)[^，。,；;！!？?\n]{2,60}"
)
_CJK = "\u4e00-\u9fff"
_ADDRESS = re.compile(  # not from a word that leads to a place: 送到 / 寄往 / 住在 杭州市…
    r"(?![到在往寄送发从是的住于至回给和与及])"
    rf"(?:[{_CJK}]{{2,8}}?(?:省|自治区|市|区|县|旗|镇|乡|街道))*"
    rf"[{_CJK}A-Za-z0-9]{{1,12}}?(?:路|街|大道|巷|弄|胡同|里|村|小区|花园|公寓|大厦|苑|园)"
    r"[0-9一二三四五六七八九十百零〇甲乙丙A-Za-z\-]+(?:号院|号楼|号|弄|栋|幢|座|单元|楼|层|室)"
    r"(?:[0-9一二三四五六七八九十百零〇A-Za-z\-]+(?:号院|号楼|号|栋|幢|座|单元|楼|层|室))*"
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"  # not 和 / 时, read as words far more often
)
COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|端木"
_TITLED = re.compile(
    rf"(?:{COMPOUND_SURNAMES}|[{SURNAMES}])(?:[{_CJK}]{{0,2}}?)(?:先生|女士|小姐|太太|阿姨|老师|师傅|同学|经理)"
)
_INTRODUCED = re.compile(
    rf"((?:我叫|我是|本人|姓名|名字叫?|收件人|收货人|寄件人|联系人|户主|持卡人)(?:是|为|:|：)?\s*)"
    rf"(?:{COMPOUND_SURNAMES}|[{SURNAMES}])[{_CJK}]{{1,2}}"
)


def fold_width(text: str) -> str:
    """Full-width letters, digits and signs as their ASCII forms (１３８ → 138); CJK punctuation
    is left as it is."""
    return text.translate(_FULL_WIDTH)


def _not_a_date(label: str) -> Callable[[re.Match[str]], str]:
    return lambda m: m.group(0) if _DATE.fullmatch(m.group(0)) else label


def redact_personal_data(text: str, known: Iterable[tuple[str, str]] = ()) -> str:
    """``text`` with names, phone, ID-card, bank-card, order and account numbers, e-mail and
    postal addresses replaced by labels (【手机号】, 【地址】 …).

    ``known``: (value, label) pairs of what is known to be personal in this text's case — the
    customer's name, phone, e-mail and channel ids, staff names, order numbers in its fields —
    replaced wherever they appear (longest first). The patterns then catch what nobody listed:
    numbers however spaced or written in full-width digits, addresses with a house number, a
    surname with 先生/女士, a name after 我叫/收件人. A name written bare in running text is
    only caught when it is known."""
    text = fold_width(text)
    for value, label in sorted(set(known), key=lambda pair: -len(pair[0])):
        value = fold_width(value.strip())
        if len(value) >= 2:
            text = text.replace(value, label)
    text = _EMAIL_LOOSE.sub("【邮箱】", text)
    text = _ADDRESS_WORD.sub(lambda m: m.group(1) + "【地址】", text)
    text = _ADDRESS.sub("【地址】", text)
    text = _ID_CARD.sub("【证件号】", text)
    text = _BANK_CARD.sub(_not_a_date("【卡号】"), text)
    text = _MOBILE.sub("【手机号】", text)
    text = _ORDER_WORD.sub(lambda m: m.group(1) + "【单号】", text)
    text = _ACCOUNT_WORD.sub(lambda m: m.group(1) + "【账号】", text)
    text = _LANDLINE.sub("【电话】", text)
    text = _ORDER_CODE.sub("【单号】", text)
    text = _DIGIT_RUN.sub(_not_a_date("【号码】"), text)
    text = _INTRODUCED.sub(lambda m: m.group(1) + PERSON, text)
    return _TITLED.sub(PERSON, text)
