"""A knowledge-base .zip is judged by its directory before anything is unpacked (ASVS V5.2.3)."""

from __future__ import annotations

import io
import zipfile

import pytest

from kefu.errors import KefuError
from kefu.retrieval.folder import MAX_FILE_BYTES
from kefu.services.kb import files


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refused(data: bytes) -> list[str]:
    with pytest.raises(KefuError) as error:
        files.files_of_zip(data)
    assert error.value.status_code == 422
    return error.value.details["problems"]


def test_too_many_files_are_refused_before_unpacking():
    data = zip_of({f"kb/{i}.md": b"x" for i in range(files.MAX_FILES + 1)})
    assert refused(data) == ["the .zip holds too many or too large files"]
    assert len(files.files_of_zip(zip_of({f"{i}.md": b"x" for i in range(files.MAX_FILES)}))) == (
        files.MAX_FILES
    )


def test_a_bomb_that_unpacks_past_the_total_is_refused_from_its_directory():
    size = files.MAX_TOTAL_BYTES // 4 + 1
    data = zip_of({f"{i}.md": bytes(size) for i in range(4)})
    assert len(data) < files.MAX_TOTAL_BYTES // 100  # tiny packed, huge unpacked
    assert refused(data) == ["the .zip holds too many or too large files"]


def test_one_file_over_its_limit_is_not_unpacked_and_is_reported_as_too_large():
    (only,) = files.files_of_zip(zip_of({"big.md": b"a" * (MAX_FILE_BYTES * 3)}))
    assert only == ("big.md", b"\0" * (MAX_FILE_BYTES + 1))
