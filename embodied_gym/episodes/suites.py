"""Official episode suites: deterministic generation of ``assets/<suite>/<split>.jsonl``.

``house-v2`` (backend ``house``) ships ``test`` and ``ood``, each episode in its own procedurally
generated house whose full JSON spec is stored in the episode's ``scene``:

* ``train``, ``val`` and ``test``: ``style="train"`` houses (the training textures) of 2-5 rooms
  whose movable objects come from :data:`IN_DOMAIN_CATEGORIES`, instructions from the in-domain
  paraphrases; 40 (test) / 20 (val) / 50 (train) episodes per category by default;
* ``ood``: held-out layouts and sizes (6-7 rooms), held-out wall, floor and door textures
  (``style="ood"``), movable objects only from :data:`HELD_OUT_CATEGORIES` (categories that never
  appear in ``train``/``val``/``test``) and held-out instruction templates; 40 per category.

The generators' blind-resistance rules (targets off the walk ahead, rivals apart, several
closed doors with the others kept closed, ...) are in :mod:`.generators`; across a split,
:attr:`SuiteConfig.endpoint_share` spreads the goals of ``basic``, ``exploration`` and
``spatial_semantic`` in the start pose's egocentric frame (:mod:`.endpoints`: no disc of the
success radius holds more than 4 of 40, which bounds every fixed walk that is never blocked;
episodes are generated in order and each goal must fit beside the earlier ones). The closed-loop audit
(``egym audit house-v2:SPLIT``) checks from outside that no fixed non-visual walking policy
succeeds, and ``egym generate`` refuses a suite that fails it.

Every accepted episode carries an oracle :class:`~embodied_gym.episodes.spec.Demonstration`
that succeeds (a task the oracle cannot solve is rejected and resampled). House seeds and the
task RNG are derived from ``(suite, split, seed, category, index, attempt)`` by SHA-256, so the
same arguments give byte-identical files, and the splits' houses are disjoint with overwhelming
probability (seeds are 62-bit).

Regenerate the official files (see README "Episode suites")::

    egym generate --suite house-v2 --split test --seed 0 --out assets/house-v2
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..sims import make_simulator, scene_source
from ..sims.base import Simulator
from .endpoints import EndpointSpread, egocentric_goal, endpoint_radius
from .generators import GENERATORS, REACH_RADIUS, RELATIONS, Rejected, generate_task
from .oracle import OracleError, demonstrate
from .spec import CATEGORIES, Episode, save_episodes

IN_DOMAIN_CATEGORIES = scene_source("house").object_categories("in_domain")
"""Movable-object categories of in-domain houses (defined once, by the ``house`` backend's
:class:`~embodied_gym.sims.base.SceneSource`)."""
HELD_OUT_CATEGORIES = scene_source("house").object_categories("ood")
"""The held-out categories used only by ``ood``."""


@dataclass(frozen=True)
class SplitConfig:
    """How one split is drawn: house ``style``, the object ``categories`` its houses use, the
    ``domain`` tag (which also selects the instruction templates: ``ood`` splits use held-out
    paraphrases), the default number of episodes per category and the range of house sizes
    ``rooms`` (``None``: the suite's ``min_rooms..max_rooms``)."""

    style: str
    categories: tuple[str, ...]
    domain: str
    per_category: int
    rooms: tuple[int, int] | None = None


@dataclass(frozen=True)
class SuiteConfig:
    """A suite: its name, backend, splits, and the episode budget rule."""

    name: str
    backend: str
    splits: dict[str, SplitConfig]
    width: int = 320
    height: int = 240
    max_attempts: int = 40
    #: spatial_semantic episodes insist on their relation kind (ordinal, relative, extreme, room
    #: by index) for this many scenes before accepting any kind
    strict_attempts: int = 24
    #: houses have min_rooms..max_rooms rooms (small houses keep demonstrations and files short)
    min_rooms: int = 2
    max_rooms: int = 5
    #: per task category, the share of passages that are closed doors in its scenes (the
    #: ``doors`` option of :meth:`~embodied_gym.sims.scenes.SceneSource.generate`; absent: the
    #: backend's own mix). ``open_door`` needs several closed doors around the agent.
    door_share: dict[str, float] = field(default_factory=dict)
    #: per task category, the endpoint control (:class:`~.endpoints.EndpointSpread`): no disc of
    #: the success radius (plus the grid's snap) in the start pose's egocentric frame holds more
    #: than this share of the split's goals (the last reach goal of one-goal episodes), so no
    #: fixed walk that is never blocked ends near more of them; absent: no control
    endpoint_share: dict[str, float] = field(default_factory=dict)

    def endpoint_cap(self, category: str, count: int) -> int | None:
        """The most goals of ``count`` episodes of ``category`` one disc may hold, or ``None``."""
        share = self.endpoint_share.get(category)
        return None if share is None else max(1, math.floor(share * count + 1e-9))

    def max_steps(self, demo_length: int) -> int:
        """Step budget of an episode whose demonstration has ``demo_length`` actions."""
        return max(40, 2 * demo_length + 10)


SUITES: dict[str, SuiteConfig] = {
    "house-v2": SuiteConfig(
        name="house-v2",
        backend="house",
        splits={
            "train": SplitConfig("train", IN_DOMAIN_CATEGORIES, "in_domain", 50, rooms=(2, 5)),
            "val": SplitConfig("train", IN_DOMAIN_CATEGORIES, "in_domain", 20, rooms=(2, 5)),
            "test": SplitConfig("train", IN_DOMAIN_CATEGORIES, "in_domain", 40, rooms=(2, 5)),
            "ood": SplitConfig("ood", HELD_OUT_CATEGORIES, "ood", 40, rooms=(6, 7)),
        },
        max_attempts=8000,
        strict_attempts=40,
        door_share={"open_door": 0.8},
        endpoint_share={"basic": 0.10, "exploration": 0.10, "spatial_semantic": 0.10},
    ),
}
"""Known suites. ``house-v2`` is the default closed-loop suite; ``test`` and ``ood`` are shipped,
``train`` and ``val`` are not (generate them with ``egym generate --split train|val``). ``ood`` houses have 6-7 rooms (every
in-domain house has 2-5), so their floor plans are held-out layouts and sizes; their textures,
object categories and instruction templates are held out too.

``house-v1`` (``assets/house-v1``, deprecated) is still loadable; it was generated by the
generators of commit 8acce39 (``git checkout 8acce39 && egym generate --suite house-v1 ...``)."""

DEPRECATED_SUITES: dict[str, str] = {
    "house-v1": "house-v1 is deprecated (blind walking policies solve part of it; see docs/TASKS.md); use house-v2",
}

def derive_seed(*parts: object) -> int:
    """A stable 62-bit integer from ``parts`` (SHA-256 of their ``/``-joined text)."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def generate_episode(
    sim: Simulator,
    suite: SuiteConfig,
    split: str,
    category: str,
    index: int,
    seed: int,
    spread: EndpointSpread | None = None,
) -> Episode:
    """Episode ``index`` of ``category`` in ``split``: tries derived houses and tasks until the
    category's generator accepts one and the oracle solves it (``RuntimeError`` after
    ``suite.max_attempts``). With ``spread`` (the split's endpoint control of the category) the
    episode's goal must be admitted by it (``basic`` vetoes start poses inside its generator,
    other categories resample the task) and is added to it."""
    scenes = scene_source(suite.backend)
    cfg = suite.splits[split]
    relation = sorted(RELATIONS)[index % len(RELATIONS)] if category == "spatial_semantic" else None
    reasons: list[str] = []
    for attempt in range(suite.max_attempts):
        key = (suite.name, split, seed, category, index, attempt)
        house_seed = derive_seed("house", *key)
        lo, hi = cfg.rooms or (suite.min_rooms, suite.max_rooms)
        n_rooms = lo + derive_seed("rooms", *key) % (hi - lo + 1)
        doors = suite.door_share.get(category)
        sim.reset(scenes.generate(house_seed, size=n_rooms, style=cfg.style, categories=cfg.categories, doors=doors))
        rng = random.Random(derive_seed("task", *key))
        try:
            options: dict = {"relation": relation, "strict": attempt < suite.strict_attempts} if relation else {}
            options["domain"] = cfg.domain
            if spread is not None and category == "basic":
                options["endpoint_ok"] = lambda start, obj: _admits(sim, spread, start, obj.position)
            draft = generate_task(category, sim, rng, **options)
            goal = _endpoint(sim, draft) if spread is not None else None
            if spread is not None and (goal is None or not spread.admits(goal)):
                raise Rejected("its goal is where more than the endpoint control's share of the split's goals lie")
        except Rejected as exc:
            reasons.append(f"attempt {attempt}: {exc}")
            continue
        episode = Episode(
            id=f"{suite.name}-{split}-{category}-{index:03d}",
            backend=suite.backend,
            scene=sim.scene,
            start_pose=draft.start_pose,
            instruction=draft.instruction,
            category=category,
            subgoals=draft.subgoals,
            split=split,
            tags={"scene_family": f"{suite.backend}-{cfg.style}", "domain": cfg.domain, "house_seed": house_seed},
            extra={**draft.extra, "attempt": attempt},
        )
        try:
            episode.demonstration = demonstrate(sim, episode)
        except OracleError as exc:
            reasons.append(f"attempt {attempt}: oracle: {exc}")
            continue
        episode.max_steps = suite.max_steps(len(episode.demonstration.actions))
        if episode.max_steps > draft.extra.get("clear_actions", episode.max_steps):
            reasons.append(f"attempt {attempt}: step budget {episode.max_steps} beyond the "
                           f"{draft.extra['clear_actions']} actions its target was kept clear of blind walks for")
            continue
        if spread is not None and goal is not None:
            spread.add(goal)
        return episode
    raise RuntimeError(
        f"{suite.name}/{split}: no {category} episode #{index} after {suite.max_attempts} attempts; last: {reasons[-3:]}"
    )


def _admits(sim: Simulator, spread: EndpointSpread, start, point) -> bool:
    goal = egocentric_goal(sim, start, point)
    return goal is not None and spread.admits(goal)


def _endpoint(sim: Simulator, draft) -> tuple[float, float] | None:
    """The egocentric goal point of a draft's last subgoal when it is its only reach goal."""
    reach = [sg for sg in draft.subgoals if sg.type == "reach_object"]
    if len(reach) != 1 or draft.subgoals[-1] is not reach[0]:
        return None
    return egocentric_goal(sim, draft.start_pose, sim.objects()[reach[0].target].position)


