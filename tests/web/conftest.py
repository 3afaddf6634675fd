# The API tests' in-process app over a real worker (tests/api/conftest.py), shared rather than copied.
from tests.api.conftest import http

__all__ = ["http"]
