"""Simulator backends behind one interface (:mod:`embodied_gym.sims.base`).

``make_simulator(name, **kwargs)`` returns a backend by name, after checking ``kwargs`` against
the backend's declared constructor arguments (:func:`check_simulator_kwargs`);
``scene_source(name)`` returns the backend's procedural scenes (:class:`SceneSource`). Backends
are imported lazily so that ``import embodied_gym.sims`` does not need every simulator package.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import (
    ACTION_INDEX,
    ACTIONS,
    InfrastructureError,
    ObjectInfo,
    Observation,
    Pose,
    RoomInfo,
    SceneSource,
    SimState,
    Simulator,
    check_action,
)


@dataclass(frozen=True)
class Backend:
    """A registered backend: its simulator class and (optionally) its scene source, each given as
    ``"package.module:Name"`` and imported on first use."""

    simulator: str
    scenes: str | None = None


#: backend name -> where its simulator class and scene source live
BACKENDS: dict[str, Backend] = {
    "house": Backend("embodied_gym.sims.house.simulator:HouseSimulator", "embodied_gym.sims.house.scenes:HouseScenes"),
    "thor": Backend("embodied_gym.sims.thor:ThorSimulator"),
    "unrealcv": Backend("embodied_gym.sims.unrealcv:UnrealCVSimulator"),
}


def register_backend(name: str, target: str, scenes: str | None = None) -> None:
    """Register backend ``name``: its simulator class ``target`` and optional ``scenes`` (a
    :class:`SceneSource` subclass), each as ``"package.module:Name"``."""
    BACKENDS[name] = Backend(target, scenes)


def _load(target: str) -> Any:
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


def _backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise ValueError(f"unknown simulator backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    return BACKENDS[name]


def simulator_class(name: str) -> type[Simulator]:
    """The simulator class of backend ``name`` (imports it)."""
    return _load(_backend(name).simulator)


def simulator_options(name: str) -> dict[str, inspect.Parameter]:
    """The constructor arguments backend ``name`` declares (its ``__init__`` keyword parameters)."""
    params = inspect.signature(simulator_class(name).__init__).parameters
    return {k: p for k, p in params.items() if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def check_simulator_kwargs(name: str, kwargs: Mapping[str, Any], *, where: str = "", extra: tuple[str, ...] = ()) -> None:
    """Raise ``TypeError`` naming the first argument of ``kwargs`` that backend ``name`` does not
    accept, and the accepted ones (:meth:`Simulator.check_options`; ``extra``: further names the
    caller accepts, e.g. an environment's own arguments; ``where`` prefixes the message)."""
    simulator_class(name).check_options(kwargs, where=where, extra=extra)


def make_simulator(name: str = "house", **kwargs: Any) -> Simulator:
    """Build the simulator backend ``name`` (see :data:`BACKENDS`) with its keyword arguments,
    checked first (:func:`check_simulator_kwargs`)."""
    check_simulator_kwargs(name, kwargs)
    return simulator_class(name)(**kwargs)


def scene_source(name: str) -> SceneSource:
    """The procedural :class:`SceneSource` of backend ``name``; ``ValueError`` when the backend
    generates no scenes (its scenes come from elsewhere, e.g. a fixed set of maps)."""
    target = _backend(name).scenes
    if target is None:
        raise ValueError(f"backend {name!r} has no procedural scene source; its scenes must be given")
    return _load(target)()


__all__ = [
    "ACTIONS",
    "ACTION_INDEX",
    "BACKENDS",
    "Backend",
    "InfrastructureError",
    "ObjectInfo",
    "Observation",
    "Pose",
    "RoomInfo",
    "SceneSource",
    "SimState",
    "Simulator",
    "check_action",
    "check_simulator_kwargs",
    "make_simulator",
    "register_backend",
    "scene_source",
    "simulator_class",
    "simulator_options",
]
