"""Multiple-choice reasoning questions: next action, task process, object localization, path
planning and relative direction. Ground truth comes from the replayed simulator state; the
distractors are plausible by construction (other steps of the same plan, the same category
elsewhere, mirrored directions and turns, the wrong room).
"""

from __future__ import annotations

from typing import Any

from .context import EpisodeContext, QueryRejected
from .language import describe_direction, mirror_route, room_label, room_of, route_clauses, sequence_phrase
from .options import NotEnoughOptions, arrange_options, direction_distractors, sector_margin


def _mc(ctx: EpisodeContext, skill: str, t: int, question: str, correct: str, distractors: list[str], target: int | None, **more: Any) -> dict[str, Any]:
    letter = ctx.deck.deal(skill)
    try:
        options, answer = arrange_options(correct, distractors, letter, ctx.rng)
    except NotEnoughOptions:
        ctx.deck.undeal(skill, letter)
        raise
    return ctx.query(skill, t, question, answer, target, options=options, truth=correct, **more)


def _swap_names(ctx: EpisodeContext, phrase: str, oid: int | None) -> list[str]:
    """``phrase`` with the name of ``oid`` replaced by the names of look-alikes: the same
    category first, then other objects of the same kind."""
    if oid is None or oid not in ctx.names or ctx.names[oid] not in phrase:
        return []
    me = ctx.initial[oid]
    others = [o for o in ctx.initial.values() if o.id != oid and o.id in ctx.names and o.kind == me.kind]
    others.sort(key=lambda o: (o.category != me.category, o.id))
    out = []
    for o in others:
        alt = phrase.replace(ctx.names[oid], ctx.names[o.id])
        if alt != phrase and ctx.names[oid] not in ctx.names[o.id]:
            out.append(alt)
    return out


# ---------------------------------------------------------------------------------------------
# task planning


def next_action(ctx: EpisodeContext, t: int) -> dict[str, Any]:
    """"What should you do next?" at step ``t``: the high-level step of the first unmet subgoal."""
    k = ctx.done_before(t)
    if k >= len(ctx.steps):
        raise QueryRejected("nothing left to do")
    correct = ctx.steps[k]
    step = ctx.plan[k]
    distractors: list[str] = []
    if k + 1 < len(ctx.steps):
        distractors.append(ctx.steps[k + 1])
    swapped = _swap_names(ctx, correct, step.get("receptacle") if step["type"] == "place" else step["target"])
    distractors += swapped[:1]
    if k > 0:
        distractors.append(ctx.steps[k - 1])
    distractors += [s for s in ctx.steps[k + 2:]] + swapped[1:]
    question = (
        f'Your task: "{ctx.episode.instruction}" Based on the video of what you have done so far and your '
        "current view, what should you do next?"
    )
    return _mc(ctx, "next_action_prediction", t, question, correct, distractors, step["target"])


def task_process(ctx: EpisodeContext, t: int) -> dict[str, Any]:
    """"What has been done so far, in order?" at step ``t`` (at least two steps done)."""
    k = ctx.done_before(t)
    if k < 2:
        raise QueryRejected("fewer than two steps done")
    done = ctx.steps[:k]
    correct = sequence_phrase(done)
    distractors = []
    swapped = list(done)
    swapped[-1], swapped[-2] = swapped[-2], swapped[-1]
    distractors.append(sequence_phrase(swapped))
    if k < len(ctx.steps):
        distractors.append(sequence_phrase(done + [ctx.steps[k]]))
    distractors.append(sequence_phrase(done[:-1]))
    target = ctx.plan[k - 1]["target"]
    for alt in _swap_names(ctx, correct, target)[:2]:
        distractors.append(alt)
    distractors.append(sequence_phrase(list(reversed(done))))
    question = (
        f'Your task: "{ctx.episode.instruction}" Based on the video, which of the following describes what '
        "you have done so far, in the order you did it?"
    )
    return _mc(ctx, "task_process_reasoning", t, question, correct, distractors, target)


# ---------------------------------------------------------------------------------------------
# spatial reasoning


def _location_phrase(ctx: EpisodeContext, oid: int, on: int | None, room_id: str | None) -> str:
    room = next((r for r in ctx.rooms if r.id == room_id), None)
    where = f" in the {room_label(room, ctx.rooms)}" if room else ""
    if on is not None and on in ctx.initial:
        return f"on the {ctx.initial[on].category.replace('_', ' ')}{where}"
    return f"on the floor{where}"


