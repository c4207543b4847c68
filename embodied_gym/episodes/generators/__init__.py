"""Task generators, one per EmbRACE-3K category, written against the simulator interface only.

``generate_task(category, sim, rng)`` samples a start pose and a task in the scene ``sim`` holds
and returns a :class:`TaskDraft` (instruction, ordered subgoals, start pose, provenance in
``extra``), or raises :class:`Rejected` when the scene offers no task satisfying the category's
constraints (the caller then resamples, e.g. with another scene). Generators are deterministic
given the scene and the ``random.Random`` state. Every referent is checked to be unique under the
expression the instruction uses.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...sims.base import Simulator
from .common import REACH_RADIUS, Rejected, TaskDraft
from .interaction import generate_open_door, generate_pick_drop
from .navigation import generate_basic, generate_exploration, generate_multi_stage
from .spatial import RELATIONS, generate_spatial_semantic

GENERATORS: dict[str, Callable[..., TaskDraft]] = {
    "basic": generate_basic,
    "exploration": generate_exploration,
    "spatial_semantic": generate_spatial_semantic,
    "multi_stage": generate_multi_stage,
    "open_door": generate_open_door,
    "pick_drop": generate_pick_drop,
}


def generate_task(category: str, sim: Simulator, rng: random.Random, **options: object) -> TaskDraft:
    """One task of ``category`` in the scene loaded in ``sim`` (see the module docstring).
    ``options`` go to the category's generator (``relation=`` for ``spatial_semantic``)."""
    if category not in GENERATORS:
        raise ValueError(f"unknown task category {category!r}; expected one of {', '.join(GENERATORS)}")
    return GENERATORS[category](sim, rng, **options)


__all__ = ["GENERATORS", "RELATIONS", "REACH_RADIUS", "Rejected", "TaskDraft", "generate_task"]
