"""Shared helpers for task generators: start poses, visibility from segmentation, referring
expressions that are checked for uniqueness, paraphrase choice.

Everything here talks to the :class:`~embodied_gym.sims.base.Simulator` interface only
(``rooms()``, ``objects()``, ``teleport``/``observe`` and their segmentation, ``reachable_positions``,
``geodesic_distance``), so generators run on any backend.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...sims.base import ObjectInfo, Observation, Pose, RoomInfo, Simulator
from ...sims.geometry import heading, room_of
from ...sims.naming import noun, room_phrase
from ..spec import Subgoal
from ..walker_family import clearance_walkers, drift_walkers
from ..walkers import traces


class Rejected(Exception):
    """The sampled task does not meet its category's constraints; the caller resamples."""


@dataclass
class TaskDraft:
    """A generated task before its demonstration: what :func:`~.generate_task` returns.

    ``extra`` records how the referent was chosen (relation kind, anchor ids, ...)."""

    category: str
    instruction: str
    subgoals: list[Subgoal]
    start_pose: Pose
    extra: dict[str, Any] = field(default_factory=dict)


#: success radius (metres, geodesic) of reach subgoals
REACH_RADIUS = 1.0
#: minimum share of the frame an object must cover to count as clearly visible
MIN_VISIBLE_SHARE = 0.002
#: at least this geodesic distance (metres) between the start and a navigation target
MIN_START_DISTANCE = 2.0


def min_pixels(sim: Simulator) -> int:
    """Pixel count above which an object counts as clearly visible in a frame of ``sim``."""
    return max(20, int(MIN_VISIBLE_SHARE * sim.width * sim.height))


def plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith("f"):
        return word[:-1] + "ves"
    return word + "s"


def unique_room_kinds(rooms: Sequence[RoomInfo]) -> dict[str, RoomInfo]:
    """Rooms whose kind occurs once in the house (only those can be named unambiguously)."""
    counts: dict[str, int] = {}
    for r in rooms:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return {r.id: r for r in rooms if counts[r.kind] == 1}


def items(objects: dict[int, ObjectInfo], kind: str | None = None) -> list[ObjectInfo]:
    """Objects of one kind (``object``/``furniture``/``door``) sorted by id (deterministic order)."""
    return [objects[i] for i in sorted(objects) if kind is None or objects[i].kind == kind]


def navigation_targets(sim: Simulator) -> list[ObjectInfo]:
    """Objects and furniture (not doors), sorted by id: what navigation tasks may point at."""
    return [o for o in items(sim.objects()) if o.kind in ("object", "furniture")]


def same_category(obj: ObjectInfo, objects: dict[int, ObjectInfo]) -> list[ObjectInfo]:
    return [o for o in items(objects) if o.category == obj.category and o.kind == obj.kind]


def plain_expression(obj: ObjectInfo, objects: dict[int, ObjectInfo]) -> str | None:
    """The shortest house-wide unique name of ``obj``: ``"the key"`` when it is the only key,
    ``"the red key"`` when it is the only red key, else ``None``."""
    same = same_category(obj, objects)
    if len(same) == 1:
        return f"the {noun(obj, color=False)}"
    if obj.color and sum(1 for o in same if o.color == obj.color) == 1:
        return f"the {noun(obj)}"
    return None


def unique_expression(
    obj: ObjectInfo, objects: dict[int, ObjectInfo], rooms: Sequence[RoomInfo], *, prefer_room: bool = False
) -> str | None:
    """A house-wide unique name for ``obj``: :func:`plain_expression`, or qualified by its room
    (``"the chair in the kitchen"``, ``"the red chair in the kitchen"``) when the room kind is
    unique and the qualified phrase picks out only ``obj``. ``None`` when nothing is unique."""
    plain = None if prefer_room else plain_expression(obj, objects)
    if plain:
        return plain
    room = room_of(obj, rooms)
    named = unique_room_kinds(rooms)
    if room is None or room.id not in named:
        return plain_expression(obj, objects)
    in_room = [o for o in same_category(obj, objects) if (r := room_of(o, rooms)) is not None and r.id == room.id]
    if len(in_room) == 1:
        return f"the {noun(obj, color=False)} in the {room_phrase(room)}"
    if obj.color and sum(1 for o in in_room if o.color == obj.color) == 1:
        return f"the {noun(obj)} in the {room_phrase(room)}"
    return plain_expression(obj, objects)


# ---------------------------------------------------------------------------------------------
# poses and views


