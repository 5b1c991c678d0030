"""A small valid scenario as plain data (what YAML gives), for the domain tests to break."""

from __future__ import annotations

import copy
from typing import Any


def _line(say: str, next_state: str, emotion: str = "same") -> dict[str, str]:
    return {"say": say, "next": next_state, "emotion": emotion}


MINIMAL: dict[str, Any] = {
    "id": "demo-late",
    "title": "包裹迟到",
    "industry": "retail",
    "channel": "webchat",
    "case_type": "物流延误",
    "persona": {"name": "陈女士", "emotion": "anxious", "patience": 2},
    "goals": [{"id": "calm", "text": "安抚情绪"}, {"id": "close", "text": "礼貌结束"}],
    "opening": "包裹一周还没到！",
    "start": "opening",
    "patience_out": _line("我要去12315投诉！", "threat", "angry"),
    "states": {
        "opening": {
            "model_reply": "非常抱歉让您久等，请提供订单号。",
            "reactions": {
                "question": _line("订单号 123。", "offer", "fall"),
                "empathy": _line("那怎么办？", "opening", "fall"),
                "blame": _line("怪我？", "opening", "rise"),
                "vague": _line("尽快是多快？", "opening", "rise"),
                "solution": _line("先查查吧。", "opening"),
                "other": _line("所以呢？", "opening"),
            },
        },
        "offer": {
            "reactions": {
                "solution": _line("好，就这样。", "agreed", "fall"),
                "blame": _line("又推？", "offer", "rise"),
                "other": _line("然后呢？", "offer"),
            }
        },
        "agreed": {
            "reactions": {
                "closing": _line("谢谢。", "resolved", "fall"),
                "other": _line("还有吗？", "agreed"),
            }
        },
        "threat": {
            "reactions": {
                "solution": _line("好吧。", "agreed", "fall"),
                "blame": _line("12315见。", "escalated", "rise"),
                "other": _line("说话啊。", "threat"),
            }
        },
        "resolved": {"end": "resolved"},
        "escalated": {"end": "escalated"},
    },
}


def minimal() -> dict[str, Any]:
    return copy.deepcopy(MINIMAL)
