"""Registry of simulator backends the contract tests run against.

Each entry says how to build a small, fast instance and which scene to load. Backends whose
dependencies are missing are skipped (AI2-THOR, Unreal) rather than failing. A new backend adds
one :class:`BackendCase` here and inherits every test of ``test_contract.py``.
"""

from __future__ import annotations

import importlib.util
import tempfile
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
    lazy_kwargs: Callable[[], dict[str, Any]] | None = None  # kwargs computed when first built

    def is_available(self) -> bool:
        if any(importlib.util.find_spec(m) is None for m in self.requires):
            return False
        return self.available() if self.available else True

    def make(self, **overrides: Any):
        from embodied_gym.sims import make_simulator

        lazy = self.lazy_kwargs() if self.lazy_kwargs else {}
        return make_simulator(self.name, **{**self.kwargs, **lazy, **overrides})


def _fake_thor_player() -> str:
    """A launcher for the fake Unity player (tests/sims/fakes/thor_player.py), written once per
    test session; the real ai2thor Controller starts it as its ``local_executable_path``."""
    global _FAKE_THOR
    if _FAKE_THOR is None:
        from .fakes.thor_player import launcher

        _FAKE_THOR = launcher(tempfile.mkdtemp(prefix="fake-thor-"))
    return _FAKE_THOR


_FAKE_THOR: str | None = None


def _fake_unrealcv() -> dict[str, Any]:
    """A fresh fake UnrealCV server (tests/sims/fakes/unrealcv_server.py) per simulator: the real
    ``unrealcv.Client`` connects to it over TCP with UnrealCV's framing."""
    from .fakes.unrealcv_server import FakeUnrealCV

    return {"address": FakeUnrealCV(width=128, height=96).address}


CASES: list[BackendCase] = [
    BackendCase("house", scene=3, kwargs={"seed": 3, "width": 96, "height": 72}, requires=("miniworld",)),
    # the real ai2thor Controller driving the fake Unity player over ai2thor's FIFO protocol
    BackendCase("thor", scene="FloorPlan1", kwargs={"width": 128, "height": 96, "timeout": 30.0, "x_display": ":0"},
                requires=("ai2thor", "msgpack"), lazy_kwargs=lambda: {"local_executable_path": _fake_thor_player()}),
    # the real unrealcv Client against the fake UnrealCV server (camera height of its scene, fine steps)
    BackendCase("unrealcv", scene=None, kwargs={"preset": "fine", "camera_height": 1.5759995, "nav_cell": 0.25,
                                                 "timeout": 30.0}, requires=("unrealcv",), lazy_kwargs=_fake_unrealcv),
]


def backend_params() -> list:
    """``pytest.param`` per backend, skipped when its dependencies are missing."""
    return [
        pytest.param(c, id=c.name, marks=() if c.is_available() else pytest.mark.skip(reason=f"{c.name} unavailable"))
        for c in CASES
    ]
