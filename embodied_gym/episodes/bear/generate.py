"""Long-horizon household episodes and their decomposition into BEAR skill queries.

:func:`sample_goal` draws a goal that chains navigation and interaction in a house:

* ``bring``: "pick up the yellow duck and put it on the desk in the bedroom" -- subgoals
  ``reach X, pick X, reach R, place X on R``;
* ``door_bring``: "open the door between the hallway and the office and bring the blue key to the
  table" -- ``reach D, open D, reach X, pick X, reach R, place X on R``, where the door is needed.

The oracle (:func:`embodied_gym.episodes.oracle.demonstrate`) records the expert demonstration
(poses and object states); :func:`build_queries` replays it and asks skill questions at chosen
steps (see :mod:`embodied_gym.episodes.bear` for the list). Everything is computed from the
simulator; the same seed gives the same episode.
"""

from __future__ import annotations

import copy
import math
import random
from typing import Any

import numpy as np

from ...sims.base import ObjectInfo, Pose, Simulator
from ..spec import Episode, Subgoal
from . import grounding, reasoning
from .context import EpisodeContext, QueryRejected
from .language import door_rooms, name_of, room_of
from .options import LetterDeck, NotEnoughOptions

SUITE = "bear-lh-v1"
MIN_QUERIES = 6
REACH_RADIUS = 1.0

BRING_TEMPLATES = (
    "Pick up the {x} and put it on the {r}.",
    "Bring the {x} to the {r}.",
    "Take the {x} and place it on the {r}.",
    "Find the {x} and put it on the {r}.",
    "Move the {x} onto the {r}.",
)
DOOR_TEMPLATES = (
    "Open the {d} and bring the {x} to the {r}.",
    "First open the {d}, then put the {x} on the {r}.",
    "Open the {d}, pick up the {x} and place it on the {r}.",
)


class GoalRejected(Exception):
    """The sampled goal or its demonstration does not fit; the caller resamples."""


def _named(sim: Simulator) -> tuple[dict[int, ObjectInfo], dict[int, str]]:
    objects = sim.objects()
    rooms = sim.rooms()
    names = {oid: n for oid, o in objects.items() if (n := name_of(o, objects, rooms))}
    return objects, names


def _start_pose(sim: Simulator, rng: random.Random, avoid: list[ObjectInfo], room=None) -> Pose:
    cells = np.asarray(sim.reachable_positions(), dtype=float)
    if room is not None:
        x0, z0, x1, z1 = room.bounds
        cells = cells[(cells[:, 0] > x0 + 0.3) & (cells[:, 0] < x1 - 0.3) & (cells[:, 1] > z0 + 0.3) & (cells[:, 1] < z1 - 0.3)]
    for _ in range(20):
        if len(cells) == 0:
            break
        x, z = cells[rng.randrange(len(cells))]
        if all(math.hypot(x - o.position[0], z - o.position[2]) > 2.5 for o in avoid):
            return Pose(round(float(x), 4), sim.pose.y, round(float(z), 4), round(rng.uniform(0, 360), 1), 0.0)
    raise GoalRejected("no start pose away from the targets")


def sample_goal(sim: Simulator, rng: random.Random, kind: str) -> tuple[str, list[Subgoal], Pose, dict[str, Any]]:
    """``(instruction, subgoals, start_pose, info)`` for a ``bring`` or ``door_bring`` goal in
    the simulator's current scene."""
    objects, names = _named(sim)
    rooms = sim.rooms()
    items = [o for _, o in sorted(objects.items()) if o.kind == "object" and o.pickable and o.id in names]
    recs = [o for _, o in sorted(objects.items()) if o.kind == "furniture" and o.receptacle and o.id in names]
    if not items or not recs:
        raise GoalRejected("no nameable object or receptacle")
    x = rng.choice(items)
    rx = room_of(x, rooms)
    other_room = [r for r in recs if r.id != x.on and (room_of(r, rooms) or rx) != rx]
    r = rng.choice(other_room if other_room and rng.random() < 0.8 else [r for r in recs if r.id != x.on] or recs)
    subgoals = [
        Subgoal("reach_object", target=x.id, radius=REACH_RADIUS, description=f"go to the {names[x.id]}"),
        Subgoal("pick", target=x.id, description=f"pick up the {names[x.id]}"),
        Subgoal("reach_object", target=r.id, radius=REACH_RADIUS, description=f"go to the {names[r.id]}"),
        Subgoal("place", target=x.id, receptacle=r.id, description=f"put the {names[x.id]} on the {names[r.id]}"),
    ]
    info: dict[str, Any] = {"goal": kind, "object": x.id, "receptacle": r.id}
    if kind == "bring":
        start = _start_pose(sim, rng, [x, r])
        text = rng.choice(BRING_TEMPLATES).format(x=names[x.id], r=names[r.id])
        return text, subgoals, start, info
    doors = [o for _, o in sorted(objects.items()) if o.kind == "door" and o.openable and not o.is_open and o.id in names]
    rng.shuffle(doors)
    for d in doors:
        joined = door_rooms(d, rooms)
        if len(joined) != 2:
            continue
        a, b = joined if rx is None or joined[1].id == rx.id else joined[::-1]
        # start on the side away from the object; the object must be unreachable with the door shut
        try:
            start = _start_pose(sim, rng, [d, x], room=a)
        except GoalRejected:
            continue
        sim.teleport(start)
        cells = np.asarray(sim.reachable_positions(), dtype=float)
        if len(cells) and np.min(np.hypot(cells[:, 0] - x.position[0], cells[:, 1] - x.position[2])) < 1.2:
            continue  # the object can be reached without this door
        subgoals = [
            Subgoal("reach_object", target=d.id, radius=REACH_RADIUS, description=f"go to the {names[d.id]}"),
            Subgoal("open", target=d.id, description=f"open the {names[d.id]}"),
            *subgoals,
        ]
        info.update(door=d.id)
        text = rng.choice(DOOR_TEMPLATES).format(d=names[d.id], x=names[x.id], r=names[r.id])
        return text, subgoals, start, info
    raise GoalRejected("no door that the goal needs")