def build_episodes(
    suite: str,
    split: str,
    n: int | None = None,
    seed: int = 0,
    categories: Sequence[str] = CATEGORIES,
    progress: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """``n`` episodes per category (default: the split's size) of ``suite``/``split``, in
    category order, generated in one simulator."""
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
    cfg = SUITES[suite]
    if split not in cfg.splits:
        raise ValueError(f"suite {suite!r} has no split {split!r}; expected one of {', '.join(cfg.splits)}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
        raise ValueError(f"n: expected a positive number of episodes per category, got {n!r}")
    bad = [c for c in categories if c not in GENERATORS]
    if bad:
        raise ValueError(f"unknown category {bad[0]!r}; expected one of {', '.join(CATEGORIES)}")
    count = n if n is not None else cfg.splits[split].per_category
    episodes: list[Episode] = []
    sim = make_simulator(cfg.backend, seed=seed, width=cfg.width, height=cfg.height)
    try:
        for category in categories:
            cap = cfg.endpoint_cap(category, count)
            spread = None if cap is None else EndpointSpread(endpoint_radius(sim, REACH_RADIUS), cap)
            for i in range(count):
                ep = generate_episode(sim, cfg, split, category, i, seed, spread)
                episodes.append(ep)
                if progress is not None:
                    progress(ep)
    finally:
        sim.close()
    return episodes


def generate_suite(suite: str, split: str, n: int | None = None, seed: int = 0, out: str | Path = ".") -> list[Path]:
    """Generate ``suite``/``split`` and write ``out/<split>.jsonl``; returns the written paths.
    ``n`` is the number of episodes per category (default: the split's official size). The same
    arguments always give a byte-identical file."""
    from .bear import SUITE as BEAR_SUITE  # the BEAR long-horizon suite (embodied_gym.episodes.bear)

    if suite == BEAR_SUITE:
        from .bear import generate_bear_suite

        return generate_bear_suite(split, n=n, seed=seed, out=out)
    if suite == "bear-lh-v1":
        raise ValueError("suite 'bear-lh-v1' is deprecated and no longer generated (its files stay loadable from "
                         f"assets/bear-lh-v1; docs/BEAR.md lists its defects); generate {BEAR_SUITE!r} instead")
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join([*SUITES, BEAR_SUITE])}")
    episodes = build_episodes(suite, split, n=n, seed=seed)
    return [save_episodes(Path(out) / f"{split}.jsonl", episodes)]
