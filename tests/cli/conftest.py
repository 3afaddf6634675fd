"""The command-line fixtures: a real worker process beside the session's dev server (tests/e2e/conftest.py)."""

from tests.e2e.conftest import cli, cli_env

__all__ = ["cli", "cli_env"]
