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
    well_separated,
)
from .context import EpisodeContext, QueryRejected
from .templates import phrase

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
    visible: ``"the object on the shelf"`` or ``"the chair to the left of the sofa"``. Neither
    the anchor nor the landmark is of a category in ``ctx.unnamed`` (naming the surface the
    episode's object lies on would hint at its localization answer)."""
    counts = _counts(obs)
    minpix = ctx.min_pixels()
    objs = obs.objects
    vis = {i for i, c in counts.items() if c >= minpix and i in objs and not objs[i].held}
    me = objs[oid]
    cat = me.category.replace("_", " ")
    if me.kind == "object" and me.on is not None and me.on in vis and objs[me.on].category not in ctx.unnamed:
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
        if lid == oid or land.category == me.category or land.kind == "door" or land.category in ctx.unnamed:
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


#: a grounding target covers at most this share of the frame (no frame-filling doors)
MAX_TARGET_SHARE = 0.07


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """``{"size": [h, w], "runs": [start, length, ...]}``: the row-major flattened mask as runs."""
    flat = np.concatenate([[0], np.asarray(mask, bool).ravel().astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(flat))
    runs = np.stack([edges[::2], edges[1::2] - edges[::2]], 1).ravel()
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "runs": [int(v) for v in runs]}


def decode_mask(rle: dict[str, Any]) -> np.ndarray:
    """The boolean mask of :func:`encode_mask`."""
    h, w = (int(v) for v in rle["size"])
    flat = np.zeros(h * w, bool)
    runs = rle["runs"]
    for s, n in zip(runs[::2], runs[1::2], strict=True):
        flat[int(s): int(s) + int(n)] = True
    return flat.reshape(h, w)


#: cells per side of the grid over which grounding targets' positions are spread (4: a fixed
#: point sits in one of 16 cells; with 3 the best fixed point hit 15% of general pointing)
LAYOUT_GRID = 4


def _layout_keys(mask: np.ndarray) -> tuple[str, str]:
    """Where the target sits (a cell of a :data:`LAYOUT_GRID` x :data:`LAYOUT_GRID` grid of its
    box centre) and how big it is (one of four share buckets): what the frame choice spreads
    over the suite."""
    box = mask_box(mask) or [0, 0, 1, 1]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    share = float(mask.mean())
    size = sum(share > b for b in (0.01, 0.03, 0.06))
    g = LAYOUT_GRID
    return f"cell{min(g - 1, int(cx * g))}{min(g - 1, int(cy * g))}", f"size{size}"


def _frames(ctx: EpisodeContext, oid: int, steps: list[int]) -> list[tuple[int, Observation]]:
    """Steps of ``steps`` whose frame shows ``oid`` with at least the minimum and at most
    :data:`MAX_TARGET_SHARE` of the frame."""
    out = []
    for t in steps:
        obs = ctx.observe(t)
        n = ctx.pixels(obs, oid)
        if ctx.min_pixels() <= n <= MAX_TARGET_SHARE * obs.segmentation.size:
            out.append((t, obs))
    return out


#: pointing: the largest share of a skill's questions (so far in the split) whose target mask may
#: cover any one pixel -- the score of the best fixed point chosen on the split itself
POINT_COVER_CAP = 0.11
#: a pixel may always be covered this many times (early in a split a share of a few is noise)
POINT_COVER_FLOOR = 5


def _coverage(ctx: EpisodeContext, kind: str, shape: tuple[int, int]) -> list:
    """``[n, counts]``: how many ``kind`` questions were asked so far in the split and, per
    pixel, how many of their target masks cover it (kept in the deck's pools)."""
    cov = ctx.deck.pools.setdefault(f"cover/{kind}", [0, None])
    if cov[1] is None or cov[1].shape != shape:
        cov[:] = [0, np.zeros(shape, np.int32)]
    return cov


def _spread_pick(ctx: EpisodeContext, kind: str, frames: list[tuple[int, Observation]], oid: int) -> tuple[int, Observation] | None:
    """The frame whose target position and size have been used least so far for ``kind``
    (ties at random), so targets spread over the image and over sizes and no fixed point or
    box scores; the chosen cell and size are counted.

    Pointing (``kind`` ``point_*``) chooses first by the *coverage* of the split's earlier
    targets: the frame whose mask, added, leaves the most-covered pixel least covered (then
    whose mask lies on the least-covered pixels). Where every frame would make some pixel hit
    more than :data:`POINT_COVER_CAP` of the questions (and more than
    :data:`POINT_COVER_FLOOR` times), none is taken (``None``). Spreading box
    centres over a grid was not enough for points: targets low in the middle of the frame are
    big, so one point there hit 0.17 of bear-lh-v2's test spatial pointing questions (17:57 UTC)."""
    point = kind.startswith("point")
    if point:
        cov = _coverage(ctx, kind, frames[0][1].segmentation.shape)
        n, counts = cov[0] + 1, cov[1]
    scored = []
    for t, obs in frames:
        mask = obs.segmentation == oid
        cell, size = _layout_keys(mask)
        spread = ctx.deck.used(kind, cell) + ctx.deck.used(kind, size)
        if point:
            peak = int((counts + mask).max())
            if peak > max(POINT_COVER_FLOOR, POINT_COVER_CAP * n):
                continue
            key = (peak, float(counts[mask].mean()), spread, ctx.rng.random())
        else:
            key = (spread, ctx.rng.random())
        scored.append((key, t, obs, cell, size))
    if not scored:
        return None
    _, t, obs, cell, size = min(scored, key=lambda r: r[0])
    ctx.deck.use(kind, cell)
    ctx.deck.use(kind, size)
    if point:
        cov[0] = n
        cov[1] = counts + (obs.segmentation == oid)
    return t, obs


def grounding(ctx: EpisodeContext, kind: str, oid: int, steps: list[int], *, spatial: bool) -> dict[str, Any]:
    """A pointing (``kind="point"``) or bounding-box (``kind="box"``) question about ``oid`` on
    a frame among ``steps`` chosen to spread target positions and sizes over the suite;
    ``spatial`` names the target by a relation unique in that frame (falls back to the general
    variant when no frame has one). Stores the target's mask (run-length encoded) and box."""
    frames = _frames(ctx, oid, steps)
    if not frames:
        raise QueryRejected(f"object {oid} is never visible at a usable size in steps {steps[:3]}...")
    phrase_, relation = None, None
    if spatial:
        found = [(t, obs, ref) for t, obs in frames if (ref := spatial_reference(ctx, obs, oid))]
        picked = _spread_pick(ctx, f"{kind}_spatial", [(t, obs) for t, obs, _ in found], oid) if found else None
        if picked is not None:
            t, obs = picked
            phrase_, relation = next(ref for s, _, ref in found if s == t)
    if phrase_ is None:
        picked = _spread_pick(ctx, f"{kind}_general", frames, oid)
        if picked is None:
            raise QueryRejected(f"every frame of object {oid} would put a pixel over the suite's point coverage cap")
        t, obs = picked
    mask = obs.segmentation == oid
    variant = "spatial" if phrase_ else "general"
    if phrase_ is None:
        phrase_ = f"the {ctx.names[oid]}"
    skill = f"{'pointing' if kind == 'point' else 'bbox'}_{variant}"
    if kind == "point":
        question = phrase("point", ctx.split, ctx.rng, o=phrase_)
        answer = interior_point(mask)
    else:
        question = phrase("box", ctx.split, ctx.rng, o=phrase_)
        answer = mask_box(mask)
    return ctx.query(skill, t, question, answer, oid, relation=relation, pixels=int(mask.sum()), box=mask_box(mask),
                     mask=encode_mask(mask))


#: distractor arrow ends are drawn from the ends of earlier correct arrows once this many exist
POOL_MIN = 12
#: standard deviation (normalised units) of the jitter added to a pooled end: distractor ends come
#: from a smoothed density of correct ends, not as copies an attacker could match across questions
POOL_JITTER = 0.06


def _arrow_sets(ctx: EpisodeContext, oid: int, t: int, need: int) -> tuple[list, list[float]] | None:
    """At step ``t``: the correct arrow, ``need`` distractors and the target point, or ``None``.

    Distractor ends are drawn from the suite's pool of earlier correct arrow ends, jittered by
    :data:`POOL_JITTER` (uniform points until :data:`POOL_MIN` exist), so a distractor has the
    geometry of a correct arrow: nothing in the arrows' angles or lengths tells which one is
    right, and no distractor repeats another question's arrow."""
    obs = ctx.replay.apply(t)  # the camera of step t, for sim.project
    w, h = ctx.sim.width, ctx.sim.height
    o = obs.objects[oid]
    pt = np.array([[o.position[0], o.position[1] + o.size[1] / 2.0, o.position[2]]], dtype=float)
    uv, front = ctx.sim.project(pt)
    if not bool(front[0]) or ctx.pixels(obs, oid) < ctx.min_pixels():
        return None
    target = (float(uv[0][0]) / w, float(uv[0][1]) / h)
    if not (0.03 <= target[0] <= 0.97 and 0.03 <= target[1] <= 0.97):
        return None
    good = arrow_to(target)
    if arrow_length(good) < MIN_LENGTH:
        return None  # the target sits on the gripper point: no visible arrow leads to it
    tang = arrow_angle(*good)
    pool = ctx.deck.pools.setdefault("arrow_ends", [])
    chosen: list[list[list[float]]] = []
    for _ in range(60):
        if len(pool) >= POOL_MIN:  # a smoothed draw: never an exact copy of an earlier arrow
            px, py = pool[ctx.rng.randrange(len(pool))]
            end = [round(min(max(px + ctx.rng.gauss(0, POOL_JITTER), 0.03), 0.97), 4),
                   round(min(max(py + ctx.rng.gauss(0, POOL_JITTER), 0.03), 0.97), 4)]
        else:
            end = [round(ctx.rng.uniform(0.05, 0.95), 4), round(ctx.rng.uniform(0.05, 0.85), 4)]
        c = [list(good[0]), [float(end[0]), float(end[1])]]
        if arrow_length(c) >= MIN_LENGTH and well_separated(chosen + [c], tang) and well_separated([good] + chosen + [c]):
            chosen.append(c)
            if len(chosen) == need:
                pool.append(list(good[1]))
                return [good, *chosen], [round(target[0], 4), round(target[1], 4)]
    return None


def trajectory(ctx: EpisodeContext, oid: int, steps: list[int]) -> dict[str, Any]:
    """Three coloured arrows from the gripper point; which one leads to ``oid``? The correct
    arrow ends at ``sim.project`` of the target's centre; the others end where earlier correct
    arrows of the suite ended (see :func:`_arrow_sets`), every arrow at least
    :data:`~.arrows.MIN_LENGTH` long and 25 degrees from the others and the target. When the
    dealt letter is D, no arrow leads to the target and "None of the above" is right. The frame
    is drawn at random among those of ``steps`` that show the target."""
    letter = ctx.deck.deal("trajectory_reasoning")
    need = 3 if letter == "D" else 2
    shown = [s for s in steps if ctx.pixels(ctx.observe(s), oid) >= ctx.min_pixels()]
    ctx.rng.shuffle(shown)
    for t in shown[:12]:
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
    question = phrase("trajectory", ctx.split, ctx.rng, o=ctx.names[oid])
    return ctx.query(
        "trajectory_reasoning", t, question, letter, oid, options=options,
        truth="none of the arrows" if letter == "D" else f"the {ARROW_COLORS[LETTERS.index(letter)]} arrow",
        arrows=arrows, arrow_colors=list(ARROW_COLORS), target_point=target,
    )
