"""Long-horizon household episodes and their decomposition into BEAR skill queries.

:func:`sample_goal` draws a goal that chains navigation and interaction in a house:

* ``bring``: "pick up the yellow duck and put it on the desk in the bedroom" -- subgoals
  ``pick X, place X on R``; high-level plan ``go to X, pick up X, go to R, put X on R``;
* ``door_bring``: "open the door between the hallway and the office and bring the blue key to the
  table" -- subgoals ``open D, pick X, place X on R`` (plan: a "go to" before each), where the
  door is needed.

The oracle (:func:`embodied_gym.episodes.oracle.demonstrate`) records the expert demonstration
(poses and object states); :func:`build_queries` replays it and asks skill questions at chosen
steps (see :mod:`embodied_gym.episodes.bear` for the list). Everything is computed from the
simulator; the same seed gives the same episode.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from ...sims.base import ObjectInfo, Pose, Simulator
from ..generators.common import room_of
from ..spec import Episode, Subgoal
from . import grounding, reasoning
from .context import EpisodeContext, QueryRejected
from .language import door_rooms, name_of
from .options import LetterDeck, NotEnoughOptions
from .templates import phrase

SUITE = "bear-lh-v2"
MIN_QUERIES = 8
#: direction questions per episode about other things seen on the way (their sectors can be
#: balanced freely, unlike those of the goals; see reasoning.direction_role)
OTHER_DIRECTIONS = 2


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


def _near(cells: np.ndarray, obj: ObjectInfo, dist: float = 1.0) -> bool:
    """Whether some navigable cell lies within ``dist`` metres (ground plane) of ``obj``."""
    if len(cells) == 0:
        return False
    return bool(np.min(np.hypot(cells[:, 0] - obj.position[0], cells[:, 1] - obj.position[2])) < dist)


def sample_goal(sim: Simulator, rng: random.Random, kind: str, split: str = "test") -> tuple[str, list[Subgoal], Pose, dict[str, Any]]:
    """``(instruction, subgoals, start_pose, info)`` for a ``bring`` or ``door_bring`` goal in
    the simulator's current scene (instruction templates of ``split``: held-out ones for ``ood``)."""
    objects, names = _named(sim)
    rooms = sim.rooms()
    items = [o for _, o in sorted(objects.items()) if o.kind == "object" and o.pickable and o.id in names]
    recs = [o for _, o in sorted(objects.items()) if o.kind == "furniture" and o.receptacle and o.id in names]
    if not items or not recs:
        raise GoalRejected("no nameable object or receptacle")
    if kind == "bring":
        for _ in range(4):
            start = _start_pose(sim, rng, [])
            sim.teleport(start)
            cells = np.asarray(sim.reachable_positions(), dtype=float)
            near_x = [o for o in items if _near(cells, o) and math.hypot(o.position[0] - start.x, o.position[2] - start.z) > 2.5]
            if not near_x:
                continue
            x = rng.choice(near_x)
            rx = room_of(x, rooms)
            near_r = [f for f in recs if f.id != x.on and _near(cells, f, 1.6)]
            elsewhere = [f for f in near_r if (room_of(f, rooms) or rx) != rx]
            if not near_r:
                continue
            r = rng.choice(elsewhere if elsewhere and rng.random() < 0.8 else near_r)
            subgoals = [
                Subgoal("pick", target=x.id, description=f"pick up the {names[x.id]}"),
                Subgoal("place", target=x.id, receptacle=r.id, description=f"put the {names[x.id]} on the {names[r.id]}"),
            ]
            text = phrase("bring", split, rng, x=names[x.id], r=names[r.id])
            return text, subgoals, start, {"goal": kind, "object": x.id, "receptacle": r.id}
        raise GoalRejected("no reachable object and receptacle")
    doors = [o for _, o in sorted(objects.items()) if o.kind == "door" and o.openable and not o.is_open and o.id in names]
    rng.shuffle(doors)
    for d in doors:
        joined = door_rooms(d, rooms)
        if len(joined) != 2:
            continue
        for side in rng.sample(joined, 2):
            try:
                start = _start_pose(sim, rng, [d], room=side)
            except GoalRejected:
                continue
            sim.teleport(start)
            shut = np.asarray(sim.reachable_positions(), dtype=float)
            sim.set_object_state(d.id, is_open=True)
            sim.teleport(start)
            opened = np.asarray(sim.reachable_positions(), dtype=float)
            sim.set_object_state(d.id, is_open=False)
            behind = [o for o in items if _near(opened, o) and not _near(shut, o)]
            if not behind:
                continue
            x = rng.choice(behind)
            targets = [f for f in recs if f.id != x.on and _near(opened, f, 1.6)]
            if not targets:
                continue
            r = rng.choice(targets)
            subgoals = [
                Subgoal("open", target=d.id, description=f"open the {names[d.id]}"),
                Subgoal("pick", target=x.id, description=f"pick up the {names[x.id]}"),
                Subgoal("place", target=x.id, receptacle=r.id, description=f"put the {names[x.id]} on the {names[r.id]}"),
            ]
            info = {"goal": kind, "object": x.id, "receptacle": r.id, "door": d.id}
            text = phrase("door_bring", split, rng, d=names[d.id], x=names[x.id], r=names[r.id])
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


