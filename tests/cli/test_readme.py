"""The README walkthrough runs as written, line by line, against a real worker: each line exits 0 unless its
comment says `exit N`. Referral ids get a fresh prefix so the walkthrough can run beside other tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from tests.cli.conftest import BIN, CliEnv
from tests.helpers import EXAMPLES, ROOT

EXPECTED_EXIT = re.compile(r"#\s*exit (\d)")


def walkthrough() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Walkthrough", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_walkthrough_runs_as_written(cli_env: CliEnv, tmp_path: Path) -> None:
    prefix = f"W{uuid.uuid4().hex[:6]}"
    (tmp_path / "examples").mkdir()
    for example in EXAMPLES.glob("*.json"):
        text = example.read_text(encoding="utf-8").replace("PR-2026-", f"{prefix}-")
        (tmp_path / "examples" / example.name).write_text(text, encoding="utf-8")
    shutil.copy(EXAMPLES / "directory.yaml", tmp_path / "examples" / "directory.yaml")
    lines = walkthrough()
    assert lines[0] == "PR=.venv/bin/peer-review"
    assert any(line.startswith("$PR decide ") for line in lines)
    assert any(line.startswith("$PR add-reason ") for line in lines)
    for line in lines[1:]:
        command = line.replace("PR-2026-", f"{prefix}-")
        expected = int(match.group(1)) if (match := EXPECTED_EXIT.search(command)) else 0
        for _ in range(50):
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", f"PR={BIN / 'peer-review'}; {command}"],
                cwd=tmp_path,
                env=cli_env.variables,
                capture_output=True,
                text=True,
                timeout=120,
            )
            # The records trail the review by a moment (a person typing never notices): try such a line again.
            if done.returncode == expected or expected != 0 or done.returncode not in (3, 4):
                break
            time.sleep(0.2)
        assert done.returncode == expected, f"{line}\n{done.stdout}\n{done.stderr}"
        if "| $PR refer -" in line and "PR-2026-0006" in line:
            assert f"Related: {prefix}-0003" in done.stdout
        if line.startswith("$PR recommendation verify") and expected == 0:
            assert "verified" in done.stdout  # the walkthrough ends with a recommendation verified
        if line.startswith("$PR decide") and expected == 0:
            assert "Decision sent" in done.stdout
