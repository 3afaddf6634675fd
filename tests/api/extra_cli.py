"""A throwaway `peer-review` with only the commands of peer_review.commands_extra, until starter.py adds them.

Run as `python -m tests.api.extra_cli ...`; it leaves like starter.main (os._exit) for the same reason.
"""

from __future__ import annotations

import os
import sys

import typer

from peer_review.commands_extra import register

app = typer.Typer(add_completion=False)
register(app)


if __name__ == "__main__":
    try:
        app()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
