"""A value an admin typed that a rule refuses, naming the field it belongs to, so the form can
show the message beside that field and the API can answer 422 with ``{field: message}``."""

from __future__ import annotations


class FieldRefused(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
