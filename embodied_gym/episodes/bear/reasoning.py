"""Multiple-choice reasoning questions: next action, task process, object localization, path
planning and relative direction. Ground truth comes from the replayed simulator state.

Option sets are built so that their text does not determine the answer (bear-lh-v2): the
correct option and the distractors come from one distribution that does not depend on which of
them is correct --

* planning: options are steps (or step prefixes) of the episode's own plan, the progress asked
  about is drawn uniformly, the distractors uniformly from the rest of the plan;
* direction: the answer sector is spread evenly over the eight sectors, the three distractors
  are drawn uniformly from the other seven;
* localization: distractor surfaces are drawn from the surfaces that were correct earlier in
  the suite (the distribution of correct answers);
* routes: ``{route, mirrored route, another real route into the goal's room, its mirror}`` --
  a set closed under mirroring whose two real routes both end in the goal's room.

Spatial questions (direction, route, localization) are only asked about an object the sampled
history actually shows (see :meth:`EpisodeContext.shown`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..generators.common import room_of
from .context import EpisodeContext, QueryRejected
from .language import door_rooms, mirror_route, route_clauses, sequence_phrase
from .options import (
    DIRECTIONS,
    NotEnoughOptions,
    arrange_options,
    direction_word,
    distinct,
    relative_angle,
    sector_margin,
)
from .templates import phrase

#: distractors are drawn from a suite pool of earlier correct answers once it holds this many
POOL_MIN = 12


def _mc(ctx: EpisodeContext, skill: str, t: int, question: str, correct: str, distractors: list[str], target: int | None, **more: Any) -> dict[str, Any]:
    pool = distinct(correct, distractors)[:3]
    ctx.rng.shuffle(pool)
    letter = ctx.deck.deal(skill)
    try:
        options, answer = arrange_options(correct, pool, letter, ctx.rng)
    except NotEnoughOptions:
        ctx.deck.undeal(skill, letter)
        raise
    return ctx.query(skill, t, question, answer, target, options=options, truth=correct, **more)


# ---------------------------------------------------------------------------------------------
# task planning


def next_action(ctx: EpisodeContext, t: int) -> dict[str, Any]:
    """"What should you do next?" at step ``t``: the plan step of the first unmet subgoal. The
    distractors are three other steps of the same plan drawn uniformly (with a four-step plan:
    all of them), so with the progress drawn uniformly every plan step is equally likely right."""
    k = ctx.done_before(t)
    if k >= len(ctx.steps):
        raise QueryRejected("nothing left to do")
    others = [s for i, s in enumerate(ctx.steps) if i != k]
    distractors = ctx.rng.sample(others, min(3, len(others)))
    question = phrase("next_action", ctx.split, ctx.rng, task=ctx.episode.instruction)
    return _mc(ctx, "next_action_prediction", t, question, ctx.steps[k], distractors, ctx.plan[k]["target"])


def task_process(ctx: EpisodeContext, t: int) -> dict[str, Any]:
    """"What has been done so far, in order?" at step ``t`` (at least one step done). Options are
    prefixes of the plan: the done steps and three other prefixes drawn uniformly, so the length
    of the answer is uniform over the plan's prefixes and tells nothing."""
    k = ctx.done_before(t)
    if k < 1:
        raise QueryRejected("nothing done yet")
    prefixes = [sequence_phrase(ctx.steps[:j]) for j in range(1, len(ctx.steps) + 1) if j != k]
    distractors = ctx.rng.sample(prefixes, min(3, len(prefixes)))
    question = phrase("task_process", ctx.split, ctx.rng, task=ctx.episode.instruction)
    return _mc(ctx, "task_process_reasoning", t, question, sequence_phrase(ctx.steps[:k]), distractors,
               ctx.plan[k - 1]["target"], done=k)


# ---------------------------------------------------------------------------------------------
# spatial reasoning


def _surface(ctx: EpisodeContext, on: int | None) -> str:
    return ctx.initial[on].category.replace("_", " ") if on is not None and on in ctx.initial else "floor"


