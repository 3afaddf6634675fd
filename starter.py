"""`peer-review`: the command line for caseworkers, OSN Chairs, reviewers and auditors (DESIGN §5).

This file only assembles the command groups of peer_review/cli/. Exit codes: 0 done; 2 invalid input (the
message names the field); 3 action rejected (the message says why); 4 no such referral; 1 anything else,
such as an unreachable Temporal server.
"""

from __future__ import annotations

import gc
import os
import sys

# A command lives about a second, most of it spent importing (Temporal's protobuf modules, pydantic models), and the
# garbage collector would walk that growing heap again and again while nothing in it is garbage. Collection resumes
# once the commands are assembled, with everything loaded so far frozen out of later collections: `peer-review list`
# about 0.1 s quicker (benchmarks/PERFORMANCE.md, "Kept after `2e7fbb4`").
gc.disable()

import typer  # noqa: E402

from peer_review.cli import actions, admin, reading, recommendations, referring, reports, retention  # noqa: E402

app = typer.Typer(
    help="Peer Reviews of complaint handling: refer, decide, review, close and audit.",
    no_args_is_help=True,
    add_completion=False,
)
for group in (referring, actions, reading, recommendations, reports, retention, admin):
    group.register(app)
gc.freeze()
gc.enable()


def main() -> None:
    try:
        app()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    # Leave without interpreter finalisation: the Temporal runtime's native thread can still be winding down
    # then, and Python aborts ("PyGILState_Release ... finalizing"), turning a finished command into a crash.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
