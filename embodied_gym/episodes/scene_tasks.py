"""Closed-loop tasks generated in given scenes of any backend (AI2-THOR floor plans, an Unreal
level), for backends without a procedural :class:`~embodied_gym.sims.base.SceneSource`.

``egym generate --backend thor --scenes FloorPlan1,FloorPlan2 --n 2 --out DIR`` writes
``DIR/<backend>.jsonl``: for each scene, category and index, tasks are drawn by the category's
generator (interface only, :mod:`embodied_gym.episodes.generators`) with a task RNG derived from
``(backend, scene, seed, category, index, attempt)`` until one is accepted and the oracle solves
it (its demonstration is stored); a category the scene cannot offer after ``attempts`` tries is
reported and skipped, not fatal. The same scenes, arguments and simulator give the same file.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..sims import make_simulator
from .generators import RELATIONS, Rejected, generate_task
from .oracle import OracleError, demonstrate
from .spec import CATEGORIES, Episode, save_episodes
from .suites import derive_seed


def build_scene_episodes(backend: str, scenes: Sequence[Any], *, n: int = 1, seed: int = 0,
                         categories: Sequence[str] = CATEGORIES, split: str = "test", attempts: int = 8,
                         sim_kwargs: dict[str, Any] | None = None) -> tuple[list[Episode], list[str]]:
    """``(episodes, problems)``: up to ``n`` episodes per category in each scene of ``backend``."""
    if not scenes:
        raise ValueError("scenes: expected at least one scene")
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n: expected a positive number of episodes per category, got {n!r}")
    bad = [c for c in categories if c not in CATEGORIES]
    if bad:
        raise ValueError(f"unknown category {bad[0]!r}; expected one of {', '.join(CATEGORIES)}")
    episodes, problems = [], []
    sim = make_simulator(backend, **(sim_kwargs or {}))
    try:
        for scene in scenes:
            tag = scene if isinstance(scene, str) else json.dumps(scene, sort_keys=True)[:64]
            for category in categories:
                for index in range(n):
                    relation = sorted(RELATIONS)[index % len(RELATIONS)] if category == "spatial_semantic" else None
                    reasons = []
                    for attempt in range(attempts):
                        sim.reset(scene)
                        rng = random.Random(derive_seed("task", backend, tag, seed, category, index, attempt))
                        try:
                            options = {"relation": relation} if relation else {}
                            # one fixed room is too small for house-v2's blind-resistance rules
                            draft = generate_task(category, sim, rng, relaxed=True, **options)
                        except Rejected as exc:
                            reasons.append(str(exc))
                            continue
                        ep = Episode(id=f"{backend}-{tag}-{category}-{index:03d}", backend=backend, scene=sim.scene,
                                     start_pose=draft.start_pose, instruction=draft.instruction, category=category,
                                     subgoals=draft.subgoals, split=split, tags={"scene_family": backend},
                                     extra={**draft.extra, "attempt": attempt})
                        try:
                            ep.demonstration = demonstrate(sim, ep)
                        except OracleError as exc:
                            reasons.append(f"oracle: {exc}")
                            continue
                        ep.max_steps = max(32, 2 * len(ep.demonstration.actions))
                        episodes.append(ep)
                        break
                    else:
                        problems.append(f"{tag}/{category}#{index}: no episode after {attempts} attempts; last: {reasons[-1:]}")
    finally:
        sim.close()
    return episodes, problems


def generate_scene_episodes(backend: str, scenes: Sequence[Any], out: str | Path, **options: Any) -> list[Path]:
    """:func:`build_scene_episodes` written to ``out/<backend>.jsonl`` (problems on stderr)."""
    episodes, problems = build_scene_episodes(backend, scenes, **options)
    for p in problems:
        print(f"egym generate: {p}", file=sys.stderr)
    if not episodes:
        raise RuntimeError(f"no episode could be generated in {list(scenes)!r} on {backend!r}")
    return [save_episodes(Path(out) / f"{backend}.jsonl", episodes)]
