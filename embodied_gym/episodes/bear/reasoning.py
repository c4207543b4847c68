"""Multiple-choice reasoning questions: next action, task process, object localization, path
planning and relative direction. Ground truth comes from the replayed simulator state.

Option sets are built so that their text does not determine the answer (bear-lh-v2): the
correct option and the distractors come from one distribution that does not depend on which of
them is correct --

* planning: options are steps (or step prefixes) of the episode's own plan, the progress asked
  about is drawn uniformly, the distractors uniformly from the rest of the plan;
* direction: the answer sector is spread evenly over the eight sectors within each role of the
  object asked about (a goal the instruction names, or another thing seen on the way), the
  three distractors are drawn uniformly from the other seven;
* localization: distractor surfaces are drawn from the surfaces that were correct earlier in
  the suite (the distribution of correct answers), then redrawn over the whole split
  (:mod:`.balance`), from the surfaces of the object's room kind where the question names it;
* routes: ``{route, mirrored route, another real route into the goal's room, its mirror}`` --
  a set closed under mirroring whose two real routes both end in the goal's room -- chosen so
  that the correct route's length rank stays at chance over the suite.

Spatial questions (direction, route, localization) are only asked about an object the sampled
history actually shows (see :meth:`EpisodeContext.shown`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..generators.common import room_of
from .balance import role_of
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
    often given away by its name or the instruction. The query records the object's room kind,
    whether its name says it (``room_named``) and the surfaces that room holds, from which the
    split-level pass draws the distractors of a question naming the room."""
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
    # the object's room, whether its name (in the question and the instruction) says it, and the
    # surfaces that room holds: the split-level pass draws the distractors of a question naming
    # the room from what rooms of that kind hold (episodes/bear/balance.py, ``redraw_localization``)
    room = room_of(obj, ctx.rooms)
    held = sorted({"floor"} | {_surface(ctx, f.id) for f in ctx.initial.values()
                               if f.kind == "furniture" and f.receptacle and room is not None
                               and (r := room_of(f, ctx.rooms)) is not None and r.id == room.id})
    return _mc(ctx, "object_localization", t, question, f"on the {here}", [f"on the {p}" for p in picked], oid,
               room=room.kind.replace("_", " ") if room is not None else None,
               room_named=room is not None and " in the " in ctx.names[oid], room_surfaces=held)


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


#: route steps examined per question (each gives candidate option sets; see :func:`path_planning`)
ROUTE_STEPS = 4


def _mean_jaccard(texts: list[str]) -> list[float]:
    sets = [set(x.replace(",", " ").split()) for x in texts]
    return [sum(len(a & b) / max(len(a | b), 1) for b in sets if b is not a) / max(len(sets) - 1, 1) for a in sets]


#: what a blind rule can count on a route option: characters, clauses, turns (each rule taken both
#: ways), and the mean word overlap with the other options (the odd one out / the most central)
_ROUTE_SIZES = (len, lambda x: len(x.split(", ")), lambda x: sum(c.startswith("turn") for c in x.split(", ")))


def _length_credits(correct: str, texts: list[str]) -> list[float]:
    """What simple option rules would be credited on this option set (``texts`` holds
    ``correct``): the option with the fewest / most characters, clauses and turns, the odd one
    out and the most central by word overlap -- each ``1 / ties`` when the correct route is the
    (tied) pick, else 0."""
    rows = [[float(size(x)) for x in texts] for size in _ROUTE_SIZES] + [_mean_jaccard(texts)]
    out = []
    i = texts.index(correct)
    for scores in rows:
        for extreme in (min(scores), max(scores)):
            ties = sum(1 for v in scores if abs(v - extreme) < 1e-9)
            out.append(1.0 / ties if abs(scores[i] - extreme) < 1e-9 else 0.0)
    return out


def _pick_balanced(ctx: EpisodeContext, sets: list[tuple[int, str, list[str]]]) -> tuple[int, str, list[str]]:
    """The candidate ``(step, correct, distractors)`` that keeps the suite's running rule
    credits (:func:`_length_credits`) nearest a quarter of the questions each, ties at random;
    the chosen set's credits are added. Routes to the goal are shortest paths, routes to other
    things of its room usually longer and with more turns: left alone, "the shortest option" was
    right in 0.36 of bear-lh-v2's test route questions (as regenerated at 17:57 UTC; "left" is
    shorter than "right", so the shortest of a mirrored pair is the one turning left more often),
    and balancing characters and clauses alone left "fewer clauses but more characters" (fewer
    turns) to a structure-only model (0.38)."""
    pool = ctx.deck.pools.setdefault("route_rule_credits", [0.0] * 9)  # n, then the eight sums
    n = pool[0] + 1

    def cost(cand: tuple[int, str, list[str]]) -> float:
        credits = _length_credits(cand[1], [cand[1], *cand[2]])
        return sum((s + c - n / 4) ** 2 for s, c in zip(pool[1:], credits, strict=True))

    scored = sorted(((cost(c), ctx.rng.random(), i) for i, c in enumerate(sets)))
    chosen = sets[scored[0][2]]
    credits = _length_credits(chosen[1], [chosen[1], *chosen[2]])
    pool[:] = [n, *(s + c for s, c in zip(pool[1:], credits, strict=True))]
    return chosen


