"""Bytecode for the workflow sandbox.

The sandbox imports a workflow's modules afresh each time it loads a workflow into the worker's cache (a new
review, or one evicted and needed again). With bytecode on disk such an import only runs the module; without it
every import compiles the source again, about 12 ms of CPU for the review's modules. Bytecode is often switched
off (PYTHONDONTWRITEBYTECODE, usual in container images and set on some machines), so a worker keeps it in a
cache folder of its own (`sys.pycache_prefix`), which leaves the source tree and a read-only image untouched.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path


def private_cache_folder() -> Path:
    """A folder only this user may write: bytecode found there is run, so nobody else may put any there."""
    return Path(tempfile.gettempdir()) / f"peer-review-bytecode-{os.getuid()}"


def keep_bytecode(folder: Path | None = None) -> Path | None:
    """Let imports from now on write and reuse bytecode, in `folder` when writing beside the source is switched
    off; returns the folder used, or None when bytecode is written as usual or no private folder could be made."""
    if not sys.dont_write_bytecode:
        return None
    chosen = folder or private_cache_folder()
    try:
        chosen.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = chosen.stat()
    except OSError:
        return None
    if found.st_uid != os.getuid() or found.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    sys.pycache_prefix = str(chosen)
    sys.dont_write_bytecode = False
    return chosen
