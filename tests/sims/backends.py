"""Registry of simulator backends the contract tests run against.

Each entry says how to build a small, fast instance and which scene to load. Backends whose
dependencies are missing are skipped (AI2-THOR, Unreal) rather than failing. A new backend adds
one :class:`BackendCase` here and inherits every test of ``test_contract.py``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class BackendCase:
    name: str  # registry name for make_simulator
    scene: Any  # what reset() gets
    kwargs: dict[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()  # importable modules needed
    available: Callable[[], bool] | None = None

    def is_available(self) -> bool:
        if any(importlib.util.find_spec(m) is None for m in self.requires):
            return False
        return self.available() if self.available else True

    def make(self, **overrides: Any):
        from embodied_gym.sims import make_simulator

        return make_simulator(self.name, **{**self.kwargs, **overrides})


CASES: list[BackendCase] = [
    BackendCase("house", scene=3, kwargs={"seed": 3, "width": 96, "height": 72}, requires=("miniworld",)),
]


def backend_params() -> list:
    """``pytest.param`` per backend, skipped when its dependencies are missing."""
    return [
        pytest.param(c, id=c.name, marks=() if c.is_available() else pytest.mark.skip(reason=f"{c.name} unavailable"))
        for c in CASES
    ]