# ---------------------------------------------------------------------------------------------
# queries


def _try(out: list[dict[str, Any]], fn, *args, **kwargs) -> bool:
    try:
        out.append(fn(*args, **kwargs))
        return True
    except (QueryRejected, NotEnoughOptions):
        return False


def _window(a: int, b: int) -> list[int]:
    return list(range(max(0, a), max(a, b) + 1))


def build_queries(ctx: EpisodeContext) -> list[dict[str, Any]]:
    """Skill questions along the demonstration, in step order (see the package docstring)."""
    sg = ctx.episode.subgoals
    m = ctx.met_at
    rng = ctx.rng
    pick = next(i for i, s in enumerate(sg) if s.type == "pick")
    place = len(sg) - 1
    x, r = sg[pick].target, sg[place].receptacle
    out: list[dict[str, Any]] = []
    _try(out, reasoning.next_action, ctx, 0)
    # the first navigation: route and direction of its target
    first = sg[0].target
    seg0 = _window(0, m[0] - 1)
    route_first = rng.random() < 0.5
    if route_first:
        _try(out, reasoning.path_planning, ctx, 0, m[0], first)
    for t in rng.sample(seg0[: max(1, len(seg0) * 2 // 3)], min(6, max(1, len(seg0) * 2 // 3))):
        if _try(out, reasoning.relative_direction, ctx, t, first):
            break
    if sg[0].type == "reach_object" and len(sg) > 4 and sg[1].type == "open":
        door = sg[1].target
        kind = rng.choice(["point", "box"])
        _try(out, grounding.grounding, ctx, kind, door, _window(m[0] - 2, m[1] - 1), spatial=False)
        _try(out, reasoning.next_action, ctx, m[1])
    # the object: grounding on the approach, then the arrows
    approach = _window(m[pick - 1] - 6, m[pick] - 1)
    kind = rng.choice(["point", "box"])
    _try(out, grounding.grounding, ctx, kind, x, approach, spatial=rng.random() < 0.4)
    _try(out, grounding.trajectory, ctx, x, _window(m[pick - 1] - 8, m[pick] - 1))
    # after the pick: what has been done, what comes next, where the object was
    carry = _window(m[pick], m[place - 1] - 1)
    _try(out, reasoning.task_process, ctx, m[pick])
    if rng.random() < 0.6:
        _try(out, reasoning.next_action, ctx, m[pick])
    if not route_first or rng.random() < 0.3:
        _try(out, reasoning.path_planning, ctx, m[pick], m[place - 1], r)
    if carry:
        mid = carry[len(carry) // 2]
        _try(out, reasoning.object_localization, ctx, mid, x, m[pick])
        for t in rng.sample(carry, min(6, len(carry))):
            if _try(out, reasoning.relative_direction, ctx, t, r):
                break
    # the receptacle, named by a spatial relation when one is visible
    kind = rng.choice(["point", "box"])
    _try(out, grounding.grounding, ctx, kind, r, _window(m[place - 1] - 4, m[place] - 1), spatial=True)
    if len(out) > 1 and rng.random() < 0.5:
        _try(out, reasoning.task_process, ctx, ctx.last)
    out.sort(key=lambda q: q["step"])
    return out


def make_episode(
    sim: Simulator,
    scene: Any,
    rng: random.Random,
    deck: LetterDeck,
    *,
    episode_id: str,
    split: str,
    kind: str,
    tags: dict[str, Any],
    history_n: int = 16,
    attempts: int = 6,
) -> Episode:
    """One BEAR long-horizon episode with its demonstration and queries in ``extra["bear"]``.
    Raises :class:`GoalRejected` when no goal of ``kind`` works in ``scene``."""
    from ..oracle import OracleError, demonstrate

    last_error = "no attempt"
    for _ in range(attempts):
        sim.reset(scene)
        try:
            text, subgoals, start, info = sample_goal(sim, rng, kind)
        except GoalRejected as exc:
            last_error = str(exc)
            continue
        ep = Episode(
            id=episode_id, backend=sim.name, scene=sim.scene, start_pose=start, instruction=text,
            category="multi_stage" if kind == "door_bring" else "pick_drop", subgoals=subgoals,
            max_steps=400, split=split, tags=dict(tags, goal=kind),
        )
        try:
            ep.demonstration = demonstrate(sim, ep)
        except OracleError as exc:
            last_error = str(exc)
            continue
        ep.max_steps = max(64, 2 * len(ep.demonstration.actions))
        saved = copy.deepcopy(deck.decks)
        try:
            ctx = EpisodeContext(sim, ep, rng, deck, history_n=history_n)
            queries = build_queries(ctx)
        except QueryRejected as exc:
            deck.decks = saved
            last_error = str(exc)
            continue
        if len(queries) < MIN_QUERIES:
            deck.decks = saved
            last_error = f"only {len(queries)} queries"
            continue
        ep.extra = {"bear": {"version": 1, "suite": SUITE, "goal": info, "history_frames": history_n,
                             "render": {"width": sim.width, "height": sim.height}, "queries": queries}}
        return ep
    raise GoalRejected(f"{episode_id}: {last_error}")
