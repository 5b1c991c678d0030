"""The cues the priority rule reads from the text (docs/triage.md, domain/priority.py).

- money lost: the money is already gone — a refund not received or still pending, a double
  charge, an overcharge already paid, a price difference after purchase, a fee nobody agreed to;
- repeat contact: the customer says they contacted us before (第三次, 催了好几次, 说了多少遍,
  转了三个客服);
- deadline: an explicit time need (明天要用, 今天必须, 周五前, 今晚12点结束, 来不及).

Rules over the normalized text (simplified, half-width digits). The caller adds what the
history knows (earlier contacts on record count as repeat contact).
"""

from __future__ import annotations

import re

from kefu.domain.priority import Cues

_N = r"(?:[两二三四五六七八九十几好多]|\d+)"

MONEY_LOST = re.compile(
    r"退款[^,。!?]{0,12}(?:没|未|不)(?:到|收到|退|回|见)|钱[^,。!?]{0,4}没(?:退|回|到)|没退回|"
    r"钱不退|退款[^,。!?]{0,12}(?:审核中|处理中|一直|拖了|三十天|\d+天)|(?:还没|没有)收到退款|钱还在你们|理赔[^,。!?]{0,8}没到|"
    r"又没退|根本没钱|钱卡在|(?:钱|块|元)去哪了|退到了|"
    rf"(?:扣|收|付)了{_N}次|重复扣|多扣|多收|多付|多了{_N}[元块]|少了\d+[元块]?(?!积分)|金额[^,。!?]{{0,4}}少了|只退了|少退|收{_N}遍|"
    r"降价|价保|比平时还贵|贵了|杀熟|卖得贵|差价|只减了|差的\d+|收了我\d+|手续费|自动续费|乱收费"
)
REPEAT_CONTACT = re.compile(
    rf"(?<!回购)第[二三四五六2-6]次|第[二三四2-4]台|催了{_N}?(?:次|遍|周|天|回)|催了好几|说了(?:多少|{_N})遍|问了{_N}+[次遍]|"
    rf"转了{_N}个客服|已经(?:明确)?说过|上次[^,。!?]{{0,10}}(?:答应|说|承诺)|改了{_N}次|换了{_N}次|"
    r"一直没人处理|每次都说|又没(?:退|到|发|回|处理|人|打)|还是错|还是一直"
)
DEADLINE = re.compile(
    r"明天[^,。!?]{0,8}(?:要用|就要|一早|就满|上网课|出差|搬家)|今天必须|今天[^,。!?]{0,4}(?:送到|到)|急用|急着用|"
    r"(?:下?周[一二三四五六日天]|这周[一二三四五六日天])[^,。!?]{0,3}(?:之前|以前|前|就得|一定)|今晚\d+点|\d+点(?:前|以前|之前)|"
    r"来不及|赶上|来得及|赶得上"
)


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
