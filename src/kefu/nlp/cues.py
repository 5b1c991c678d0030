"""The cues the priority rule reads from the text (docs/triage.md, domain/priority.py).

- money lost: the money is already gone — a refund not received or still pending, a double
  charge, an overcharge already paid, a price difference after purchase, a deposit kept, a fee
  nobody agreed to, a card charged by someone else, points that vanished;
- repeat contact: the customer says they contacted the company before (第三次联系, 催了好几次,
  说了多少遍, 转了三个客服, 已经致电两次); a third purchase (第三次买, 第二次入住) is not one;
- deadline: an explicit time need (明天要用, 今天必须, 周五前要交, 今晚12点结束, 车还有二十分钟就开)
  or a dated ultimatum to the company (本周内退还, 七日内答复, 今天再不处理).

Rules over the normalized text: simplified characters, half-width punctuation and digits, Latin
lower-cased, numbers of five digits or more masked as <num>/<order>/<phone> (shorter amounts,
dates and times stay). The wording covers every industry (shops, food delivery, telecom, banks and
insurers, travel, education and software, local services), mainland, Taiwanese and Cantonese
phrasing, and voice-to-text without punctuation. Each cue is a list of commented alternatives
joined into one pattern at import. The caller adds what the history knows (earlier contacts on
record count as repeat contact).
"""

from __future__ import annotations

import re

from kefu.domain.priority import Cues

# A count said in words or digits: 两, 三, 七八, 十几, 好几, 多, 12 (one character class first, so
# that a pattern starting with a count can be scanned for fast).
_N = r"[0-9两二三四五六七八九十几好多][0-9两二三四五六七八九十几]{0,3}"
# Inside one clause: up to the next punctuation mark.
_C = r"[^,.;:!?。]"


def _top_level(pattern: str) -> list[tuple[int, str]]:
    """(index, character) of the pattern's characters outside any group, class or escape."""
    out: list[tuple[int, str]] = []
    depth, in_class, escaped = 0, False, False
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                out.append((i, ch))
        elif depth == 0:
            out.append((i, ch))
    return out


def _pieces(alternative: str) -> list[str]:
    """The top-level branches of one alternative (a|b|c → a, b, c)."""
    cuts = [i for i, ch in _top_level(alternative) if ch == "|"]
    bounds = zip([-1, *cuts], [*cuts, len(alternative)], strict=True)
    return [alternative[start + 1 : end] for start, end in bounds]


def _first_chars(piece: str) -> str:
    """The characters one branch can start with, as the body of a character class.

    Branches are written to start with a literal, a class ([...], \\d) or a group of such
    branches, never with something optional or a lookaround: anything else is refused here.
    """
    if piece.startswith("(?:"):
        end = next(i for i, ch in _top_level(piece) if ch == ")")  # the group's closing bracket
        first = "".join(_first_chars(branch) for branch in _pieces(piece[3:end]))
        rest = piece[end + 1 :]
    elif piece.startswith("["):
        end = piece.index("]", 1)
        first, rest = piece[1:end], piece[end + 1 :]
    elif piece.startswith("\\d"):
        first, rest = "0-9", piece[2:]
    elif piece and piece[0] not in "\\()[]{}?*+|^$.":
        first, rest = piece[0], piece[1:]
    else:
        raise ValueError(f"cue branch must start with a literal or a class: {piece!r}")
    if first.startswith("^") or rest[:1] in ("?", "*") or rest.startswith("{0"):
        raise ValueError(f"cue branch must not start with something optional or negated: {piece!r}")
    return first


def _compile(alternatives: list[str]) -> re.Pattern[str]:
    """One pattern for a cue's alternatives, led by a look-ahead for their first characters.

    Python's re cannot scan fast for the start of a long alternation and tries every branch at
    every position; the one-class look-ahead rejects most positions at once (about 4x faster).
    """
    branches = [piece for alternative in alternatives for piece in _pieces(alternative)]
    # Whole class bodies, deduplicated: a range such as 0-9 stays in one piece.
    first = "".join(dict.fromkeys(_first_chars(branch) for branch in branches))
    return re.compile(f"(?=[{first}])(?:{'|'.join(branches)})")


