"""BEAR scoring of one answer: point-in-mask, box IoU and :func:`score_answer` (total: never
raises; an unreadable reply scores 0)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .answers import BOX_IOU_THRESHOLD, LETTERS, answer_kind, extract_choice, parse_box, parse_point


def point_in_mask(point: Sequence[float] | None, mask: Any) -> bool:
    """Whether a normalised ``(x, y)`` lands on a ``True`` pixel of ``mask`` (``H x W`` bool)."""
    try:
        if point is None:
            return False
        m = np.asarray(mask, dtype=bool)
        if m.ndim != 2 or m.size == 0:
            return False
        x, y = float(point[0]), float(point[1])
        if not (math.isfinite(x) and math.isfinite(y)) or not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return False
        h, w = m.shape
        col = min(int(x * w), w - 1)
        row = min(int(y * h), h - 1)
        return bool(m[row, col])
    except Exception:
        return False


def box_iou(a: Sequence[float] | None, b: Sequence[float] | None) -> float:
    """Intersection over union of two ``(x1, y1, x2, y2)`` boxes (any consistent units); 0 for
    missing, degenerate or non-finite boxes."""
    try:
        if a is None or b is None:
            return 0.0
        ax1, ay1, ax2, ay2 = (float(v) for v in a)
        bx1, by1, bx2, by2 = (float(v) for v in b)
        vals = (ax1, ay1, ax2, ay2, bx1, by1, bx2, by2)
        if not all(math.isfinite(v) for v in vals):
            return 0.0
        iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
        ih = max(0.0, min(ay2, by2) - max(ay1, by1))
        inter = iw * ih
        union = max(0.0, ax2 - ax1) * max(0.0, ay2 - ay1) + max(0.0, bx2 - bx1) * max(0.0, by2 - by1) - inter
        if union <= 0 or not math.isfinite(union):
            return 0.0
        return float(min(1.0, max(0.0, inter / union)))
    except Exception:
        return 0.0


# ---------------------------------------------------------------------------------------------
# one step


@dataclass
class StepScore:
    """The score of one answer: ``score`` in ``[0, 1]`` (IoU for boxes), ``correct`` (boxes:
    IoU >= 0.5) and what was read from the reply (``parsed``: a letter, a point, a box or None)."""

    score: float
    correct: bool
    parsed: Any


def score_answer(
    skill: str,
    reply: Any,
    *,
    answer: Any = None,
    options: Mapping[str, str] | None = None,
    mask: Any = None,
    box: Sequence[float] | None = None,
    width: int | None = None,
    height: int | None = None,
    judge: Callable[[str, Mapping[str, str]], str | None] | None = None,
) -> StepScore:
    """Score one reply for one skill: multiple choice against ``answer`` (a letter) and
    ``options``; pointing against ``mask``; boxes against ``box`` (normalised). Never raises."""
    try:
        kind = answer_kind(skill)
        if kind == "point":
            pt = parse_point(reply, width, height)
            ok = point_in_mask(pt, mask)
            return StepScore(1.0 if ok else 0.0, ok, list(pt) if pt else None)
        if kind == "box":
            bx = parse_box(reply, width, height)
            iou = box_iou(bx, box)
            return StepScore(iou, iou >= BOX_IOU_THRESHOLD, list(bx) if bx else None)
        letter = extract_choice(reply, options or {k: "" for k in LETTERS}, judge=judge)
        ok = letter is not None and letter == answer
        return StepScore(1.0 if ok else 0.0, ok, letter)
    except Exception:
        return StepScore(0.0, False, None)
