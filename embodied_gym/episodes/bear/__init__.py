"""BEAR long-horizon episodes: household goals replayed as ordered skill questions.

BEAR (arXiv 2510.08759, Appendix C.6) decomposes each long-horizon household episode into steps,
one question per atomic skill, and counts an episode only when every step is answered right.
This package builds such episodes in the embedded ``house`` simulator:

1. :func:`~.generate.sample_goal` draws a goal chaining navigation and interaction, the oracle
   records the expert demonstration (poses and object states, never pixels);
2. :func:`~.generate.build_queries` replays the demonstration (:class:`~.replay.Replay`) and asks,
   at chosen steps, questions whose ground truth is read from the simulator:

   ========================  =======================================  ==============================
   skill id                  BEAR skill                               asked
   ========================  =======================================  ==============================
   next_action_prediction    Task Planning / Next Action Prediction   2-3 random steps (any progress)
   task_process_reasoning    Task Planning / Task Process Reasoning   1-2 random steps (>= 2 done)
   path_planning             Spatial Reasoning / Path Planning        start of a navigation leg
   relative_direction        Spatial Reasoning / Relative Direction   during a navigation leg
   object_localization       Spatial Reasoning / Object Localization  first carrying step (history video)
   pointing_general|spatial  Pointing                                 approaching object/receptacle
   bbox_general|spatial      Bounding Box                             approaching object/receptacle
   trajectory_reasoning      Trajectory Reasoning                     approaching the object
   ========================  =======================================  ==============================

Query records live in ``episode.extra["bear"]["queries"]`` (stored, not recomputed at load),
each with: ``skill``, ``bear_category``, ``bear_skill``, ``step`` (demonstration step whose state
is the current view), ``question``, ``options`` (``{"A": ..., "D": ...}``, empty for points and
boxes), ``answer`` (a letter, a normalised ``[x, y]`` or ``[x1, y1, x2, y2]`` at generation
resolution), ``target`` (object id), ``history`` (frame indices, up to 16, first and last
included), plus ``arrows`` for trajectory questions and ``room`` / ``room_named`` /
``room_surfaces`` for localization (read by the split-level pass, never shown). Environments recompute point and box
ground truth from the live segmentation at their own resolution.
"""

from __future__ import annotations

import random
from pathlib import Path

from ..spec import Episode, save_episodes
from .balance import balance_directions, balance_localization, rebalance_letters
from .generate import SUITE, GoalRejected, build_queries, make_episode, sample_goal
from .options import LetterDeck, sample_history
from .replay import Replay

#: default episodes per split of the official suite
DEFAULT_SIZES = {"test": 120, "ood": 120, "val": 20}
#: resolution at which the suite is generated (4:3, like the environments' default 320 x 240)
GEN_WIDTH, GEN_HEIGHT = 160, 120
_SPLIT_OFFSET = {"test": 0, "ood": 500_000, "val": 900_000}
#: rooms per house: in-domain splits 3 to 5; ``ood`` only sizes never seen in-domain (2 and 6),
#: so its room layouts (counts and adjacency of rooms) are held out as well
ROOMS = {"test": (3, 4, 5), "val": (3, 4, 5), "ood": (2, 6)}


def scene_seed(split: str, seed: int, index: int) -> int:
    """House seed of episode ``index``: disjoint per split and from other suites' ranges
    (bear-lh-v1 used ``7_000_000 + ...``)."""
    return 8_000_000 + _SPLIT_OFFSET.get(split, 950_000) + seed * 10_000 + index


def generate_bear_episodes(split: str, n: int | None = None, seed: int = 0, *, progress: bool = False) -> list[Episode]:
    """``n`` episodes of suite ``bear-lh-v2`` for ``split``. ``test``/``val``: ``train``-style houses
    of 3-5 rooms with the in-domain object categories and the in-domain wording (domain
    ``in_domain``); ``ood``: ``ood``-style houses (held-out textures) of 2 or 6 rooms whose objects
    all come from the held-out categories, with held-out instruction and question templates.
    Deterministic: the same arguments give the same episodes. About a third are ``door_bring``."""
    from ...sims import make_simulator, scene_source

    if split not in DEFAULT_SIZES:
        raise ValueError(f"{SUITE}: unknown split {split!r}; expected one of {', '.join(DEFAULT_SIZES)}")
    n = DEFAULT_SIZES[split] if n is None else int(n)
    if n <= 0:
        raise ValueError(f"{SUITE}: n must be positive, got {n}")
    style = "ood" if split == "ood" else "train"
    scenes = scene_source("house")
    categories = list(scenes.object_categories("ood" if split == "ood" else "in_domain"))
    tags = {"scene_family": f"house-{style}", "domain": "ood" if split == "ood" else "in_domain", "suite": SUITE}
    deck = LetterDeck(random.Random(f"{SUITE}|{split}|{seed}|letters"))
    sim = make_simulator("house", seed=0, width=GEN_WIDTH, height=GEN_HEIGHT)
    sizes = ROOMS.get(split, ROOMS["test"])
    episodes: list[Episode] = []
    try:
        index = 0
        while len(episodes) < n:
            if index > 20 * n + 50:
                raise RuntimeError(f"{SUITE}: only {len(episodes)} of {n} episodes after {index} houses")
            house_seed = scene_seed(split, seed, index)
            n_rooms = sizes[house_seed % len(sizes)]
            spec = scenes.generate(house_seed, size=n_rooms, style=style, categories=categories)
            index += 1
            kind = "door_bring" if len(episodes) % 3 == 2 else "bring"
            ep_rng = random.Random(f"{SUITE}|{split}|{seed}|{index}")
            try:
                ep = make_episode(sim, spec, ep_rng, deck, episode_id=f"{SUITE}-{split}-{len(episodes):04d}",
                                  split=split, kind=kind, tags=dict(tags, rooms=n_rooms))
            except GoalRejected:
                continue
            episodes.append(ep)
            if progress:
                print(f"{ep.id}: {len(ep.extra['bear']['queries'])} queries, {len(ep.demonstration.actions)} actions", flush=True)
    finally:
        sim.close()
    # directions first: localization distractors are matched to the final earlier questions
    balance_directions(episodes, random.Random(f"{SUITE}|{split}|{seed}|directions"))
    balance_localization(episodes, random.Random(f"{SUITE}|{split}|{seed}|balance"))
    rebalance_letters(episodes, random.Random(f"{SUITE}|{split}|{seed}|relettered"))
    return episodes


def generate_bear_suite(split: str, n: int | None = None, seed: int = 0, out: str | Path = ".") -> list[Path]:
    """Generate ``bear-lh-v2`` ``split`` and write ``OUT/<split>.jsonl``; returns the paths."""
    episodes = generate_bear_episodes(split, n, seed)
    return [save_episodes(Path(out) / f"{split}.jsonl", episodes)]


__all__ = [
    "SUITE",
    "GoalRejected",
    "LetterDeck",
    "Replay",
    "build_queries",
    "generate_bear_episodes",
    "generate_bear_suite",
    "make_episode",
    "sample_goal",
    "sample_history",
    "scene_seed",
]