_MONEY_LOST = [
    # Money that should have come back and has not: 退款还没到账, 押金一直冇退返, 理赔款仍未到账,
    # 充值没到帐, 余额一分没涨, 积分扣了会员没到账.
    r"(?:退款|退费|钱|款|押金|按金|订金|定金|保证金|理赔|赔款|解约金|退保|余额|话费|会员|返现|回馈|充值)"
    rf"{_C}{{0,16}}?(?:没|未|冇|不见)(?:有|能|见)?(?:到账|到帐|入账|入帐|收到|退|回|返|到|涨|加|见|看到)",
    r"退(?:款|费)[^。!?]{0,20}?(?:还没|仍未|都未|未|没|冇)(?:有)?(?:收到|到账|到帐|入账|到)",
    r"(?:至今|仍然?|依然|一直|还是|都|也|还|又)(?:未|没|冇)(?:有)?(?:退(?!货)|到账|到帐|入账|入帐|返还)",
    rf"(?:没|未|冇)有?(?:看到|见到|收到|见着){_C}{{0,10}}?(?:钱|款)|(?:还没|没有|未|冇)(?:收到)?退(?:款|费|钱|回|返)|没退(?:回|给|款)",
    # A refund stuck or overdue: 退款审核中都五天了, 退个款能拖两个月, 说好3个工作日到账今天第18天.
    rf"退个?(?:款|费){_C}{{0,20}}(?:审核中|处理中|一直|拖|\d+天|几天)",
    r"(?:退|到账|到帐)[^。!?]{0,24}?(?:今天|已经|现在)(?:都|是)?(?:第|过了)",
    r"(?:钱|款|\d块?)(?:到底)?(?:什么时候|啥时候|几时)(?:能|才能)?(?:退|到|还|回)",
    # Not a cent seen: 一分钱没见到, 一毛都没回馈.
    rf"一(?:分|毛)钱?{_C}{{0,3}}(?:没|未|冇)",
    # Where did the money go: 钱到哪去了, 1299块到底在谁那, 钱卡在哪.
    r"(?:钱|块|元)(?:到底)?(?:去哪|到哪去?|在谁那|卡在)|根本没钱|没这笔|退到了",
    # Money kept: 钱不退, 定金概不退还, 剩下的钱也不退, 押金扣了 (not 欠钱不还).
    r"(?:钱(?<!欠钱)|费|款|金)(?:也|都|就|概|又)?(?:不退|不予退|不给退|唔退|不还)",
    rf"(?:押金|按金|订金|定金|保证金){_C}{{0,6}}扣",
    # Charged more than once: 扣了两次, 收了三遍, 一百块扣了两回, 刷了三笔, 重复计费.
    rf"(?:扣|收|付|交|缴|充)(?:了|咗)?(?:款|费|钱)?{_N}(?:次|遍|回|笔)|(?:刷|碌)(?:了|咗)?{_N}笔",
    r"重复(?:扣|收|计费|支付|缴)",
    # Charged more than due, unless only said (没多收一分钱, 凭什么要多交, 多收几块钱也行).
    rf"多(?<![没不别得]多)(?<!就要多)(?<!让我多)(?:扣|收|付|交|缴|计|算)(?!{_C}{{0,8}}也(?:行|可以|没关系|无所谓))",
    rf"多了\d+[元块]|多了[两二三四五六七八九十百千几]+[元块]|(?:金额|余额){_C}{{0,4}}少了|少了\d+[元块]?(?!积分)|"
    r"只(?:退|返|拿回|加)了|少退|少返",
    # A charge that happened to the customer: 被扣, 扣了我, 又扣了15块, 照样扣了600, 收了我六千八,
    # 被盗刷, 俾人碌咗, 钱我已经刷了, 已扣款, 每个月都收699, 另外交了三千.
    r"被(?:扣|收|盗刷|刷|碌|转走|划走)|俾人碌|盗刷|扣(?:了|咗)(?:我|钱|款)?|扣我|已(?:经)?(?:扣款|扣除|扣|刷|被扣)",
    r"(?:偷偷|照样|照|又|还|乱|强制|强行|竟然|居然|却)(?:扣|收(?![到集]))|自动扣(?:了|\d|费了|款了)",
    r"收(?:了|咗)我|(?:钱|款)(?:我|都)?(?:已经?)?(?:扣|刷|付|交)了|乱收费|滞纳金|另外(?:交|收|付)了|每个?月都(?:收|扣)",
    rf"扣(?<!不要扣)(?<!会不会扣){_C}{{0,3}}?(?:手续费|违约金|服务费|会员费|管理费|年费|油费|调节费)(?!{_C}{{0,3}}[吗不么])",
    r"自动(?:续费|续保|续订|扣费)(?:了|一年|一下)",
    # Price difference after purchase: 降价, 价保, 便宜了200, 补差价给我, 昨天买比今天贵了, 杀熟.
    rf"降价|价保|便宜了{_N}|(?:补|退|返)(?:给我)?差价|差价{_C}{{0,3}}(?:补给|退给|没|不)|差的\d+|"
    rf"买{_C}{{0,6}}贵了|比平时还贵|卖得贵|杀熟|只减了",
    # Lost on a product sold to them, points gone: 亏了两百多, 帐面亏损, 积分清零了, 说没就没了.
    rf"亏了|亏损|(?:积分|余额|钻石|点数){_C}{{0,4}}清零|说没就没|就这么没了|(?:钱|块)没了",
]

