"""Crisis signals (docs/triage.md, risks): rules, because here rules are right.

The words live in data files, one per risk family (kefu/nlp/lexicons/*.toml, extended by
the setting ``KEFU_LEXICON_DIR``); this module is the handling every entry shares. A risk
needs a real signal, not a word: 「我要打12315」 carries ``regulator``, 「12315是干嘛的？」
does not; 「我不会去曝光的」 carries nothing. Each sentence of the normalized text is read on
its own (voice-to-text without punctuation is one sentence, so the checks look at a window
around the trigger rather than the whole sentence):

1. a trigger of the family is found (曝光, 12315, 金管会, 律师, 着火 …), unless it is part of
   a harmless compound (曝光补偿, 工商银行, 律师事务所, 爆炸盐 …);
2. a negation just before the trigger cancels it (不会 / 不想 / 没打算 / 唔会 … 曝光);
3. threats (media, regulator, legal) need an act or an intent near the trigger (我要, 准备,
   已经, 投诉, 检举, 申诉, 提告, 揾, 再不…就 …) unless the term is one itself (求扩散,
   避雷); a trigger followed by a question about it (12315是干嘛的, 消委会电话多少), by a
   place (法院门口, 工信部大楼附近) or by where something was seen or bought (抖音上看到)
   carries no risk. Asking how to complain (怎么向银保监投诉) is an intent, so it does;
4. harms (safety, privacy, discrimination) are events: a question whether something
   could happen (会不会漏电), and an old event brought up for an insurance claim
   (小时候骨折过 能投保吗), are not.

Each hit keeps the span of text that triggered it and its entry's reason, for the agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.domain.triage_labels import Risk
from kefu.nlp.lexicons import Family, cached_families
from kefu.nlp.normalize import normalize
from kefu.settings import get_settings

_CLAUSE_END = re.compile(r"[。!?;\n]+")  # sentences (the text is normalized: ！→!)
_BEFORE = 14  # characters before a trigger searched for an act, a hypothetical …
_AFTER = 12  # … and after it

# Intent or act: the customer is doing or will do it (simplified: 檢舉 → 检举, 搵 → 揾).
_ACT = re.compile(
    r"我要|我会|我就|我也要|我们要|我们会|我们就|我哋|还要|要打|要去|要找|我去|就去|去找|准备|打算|考虑|"
    r"已经|已|马上|立刻|立即|即刻|明天|听日|等着|等住|走着瞧|再不|否则|不然|要么|一定|必须|绝对|"
    r"保留|追究|后果|到时候|直接|会去|上报|求助|"
    r"投诉|举报|检举|申诉|反映|陈情|联系了|找了|找过|找|揾|交给|委托|递交|提交|打了|打过|打电话|"
    r"致电|拨打|打去|打给|打到|写信|去信|发函|寄了|发个|发到|发了|发上|挂到|挂出|po|录音|截图|拍了|视频|"
    r"让大家|评评理|告你|告到|去告|要告|提告|告上|报警了|起诉|报料|爆料|咗|向"
)
# Right after a threat's trigger: asking about the thing, not threatening with it.
_ASKING_ABOUT = re.compile(
    r"\s*(?:的)?(?:是什么|是干嘛|干嘛的|是做什么|是哪|在哪|电话是|电话多少|号码是|号码多少|"
    r"怎么打|怎么联系|地址|规定)"
)
# Right after a threat's trigger: a place (法院门口, 工信部大楼附近) or a workplace.
_PLACE = re.compile(
    r"\s*(?:的)?(?:旁边|附近|门口|对面|楼下|楼上|大楼|大厦|隔壁|边上|路口|地铁站|公交站|宿舍|家属|小区|"
    r"上班|工作|实习)"
)
# Right after a platform: where something was seen or bought, not where it will be exposed.
_SEEN_ON = re.compile(
    r"\s*(?:上|里|平台)?(?:的)?(?:看到|刷到|看见|搜到|买|下单|下的单|店|商城|旗舰店|直播|客服|私信|@|"
    r"艾特|官方|小店|团购|广告|推广|链接|优惠|活动)"
)
# Only wondering whether a harm could happen, not reporting one (for harms). Rhetorical
# questions (这是什么东西, 不配…吗) still report a harm.
_HYPOTHETICAL = re.compile(
    r"会不会|是否会|会[^,]{0,6}吗|担心|怕[^,]{0,4}(?:会|吗)|听说|万一|如果|假如|要是|容易|"
    r"有没有[^,]{0,8}(?:保护|功能|断电)|能不能|可不可以|预防|防止|避免"
)
# An old event told for an insurance question is no harm the company caused.
_OLD_EVENT = re.compile(r"(?:小时候|几年前|多年前|年轻时|曾经|以前)[^,]{0,10}$")
_CLAIM = re.compile(r"理赔|投保|核保|能保|保险|报销|保单|赔付")
_NEGATION = re.compile(
    r"(?:不会|不想|不打算|没打算|没想|没有要|并不想|不至于|不用|不需要|不准备|别|无意|不是要|不是想|"
    r"唔会|唔想|唔打算|冇打算|未打算|不愿意)[^,]{0,6}$"
)


def active_families() -> tuple[Family, ...]:
    """The shipped lexicons plus those of ``KEFU_LEXICON_DIR`` (loaded once per directory)."""
    return cached_families(get_settings().lexicon_dir)


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


def find_risks(text: str, families: tuple[Family, ...] | None = None) -> list[RiskHit]:
    """Every risk the (normalized) text carries, with the sentence that raised it; each risk
    once. ``families``: other lexicons than the active ones (tests, tools)."""
    families = active_families() if families is None else families
    hits: dict[Risk, RiskHit] = {}
    for start, clause in _clauses(text):
        for family in families:
            if family.risk in hits:
                continue
            hit = _match(family, clause)
            if hit is not None:
                trigger, reason = hit
                hits[family.risk] = RiskHit(
                    family.risk, start, start + len(clause), trigger, reason
                )
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


def _match(family: Family, clause: str) -> tuple[str, str] | None:
    """The first real trigger of the family in the clause, with its entry's reason."""
    harmless = family.harmless
    harmless_spans = [m.span() for m in harmless.finditer(clause)] if harmless else []
    for m in family.trigger.finditer(clause):
        if any(a <= m.start() < b or a < m.end() <= b for a, b in harmless_spans):
            continue
        if _NEGATION.search(clause, max(0, m.start() - 12), m.start()):
            continue
        window = clause[max(0, m.start() - _BEFORE) : m.end() + _AFTER]
        entry = family.entry_of(m)
        if family.threat:
            if _ASKING_ABOUT.match(clause, m.end()) or _PLACE.match(clause, m.end()):
                continue
            if family.risk is Risk.MEDIA and _SEEN_ON.match(clause, m.end()):
                continue
            if not entry.act and not _ACT.search(window):
                continue
        else:
            if _HYPOTHETICAL.search(window):
                continue
            if _OLD_EVENT.search(clause, 0, m.start()) and _CLAIM.search(clause):
                continue
        return m.group(0), entry.reason
    return None


ENGINE = "kefu-rules-2"  # changes when the rules change meaning


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