def _step_with_progress(ctx: EpisodeContext, k: int) -> int | None:
    """A random demonstration step whose state has exactly ``k`` plan steps done and whose
    history holds ``history_n`` distinct frames (so the length of the video does not tell an
    early step), or ``None`` when there is no such step."""
    lo = max(ctx.met_at[k - 1] if k > 0 else 0, ctx.history_n - 1)
    hi = ctx.met_at[k] - 1 if k < len(ctx.met_at) else ctx.last
    return ctx.rng.randint(lo, hi) if hi >= lo else None


def _planning(ctx: EpisodeContext, out: list[dict[str, Any]], fn, kind: str, ks: range, n: int) -> None:
    """Up to ``n`` questions ``fn(ctx, t)`` at progress values drawn from ``ks``. A progress
    value is skipped while it has been asked more often than the rarest one (plus one) for plans
    of this length in the suite, so the answer's position in the plan stays uniform."""
    key = f"{kind}{len(ctx.plan)}"
    asked = 0
    for k in ctx.rng.sample(list(ks), len(ks)):
        if asked == n:
            return
        if ctx.deck.used(key, str(k)) > min(ctx.deck.used(key, str(j)) for j in ks) + 1:
            continue
        t = _step_with_progress(ctx, k)
        if t is not None and _try(out, fn, ctx, t):
            ctx.deck.use(key, str(k))
            asked += 1


def _other_grounding(ctx: EpisodeContext, kind: str, skip: set[int]) -> dict[str, Any]:
    """A pointing or box question about a named object (not one of ``skip``) visible at a
    random step, on a frame near that step."""
    t = ctx.rng.randrange(ctx.n_steps)
    obs = ctx.observe(t)
    ids, counts = np.unique(obs.segmentation, return_counts=True)
    cands = [int(i) for i, c in zip(ids, counts, strict=True) if int(i) in ctx.names and int(i) not in skip
             and int(i) in obs.objects and not obs.objects[int(i)].held and c >= ctx.min_pixels()
             and obs.objects[int(i)].category not in ctx.unnamed]
    if not cands:
        raise QueryRejected("no other named object in view")
    return grounding.grounding(ctx, kind, ctx.rng.choice(cands), _window(t - 6, min(ctx.last, t + 6)),
                               spatial=ctx.rng.random() < 0.6)


def _other_direction(ctx: EpisodeContext, skip: set[int], *, steps: int = 4) -> dict[str, Any]:
    """A direction question about a named object (not one of ``skip``) that the history shows:
    candidates are every such object at the steps around ``steps`` random steps, so that the
    pair whose sector is rarest for things seen on the way can be chosen (things just passed lie
    behind, things in view ahead; see :func:`reasoning.direction_role`)."""
    pairs: list[tuple[int, int]] = []
    for t in ctx.rng.sample(range(1, ctx.n_steps), min(steps, ctx.n_steps - 1)):
        seen = ctx.shown_ids(t)
        cands = sorted(j for j in seen if j in ctx.names and j not in skip and not ctx.observe(t).objects[j].held
                       and ctx.initial[j].category not in ctx.unnamed)
        pairs += [(s, j) for s in _window(t - 3, min(ctx.last, t + 3)) for j in cands]
    if not pairs:
        raise QueryRejected("no other named object shown")
    return reasoning.relative_direction(ctx, pairs)


def _other_route(ctx: EpisodeContext, skip: set[int]) -> dict[str, Any]:
    """A route question to a named piece of furniture (not one of ``skip``) that the history of
    a random step shows."""
    t = ctx.rng.randrange(1, ctx.n_steps)
    seen = ctx.shown_ids(t)
    cands = sorted(j for j in seen if j in ctx.names and j not in skip and ctx.initial[j].kind == "furniture"
                   and ctx.initial[j].category not in ctx.unnamed)
    if not cands:
        raise QueryRejected("no other named furniture shown")
    return reasoning.path_planning(ctx, _window(t - 3, min(ctx.last, t + 3)), ctx.rng.choice(cands))