# Verbs of contacting the company, and what may stand between the verb and the count.
_CONTACT = r"(?:打|致电|联系|联络|找|问|催|反映|反馈|投诉|申诉|报修|留言|电邮|邮件|写信|来电|说|讲|提|约|沟通|咨询|回复|回|修)"
_TO = r"(?:你们|贵司|贵公司|客服|热线|电话|人工|前台|过去|去|来|进来)?"

_REPEAT_CONTACT = [
    # The nth contact, not the nth purchase, stay or breakdown: 第三次联系, 第四次打来, 第三次了,
    # 已经第三次来问了, 第三次投诉 (not 第三次买/入住/点, 第二次住, 回购第三次, 第三次出故障).
    r"第(?<!回购第)[二三四五六七八九十2-9]次(?!(?:买|购|入住|住|点|光顾|来吃|吃|用|续|回购|坐|乘|搭|订|报名|"
    r"参加|出|坏|发生|停|断|来这|去|玩|看|做|上|下单成功))",
    r"第[二三四2-4]台",
    # A count of contacts: 打了四次客服, 打咗三次电话, 已经致电热线两次, 申诉了三次, 报修过两回,
    # 跟前台说过好几次, 问了五六次, 约了三次上门, 修了三次.
    rf"{_CONTACT}(?:了|过|咗)?{_TO}(?:了|过|咗)?{_N}(?:次|遍|回|趟)",
    rf"{_N}次{_C}{{0,4}}(?:联系|联络|致电|打电话|来电|电邮|邮件|写信|要求|反映|投诉|催|书面|报修)|不下{_N}次",
    # Said how many times: 说了多少遍, 讲过几多次.
    r"(?:说|讲|问|催|打)(?:了|过|咗)?(?:多少|几多)(?:遍|次)",
    # Passed along: 转了三个客服, 转来转去, 客服换了一个又一个.
    rf"转了{_N}个|转来转去|换了一个又一个|换了{_N}个客服",
    # An earlier contact named: 之前已经打过两次, 上周就打过电话, 上周打你们客服, 早上打过电话,
    # 已经明确说过, 上次客服答应 (not 已经打了12315: a regulator is not the company).
    r"(?:已经|已|之前|先前|此前|上次|上回|上周|上个?月|上个?礼拜|上星期|昨天|昨晚|前天|早上|上午|早前|前几天)"
    rf"{_C}{{0,8}}?(?:打过(?!\d)|打了(?!\d)|打咗(?!\d)|打(?:你们|给你们)|致电|联系过|联络过|找过|问过|"
    r"反映过|反馈过|说过|讲过|提过|报修过|申诉过|留言过|来电|答应|承诺)",
    # Told someone at the company: 向客服反映了好几次, 已通过app客服反映, 跟你们说过.
    r"(?:向|跟|给|找|通过)(?:你们|贵司|贵公司|贵行|app客服|在线客服|客服|营业厅|前台|门店|物业|管理处)"
    rf"{_C}{{0,4}}(?:反映|反馈|投诉|申诉|说过|讲过|沟通|联系|提过)",
    # What they said when called: 打去客服说是, 打你们热线说排查中, 打客服只会让我等.
    r"打(?:去|过去|给你们|你们)的?(?:客服|热线|电话)?(?:都|也|就)?(?:说|话|只会|让|叫)|"
    r"打(?:客服|热线)(?:都|也|就)?(?:说|话|只会|让|叫)",
    r"又(?:打来|来问|来找|打了一次|联系)",
    # Every time I call they say: 每次打电话都说, 每次都话, 每次打去都说会计不在.
    rf"每次{_C}{{0,5}}?(?:都|就|也)?(?:说|(?<!电)话|讲|让|答应|答复|回复|推)",
    # Chased: 催了好几次, 催了两周.
    rf"催了{_N}?(?:次|遍|周|天|回)|催了好几",
    # Fixed again and again: 改了三次, 换了三次 (a replacement).
    rf"(?:改|换)了{_N}次",
    r"一直没人处理|又没(?:退|到|发|回|处理|人|打)|还是错|还是一直",
]

