"""The repository passes ``ruff check`` with the rules of ``pyproject.toml`` ([tool.ruff]), so lint
stays clean: a new unused import, unsorted import block or loop variable captured in a closure fails
the suite, with ruff's report (file, line, rule) as the failure message.

ruff comes with the ``dev`` extra that ``make test`` installs; the test skips, saying so, only where
ruff is not installed at all.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str] | None:
    """The command that runs the ruff of this interpreter's environment, else one on ``PATH``."""
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    exe = shutil.which("ruff")
    return [exe] if exe else None


def test_repository_passes_ruff_check():
    cmd = _ruff()
    if cmd is None:
        pytest.skip("ruff is not installed (it comes with the dev extra: pip install -e '.[dev]')")
    proc = subprocess.run([*cmd, "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"ruff check . found lint errors (fix them; `ruff check --fix` fixes some):\n" \
                                 f"{proc.stdout}{proc.stderr}"