def build_queries(ctx: EpisodeContext) -> list[dict[str, Any]]:
    """Skill questions along the demonstration (see the package docstring): the spatial and
    grounding questions in step order, then the planning questions in random order, each with
    the video up to its own step -- so a question's place in the episode says nothing about
    the progress it asks about."""
    plan, m, rng = ctx.plan, ctx.met_at, ctx.rng
    pick = next(i for i, p in enumerate(plan) if p["type"] == "pick")
    place = len(plan) - 1
    x, r = plan[pick]["target"], plan[place]["receptacle"]
    door = plan[1]["target"] if plan[1]["type"] == "open" else None
    support = ctx.initial[x].on
    if support is not None and support in ctx.initial:
        ctx.unnamed.add(ctx.initial[support].category)  # see EpisodeContext.unnamed
    out: list[dict[str, Any]] = []
    planning: list[dict[str, Any]] = []
    # planning at progress values kept uniform over the suite, with full-length histories
    _planning(ctx, planning, reasoning.next_action, "next", range(len(plan)), 3 if door is not None else 2)
    _planning(ctx, planning, reasoning.task_process, "done", range(1, len(plan) + 1), 2)
    # the first navigation leg: route and direction of its target, once the history shows it
    first = plan[0]["target"]
    seg0 = _window(0, m[0] - 1)
    head = seg0[: max(1, len(seg0) * 3 // 4)]
    _try(out, reasoning.path_planning, ctx, rng.sample(head, len(head)), first)
    _try(out, reasoning.relative_direction, ctx, [(t, first) for t in rng.sample(head, min(10, len(head)))])
    if door is not None:
        _try(out, grounding.grounding, ctx, rng.choice(["point", "box"]), door, _window(m[0] - 10, m[1] - 1), spatial=False)
    # the object: a point and a box on the approach, then the arrows
    approach = _window(m[pick - 1] - 14, m[pick] - 1)
    for kind in rng.sample(["point", "box"], 2):
        _try(out, grounding.grounding, ctx, kind, x, approach, spatial=rng.random() < 0.5)
    _try(out, grounding.trajectory, ctx, x, _window(m[pick - 1] - 16, m[pick] - 1))
    # after the pick: the route to the receptacle, where the object was, where the receptacle is
    carry = _window(m[pick], m[place - 1] - 1)
    if carry:
        # localization first (at the first carrying step, before the route that passes the
        # object's surface): the fewer earlier questions name surfaces, the more distractors can
        # match the truth's mention count (episodes/bear/balance.py)
        _try(out, reasoning.object_localization, ctx, carry[0], x, m[pick])
        _try(out, reasoning.path_planning, ctx, rng.sample(carry, len(carry)), r)
        _try(out, reasoning.relative_direction, ctx, [(t, r) for t in rng.sample(carry, min(10, len(carry)))])
    # the receptacle, named by a spatial relation when one is visible; the arrows to it
    before_place = _window(m[place - 1] - 14, m[place] - 1)
    for kind in rng.sample(["point", "box"], 2):
        _try(out, grounding.grounding, ctx, kind, r, before_place, spatial=rng.random() < 0.7)
    _try(out, grounding.trajectory, ctx, r, _window(m[place - 1] - 16, m[place] - 1))
    # other named things seen on the way
    skip = {x, r} | ({door} if door is not None else set())
    for kind in ("point", "box"):
        _try(out, _other_grounding, ctx, kind, skip)
    for _ in range(OTHER_DIRECTIONS):
        if _try(out, _other_direction, ctx, skip):
            skip = skip | {out[-1]["target"]}
    _try(out, _other_route, ctx, skip)
    out.sort(key=lambda q: (q["step"], q["skill"] != "object_localization"))
    rng.shuffle(planning)
    return out + planning


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
            text, subgoals, start, info = sample_goal(sim, rng, kind, split)
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
        saved = deck.state()
        try:
            ctx = EpisodeContext(sim, ep, rng, deck, history_n=history_n)
            queries = build_queries(ctx)
        except QueryRejected as exc:
            deck.restore(saved)
            last_error = str(exc)
            continue
        if len(queries) < MIN_QUERIES:
            deck.restore(saved)
            last_error = f"only {len(queries)} queries"
            continue
        ep.extra = {"bear": {"version": 2, "suite": SUITE, "goal": info, "history_frames": history_n,
                             "render": {"width": sim.width, "height": sim.height}, "queries": queries}}
        return ep
    raise GoalRejected(f"{episode_id}: {last_error}")