# Times, each written to start with a literal or one character class (fast to scan for): a weekday
# ahead (下礼拜三, 周五, not 上周二), a day ahead, a clock time (8点, 三点半, 11:30; not 快一点), and
# any time including today, a date and a part of the day.
_WEEKDAY = (
    r"下个?(?:周|礼拜|星期)[一二三四五六日天末]|"
    r"周(?<![上个]周)[一二三四五六日天末]|礼拜(?<![上个]礼拜)[一二三四五六日天末]|星期(?<![上个]星期)[一二三四五六日天末]"
)
_DAY_AHEAD = rf"(?:明天|明日|明早|明晚|后天|{_WEEKDAY}|下周|下个?礼拜|下个?月|月底|周末)"
_CLOCK = r"[0-9]+(?:点(?:半|[0-9]+分?)?|:[0-9]+)"
_CLOCK_WORDS = r"[一二三四五六七八九十两](?<![快早晚多少有好慢差]一)[一二三四五六七八九十]?点半?"
_DAY = rf"(?:今天|今日|今晚|今早|今夜|这周|本周|下班|早上|上午|中午|下午|晚上|{_DAY_AHEAD})"
_DATE_OR_CLOCK = r"[0-9]+(?:点(?:半|[0-9]+分?)?|:[0-9]+|月[0-9]+[日号]|[日号])"
_WHEN = (_DAY, _DATE_OR_CLOCK, _CLOCK_WORDS)  # any time, today included
_AHEAD = (_DAY_AHEAD, _CLOCK, _CLOCK_WORDS)  # a time ahead


def _after(times: tuple[str, ...], rest: str) -> str:
    """One branch per kind of time, each followed by rest."""
    return "|".join(f"{t}{rest}" for t in times)


_DEADLINE = [
    # A time ahead and what must happen then: 明天要用, 今天下午要交, 下礼拜三就要飞, 晚上六点就要开门,
    # 今天必须 (not 今天必须说一下).
    _after(
        _WHEN,
        rf"{_C}{{0,6}}?(?:要用|就要|就得|还得|必须(?!说|讲|吐槽)|一定要|得交|要交|要把|要飞|要出发|要送到|要交给|还要|截止|结束|逾期)",
    ),
    # ... or the event itself, said of a day ahead: 明早8点的航班, 明天早上还有直播课, 下周一入职, 下午两点开会.
    _after(
        _AHEAD,
        rf"{_C}{{0,6}}?(?:飞|出发|出差|出国|搬家|考试|面试|入职|报到|上班|上课|开课|直播课|有课|开会|会议|航班|"
        r"飞机|火车|高铁|的车|婚礼|派对|生日|手术|检查|胃镜|交房租|交租|收房)",
    ),
    # Before a point in time: 周五前, 下午三点前必须, 6月15日前, 11:30前送达, 今天下班前.
    _after(_WHEN, "(?:之前|以前|前)(?!天)"),
    # A dated ultimatum: 七日内答复, 本周内退还, 若三天内没有, 今天再不处理, 下周还不解决.
    r"(?:如|若|如果|要是|请|务必|限)于?(?:本周|本月|今天|\d+|[一二三四五六七八九十两]+)(?:个工作)?[日天周]?(?:内|之内)",
    rf"{_N}(?:个工作)?[日天](?:内|之内)(?:给予|给出|答复|回复|退还)",
    r"本周内|本月内|今天之内|今日内",
    rf"(?:今天|今晚|明天|本周|这周|下周|{_WEEKDAY})(?:要是|如果)?(?:再|还|仍)(?:不|没|未)",
    # Now or never: 急用, 车还有二十分钟就开, 马上就要上课了, 来不及, 来得及吗 (not 没赶上).
    r"急用|急着用|急需|赶飞机|赶火车|赶高铁|赶时间|马上就要|马上要",
    rf"还有{_N}(?:分钟|个?小时|个?钟)就",
    r"来不及|来得及|来不来得及|赶得上|赶得及",
]

MONEY_LOST = _compile(_MONEY_LOST)
REPEAT_CONTACT = _compile(_REPEAT_CONTACT)
DEADLINE = _compile(_DEADLINE)


CUE_PATTERNS = {"money_lost": MONEY_LOST, "repeat_contact": REPEAT_CONTACT, "deadline": DEADLINE}


def find_cue_spans(text: str) -> dict[str, tuple[int, int]]:
    """The first span in the normalized text that raised each cue found."""
    spans = {}
    for name, pattern in CUE_PATTERNS.items():
        m = pattern.search(text)
        if m is not None:
            spans[name] = m.span()
    return spans


def find_cues(text: str) -> Cues:
    """The cues in one normalized message."""
    spans = find_cue_spans(text)
    return Cues(**{name: name in spans for name in CUE_PATTERNS})
