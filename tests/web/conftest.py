"""The web fixtures: the app in-process over the session's dev server, with a real worker (tests/api/conftest.py)."""

from tests.api.conftest import http

__all__ = ["http"]
