"""Blind baselines for BEAR pointing and boxes (a fixed point, a fixed box) and the visibility
check of every asked-about object in the frames a question shows.

Masks: v2 queries store the target's mask at generation resolution (``mask``: run-length
encoded, see :func:`embodied_gym.episodes.bear.grounding.decode_mask`); older queries only have the box, and then a point counts as
a hit anywhere inside the box (an upper bound of the true hit rate).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..episodes.bear.grounding import decode_mask
from ..episodes.spec import Episode
from ..rewards.bear import BOX_IOU_THRESHOLD, answer_kind
from .registry import AuditContext, Figure, register

#: highest success of a fixed point on a pointing skill, of a fixed box on a box skill
POINT_LIMIT = 0.15
BOX_LIMIT = 0.10
#: candidate fixed points: a 40 x 30 grid of normalised points
_PX, _PY = np.meshgrid((np.arange(40) + 0.5) / 40, (np.arange(30) + 0.5) / 30)
POINTS = np.stack([_PX.ravel(), _PY.ravel()], axis=1)


def _boxes() -> np.ndarray:
    cx, cy = np.meshgrid((np.arange(16) + 0.5) / 16, (np.arange(12) + 0.5) / 12)
    sizes = np.arange(1, 11) / 10.0
    out = []
    for w in sizes:
        for h in sizes:
            out.append(np.stack([cx.ravel() - w / 2, cy.ravel() - h / 2, cx.ravel() + w / 2, cy.ravel() + h / 2], 1))
    return np.clip(np.concatenate(out), 0.0, 1.0)


BOXES = _boxes()


def _grounding(episodes: Sequence[Episode], kind: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for ep in episodes:
        for q in (ep.extra.get("bear") or {}).get("queries") or []:
            if answer_kind(q["skill"]) == kind:
                out.setdefault(q["skill"], []).append(q)
    return dict(sorted(out.items()))


def point_hits(queries: Sequence[dict[str, Any]], points: np.ndarray = POINTS) -> np.ndarray:
    """``queries x points`` booleans: the point lands on the target (mask; else box)."""
    hits = np.zeros((len(queries), len(points)), bool)
    for i, q in enumerate(queries):
        if q.get("mask"):
            m = decode_mask(q["mask"])
            h, w = m.shape
            xs = np.minimum((points[:, 0] * w).astype(int), w - 1)
            ys = np.minimum((points[:, 1] * h).astype(int), h - 1)
            hits[i] = m[ys, xs]
        else:
            x1, y1, x2, y2 = q.get("box") or [0, 0, 0, 0]
            hits[i] = (points[:, 0] >= x1) & (points[:, 0] <= x2) & (points[:, 1] >= y1) & (points[:, 1] <= y2)
    return hits


def box_ious(queries: Sequence[dict[str, Any]], boxes: np.ndarray = BOXES) -> np.ndarray:
    """``queries x boxes`` IoU of each candidate box with the target's box."""
    gt = np.array([q["answer"] for q in queries], float).reshape(-1, 4)
    ix = np.clip(np.minimum(gt[:, None, 2], boxes[None, :, 2]) - np.maximum(gt[:, None, 0], boxes[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(gt[:, None, 3], boxes[None, :, 3]) - np.maximum(gt[:, None, 1], boxes[None, :, 1]), 0, None)
    inter = ix * iy
    area_g = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    area_b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area_g[:, None] + area_b[None, :] - inter, 1e-12)


def _fixed(target, fit, kind: str, limit: float) -> dict[str, Figure]:
    tgt, trn = _grounding(target, kind), _grounding(fit, kind)
    table = point_hits if kind == "point" else (lambda qs: box_ious(qs) >= BOX_IOU_THRESHOLD)
    cands = POINTS if kind == "point" else BOXES
    out = {}
    for skill, qs in tgt.items():
        succ_t = table(qs)
        pool = trn.get(skill) or [q for s in trn.values() for q in s]
        best = int(np.argmax(table(pool).mean(0))) if pool else 0
        hindsight = int(np.argmax(succ_t.mean(0)))
        note = (f"fitted {kind} {np.round(cands[best], 3).tolist()}; best in hindsight on this split "
                f"{np.round(cands[hindsight], 3).tolist()} scores {succ_t[:, hindsight].mean():.3f}")
        out[skill] = Figure(float(succ_t[:, best].mean()), len(qs), limit, None, note)
    return out


@register("bear", "fixed_point", "the one point that lands on the target most often in the other split, "
          "answered to every pointing question")
def fixed_point(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _fixed(target, fit, "point", POINT_LIMIT)


@register("bear", "fixed_box", "the one box (16 x 12 centres x 10 x 10 sizes) that reaches IoU >= 0.5 most often "
          "in the other split, answered to every box question")
def fixed_box(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _fixed(target, fit, "box", BOX_LIMIT)


def _words(q: dict[str, Any]) -> set[str]:
    return set(re.findall(r"[a-z]+", str(q.get("question", "")).lower()))


def _text_conditioned(target, fit, kind: str, limit: float, min_support: int = 5) -> dict[str, Figure]:
    """Per question word (``"door"``, ``"left"``, ``"shelf"``...) the best fixed answer on the
    fit split's questions holding that word; a target question gets the answer of its word whose
    best fixed answer scored highest on the fit split (the overall best when none has support)."""
    tgt, trn = _grounding(target, kind), _grounding(fit, kind)
    table = point_hits if kind == "point" else (lambda qs: box_ious(qs) >= BOX_IOU_THRESHOLD)
    out = {}
    for skill, qs in tgt.items():
        pool = trn.get(skill) or [q for v in trn.values() for q in v]
        if not pool:
            continue
        succ = table(pool)
        default = int(np.argmax(succ.mean(0)))
        by_word: dict[str, tuple[float, int]] = {}
        words = [_words(q) for q in pool]
        for w in set().union(*words):
            rows = [i for i, ws in enumerate(words) if w in ws]
            if len(rows) >= min_support:
                m = succ[rows].mean(0)
                by_word[w] = (float(m.max()), int(np.argmax(m)))
        succ_t = table(qs)
        hits = []
        for i, q in enumerate(qs):
            options = [by_word[w] for w in _words(q) if w in by_word]
            cand = max(options)[1] if options else default
            hits.append(bool(succ_t[i, cand]))
        out[skill] = Figure(float(np.mean(hits)), len(qs), limit, None)
    return out


@register("bear", "text_conditioned_point", "a fixed point per question word (target category, relation word), "
          "fitted on the other split: the point of the question's most telling word")
def text_conditioned_point(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _text_conditioned(target, fit, "point", POINT_LIMIT)


@register("bear", "text_conditioned_box", "a fixed box per question word (target category, relation word), fitted "
          "on the other split: the box of the question's most telling word")
def text_conditioned_box(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _text_conditioned(target, fit, "box", BOX_LIMIT)


#: skills whose question is about an object the frames must show (history or current view)
SHOWN_SKILLS = ("relative_direction", "path_planning", "object_localization")
#: a shown object covers at least this many pixels at 160 x 120 (scaled with the resolution)
MIN_SHOWN_PIXELS = 12


@register("bear", "unseen_target",
          "share of spatial questions (direction, route, localization) whose object has no visible pixels in any "
          "frame shown (history and current view), and of pointing/box questions whose target is not in the "
          "current view; replays the frames", renders=True)
def unseen_target(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    from ..episodes.bear.options import sample_history
    from ..episodes.bear.replay import Replay
    from ..sims import make_simulator

    bad: dict[str, list[int]] = {}
    sim = None
    try:
        for ep in target:
            queries = (ep.extra.get("bear") or {}).get("queries") or []
            asked = [q for q in queries if q.get("target") is not None
                     and (q["skill"] in SHOWN_SKILLS or answer_kind(q["skill"]) != "choice")]
            if not asked:
                continue
            render = (ep.extra.get("bear") or {}).get("render") or {}
            w, h = int(render.get("width", 160)), int(render.get("height", 120))
            if sim is None or (sim.width, sim.height) != (w, h):
                if sim is not None:
                    sim.close()
                sim = make_simulator(ep.backend, seed=ctx.seed, width=w, height=h)
            replay = Replay(sim, ep)
            need = max(1, round(MIN_SHOWN_PIXELS * w * h / (160 * 120)))
            for q in asked:
                frames = sample_history(int(q["step"]), 16) if q["skill"] in SHOWN_SKILLS else [int(q["step"])]
                shown = any(int(np.count_nonzero(replay.observe(t).segmentation == q["target"])) >= need for t in frames)
                bad.setdefault(q["skill"], []).append(int(not shown))
    finally:
        if sim is not None:
            sim.close()
    return {s: Figure(float(np.mean(v)), len(v), 0.0, None) for s, v in sorted(bad.items())}
