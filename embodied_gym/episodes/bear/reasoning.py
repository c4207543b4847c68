"""Multiple-choice reasoning questions: next action, task process, object localization, path
planning and relative direction. Ground truth comes from the replayed simulator state; the
distractors are plausible by construction (other steps of the same plan, mirrored directions
and turns, the wrong room or surface) and are built so that the text alone does not single out
the answer: options come from one shared set (planning) or form a 2 x 2 grid of independent
changes (localization, routes), and direction options mix one-word and compound sectors.
"""

from __future__ import annotations

from typing import Any

from ..generators.common import room_of
from .context import EpisodeContext, QueryRejected
from .language import describe_direction, mirror_route, room_label, route_clauses, sequence_phrase
from .options import (
    DIRECTIONS,
    NotEnoughOptions,
    arrange_options,
    direction_distractors,
    distinct,
    sector_margin,
)


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
    """"What should you do next?" at step ``t``: the plan step of the first unmet subgoal.

    The distractors are other steps of the same plan (the step after, the one before, later
    ones), so every question of an episode draws its options from one set: the text alone does
    not tell which is next, only the video does."""
    k = ctx.done_before(t)
    if k >= len(ctx.steps):
        raise QueryRejected("nothing left to do")
    correct = ctx.steps[k]
    others = [s for i, s in enumerate(ctx.steps) if i != k]
    near = [ctx.steps[i] for i in (k + 1, k - 1) if 0 <= i < len(ctx.steps)]
    pool = near + [s for s in others if s not in near]
    if len(ctx.steps) > 4:
        pool = near[:1] + ctx.rng.sample(pool[1:], len(pool) - 1)
    distractors = pool[:3]
    ctx.rng.shuffle(distractors)
    question = (
        f'Your task: "{ctx.episode.instruction}" Based on the video of what you have done so far and your '
        "current view, what should you do next?"
    )
    return _mc(ctx, "next_action_prediction", t, question, correct, distractors, ctx.plan[k]["target"])


def task_process(ctx: EpisodeContext, t: int) -> dict[str, Any]:
    """"What has been done so far, in order?" at step ``t`` (at least two steps done). The
    distractors are the plan's prefixes of other lengths (and, part of the time, the done steps
    with the last two swapped), sampled at random so that the correct sequence is not always the
    middle length."""
    k = ctx.done_before(t)
    if k < 2:
        raise QueryRejected("fewer than two steps done")
    done = ctx.steps[:k]
    correct = sequence_phrase(done)
    swapped = list(done)
    swapped[-1], swapped[-2] = swapped[-2], swapped[-1]
    prefixes = [sequence_phrase(ctx.steps[:j]) for j in range(1, len(ctx.steps) + 1) if j != k]
    # the swapped sequence shares most words with the answer: offered only part of the time,
    # so that "the option most like the others" is no shortcut
    pool = prefixes + ([sequence_phrase(swapped)] if ctx.rng.random() < 0.4 else [])
    distractors = ctx.rng.sample(pool, min(3, len(pool)))
    question = (
        f'Your task: "{ctx.episode.instruction}" Based on the video, which of the following describes what '
        "you have done so far, in the order you did it?"
    )
    return _mc(ctx, "task_process_reasoning", t, question, correct, distractors, ctx.plan[k - 1]["target"])


# ---------------------------------------------------------------------------------------------
# spatial reasoning


def _surface(ctx: EpisodeContext, on: int | None) -> str:
    return ctx.initial[on].category.replace("_", " ") if on is not None and on in ctx.initial else "floor"


def object_localization(ctx: EpisodeContext, t: int, oid: int, seen_before: int) -> dict[str, Any]:
    """"Based on the video, where was the X when you first saw it?" -- asked at ``t`` about the
    object's start place (``"on the shelf in the kitchen"``); the sampled history must show it
    there before step ``seen_before``.

    Options form a 2 x 2 grid over (surface, room): the right surface in another room, another
    surface of the same room (or the floor), and that other surface in the other room -- every
    option shares one part with two others, so no option stands out as the "centre". When the
    object's name already gives its room away, all four options are surfaces of that room."""
    obj = ctx.initial[oid]
    hist = [i for i in ctx.history(t) if i <= seen_before]
    if not any(ctx.pixels(ctx.observe(i), oid) >= ctx.min_pixels() for i in hist):
        raise QueryRejected("the object is not visible in the sampled history")
    room = room_of(obj, ctx.rooms)
    if room is None:
        raise QueryRejected("the object is in no room")
    here = room_label(room, ctx.rooms)
    surface = _surface(ctx, obj.on)
    in_room = []
    for f in sorted(ctx.initial.values(), key=lambda o: o.id):
        r = room_of(f, ctx.rooms)
        if f.kind == "furniture" and f.receptacle and r is not None and r.id == room.id:
            name = _surface(ctx, f.id)
            if name != surface and name not in in_room:
                in_room.append(name)
    if surface != "floor":
        in_room.insert(0, "floor")
    ctx.rng.shuffle(in_room)
    others = [room_label(r, ctx.rooms) for r in ctx.rooms if r.id != room.id]
    ctx.rng.shuffle(others)
    phrase = lambda f, r: f"on the {f} in the {r}"  # noqa: E731
    correct = phrase(surface, here)
    if f" in the {here}" in ctx.names[oid] or not others:
        distractors = [phrase(f, here) for f in in_room[:3]]
    else:
        if not in_room:
            raise QueryRejected("no other surface in the room")
        distractors = [phrase(surface, others[0]), phrase(in_room[0], here), phrase(in_room[0], others[0])]
    question = f"Based on the video, where was the {ctx.names[oid]} when you first saw it?"
    return _mc(ctx, "object_localization", t, question, correct, distractors, oid)