def _surfaces(ctx: EpisodeContext) -> list[str]:
    """Every surface category of the house an object can rest on: the floor and each
    receptacle's category."""
    out = ["floor"]
    for f in sorted(ctx.initial.values(), key=lambda o: o.id):
        if f.kind == "furniture" and f.receptacle and _surface(ctx, f.id) not in out:
            out.append(_surface(ctx, f.id))
    return out


def object_localization(ctx: EpisodeContext, t: int, oid: int, seen_before: int) -> dict[str, Any]:
    """"Where was the X when you first saw it?" -- asked at ``t`` about the surface the object
    started on (``"on the shelf"``, ``"on the floor"``); the sampled history must show it there
    before step ``seen_before``. The distractors are drawn from the surfaces that were correct
    in earlier questions of the suite (never the goal's receptacle, which the instruction names),
    so truth and distractors follow one distribution and neither "floor" nor any furniture word
    is a prior. Rooms are left out of the options: which room a thing is in is
    often given away by its name or the instruction."""
    obj = ctx.initial[oid]
    hist = [i for i in ctx.history(t) if i <= seen_before]
    if not any(ctx.pixels(ctx.observe(i), oid) >= ctx.min_pixels() for i in hist):
        raise QueryRejected("the object is not visible in the sampled history")
    here = _surface(ctx, obj.on)
    goal = ctx.plan[-1].get("receptacle")
    named = _surface(ctx, goal) if goal is not None else None
    pool = ctx.deck.pools.setdefault("surfaces", [])
    # distractors drawn from the surfaces that were correct so far in the suite: truth and
    # distractors then follow one distribution, and given the four options each is equally
    # likely the answer (before the pool has POOL_MIN entries: the house's own surfaces)
    source = pool if len(pool) >= POOL_MIN else _surfaces(ctx)
    if len({p for p in source if p not in (here, named)}) < 3:
        raise QueryRejected("fewer than three other surfaces to offer")
    picked: list[str] = []
    while len(picked) < 3:
        p = source[ctx.rng.randrange(len(source))]
        if p not in (here, named) and p not in picked:
            picked.append(p)
    pool.append(here)
    question = phrase("localization", ctx.split, ctx.rng, o=ctx.names[oid])
    return _mc(ctx, "object_localization", t, question, f"on the {here}", [f"on the {p}" for p in picked], oid)


def _route(ctx: EpisodeContext, t: int, dest: int, goal_id: int, skip: list[int]) -> list[str] | None:
    """The clauses of the shortest route from the pose of step ``t`` to the reachable cell
    nearest ``dest`` (within 1.3 m), ending "stop at the <goal>"; ``None`` when unreachable."""
    obs = ctx.replay.apply(t)
    cells = np.asarray(ctx.sim.reachable_positions(), dtype=float)
    o = obs.objects[dest]
    d = np.hypot(cells[:, 0] - o.position[0], cells[:, 1] - o.position[2])
    if len(cells) == 0 or d.min() > 1.3:
        return None
    pose = ctx.episode.demonstration.poses[t]  # type: ignore[union-attr]
    path = ctx.sim.shortest_path(pose, tuple(cells[int(np.argmin(d))]))
    if not path:
        return None
    return route_clauses([pose.xz, *path], pose.yaw, obs.objects, ctx.rooms, ctx.names, goal_id, skip=skip)


def _opening(clauses: list[str]) -> str:
    """How a route starts: a turn, a turn around, or neither (alternatives must start alike)."""
    first = clauses[0] if clauses else ""
    return "around" if first.startswith("turn around") else "turn" if first.startswith("turn ") else "other"


