"""``N_``: marks a Chinese string for the translation catalogue without translating it.

The domain states its texts in Chinese (the language kefu's rules are written in); a page shows
them in the reader's language by looking the same string up in the catalogue when it renders.
`make i18n` extracts every ``N_("…")`` of the packages it reads (the Makefile lists them)."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "translate later"
    return message