def path_planning(ctx: EpisodeContext, steps: list[int], goal_id: int) -> dict[str, Any]:
    """"Which route leads to the X?" at a step of ``steps`` whose history shows X: the shortest
    route described as turns, furniture passed and doorways crossed.

    The options are real routes from the same pose to named objects of the goal's room (or its
    doors), each described as ending at X (the goal and those objects are never "passed"), so
    all of them enter the goal's room, and all start alike (with a turn, a turn around, or
    neither). Either ``{route, its mirror, another route, its mirror}`` (left and right swapped;
    a set closed under mirroring) or four real routes -- two shapes in which every option is
    equally likely to be the true route given the set. Among the option sets of up to
    :data:`ROUTE_STEPS` steps, the one that keeps the correct route's length rank balanced over
    the suite is asked (:func:`_pick_balanced`), so no length rule beats chance."""
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
    sets: list[tuple[int, str, list[str]]] = []
    tried = 0
    for t in usable[:10]:
        if tried == ROUTE_STEPS:
            break
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
        found = False
        if mirror_route(correct) != correct:
            for alt in (a for a in alts if mirror_route(a) != a):
                sets.append((t, text, [", ".join(mirror_route(correct)), ", ".join(alt), ", ".join(mirror_route(alt))]))
                found = True
        if len(alts) >= 3:
            sets.append((t, text, [", ".join(a) for a in alts[:3]]))
            found = True
        tried += found
    if not sets:
        raise QueryRejected("no step with enough distinct routes into the goal's room")
    t, text, distractors = _pick_balanced(ctx, sets)
    question = phrase("route", ctx.split, ctx.rng, o=ctx.names[goal_id])
    return _mc(ctx, "path_planning", t, question, text, distractors, goal_id)


#: a direction is asked only while it has been the answer at most this many times more than the
#: rarest sector *for questions of the same role* (see :func:`direction_role`): answers stay
#: (nearly) uniform over the eight sectors within each role, so no prior helps
BALANCE_SLACK = 2


def direction_role(ctx: EpisodeContext, oid: int) -> str:
    """:func:`~.balance.role_of` at generation: ``"goal"`` for a thing the plan names (the
    object, the receptacle, the door), else ``"other"``. A goal is asked about on its approach
    and mostly lies ahead, a thing seen on the way mostly behind: in bear-lh-v2 as regenerated
    at 17:57 UTC, 2 of 56 test questions about other things were "front"/"front-left" (9 of 12
    goal questions on the first leg were), and a text model crossing option words with "does
    the question name something the instruction names" reached 0.398. So sectors are balanced
    per role."""
    return role_of(oid, {p.get("target") for p in ctx.plan} | {p.get("receptacle") for p in ctx.plan})


def relative_direction(ctx: EpisodeContext, candidates: list[tuple[int, int]], *, min_margin: float = 8.0) -> dict[str, Any]:
    """"In which direction is the X?" at one ``(step, object)`` pair of ``candidates`` whose
    history shows the object (8 sectors; angles within ``min_margin`` degrees of a sector
    boundary are never asked). Among usable pairs the one whose sector has been the answer least
    often in the suite *for its role* (:func:`direction_role`) is chosen, and a question whose
    sector would exceed its role's rarest by more than :data:`BALANCE_SLACK` is not asked, so
    answers spread over the eight sectors within each role; the three distractors are drawn
    uniformly from the other seven."""
    usable = []
    for t, oid in candidates:
        if not ctx.shown(oid, t):
            continue
        pose = ctx.episode.demonstration.poses[t]  # type: ignore[union-attr]
        obj = ctx.observe(t).objects[oid]
        ang = relative_angle(pose.xz, pose.yaw, (obj.position[0], obj.position[2]))
        if sector_margin(ang) >= min_margin:
            word = direction_word(ang)
            key = f"relative_direction/{direction_role(ctx, oid)}"
            usable.append((ctx.deck.used(key, word), ctx.rng.random(), t, oid, word, ang, key))
    if not usable:
        raise QueryRejected("no step shows the object and has a clear direction")
    _, _, t, oid, word, ang, key = min(usable)
    floor = min(ctx.deck.used(key, d) for d in DIRECTIONS)
    if ctx.deck.used(key, word) > floor + BALANCE_SLACK:
        raise QueryRejected(f"direction {word!r} is already over-represented in the suite ({key})")
    ctx.deck.use(key, word)
    distractors = ctx.rng.sample([d for d in DIRECTIONS if d != word], 3)
    question = phrase("direction", ctx.split, ctx.rng, o=ctx.names[oid])
    return _mc(ctx, "relative_direction", t, question, word, distractors, oid, angle=round(ang, 2))
