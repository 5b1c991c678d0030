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
from bisect import bisect_right
from dataclasses import dataclass

from kefu.domain.triage_labels import Risk
from kefu.nlp.lexicons import Entry, Family, cached_families
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
# Just before an act word: it is denied (不是投诉哈, 冇任何投诉, 没有投诉).
_ACT_DENIED = re.compile(r"(?:不是|并非|不算|冇任何|没有任何|没有|冇)(?:要|想|在)?$")
# Right after a threat's trigger: asking about the thing, not threatening with it.
_ASKING_ABOUT = re.compile(
    r"\s*(?:的)?(?:是什么|是干嘛|干嘛的|是做什么|是哪|在哪|电话是|电话多少|号码是|号码多少|"
    r"怎么打|怎么联系|地址|规定|"
    r"[^,]{0,8}(?:电话|热线|网站|网址|邮箱|渠道|窗口)(?:是|在|有|多少|哪)|"
    r"[^,]{0,8}(?:具体管|管什么|是管什么|是干嘛|是做什么))"
)
# Just before a threat's trigger: wondering whether one could, some day (是不是可以去工信部申诉,
# 如果将来…可以去保监局). A conditional threat (再不退款我就去消协) is not this.
_WONDERING = re.compile(
    r"(?:是不是|可不可以|能不能|能否|是否|将来|日后|以后万一|万一以后)(?:可以|能)?[^,]{0,6}$"
)
# Right after a threat's trigger: a place (法院门口, 工信部大楼附近) or a workplace.
_PLACE = re.compile(
    r"\s*(?:的)?(?:旁边|附近|门口|对面|楼下|楼上|大楼|大厦|隔壁|边上|路口|地铁站|公交站|宿舍|家属|小区|"
    r"上班|工作|实习)"
)
# Right after a platform: where something was seen or bought, or praise, not exposure.
_SEEN_ON = re.compile(
    r"\s*(?:上|里|平台)?(?:的)?(?:看到|刷到|看见|搜到|买|下单|下的单|店|商城|旗舰店|直播|客服|私信|@|"
    r"艾特|官方|小店|团购|广告|推广|链接|优惠|活动|夸|表扬|点赞|好评|感谢|推荐)"
)
# Before a trigger: another company's or the news' event, not this customer's (threats and harms).
_ELSEWHERE = re.compile(
    r"别的平台|别家|其他平台|其他家|别的银行|别的公司|另一家|有一家|上家|新闻|报道|隔壁市|网上说|看到有人|"
    r"邻居家|跟你们没关系|和你们没关系|不是你们[^,]{0,6}(?:引起|造成|的责任|的问题)"
)
# Before a harm's trigger: only wondering whether it could happen, not reporting it.
# Rhetorical questions (这是什么东西, 不配…吗) still report a harm.
_HYPOTHETICAL = re.compile(
    r"会不会|是否会|会唔会|会否|有冇可能|怎么关|怎么取消|怎么退订|如何关闭|如何取消|担心|怕[^,]{0,4}(?:会|吗)|听说|万一|如果|假如|要是|容易|"
    r"有没有[^,]{0,8}(?:保护|功能|断电)|能不能|可不可以|预防|防止|避免"
)
_WOULD = re.compile(r"会[^,]{0,6}$")  # 会漏电吗: 会 before the trigger …
_ASKS = re.compile(r"[^,]{0,4}吗")  # … and 吗 after it
# An old event (去年家里着火, 小时候骨折过), or an insurance claim about an injury, is no harm
# the company caused (safety only: 理赔诈骗 is still a privacy harm).
_OLD_EVENT = re.compile(r"(?:去年|前年|几年前|多年前|小时候|年轻时|曾经|以前)[^,]{0,4}$")
_CLAIM = re.compile(
    r"理赔|投保|核保|能保吗|保险|意外险|医疗险|车损险|自燃险|车险|报销|保单|赔付|能赔吗|能不能赔|赔不赔|怎么赔"
)
# Threats: the customer says they will not (不会 / 不想 / 没打算 / 唔会 … 曝光); 别 not in 性别.
_NEGATION = re.compile(
    r"(?:不会|不想|不打算|没打算|没想|没有要|并不想|不至于|不用|不需要|不准备|(?<![性区级特类分告识差个辨鉴派])别|"
    r"无意|不是要|不是想|唔会|唔想|唔打算|冇打算|未打算|不愿意)[^,]{0,6}$"
)
# Harms: it did not happen (没有受伤, 未过敏).
_ABSENT = re.compile(r"(?:没有|没|并没有|未|并未|无)[^,]{0,2}$")


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
    once. ``families``: other lexicons than the active ones (tests, tools).

    Each family scans the whole text once (most messages hold no term at all); only a clause
    holding a trigger is read further, trigger by trigger, in the order of the text."""
    families = active_families() if families is None else families
    hits: dict[Risk, RiskHit] = {}
    clauses: list[tuple[int, str]] | None = None
    starts: list[int] = []
    for family in families:
        triggers = family.triggers(text)
        if not triggers:
            continue
        if clauses is None:
            clauses = _clauses(text)
            starts = [start for start, _ in clauses]
        harmless: dict[int, list[tuple[int, int]]] = {}
        for trigger in triggers:
            index = bisect_right(starts, trigger.start) - 1
            if index < 0:
                continue
            offset, clause = clauses[index]
            start, end = trigger.start - offset, trigger.end - offset
            if end > len(clause):
                continue  # runs over the end of its sentence
            if index not in harmless:
                harmless[index] = family.harmless_spans(clause)
            reason = _real(family, clause, start, end, trigger.entry, harmless[index])
            if reason is not None:
                hits[family.risk] = RiskHit(
                    family.risk, offset, offset + len(clause), trigger.text, reason
                )
                break
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


def _real(
    family: Family,
    clause: str,
    start: int,
    end: int,
    entry: Entry,
    harmless_spans: list[tuple[int, int]],
) -> str | None:
    """The entry's reason if this trigger is a real signal in its clause, else None."""
    if any(a <= start < b or a < end <= b for a, b in harmless_spans):
        return None
    if _ELSEWHERE.search(clause, max(0, start - _BEFORE), start):
        return None
    if family.threat:
        if not _is_threat(family.risk, clause, start, end, entry.act):
            return None
    elif not _is_harm(family.risk, clause, start, end):
        return None
    return entry.reason


def _is_threat(risk: Risk, clause: str, start: int, end: int, is_act: bool) -> bool:
    before = max(0, start - _BEFORE)
    if _NEGATION.search(clause, max(0, start - 12), start) or _WONDERING.search(
        clause, before, start
    ):
        return False
    if _ASKING_ABOUT.match(clause, end) or _PLACE.match(clause, end):
        return False
    if risk is Risk.MEDIA and _SEEN_ON.match(clause, end):
        return False
    if is_act:
        return True
    window_end = min(len(clause), end + _AFTER)
    return any(
        not _ACT_DENIED.search(clause, max(0, act.start() - 4), act.start())
        for act in _ACT.finditer(clause, before, window_end)
    )


def _is_harm(risk: Risk, clause: str, start: int, end: int) -> bool:
    before = max(0, start - _BEFORE)
    if _ABSENT.search(clause, before, start) or _HYPOTHETICAL.search(clause, before, start):
        return False
    if _WOULD.search(clause, before, start) and _ASKS.match(clause, end):
        return False
    if risk is Risk.SAFETY and (_OLD_EVENT.search(clause, before, start) or _CLAIM.search(clause)):
        return False
    return True


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
