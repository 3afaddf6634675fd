"""The worker keeps workflow bytecode even where writing it beside the source is switched off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.factories import ROOT

# Imports a module after keep_bytecode(folder) in a process started with PYTHONDONTWRITEBYTECODE=1, and prints
# what keep_bytecode returned.
PROBE = """
import sys
from pathlib import Path
from peer_review.temporal.bytecode import keep_bytecode
print(keep_bytecode(Path(sys.argv[1])))
sys.path.insert(0, sys.argv[2])
import probed_module
"""


def _probe(folder: Path, sources: Path) -> str:
    (sources / "probed_module.py").write_text("VALUE = 1\n")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), str(sources)],
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_bytecode_goes_to_the_private_folder_and_not_beside_the_source(tmp_path: Path) -> None:
    folder, sources = tmp_path / "bytecode", tmp_path / "sources"
    sources.mkdir()
    assert _probe(folder, sources) == str(folder)
    assert [p.name for p in folder.rglob("*.pyc") if p.name.startswith("probed_module")], "no bytecode was kept"
    assert not (sources / "__pycache__").exists()
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)


def test_a_folder_others_may_write_is_never_used(tmp_path: Path) -> None:
    folder, sources = tmp_path / "shared", tmp_path / "sources"
    sources.mkdir()
    folder.mkdir()
    folder.chmod(0o777)
    assert _probe(folder, sources) == "None"
    assert not list(folder.rglob("*.pyc"))
