"""Grounding questions on the current frame: pointing and bounding boxes (general and
spatial-relation variants) and trajectory reasoning with coloured arrows.

Ground truth comes from the frame's instance segmentation: a box is the target's pixel extent,
a point counts when it lands on the target's mask. Answers are normalised to ``[0, 1]`` so they
hold at any rendering resolution of the same aspect ratio; environments recompute them from the
live render (:func:`mask_box`, :func:`interior_point`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...rewards.bear import LETTERS, NONE_OF_THE_ABOVE
from ...sims.base import Observation
from .arrows import (
    ARROW_COLORS,
    MIN_LENGTH,
    arrow_angle,
    arrow_length,
    arrow_to,
    rotated_arrow,
    well_separated,
)
from .context import EpisodeContext, QueryRejected

#: a landmark of a spatial relation covers at least this share of the frame
LANDMARK_SHARE = 0.015


def mask_box(mask: np.ndarray) -> list[float] | None:
    """Normalised ``[x1, y1, x2, y2]`` extent of a boolean mask (``x2``/``y2`` exclusive edges)."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    h, w = mask.shape
    return [round(float(xs.min()) / w, 4), round(float(ys.min()) / h, 4), round(float(xs.max() + 1) / w, 4),
            round(float(ys.max() + 1) / h, 4)]


def interior_point(mask: np.ndarray) -> list[float] | None:
    """A normalised ``[x, y]`` deep inside a mask: the pixel of the last non-empty erosion
    nearest to that erosion's centroid (robust for thin or concave shapes)."""
    cur = np.asarray(mask, dtype=bool)
    if not cur.any():
        return None
    while True:
        nxt = cur.copy()
        nxt[1:, :] &= cur[:-1, :]
        nxt[:-1, :] &= cur[1:, :]
        nxt[:, 1:] &= cur[:, :-1]
        nxt[:, :-1] &= cur[:, 1:]
        if not nxt.any():
            break
        cur = nxt
    ys, xs = np.nonzero(cur)
    i = int(np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2))
    h, w = cur.shape
    return [round((float(xs[i]) + 0.5) / w, 4), round((float(ys[i]) + 0.5) / h, 4)]


def _counts(obs: Observation) -> dict[int, int]:
    ids, counts = np.unique(obs.segmentation, return_counts=True)
    return {int(i): int(c) for i, c in zip(ids, counts, strict=True) if int(i) != 0}


def _cx(obs: Observation, oid: int) -> float:
    xs = np.nonzero(obs.segmentation == oid)[1]
    return float(xs.mean()) / obs.segmentation.shape[1]


def spatial_reference(ctx: EpisodeContext, obs: Observation, oid: int) -> tuple[str, dict[str, Any]] | None:
    """A phrase naming ``oid`` in this frame by a spatial relation, unique among what is
    visible: ``"the object on the shelf"`` or ``"the chair to the left of the sofa"``."""
    counts = _counts(obs)
    minpix = ctx.min_pixels()
    objs = obs.objects
    vis = {i for i, c in counts.items() if c >= minpix and i in objs and not objs[i].held}
    me = objs[oid]
    cat = me.category.replace("_", " ")
    if me.kind == "object" and me.on is not None and me.on in vis:
        f = objs[me.on]
        on_f = [o for o in objs.values() if o.kind == "object" and o.on == me.on and not o.held]
        same_f = [i for i in counts if i in objs and objs[i].category == f.category]
        if len(on_f) == 1 and len(same_f) == 1:
            return f"the object on the {f.category.replace('_', ' ')}", {"relation": "on", "anchor": f.id}
    cx = _cx(obs, oid)
    rivals = [i for i in counts if i in objs and i != oid and objs[i].category == me.category]
    if objs[oid].held:
        return None
    for lid in sorted(vis, key=lambda i: -counts[i]):
        land = objs[lid]
        if lid == oid or land.category == me.category or land.kind == "door":
            continue
        if sum(1 for i in counts if i in objs and objs[i].category == land.category) != 1:
            continue
        if counts[lid] < max(3 * minpix, LANDMARK_SHARE * obs.segmentation.size):
            continue  # a landmark must be prominent
        lx = _cx(obs, lid)
        if abs(cx - lx) < 0.08:
            continue
        side = "left" if cx < lx else "right"
        if any((_cx(obs, r) < lx) == (cx < lx) for r in rivals):
            continue
        return f"the {cat} to the {side} of the {land.category.replace('_', ' ')}", {"relation": side, "anchor": lid}
    return None


def _grounding_frame(ctx: EpisodeContext, oid: int, steps: list[int]) -> tuple[int, Observation]:
    """The step among ``steps`` whose frame shows ``oid`` largest (at least the minimum share)."""
    best = None
    for t in steps:
        obs = ctx.observe(t)
        n = ctx.pixels(obs, oid)
        if n < ctx.min_pixels():
            continue
        box = mask_box(obs.segmentation == oid) or [0, 0, 1, 1]
        cut = box[0] <= 0 or box[1] <= 0 or box[2] >= 1 or box[3] >= 1
        score = n * (0.25 if cut else 1.0)  # a target cut by the border shows less than itself
        if best is None or score > best[0]:
            best = (score, t, obs)
    if best is None:
        raise QueryRejected(f"object {oid} is never clearly visible in steps {steps[:3]}...")
    return best[1], best[2]


