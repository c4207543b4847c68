"""BEAR's released scorer for pointing and boxes, rule for rule (BEAR-data-format.md §3, from
BEAR-Agent's ``running_evaluate_agent_*.py``), against the ground-truth *mask*.

* Pointing: the **first** ``(x, y)`` of the reply, digits and dots only (a negative number does
  not match); ``px = int(x * W)``, ``py = int(y * H)`` with ``W, H`` the mask's size; a hit when
  ``(px, py)`` is inside the image and ``mask[py, px] > 0``. No match is a miss.
* Boxes: the **first** ``(x1, y1, x2, y2)`` of the reply, else ``(0, 0, 0, 0)``; each corner
  scaled with ``int()`` and clipped to ``[0, W-1]`` / ``[0, H-1]``; IoU ``0`` when ``x2 <= x1``
  or ``y2 <= y1``; else the box is filled edge-inclusive and its IoU is taken against the mask's
  *pixels* (``mask > 0``), not against a box around the mask. A file's score is the mean IoU.
* Multiple choice: BEAR asks gpt-3.5-turbo to extract the letter; here
  :func:`embodied_gym.rewards.bear.extract_choice` reads it by rule (an optional LLM judge as
  fallback), compared with ``gt`` by equality.

:func:`score_bear` scores one reply this way; ``lenient=True`` reads the reply with the
project's parsers instead (the *last* tuple, square brackets too, pixel and 0-1000 scales, see
:func:`embodied_gym.rewards.bear.normalize_coords`) and scores against the same mask.
Every function is total: no reply makes it raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .bear import StepScore, extract_choice, parse_box, parse_point

_NUM = r"(\d+(?:\.\d*)?|\.\d+)"
_BEAR_POINT = re.compile(rf"\(\s*{_NUM}\s*,\s*{_NUM}\s*\)")
_BEAR_BOX = re.compile(rf"\(\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*\)")


def _mask(mask: Any) -> np.ndarray | None:
    m = np.asarray(mask)
    if m.ndim == 3:  # an RGB(A) mask image: any channel lit
        m = m.max(axis=2)
    return m > 0 if m.ndim == 2 and m.size else None


def bear_parse_point(reply: Any) -> tuple[float, float] | None:
    """The first ``(x, y)`` of the reply (digits and dots only), or ``None``."""
    try:
        m = _BEAR_POINT.search(reply if isinstance(reply, str) else str(reply))
        return (float(m.group(1)), float(m.group(2))) if m else None
    except Exception:
        return None


def bear_parse_box(reply: Any) -> tuple[float, float, float, float]:
    """The first ``(x1, y1, x2, y2)`` of the reply (digits and dots only), else ``(0, 0, 0, 0)``."""
    try:
        m = _BEAR_BOX.search(reply if isinstance(reply, str) else str(reply))
        return tuple(float(g) for g in m.groups()) if m else (0.0, 0.0, 0.0, 0.0)  # type: ignore[return-value]
    except Exception:
        return (0.0, 0.0, 0.0, 0.0)


def bear_point_hit(point: tuple[float, float] | None, mask: Any) -> bool:
    """BEAR's pointing test: ``mask[int(y*H), int(x*W)] > 0`` inside the image."""
    try:
        m = _mask(mask)
        if point is None or m is None:
            return False
        h, w = m.shape
        px, py = int(point[0] * w), int(point[1] * h)
        return bool(0 <= px < w and 0 <= py < h and m[py, px])
    except Exception:
        return False


def bear_box_mask_iou(box: tuple[float, float, float, float] | None, mask: Any) -> float:
    """BEAR's box score: IoU of the (edge-inclusive, pixel-snapped, clipped) box with the mask's pixels."""
    try:
        m = _mask(mask)
        if box is None or m is None:
            return 0.0
        h, w = m.shape
        x1, x2 = (min(max(int(v * w), 0), w - 1) for v in (box[0], box[2]))
        y1, y2 = (min(max(int(v * h), 0), h - 1) for v in (box[1], box[3]))
        if x2 <= x1 or y2 <= y1:
            return 0.0
        filled = np.zeros_like(m)
        filled[y1: y2 + 1, x1: x2 + 1] = True
        union = int(np.count_nonzero(filled | m))
        return float(np.count_nonzero(filled & m) / union) if union else 0.0
    except Exception:
        return 0.0


def score_bear(
    kind: str,
    reply: Any,
    *,
    answer: Any = None,
    options: Mapping[str, str] | None = None,
    mask: Any = None,
    lenient: bool = False,
    judge: Callable[[str, Mapping[str, str]], str | None] | None = None,
    box_threshold: float = 0.5,
) -> StepScore:
    """Score one reply for a skill of answer ``kind`` (``point``, ``box``, ``choice``) the way
    BEAR's released scorer does (module docstring). ``score``: 1/0, or the IoU for boxes;
    ``correct``: boxes at ``IoU >= box_threshold``. Never raises."""
    try:
        m = _mask(mask) if mask is not None else None
        h, w = m.shape if m is not None else (None, None)
        if kind == "point":
            pt = parse_point(reply, w, h) if lenient else bear_parse_point(reply)
            ok = bear_point_hit(pt, m)
            return StepScore(1.0 if ok else 0.0, ok, list(pt) if pt else None)
        if kind == "box":
            bx = parse_box(reply, w, h) if lenient else bear_parse_box(reply)
            iou = bear_box_mask_iou(bx, m)
            return StepScore(iou, iou >= box_threshold, list(bx) if bx else None)
        letter = extract_choice(reply, options or {}, judge=judge)
        ok = letter is not None and letter == answer
        return StepScore(1.0 if ok else 0.0, ok, letter)
    except Exception:
        return StepScore(0.0, False, None)