def sample_start_pose(sim: Simulator, rng: random.Random, *, room: RoomInfo | None = None) -> Pose:
    """A random navigable pose (optionally inside ``room``) with level gaze and a random heading
    among the multiples of ``sim.turn_step`` (so the agent's headings include the axes that
    walls and doorways follow)."""
    cells = np.asarray(sim.reachable_positions(), dtype=float)
    if room is not None:
        x0, z0, x1, z1 = room.bounds
        inside = (cells[:, 0] > x0 + 0.3) & (cells[:, 0] < x1 - 0.3) & (cells[:, 1] > z0 + 0.3) & (cells[:, 1] < z1 - 0.3)
        cells = cells[inside]
    if len(cells) == 0:
        raise Rejected("no navigable start position")
    x, z = cells[rng.randrange(len(cells))]
    n_dirs = max(1, int(round(360.0 / sim.turn_step)))
    yaw = (rng.randrange(n_dirs) * sim.turn_step) % 360.0
    return Pose(round(float(x), 4), sim.pose.y, round(float(z), 4), yaw, 0.0)


def view_from(sim: Simulator, pose: Pose) -> Observation:
    """Teleport to ``pose`` and observe; :class:`Rejected` when the pose is not navigable."""
    obs = sim.teleport(pose)
    if not obs.last_action_success:
        raise Rejected(f"start pose {pose} is not navigable: {obs.error}")
    return obs


def pixels(obs: Observation, object_id: int) -> int:
    """Pixels of ``object_id`` in the frame, counted from the segmentation map."""
    return int(np.count_nonzero(obs.segmentation == object_id))


