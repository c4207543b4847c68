"""The package's floors hold: a module imports only from its own floor or below.

Floors (DEVELOPERS.md): 1 sims/; 2 episodes/, rewards/; 3 envs/, training/, report.py;
4 agents/, eval/, reports/, audit/; 5 cli.py, demo.py. This test parses every module's imports (including imports inside
functions) and fails on any import that reaches up a floor.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "embodied_gym"

FLOORS = {"sims": 1, "episodes": 2, "rewards": 2, "envs": 3, "training": 3, "report": 3, "agents": 4, "reports": 4, "eval": 4, "audit": 4, "cli": 5, "demo": 5}


def floor_of(parts: list[str]) -> int | None:
    """Floor of a module given its dotted path inside the package (``[]`` = the package root)."""
    if not parts:
        return 0
    return FLOORS.get(parts[0])


def imported_modules(path: Path) -> list[tuple[int, list[str]]]:
    rel = path.relative_to(PKG).with_suffix("").parts
    package = list(rel[:-1]) if path.name != "__init__.py" else list(rel[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = base + (node.module.split(".") if node.module else [])
                if not node.module:
                    for alias in node.names:
                        out.append((node.lineno, target + [alias.name]))
                    continue
            elif node.module and node.module.split(".")[0] == "embodied_gym":
                target = node.module.split(".")[1:]
            else:
                continue
            out.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "embodied_gym":
                    out.append((node.lineno, alias.name.split(".")[1:]))
    return out


MODULES = sorted(p for p in PKG.rglob("*.py") if p.relative_to(PKG).parts[0] != "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_module_imports_only_its_floor_or_below(path):
    own = floor_of(list(path.relative_to(PKG).with_suffix("").parts))
    if own is None:
        pytest.skip(f"{path.name} is not on a floor")
    bad = []
    for lineno, target in imported_modules(path):
        f = floor_of(target)
        if f is not None and f > own:
            bad.append(f"line {lineno}: imports embodied_gym.{'.'.join(target)} (floor {f}) from floor {own}")
    assert not bad, f"{path.relative_to(PKG)} reaches up: " + "; ".join(bad)