def grounding(ctx: EpisodeContext, kind: str, oid: int, steps: list[int], *, spatial: bool) -> dict[str, Any]:
    """A pointing (``kind="point"``) or bounding-box (``kind="box"``) question about ``oid`` on
    the best frame among ``steps``; ``spatial`` names the target by a relation (falls back to
    the general variant when no unique relation is visible)."""
    t, obs = _grounding_frame(ctx, oid, steps)
    phrase, relation = None, None
    if spatial:  # the frame showing the target largest among those where a relation is visible
        for s in sorted(steps, key=lambda s: -ctx.pixels(ctx.observe(s), oid)):
            cand = ctx.observe(s)
            if ctx.pixels(cand, oid) < ctx.min_pixels():
                break
            found = spatial_reference(ctx, cand, oid)
            if found:
                (phrase, relation), t, obs = found, s, cand
                break
    mask = obs.segmentation == oid
    variant = "spatial" if phrase else "general"
    if phrase is None:
        phrase = f"the {ctx.names[oid]}"
    skill = f"{'pointing' if kind == 'point' else 'bbox'}_{variant}"
    if kind == "point":
        question = f"Point to {phrase} in the current image."
        answer = interior_point(mask)
    else:
        question = f"Locate {phrase} in the current image with a bounding box."
        answer = mask_box(mask)
    return ctx.query(skill, t, question, answer, oid, relation=relation, pixels=int(mask.sum()), box=mask_box(mask))


def _arrow_sets(ctx: EpisodeContext, oid: int, t: int, need: int) -> tuple[list, list[float]] | None:
    """At step ``t``: the correct arrow, ``need`` distractors and the target point, or ``None``."""
    obs = ctx.replay.apply(t)  # the camera of step t, for sim.project
    w, h = ctx.sim.width, ctx.sim.height

    def project(o_id: int) -> tuple[float, float] | None:
        o = obs.objects[o_id]
        pt = np.array([[o.position[0], o.position[1] + o.size[1] / 2.0, o.position[2]]], dtype=float)
        uv, front = ctx.sim.project(pt)
        if not bool(front[0]):
            return None
        u, v = float(uv[0][0]) / w, float(uv[0][1]) / h
        return (u, v) if 0.03 <= u <= 0.97 and 0.03 <= v <= 0.97 else None

    target = project(oid)
    if target is None or ctx.pixels(obs, oid) < ctx.min_pixels():
        return None
    good = arrow_to(target)
    if arrow_length(good) < MIN_LENGTH:
        return None  # the target sits on the gripper point: no visible arrow leads to it
    tang = arrow_angle(*good)
    counts = _counts(obs)
    candidates = []
    for other in sorted(counts, key=lambda i: -counts[i]):
        if other != oid and other in obs.objects and counts[other] >= ctx.min_pixels() and not obs.objects[other].held:
            p = project(other)
            if p is not None:
                candidates.append(arrow_to(p))
    turns = [40, -40, 65, -65, 90, -90, 120, -120]
    ctx.rng.shuffle(turns)
    candidates += [rotated_arrow(good, d) for d in turns]
    chosen: list[list[list[float]]] = []
    for c in candidates:
        if arrow_length(c) >= MIN_LENGTH and well_separated(chosen + [c], tang) and well_separated([good] + chosen + [c]):
            chosen.append(c)
            if len(chosen) == need:
                return [good, *chosen], [round(target[0], 4), round(target[1], 4)]
    return None


def trajectory(ctx: EpisodeContext, oid: int, steps: list[int]) -> dict[str, Any]:
    """Three coloured arrows from the gripper point; which one leads to ``oid``? The correct
    arrow ends at ``sim.project`` of the target's centre; the others end at other visible
    objects or are the correct arrow turned by 40-120 degrees, every arrow at least
    :data:`~.arrows.MIN_LENGTH` long and 25 degrees from the others and the target. When the
    dealt letter is D, no arrow leads to the target and "None of the above" is right. Frames of
    ``steps`` are tried from the one showing the target largest."""
    letter = ctx.deck.deal("trajectory_reasoning")
    need = 3 if letter == "D" else 2
    ranked = sorted(steps, key=lambda s: -ctx.pixels(ctx.observe(s), oid))
    for t in ranked[:12]:
        found = _arrow_sets(ctx, oid, t, need)
        if found is not None:
            break
    else:
        ctx.deck.undeal("trajectory_reasoning", letter)
        raise QueryRejected("no frame allows visible, well separated arrows")
    (good, *chosen), target = found
    if letter == "D":
        arrows = chosen
    else:
        arrows = list(chosen)
        arrows.insert(LETTERS.index(letter), good)
    options = {LETTERS[i]: f"the {c} arrow" for i, c in enumerate(ARROW_COLORS)}
    options["D"] = NONE_OF_THE_ABOVE
    question = (
        f"Three arrows (red, green and blue) are drawn from your gripper at the bottom of the current image. "
        f"Which arrow shows the direction the gripper should move to reach the {ctx.names[oid]}?"
    )
    return ctx.query(
        "trajectory_reasoning", t, question, letter, oid, options=options,
        truth="none of the arrows" if letter == "D" else f"the {ARROW_COLORS[LETTERS.index(letter)]} arrow",
        arrows=arrows, arrow_colors=list(ARROW_COLORS), target_point=target,
    )
