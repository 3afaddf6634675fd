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


# Imports a package module twice, as the sandbox does for two workflows, after remember_code(["probed"]), and prints
# whether the two modules, their state and their code are the same objects. Run in its own process: the finder
# stays installed for the life of the process.
TWICE = """
import sys
from peer_review.temporal.bytecode import remember_code
finder = remember_code(["probed"])
sys.path.insert(0, sys.argv[1])
import probed.state as first
first.SEEN.append("first workflow")
del sys.modules["probed.state"]
import probed.state as second
print(first is second, second.SEEN, first.note.__code__ is second.note.__code__, len(finder.codes))
import other
print(type(other.__spec__.loader).__name__)
"""


def test_remembered_code_is_shared_but_every_import_makes_a_new_module(tmp_path: Path) -> None:
    (tmp_path / "probed").mkdir()
    (tmp_path / "probed" / "__init__.py").write_text("")
    (tmp_path / "probed" / "state.py").write_text("SEEN: list[str] = []\n\n\ndef note() -> int:\n    return 1\n")
    (tmp_path / "other.py").write_text("VALUE = 1\n")
    done = subprocess.run(
        [sys.executable, "-c", TWICE, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    shared, untouched = done.stdout.strip().splitlines()
    # A new module with fresh state (what keeps workflows apart), running the one code object loaded once; the
    # package itself and the module are the two files remembered.
    assert shared == "False [] True 2"
    # Modules outside the named packages load as before.
    assert untouched == "SourceFileLoader"