def bbox_of(obs: Observation, object_id: int) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)`` of ``object_id`` in the segmentation (exclusive ends), or ``None``."""
    ys, xs = np.nonzero(obs.segmentation == object_id)
    if len(xs) == 0:
        return None
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def turn_in_place_views(sim: Simulator, pose: Pose) -> list[Observation]:
    """The frames seen while turning a full circle in place from ``pose`` (``360/turn_step`` views)."""
    n = max(1, int(round(360.0 / sim.turn_step)))
    return [view_from(sim, pose.with_(yaw=(pose.yaw + k * sim.turn_step) % 360.0)) for k in range(n)]




def geodesic(sim: Simulator, start: Pose, obj: ObjectInfo) -> float:
    return sim.geodesic_distance(start, obj.position)


def require_reachable(sim: Simulator, start: Pose, objs: Iterable[ObjectInfo], min_distance: float = MIN_START_DISTANCE) -> None:
    """Reject unless every object is reachable from ``start`` and at least ``min_distance`` away."""
    for o in objs:
        d = geodesic(sim, start, o)
        if not math.isfinite(d):
            raise Rejected(f"{o.name} unreachable from the start")
        if d < min_distance:
            raise Rejected(f"{o.name} only {d:.2f} m from the start")


def choose(rng: random.Random, templates: Sequence[str], **fields: str) -> str:
    """One paraphrase of ``templates`` picked by ``rng`` and filled with ``fields``; the first
    letter is capitalised."""
    text = rng.choice(list(templates)).format(**fields)
    return text[0].upper() + text[1:]


def reach(obj: ObjectInfo, description: str) -> Subgoal:
    return Subgoal("reach_object", target=obj.id, radius=REACH_RADIUS, description=description)


def sample_pose_facing(
    sim: Simulator,
    rng: random.Random,
    point: Sequence[float],
    min_d: float = 2.0,
    max_d: float = 6.0,
    jitter: int = 1,
    room: RoomInfo | None = None,
) -> Pose:
    """A navigable pose ``min_d``..``max_d`` metres (straight line) from ``point`` (``(x, y, z)``),
    heading toward it rounded to a multiple of ``sim.turn_step`` and then turned by up to
    ``jitter`` steps either way (so the point is not always dead centre). With ``room`` the
    position lies in that room."""
    cells = np.asarray(sim.reachable_positions(), dtype=float)
    if room is not None:
        x0, z0, x1, z1 = room.bounds
        cells = cells[(cells[:, 0] > x0) & (cells[:, 0] < x1) & (cells[:, 1] > z0) & (cells[:, 1] < z1)]
    d = np.hypot(cells[:, 0] - point[0], cells[:, 1] - point[2])
    cells = cells[(d >= min_d) & (d <= max_d)]
    if len(cells) == 0:
        raise Rejected("no navigable position at the wanted distance")
    x, z = (float(v) for v in cells[rng.randrange(len(cells))])
    yaw = heading((x, z), point)
    k = round(yaw / sim.turn_step) + rng.randint(-jitter, jitter)
    return Pose(round(x, 4), sim.pose.y, round(z, 4), (k * sim.turn_step) % 360.0, 0.0)


def approach_distance(sim: Simulator, start: Pose, obj: ObjectInfo, within: float = 1.1) -> float:
    """Geodesic distance from ``start`` to the nearest navigable grid point within ``within``
    metres (ground plane) of ``obj`` -- how far the agent walks to get ``obj`` in arm's reach;
    ``inf`` when no such point is reachable. Only points in the object's room count (walls are
    room boundaries). (Objects on furniture are often further than the
    backend's goal snapping from any navigable point, so their own geodesic distance is
    ``inf`` although they can be picked.)"""
    cells = np.asarray(sim.reachable_positions(), dtype=float)
    room = room_of(obj, sim.rooms()) if obj.kind != "door" else None
    if room is not None:  # walls are room boundaries: reach from inside the object's room
        x0, z0, x1, z1 = room.bounds
        cells = cells[(cells[:, 0] >= x0) & (cells[:, 0] <= x1) & (cells[:, 1] >= z0) & (cells[:, 1] <= z1)]
    if len(cells) == 0:
        return math.inf
    d = np.hypot(cells[:, 0] - obj.position[0], cells[:, 1] - obj.position[2])
    if d.min() > within:
        return math.inf
    x, z = cells[int(np.argmin(d))]
    return sim.geodesic_distance(start, (float(x), 0.0, float(z)))


# ---------------------------------------------------------------------------------------------
# blind resistance (house-v2): where a target may lie so that no fixed walk finds it

#: metres (ground plane) a navigation target keeps from every point of the straight walk ahead
#: of the start pose, so "walk forward N steps (or until blocked), then Finish" misses it
CORRIDOR_CLEARANCE = 1.6
#: metres (ground plane) between a target and every same-category rival: no spot lies within the
#: 1 m success radius of both
RIVAL_SEPARATION = 2.5
#: the longest straight walk considered (metres)
CORRIDOR_LENGTH = 15.0
#: actions of the clearance walkers' walks (:func:`family_walks`: wall following with probe
#: periods 2-6, forward until blocked then a fixed turn) that targets in view keep clear of
#: (targets out of view, searched for: :data:`SEARCH_WALL_ACTIONS`; basic targets:
#: ``navigation.BASIC_WALL_ACTIONS``) ...
WALL_FOLLOW_ACTIONS = 40
SEARCH_WALL_ACTIONS = 80
#: ... by this many metres (ground plane)
WALL_CLEARANCE = 1.25


RELAXED_DOC = """``relaxed=True`` (every generator) drops the blind-resistance rules -- targets away
from blind walks, rivals apart, distractors in view, several closed doors -- for fixed scenes too
small for them (one AI2-THOR room); episodes made so are not house-v2 episodes and may fail the
closed-loop audit."""


def phrasing(templates: dict[str, Sequence[str]], domain: str) -> Sequence[str]:
    """The paraphrases of ``domain`` (``"in_domain"``/``"ood"``): ood splits use held-out templates."""
    if domain not in templates:
        raise ValueError(f"domain: expected one of {', '.join(templates)}, got {domain!r}")
    return templates[domain]


def _straight(sim: Simulator, x: float, z: float, yaw: float, length: float) -> list[tuple[float, float]]:
    """Points passed walking straight from ``(x, z)`` along ``yaw`` (one per ``sim.move_step``,
    the start included) until the next would not be navigable (``sim.navigable``)."""
    r = math.radians(yaw)
    step = float(sim.move_step)
    k = np.arange(1, int(length / step) + 1, dtype=float)
    pts = np.column_stack([x + k * step * math.cos(r), z - k * step * math.sin(r)])
    ok = np.asarray(sim.navigable(pts), dtype=bool)
    stop = int(np.argmin(ok)) if not ok.all() else len(ok)
    return [(x, z)] + [tuple(p) for p in pts[:stop]]


def forward_walk(sim: Simulator, start: Pose, length: float = CORRIDOR_LENGTH) -> np.ndarray:
    """``K x 2`` ground points the agent passes walking straight ahead from ``start`` (one per
    ``sim.move_step``, the start included) until it would leave navigable space."""
    return np.asarray(_straight(sim, start.x, start.z, start.yaw, length))


def blind_walks(sim: Simulator, start: Pose, length: float = CORRIDOR_LENGTH, fan: int = 0) -> np.ndarray:
    """Where simple blind walks from ``start`` take the agent:
    every point of the straight walk ahead, plus the resting point of the straight walk along each
    other heading (``k * turn_step``) and of each two-leg walk (straight ahead until blocked, turn
    ``k`` steps, straight until blocked); with ``fan`` = ``f``, every point of the straight walks
    along the headings up to ``f`` turn steps either side too. A target kept
    :data:`CORRIDOR_CLEARANCE` m away from all of them cannot be reached by walking straight and
    stopping where a wall stops you."""
    turn = float(sim.turn_step)
    n = max(1, int(round(360.0 / turn)))
    ahead = _straight(sim, start.x, start.z, start.yaw, length)
    points = list(ahead)
    for k in range(1, n):
        ray = _straight(sim, start.x, start.z, start.yaw + k * turn, length)
        points += ray if min(k, n - k) <= fan else ray[-1:]
        points.append(_straight(sim, *ahead[-1], start.yaw + k * turn, length)[-1])
    return np.asarray(points)


def family_walks(sim: Simulator, start: Pose, actions: int = WALL_FOLLOW_ACTIONS) -> np.ndarray:
    """Every position of the first ``actions`` actions of each walker of
    :func:`~..walker_family.clearance_walkers` from ``start`` (wall following either hand with
    probe periods 2-6; forward until blocked then a fixed turn), simulated with
    :func:`~..walkers.traces` (the backend's collision test, no rendering), ``K x 2``."""
    return traces(clearance_walkers(), sim, start, actions).reshape(-1, 2)


def drift_walks(sim: Simulator, start: Pose, actions: int) -> np.ndarray:
    """Every position of the first ``actions`` actions of each walker of
    :func:`~..walker_family.drift_walkers` (the 4-step zig-zags) from ``start`` *from its first
    refused move on* (the point it was stopped at, then everywhere it goes after), ``K x 2``
    (``0 x 2`` when no move of any was refused). Before that move the walk is unblocked and ends
    at a fixed point of the start frame, which the endpoint control bounds."""
    walkers = drift_walkers()
    first = np.zeros(len(walkers), dtype=int)
    walks = traces(walkers, sim, start, actions, refused=first)
    parts = [walk[k:] for walk, k in zip(walks, first, strict=True) if k <= actions]
    return np.concatenate(parts) if parts else np.zeros((0, 2))


def blind_safe(sim: Simulator, start: Pose, relaxed: bool = False, wall_actions: int = WALL_FOLLOW_ACTIONS,
               fan: int = 0, drift_actions: int = 0):
    """A predicate on objects: more than :data:`CORRIDOR_CLEARANCE` m from every point of
    :func:`blind_walks` (with ``fan``), more than :data:`WALL_CLEARANCE` m from every point of the first
    ``wall_actions`` actions of :func:`family_walks` from ``start`` and, with ``drift_actions``,
    from every point of the first ``drift_actions`` actions of :func:`drift_walks` (the walks are
    computed once). ``relaxed``: always true (see :data:`RELAXED_DOC`)."""
    if relaxed:
        return lambda obj: True
    straight = blind_walks(sim, start, fan=fan)
    walls: list[np.ndarray] = []

    def safe(obj: ObjectInfo) -> bool:
        if not off_corridor(straight, obj):
            return False
        if not walls:  # the family's walks only when needed (they cost one collision test a step)
            walls.append(family_walks(sim, start, wall_actions))
            if drift_actions:
                walls[0] = np.concatenate([walls[0], drift_walks(sim, start, drift_actions)])
        return off_corridor(walls[0], obj, WALL_CLEARANCE)

    return safe


def off_corridor(walk: np.ndarray, obj: ObjectInfo, clearance: float = CORRIDOR_CLEARANCE) -> bool:
    """Whether ``obj`` stays more than ``clearance`` metres from every point of ``walk``."""
    d = np.hypot(walk[:, 0] - obj.position[0], walk[:, 1] - obj.position[2])
    return bool(d.min() > clearance)


def apart_from_rivals(obj: ObjectInfo, rivals: Iterable[ObjectInfo], separation: float = RIVAL_SEPARATION) -> bool:
    """Whether every rival other than ``obj`` lies more than ``separation`` metres away (ground plane)."""
    return all(
        math.dist(obj.position[::2], r.position[::2]) > separation for r in rivals if r.id != obj.id
    )


def all_doors_open(sim: Simulator):
    """Context manager: every closed openable object is open inside the block and closed again
    after (through ``set_object_state``; no frame is rendered)."""
    from contextlib import contextmanager

    @contextmanager
    def _cm():
        closed = [o.id for o in sim.objects().values() if o.openable and not o.is_open]
        try:
            for d in closed:
                sim.set_object_state(d, is_open=True)
            yield
        finally:
            for d in closed:
                sim.set_object_state(d, is_open=False)

    return _cm()


def path_lengths(sim: Simulator, start: Pose, objs: Sequence[ObjectInfo]) -> tuple[list[float], list[float]]:
    """Path lengths (the backend's geodesic distance from ``start`` to each object's position)
    with the doors as they are and with every door open (the doors the agent can open)."""
    now = [geodesic(sim, start, o) for o in objs]
    with all_doors_open(sim):
        opened = [geodesic(sim, start, o) for o in objs]
    return now, opened