def _turn_variant(clauses: list[str]) -> list[str]:
    """Route modification A: every left/right swapped; a route without left/right instead
    starts by turning around (or loses its initial "turn around")."""
    mirrored = mirror_route(clauses)
    if mirrored != clauses:
        return mirrored
    if clauses and clauses[0] == "turn around":
        return clauses[1:] if len(clauses) > 2 else ["turn left", *clauses[1:]]
    return ["turn around", *clauses]


def _place_variants(ctx: EpisodeContext, clauses: list[str], goal_id: int) -> list[list[str]]:
    """Route modification B candidates: a doorway into another room, or another piece of
    furniture passed, or (last resort) the clauses before the goal in reverse order."""
    out: list[list[str]] = []
    text = ", ".join(clauses)
    labels = [room_label(r, ctx.rooms) for r in ctx.rooms]
    for i, c in enumerate(clauses):
        if c.startswith("go through the doorway into the "):
            for lab in ctx.rng.sample(labels, len(labels)):
                if f"into the {lab}" not in text:
                    out.append(clauses[:i] + [f"go through the doorway into the {lab}"] + clauses[i + 1:])
                    break
    unpassed = [n for oid, n in sorted(ctx.names.items())
                if ctx.initial[oid].kind == "furniture" and f"pass the {n}" not in clauses and oid != goal_id]
    for i, c in enumerate(clauses):
        if c.startswith("pass the ") and unpassed:
            out.append(clauses[:i] + [f"pass the {ctx.rng.choice(unpassed)}"] + clauses[i + 1:])
    if len(clauses) > 2 and clauses[:-1][::-1] != clauses[:-1]:
        out.append(clauses[:-1][::-1] + clauses[-1:])
    return out


def path_planning(ctx: EpisodeContext, t: int, goal_step: int, goal_id: int) -> dict[str, Any]:
    """"Which route leads to the X?" from the view at ``t``: the route the demonstration walks
    from ``t`` to ``goal_step`` described as turns, furniture passed and doorways crossed.

    Options form a 2 x 2 grid of two independent modifications -- A: turns mirrored (or a turn
    around added); B: another room entered, another piece of furniture passed, or the clauses
    reordered -- so the correct route is not the one option the others are variations of."""
    poses = ctx.episode.demonstration.poses[t : goal_step + 1]  # type: ignore[union-attr]
    path = [p.xz for p in poses]
    objs = ctx.observe(t).objects
    clauses = route_clauses(path, poses[0].yaw, objs, ctx.rooms, ctx.names, goal_id)
    if len(clauses) < 2:
        raise QueryRejected("route too short to describe")
    variants = _place_variants(ctx, clauses, goal_id)
    if not variants:
        raise QueryRejected("no second modification for the route")
    b = ctx.rng.choice(variants)
    grid = [_turn_variant(clauses), b, _turn_variant(b)]
    distractors = [", ".join(g) for g in grid]
    question = f"You need to get to the {ctx.names.get(goal_id, 'target')}. Which route, starting from your current view, leads there?"
    return _mc(ctx, "path_planning", t, question, ", ".join(clauses), distractors, goal_id)


def relative_direction(ctx: EpisodeContext, steps: list[int], oid: int, *, min_margin: float = 8.0) -> dict[str, Any]:
    """"In which direction is the X relative to you?" at one of ``steps`` (8 sectors; angles
    within ``min_margin`` degrees of a sector boundary are never asked). Among the usable steps
    the one whose direction has been asked least often so far in the suite is chosen, so the
    answers spread over all eight sectors. Options: two one-word sectors (front, left, behind,
    right) and two compound ones (front-left, ...), the mirrored and opposite directions first,
    so neither the wording nor the length gives the answer away."""
    usable = []
    for t in steps:
        pose = ctx.episode.demonstration.poses[t]  # type: ignore[union-attr]
        obj = ctx.observe(t).objects[oid]
        word, ang = describe_direction(pose.xz, pose.yaw, (obj.position[0], obj.position[2]))
        if sector_margin(ang) >= min_margin:
            usable.append((ctx.deck.used("relative_direction", word), ctx.rng.random(), t, word, ang))
    if not usable:
        raise QueryRejected("every angle is too close to a sector boundary")
    _, _, t, word, ang = min(usable)
    ctx.deck.use("relative_direction", word)
    single = "-" not in word
    ranked = direction_distractors(word) + [d for d in DIRECTIONS if d != word]
    same = [d for d in ranked if ("-" not in d) == single]
    other = [d for d in ranked if ("-" not in d) != single]
    distractors = [same[0], other[0], other[1]]
    question = f"Relative to the direction you are facing now, in which direction is the {ctx.names[oid]}?"
    return _mc(ctx, "relative_direction", t, question, word, distractors, oid, angle=round(ang, 2))
