"""Shapes shared by every resource: strict input models and the error body."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator


class In(BaseModel):
    """Input: unknown fields are rejected, never silently dropped; no NUL characters.

    PostgreSQL cannot store U+0000 in text or JSON, so it is refused here with a 422
    rather than failing in the database.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text may not contain the NUL character (U+0000)")
        return data


def _has_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 20:
        return False
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


class Patch(In):
    """A partial update: omitted fields stay; ``not_null`` fields may not be sent as null."""

    not_null: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Patch:
        nulls = sorted(
            name for name in self.model_fields_set & self.not_null if getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"may not be null: {', '.join(nulls)}")
        return self


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=50_000)]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"
    ),
]
Id = Annotated[int, Field(ge=1, le=2**62)]
# ?full=1: an agent reads the customer's phone, ID-card and bank-card numbers unmasked, for the
# case; audited (domain/masking.py, services/customers/personal_data.reads_full_numbers).
FullNumbers = Annotated[
    bool, Query(description="agents: the customer's numbers unmasked, for the case (audited)")
]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 409, 413, 422)
}


class AttachmentUpload(In):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[
        str, StringConstraints(min_length=3, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    ]
    content_base64: str
