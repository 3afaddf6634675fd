"""Bytecode for the workflow sandbox.

The sandbox imports a workflow's modules afresh each time it loads a workflow into the worker's cache (a new
review, one of its tracked recommendations, or one evicted and needed again), and runs them again: that is what
keeps one workflow's module state from leaking into another. Two things make those imports cheaper without
touching that isolation:

- `keep_bytecode`: with bytecode on disk an import only runs the module; without it every import compiles the
  source again, about 12 ms of CPU for the review's modules. Bytecode is often switched off (PYTHONDONTWRITEBYTECODE,
  usual in container images and set on some machines), so a worker keeps it in a cache folder of its own
  (`sys.pycache_prefix`), which leaves the source tree and a read-only image untouched.
- `remember_code`: even from bytecode on disk, each import looks the file up, checks it and unmarshals it again, a
  third of what loading a workflow into the cache costs. A code object never changes once made, so the worker keeps
  the workflow modules' code in memory and each import runs it straight away, in a module of its own as before.
  It also means a worker process runs one version of the workflow code for as long as it lives, even if the files
  change under it (a deploy over a running worker): a newly loaded workflow never gets code its neighbours lack.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType


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


class _RememberingLoader(importlib.machinery.SourceFileLoader):
    """Loads a source file's code once per process; every later import of it runs that same code object."""

    def __init__(self, fullname: str, path: str, codes: dict[str, CodeType]) -> None:
        super().__init__(fullname, path)
        self._codes = codes

    def get_code(self, fullname: str) -> CodeType:
        code = self._codes.get(self.path)
        if code is None:
            code = super().get_code(fullname)
            if code is None:  # a source file always has code; this only satisfies the loader's signature
                raise ImportError(f"no code for {fullname}", name=fullname)
            self._codes[self.path] = code
        return code


class RememberedCode(importlib.abc.MetaPathFinder):
    """Finds the modules of `packages` as the other finders would, and loads their code from memory after the
    first time. Specs are found afresh on every import, so each module the sandbox makes is new; only the
    (immutable) code object is shared."""

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = frozenset(packages)
        self.codes: dict[str, CodeType] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.packages:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: importlib.machinery.ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            if type(spec.loader) is importlib.machinery.SourceFileLoader and spec.origin:
                spec.loader = _RememberingLoader(fullname, spec.origin, self.codes)
            return spec
        return None


def remember_code(packages: Sequence[str] = ("workflows",)) -> RememberedCode:
    """Keep the code of `packages` (the workflow modules the sandbox imports again and again) in memory from now
    on; returns the finder, installed once per process."""
    for finder in sys.meta_path:
        if isinstance(finder, RememberedCode) and finder.packages == frozenset(packages):
            return finder
    finder = RememberedCode(packages)
    sys.meta_path.insert(0, finder)
    return finder
