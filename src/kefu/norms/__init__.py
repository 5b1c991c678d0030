"""The communication-norms checker (沟通规范检查): spec/norms.md as code.

``check(reply, context)`` returns the findings of the 13 rules on one agent reply; the
words are data in ``rules.toml``. ``evaluate`` scores the checker on a labelled file.
"""

from kefu.norms.checker import chat_length_limit, check, customer_emotion
from kefu.norms.model import RULES, WEIGHTS, Finding, ReplyContext, Report, Turn, norm_score

__all__ = [
    "RULES",
    "WEIGHTS",
    "Finding",
    "ReplyContext",
    "Report",
    "Turn",
    "chat_length_limit",
    "check",
    "customer_emotion",
    "norm_score",
]
