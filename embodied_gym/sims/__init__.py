"""Simulator backends behind one interface (:mod:`embodied_gym.sims.base`).

``make_simulator(name, **kwargs)`` returns a backend by name. Backends are imported lazily so
that ``import embodied_gym`` does not need every simulator package installed.
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import (
    ACTION_INDEX,
    ACTIONS,
    InfrastructureError,
    ObjectInfo,
    Observation,
    Pose,
    RoomInfo,
    SimState,
    Simulator,
    check_action,
)

#: backend name -> "module:Class"
BACKENDS: dict[str, str] = {
    "house": "embodied_gym.sims.house:HouseSimulator",
    "thor": "embodied_gym.sims.thor:ThorSimulator",
    "unrealcv": "embodied_gym.sims.unrealcv:UnrealCVSimulator",
}


def register_backend(name: str, target: str) -> None:
    """Register a backend class given as ``"package.module:Class"``."""
    BACKENDS[name] = target


def make_simulator(name: str = "house", **kwargs: Any) -> Simulator:
    """Build the simulator backend ``name`` (see :data:`BACKENDS`) with backend keyword args."""
    if name not in BACKENDS:
        raise ValueError(f"unknown simulator backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    module_name, cls_name = BACKENDS[name].split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls(**kwargs)


__all__ = [
    "ACTIONS",
    "ACTION_INDEX",
    "BACKENDS",
    "InfrastructureError",
    "ObjectInfo",
    "Observation",
    "Pose",
    "RoomInfo",
    "SimState",
    "Simulator",
    "check_action",
    "make_simulator",
    "register_backend",
]
