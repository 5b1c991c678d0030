"""The workspace pages' sign-in (tests/web/conftest.py) for the sink tests."""

from tests.web.conftest import sign_in  # noqa: F401 - the fixture
