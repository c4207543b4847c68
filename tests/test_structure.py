"""Structural rules of the package, checked from outside so they stay true:

* no module of ``embodied_gym/`` is over :data:`MAX_LINES` lines;
* outside ``embodied_gym/sims/`` (and the house-only ``demo.py``) no module reaches a backend's
  internals: no import of a backend package (``sims.house``, ``sims.thor``, ``sims.unrealcv``),
  no ``.world`` attribute, no ``getattr(sim, ...)`` hook on a simulator;
* importing the lowest floor (``embodied_gym.sims.base``) loads no module of ``envs``,
  ``episodes`` or ``agents`` (checked in a fresh interpreter).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "embodied_gym"
MAX_LINES = 450
BACKENDS = ("house", "thor", "unrealcv")
#: modules allowed to use a backend directly (the house-only demo)
BACKEND_USERS = {"demo.py"}
MODULES = sorted(PKG.rglob("*.py"))


def _rel(p: Path) -> str:
    return str(p.relative_to(PKG))


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_module_is_at_most_450_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{_rel(path)} has {n} lines (limit {MAX_LINES}): split it into modules with one job each"


def _backend_reaches(path: Path, package: list[str] | None = None) -> list[str]:
    """Lines where ``path`` (a module of ``package``, default: where it lies in the package)
    reaches into a backend: imports of a backend package, ``.world``, or ``getattr(<simulator>, ...)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if package is None:
        package = list(path.relative_to(PKG).with_suffix("").parts[:-1])
    bad = []
    for node in ast.walk(tree):
        targets: list[list[str]] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                mod = base + (node.module.split(".") if node.module else [])
                targets = [mod + [a.name] for a in node.names] if not node.module else [mod]
            elif node.module and node.module.startswith("embodied_gym"):
                targets = [node.module.split(".")[1:]]
        elif isinstance(node, ast.Import):
            targets = [a.name.split(".")[1:] for a in node.names if a.name.startswith("embodied_gym")]
        for t in targets:
            if len(t) >= 2 and t[0] == "sims" and t[1] in BACKENDS:
                bad.append(f"line {node.lineno}: imports embodied_gym.{'.'.join(t)}")
        if isinstance(node, ast.Attribute) and node.attr == "world":
            bad.append(f"line {node.lineno}: reads .world")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                and node.args and isinstance(node.args[0], (ast.Name, ast.Attribute))):
            obj = node.args[0]
            name = obj.id if isinstance(obj, ast.Name) else obj.attr
            if name in ("sim", "simulator", "_sim") or name.endswith("_sim"):
                bad.append(f"line {node.lineno}: getattr({name}, ...) hook on a simulator")
    return bad


ABOVE_SIMS = [p for p in MODULES if p.relative_to(PKG).parts[0] != "sims" and _rel(p) not in BACKEND_USERS]


@pytest.mark.parametrize("path", ABOVE_SIMS, ids=_rel)
def test_nothing_above_sims_reaches_a_backend(path):
    bad = _backend_reaches(path)
    assert not bad, f"{_rel(path)} reaches a backend's internals (add an interface method instead): " + "; ".join(bad)


def test_the_backend_rule_catches_what_it_forbids(tmp_path):
    """The checker itself: each forbidden form is reported (so the rule cannot pass vacuously)."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from ..sims.house import catalog\nimport embodied_gym.sims.thor.records\n"
        "def f(sim):\n    w = sim.world\n    return getattr(sim, 'navigable', None)\n",
        encoding="utf-8",
    )
    found = _backend_reaches(probe, ["episodes"])
    assert len(found) == 4, found


def test_importing_the_simulator_interface_loads_no_upper_floor():
    """``import embodied_gym.sims.base`` (which runs the package root and registers the Gymnasium
    ids) imports no module of ``envs``, ``episodes`` or ``agents`` (fresh interpreter)."""
    code = (
        "import json, sys\nimport embodied_gym.sims.base\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('embodied_gym'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    upper = [m for m in loaded if m.split(".")[1:2] and m.split(".")[1] in ("envs", "episodes", "agents", "eval", "training")]
    assert not upper, f"import embodied_gym.sims.base loaded {upper}"
    assert "embodied_gym.sims.base" in loaded


@pytest.mark.parametrize("module, above", [
    ("embodied_gym.sims", ("envs", "episodes", "rewards", "training", "agents", "eval", "audit", "reports", "cli")),
    ("embodied_gym.rewards.coverage", ("envs", "training", "agents", "eval", "audit", "reports", "cli")),
    ("embodied_gym.episodes.oracle", ("envs", "training", "agents", "eval", "audit", "reports", "cli")),
    ("embodied_gym.envs.closed_loop", ("agents", "eval", "audit", "reports", "cli")),
])
def test_importing_a_floor_loads_nothing_above_it(module, above):
    """Lazy registration and lazy backends: importing a module loads no module of a higher floor."""
    code = (
        f"import json, sys\nimport {module}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('embodied_gym.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    upper = [m for m in loaded if m.split(".")[1] in above]
    assert not upper, f"import {module} loaded {upper}"


def test_ids_are_registered_without_importing_environment_modules():
    code = (
        "import json, sys\nimport embodied_gym, gymnasium as gym\n"
        "print(json.dumps([('BearLongHorizon-v0' in gym.registry), ('EmbraceExploration-v0' in gym.registry),"
        " any(m.startswith('embodied_gym.envs') for m in sys.modules)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [True, True, False]
