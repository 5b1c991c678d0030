"""Crisis signals (docs/triage.md, risks): rules, because here rules are right.

A risk needs a real signal, not a word: 「我要打12315」 carries ``regulator``,
「12315是干嘛的？」 does not; 「我不会去曝光的」 carries nothing. Each clause of the
normalized text is read on its own:

1. a trigger of the risk is found (曝光, 12315, 律师, 着火 …), unless it is part of a
   harmless compound (曝光补偿, 工商银行, 律师事务所, 爆炸盐 …);
2. a negation just before the trigger cancels it (不会 / 不想 / 没打算 … 曝光);
3. threats (media, regulator, legal) need an act or an intent in the clause (我要, 准备,
   已经, 再不…就, 等着 …), and a trigger followed by a question about it (12315是干嘛的,
   消协在哪) carries no risk;
4. harms (safety, privacy, discrimination) are events: a question whether something
   could happen (会不会漏电) is not one.

Each hit keeps the span of text that triggered it, for the agent's explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.domain.triage_labels import Risk
from kefu.nlp.normalize import normalize

_CLAUSE_END = re.compile(r"[。!?;\n]+")  # sentences (the text is normalized: ！→!)

# Intent or act: the customer is doing or will do it.
_ACT = re.compile(
    r"我要|我会|我就|我也要|还要|要打|要去|我去|就去|准备|打算|已经|已|马上|立刻|明天|等着|再不|否则|不然|要么|一定|必须|"
    r"投诉|举报|联系了|找了|交给|委托|递交|打了|打电话|发个|发到|发了|录音|截图|拍了|视频|让大家|评评理|"
    r"告你们|告到|报警了|起诉"
)
# Right after a threat's trigger: asking about the thing, not threatening with it
# (12315是干嘛的, 消协在哪, 消费者协会规定的…).
_ASKING_ABOUT = re.compile(r"\s*(?:是什么|是干嘛|干嘛的|是哪|在哪|电话是|电话多少|怎么打|规定)")
# Only wondering whether a harm could happen, not reporting one (for harms). Rhetorical
# questions (这是什么东西, 不配…吗) still report a harm.
_HYPOTHETICAL = re.compile(
    r"会不会|是否会|会[^,]{0,6}吗|担心|怕[^,]{0,4}(?:会|吗)|听说|有没有[^,]{0,8}(?:保护|功能|断电)"
)
_NEGATION = re.compile(
    r"(?:不会|不想|不打算|没打算|没想|没有要|并不想|不至于|不用|不需要|不准备|别)[^,]{0,6}$"
)


@dataclass(frozen=True)
class RiskRule:
    risk: Risk
    trigger: re.Pattern[str]
    harmless: re.Pattern[str] | None  # compounds that contain the trigger but mean no harm
    threat: bool  # needs an act or intent in the clause (media, regulator, legal)
    reason: str  # Chinese, for agents


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


RULES: tuple[RiskRule, ...] = (
    RiskRule(
        Risk.MEDIA,
        _re(
            r"曝光|发微博|微博上|发抖音|抖音上|发小红书|小红书上|找记者|记者|上热搜|媒体|发到网上|网上曝|公之于众|黑猫投诉|让大家看看|让大家评评理"
        ),
        _re(
            r"曝光补偿|曝光度|官方微博|媒体评测|各家媒体|多媒体|热搜的那个|直播间|记者采访|适合记者"
        ),
        True,
        "威胁或已经公开曝光",
    ),
    RiskRule(
        Risk.REGULATOR,
        _re(
            r"12315|12345|消协|消费者协会|消保委|市场监管|监管局|监管部门|工商局|工商部门|银保监|网信办|质监局|价格举报"
        ),
        _re(r"工商银行"),
        True,
        "威胁或已经向监管部门投诉",
    ),
    RiskRule(
        Risk.LEGAL,
        _re(r"律师|起诉|上诉|法院|报警|报案|警察|派出所|法律途径|诉讼|仲裁"),
        _re(r"律所采购|律师事务所|在法院上班|法院的门卫|法院门卫|律师函警告|人民法院的"),
        True,
        "威胁或已经采取法律行动",
    ),
    RiskRule(
        Risk.SAFETY,
        _re(
            r"着火|起火|冒火|冒烟|烧焦|烧起来|爆炸|炸了(?!似的)|漏电了|被电|电了一下|触电|烫伤|烫起|烫出|烧伤|划破|割伤|"
            r"受伤|流血|缝了|骨折|摔倒|中毒|上吐下泻|食物中毒|过敏了|说是过敏|起疹子|红肿|烂脸|去医院|在医院|住院|输液|"
            r"吞下|误吞|误食|差点吞|咬破|窒息|玻璃渣|鼓包|火花|熔化|发烫得|后怕|起红点|红了一大片|皮炎|红疹"
        ),
        _re(r"爆炸盐|消防面罩|灭火器|烟雾报警|过敏体质"),
        False,
        "可能危及人身安全",
    ),
    RiskRule(
        Risk.PRIVACY,
        _re(
            r"泄露|泄漏|信息被|卖给了|给了多少人|推销电话|骚扰电话|贷款电话|陌生人|不认识的地址|被盗号|账号被盗|"
            r"侵犯隐私|隐私保护|强制收集|个人信息|知道我的(?:名字|姓名|地址|电话|手机|生日|订单|身份)|说出了我|全名和手机号|别人的订单|我的信息"
        ),
        _re(r"隐私政策在哪|会不会把我的"),
        False,
        "个人信息可能被泄露或滥用",
    ),
    RiskRule(
        Risk.DISCRIMINATION,
        _re(
            r"歧视|区别对待|差别对待|不配|欺负我们|看不起|外地口音|你们那边的人|残疾人就|年纪大[^,]{0,8}不耐烦|"
            r"老年人就不|凭什么[^,]{0,12}(?:地区|人|族)|粉色税|女士版就比|改个名字"
        ),
        None,
        False,
        "可能存在歧视或不平等对待",
    ),
)


@dataclass(frozen=True)
class RiskHit:
    risk: Risk
    start: int  # span in the normalized text
    end: int
    trigger: str
    reason: str

    def explanation(self, text: str) -> str:
        """「…」 around the clause that raised it, for agents."""
        return f"{self.reason}：「{text[self.start : self.end]}」"


def find_risks(text: str) -> list[RiskHit]:
    """Every risk the (normalized) text carries, with the clause that raised it; each risk once."""
    hits: dict[Risk, RiskHit] = {}
    for start, clause in _clauses(text):
        for rule in RULES:
            if rule.risk in hits:
                continue
            hit = _match(rule, clause)
            if hit is not None:
                hits[rule.risk] = RiskHit(rule.risk, start, start + len(clause), hit, rule.reason)
    return [hits[r] for r in Risk if r in hits]


def _clauses(text: str) -> list[tuple[int, str]]:
    clauses, start = [], 0
    for m in _CLAUSE_END.finditer(text):
        if m.end() > start:
            clauses.append((start, text[start : m.end()]))
        start = m.end()
    if start < len(text):
        clauses.append((start, text[start:]))
    return [(s, c) for s, c in clauses if c.strip()]


def _match(rule: RiskRule, clause: str) -> str | None:
    harmless_spans = [m.span() for m in rule.harmless.finditer(clause)] if rule.harmless else []
    for m in rule.trigger.finditer(clause):
        if any(a <= m.start() < b or a < m.end() <= b for a, b in harmless_spans):
            continue
        if _NEGATION.search(clause[: m.start()]):
            continue
        if rule.threat:
            if not _ACT.search(clause) or _ASKING_ABOUT.match(clause, m.end()):
                continue
        elif _HYPOTHETICAL.search(clause):
            continue
        return m.group(0)
    return None


ENGINE = "kefu-rules-1"  # changes when the rules change meaning


@dataclass(frozen=True)
class CrisisReading:
    """What intake stores for a message until the full analysis engine is in place."""

    risks: tuple[RiskHit, ...]
    text: str  # normalized

    def to_json(self) -> dict[str, object]:
        return {
            "engine": ENGINE,
            "risks": [h.risk.value for h in self.risks],
            "explanations": {h.risk.value: h.explanation(self.text) for h in self.risks},
        }


def read_crisis(raw_text: str) -> CrisisReading:
    """Normalize a customer message and read its crisis signals."""
    text = normalize(raw_text).text
    return CrisisReading(tuple(find_risks(text)), text)