def path_planning(ctx: EpisodeContext, steps: list[int], goal_id: int) -> dict[str, Any]:
    """"Which route leads to the X?" at a step of ``steps`` whose history shows X: the shortest
    route described as turns, furniture passed and doorways crossed.

    The options are real routes from the same pose to named objects of the goal's room (or its
    doors), each described as ending at X (the goal and those objects are never "passed"), so
    all of them enter the goal's room, and all start alike (with a turn, a turn around, or
    neither). Either ``{route, its mirror, another route, its mirror}`` (left and right swapped;
    a set closed under mirroring) or four real routes -- two shapes in which every option is
    equally likely to be the true route given the set."""
    usable = [s for s in steps if ctx.shown(goal_id, s)]
    if not usable:
        raise QueryRejected("the goal is not shown in the history of any step")
    # steps whose current view does not show the goal first: their routes have turns to describe
    usable.sort(key=lambda s: ctx.pixels(ctx.observe(s), goal_id) >= ctx.min_pixels())
    room = room_of(ctx.initial[goal_id], ctx.rooms)
    others = [oid for oid in sorted(ctx.names) if oid != goal_id and room is not None and (
        room.id in {r.id for r in door_rooms(ctx.initial[oid], ctx.rooms)} if ctx.initial[oid].kind == "door"
        else (r := room_of(ctx.initial[oid], ctx.rooms)) is not None and r.id == room.id)]
    if not others:
        raise QueryRejected("no other named object in the goal's room")
    skip = [goal_id, *others]
    for t in usable[:10]:
        correct = _route(ctx, t, goal_id, goal_id, skip)
        if not correct or len(correct) < 2:
            continue
        text = ", ".join(correct)
        seen = {text, ", ".join(mirror_route(correct))}
        alts: list[list[str]] = []
        for other in ctx.rng.sample(others, len(others)):
            alt = _route(ctx, t, other, goal_id, skip)
            if alt and ", ".join(alt) not in seen and ", ".join(mirror_route(alt)) not in seen:
                alts.append(alt)
                seen |= {", ".join(alt), ", ".join(mirror_route(alt))}
        alts = [a for a in alts if _opening(a) == _opening(correct)]  # no "how it starts" tell
        mirrorable = [a for a in alts if mirror_route(a) != a]
        if mirror_route(correct) != correct and mirrorable and (len(alts) < 3 or ctx.rng.random() < 0.5):
            alt = mirrorable[0]
            distractors = [", ".join(mirror_route(correct)), ", ".join(alt), ", ".join(mirror_route(alt))]
        elif len(alts) >= 3:
            distractors = [", ".join(a) for a in alts[:3]]
        else:
            continue
        question = phrase("route", ctx.split, ctx.rng, o=ctx.names[goal_id])
        return _mc(ctx, "path_planning", t, question, text, distractors, goal_id)
    raise QueryRejected("no step with enough distinct routes into the goal's room")


#: a direction is asked only while it has been the answer at most this many times more than the
#: rarest sector: answers stay (nearly) uniform over the eight sectors, so no prior helps
BALANCE_SLACK = 2


def relative_direction(ctx: EpisodeContext, steps: list[int], oid: int, *, min_margin: float = 8.0) -> dict[str, Any]:
    """"In which direction is the X?" at one of ``steps`` whose history shows X (8 sectors;
    angles within ``min_margin`` degrees of a sector boundary are never asked). Among usable
    steps the one whose sector has been the answer least often in the suite is chosen, so answers
    spread over the eight sectors; the three distractors are drawn uniformly from the other seven."""
    usable = []
    for t in steps:
        if not ctx.shown(oid, t):
            continue
        pose = ctx.episode.demonstration.poses[t]  # type: ignore[union-attr]
        obj = ctx.observe(t).objects[oid]
        ang = relative_angle(pose.xz, pose.yaw, (obj.position[0], obj.position[2]))
        if sector_margin(ang) >= min_margin:
            word = direction_word(ang)
            usable.append((ctx.deck.used("relative_direction", word), ctx.rng.random(), t, word, ang))
    if not usable:
        raise QueryRejected("no step shows the object and has a clear direction")
    _, _, t, word, ang = min(usable)
    floor = min(ctx.deck.used("relative_direction", d) for d in DIRECTIONS)
    if ctx.deck.used("relative_direction", word) > floor + BALANCE_SLACK:
        raise QueryRejected(f"direction {word!r} is already over-represented in the suite")
    ctx.deck.use("relative_direction", word)
    distractors = ctx.rng.sample([d for d in DIRECTIONS if d != word], 3)
    question = phrase("direction", ctx.split, ctx.rng, o=ctx.names[oid])
    return _mc(ctx, "relative_direction", t, question, word, distractors, oid, angle=round(ang, 2))