def object_localization(ctx: EpisodeContext, t: int, oid: int, seen_before: int) -> dict[str, Any]:
    """"Based on the video, where was the X?" -- asked at ``t`` about where ``oid`` stood at the
    start; the history must show the object at its start place before step ``seen_before``."""
    obj = ctx.initial[oid]
    hist = [i for i in ctx.history(t) if i <= seen_before]
    if not any(ctx.pixels(ctx.observe(i), oid) >= ctx.min_pixels() for i in hist):
        raise QueryRejected("the object is not visible in the sampled history")
    room = room_of(obj, ctx.rooms)
    correct = _location_phrase(ctx, oid, obj.on, room.id if room else None)
    distractors = []
    furn = [f for f in ctx.initial.values() if f.kind == "furniture" and f.receptacle]
    same_room = [f for f in furn if (r := room_of(f, ctx.rooms)) is not None and room is not None and r.id == room.id and f.id != obj.on]
    other_rooms = [r for r in ctx.rooms if room is None or r.id != room.id]
    if obj.on is not None:
        # the same kind of furniture elsewhere, then the wrong room, then other furniture here
        cat = ctx.initial[obj.on].category
        for f in furn:
            if f.category == cat and f.id != obj.on:
                distractors.append(_location_phrase(ctx, oid, f.id, (room_of(f, ctx.rooms) or ctx.rooms[0]).id))
        for r in other_rooms:
            distractors.append(_location_phrase(ctx, oid, obj.on, r.id))
    for f in same_room:
        distractors.append(_location_phrase(ctx, oid, f.id, room.id if room else None))
    if obj.on is not None and room is not None:
        distractors.append(_location_phrase(ctx, oid, None, room.id))
    for r in other_rooms:
        distractors.append(_location_phrase(ctx, oid, None, r.id))
    if room is not None and f" in the {room_label(room, ctx.rooms)}" in ctx.names[oid]:
        # the name already gives the room away: vary the furniture, not the room
        here = f" in the {room_label(room, ctx.rooms)}"
        distractors = [d for d in distractors if d.endswith(here)] + [d for d in distractors if not d.endswith(here)]
        ordered = distractors
    else:
        rest = distractors[1:]
        ordered = distractors[:1] + ctx.rng.sample(rest, len(rest))
    question = f"Based on the video, where was the {ctx.names[oid]} when you first saw it?"
    return _mc(ctx, "object_localization", t, question, correct, ordered, oid)


def path_planning(ctx: EpisodeContext, t: int, goal_step: int, goal_id: int) -> dict[str, Any]:
    """"Which route leads to the X?" from the view at ``t``: the route the demonstration walks
    from ``t`` to ``goal_step`` described as turns, furniture passed and doorways crossed."""
    poses = ctx.episode.demonstration.poses[t : goal_step + 1]  # type: ignore[union-attr]
    path = [p.xz for p in poses]
    objs = ctx.observe(t).objects
    clauses = route_clauses(path, poses[0].yaw, objs, ctx.rooms, ctx.names, goal_id)
    if len(clauses) < 2:
        raise QueryRejected("route too short to describe")
    correct = ", ".join(clauses)
    distractors = []
    mirrored = mirror_route(clauses)
    if mirrored != clauses:
        distractors.append(", ".join(mirrored))
    room_clauses = [i for i, c in enumerate(clauses) if c.startswith("go through the doorway into the ")]
    labels = [room_label(r, ctx.rooms) for r in ctx.rooms]
    for i in room_clauses:
        here = clauses[i].removeprefix("go through the doorway into the ")
        for lab in labels:
            if lab != here and f"into the {lab}" not in correct:
                alt = list(clauses)
                alt[i] = f"go through the doorway into the {lab}"
                distractors.append(", ".join(alt))
                break
    passed = [i for i, c in enumerate(clauses) if c.startswith("pass the ")]
    unpassed = [n for oid, n in sorted(ctx.names.items()) if ctx.initial[oid].kind == "furniture" and f"pass the {n}" not in clauses and oid != goal_id]
    for i in passed[:1]:
        for n in unpassed[:2]:
            alt = list(clauses)
            alt[i] = f"pass the {n}"
            distractors.append(", ".join(alt))
    if len(clauses) > 2:
        distractors.append(", ".join(clauses[:-1][::-1] + clauses[-1:]))
    turns = ["turn left", "turn right", "turn around"]
    first_turn = next((c for c in clauses if c in turns), None)
    for w in turns:
        if first_turn and w != first_turn:
            distractors.append(", ".join(c if c != first_turn else w for c in clauses))
        elif first_turn is None:
            distractors.append(", ".join([w] + clauses))
    question = f"You need to get to the {ctx.names.get(goal_id, 'target')}. Which route, starting from your current view, leads there?"
    return _mc(ctx, "path_planning", t, question, correct, distractors, goal_id)


def relative_direction(ctx: EpisodeContext, t: int, oid: int, *, min_margin: float = 8.0) -> dict[str, Any]:
    """"In which direction is the X relative to you?" at step ``t`` (8 sectors; angles within
    ``min_margin`` degrees of a sector boundary are refused as ambiguous)."""
    pose = ctx.episode.demonstration.poses[t]  # type: ignore[union-attr]
    obj = ctx.observe(t).objects[oid]
    word, ang = describe_direction(pose.xz, pose.yaw, (obj.position[0], obj.position[2]))
    if sector_margin(ang) < min_margin:
        raise QueryRejected(f"angle {ang:.1f} too close to a sector boundary")
    question = (
        f"Relative to the direction you are facing now, in which direction is the {ctx.names[oid]}?"
    )
    return _mc(ctx, "relative_direction", t, question, word, direction_distractors(word), oid, angle=round(ang, 2))
