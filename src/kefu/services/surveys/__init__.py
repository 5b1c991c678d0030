"""Satisfaction surveys and follow-ups (满意度调查与回访): scheduled when a case reaches its
surveyed stage (``schedule``), sent through the outbox when due (``send``), answered once through
a signed link or inline in web chat (``answer``); each channel's setting (``config``)."""
