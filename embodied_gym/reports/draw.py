"""Pictures for reports: ground truth and the model's answer drawn on a BEAR frame, the agent's
path against the expert's on one top-down map, and a caption band under a video frame.

Pure image functions on ``H x W x 3`` uint8 arrays (PIL drawing); nothing here renders a scene.
Colours: ground truth green, the model's answer red, the agent's path blue (the backend's own
path colour), the expert's path magenta, drawn wider so it shows beside an agent that
followed it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TRUTH = (40, 200, 70)
ANSWER = (230, 40, 40)
EXPERT = (220, 40, 200)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _numbers(value: Any, n: int) -> list[float] | None:
    if isinstance(value, (list, tuple)) and len(value) == n and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return [float(v) for v in value]
    return None


def draw_grounding(frame: np.ndarray, truth: Any = None, answer: Any = None,
                   mask: np.ndarray | None = None) -> np.ndarray:
    """``frame`` with the ground truth (green: ``mask`` tinted, a normalised ``(x, y)`` point as
    a ring, a normalised ``[x1, y1, x2, y2]`` box as a rectangle) and the model's parsed answer
    (red, same shapes) drawn on a copy. Anything that is not a point or a box (a letter) is not
    drawn. Returns the copy."""
    img = np.array(frame[..., :3], dtype=np.uint8, copy=True)
    h, w = img.shape[:2]
    if isinstance(mask, np.ndarray) and mask.shape == (h, w) and mask.any():
        tint = img[mask].astype(np.float32) * 0.5 + np.array(TRUTH, np.float32) * 0.5
        img[mask] = tint.astype(np.uint8)
    pil = Image.fromarray(img)
    d = ImageDraw.Draw(pil)
    lw = max(2, w // 160)
    r = max(5, w // 50)
    for value, colour in ((truth, TRUTH), (answer, ANSWER)):
        point, box = _numbers(value, 2), _numbers(value, 4)
        if point is not None:
            x, y = point[0] * w, point[1] * h
            d.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=lw)
            d.line([x - r * 1.6, y, x + r * 1.6, y], fill=colour, width=1)
            d.line([x, y - r * 1.6, x, y + r * 1.6], fill=colour, width=1)
        elif box is not None:
            x0, y0, x1, y1 = box[0] * w, box[1] * h, box[2] * w, box[3] * h
            d.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=colour, width=lw)
    return np.asarray(pil, dtype=np.uint8)


def compose_paths(base: np.ndarray, agent_map: np.ndarray, expert_map: np.ndarray, halo: int = 2) -> np.ndarray:
    """One map with both paths, from three renders of the same map through the simulator
    interface (``top_down_map`` with no path, with the agent's path, with the expert's): the
    pixels where the expert's render differs from the plain one are the expert's path and are
    painted magenta, widened by ``halo`` pixels; the agent's path (where its render differs) is drawn on top in the
    backend's colour. Works for any backend whose map draws a path over the same picture."""
    if not (base.shape == agent_map.shape == expert_map.shape):
        raise ValueError(f"maps differ in shape: {base.shape}, {agent_map.shape}, {expert_map.shape}")
    out = np.array(base, dtype=np.uint8, copy=True)
    expert = np.any(expert_map != base, axis=-1)
    grown = expert.copy()
    for dy in range(-halo, halo + 1):
        for dx in range(-halo, halo + 1):
            grown |= np.roll(np.roll(expert, dy, axis=0), dx, axis=1)
    expert = grown
    agent = np.any(agent_map != base, axis=-1)
    out[expert] = EXPERT
    out[agent] = agent_map[agent]
    return out


def trim(image: np.ndarray, margin: int = 8) -> np.ndarray:
    """``image`` without the uniform border of its corner pixel's colour, keeping ``margin``
    pixels of it (maps of long thin houses are mostly background)."""
    bg = image[0, 0]
    content = np.any(image != bg, axis=-1)
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if not len(rows):
        return image
    r0, r1 = max(0, rows[0] - margin), min(image.shape[0], rows[-1] + 1 + margin)
    c0, c1 = max(0, cols[0] - margin), min(image.shape[1], cols[-1] + 1 + margin)
    return np.ascontiguousarray(image[r0:r1, c0:c1])


def caption(frame: np.ndarray, lines: Sequence[str], width_chars: int | None = None, max_lines: int = 6) -> np.ndarray:
    """``frame`` above a black band holding ``lines`` (wrapped, at most ``max_lines`` lines, the
    last cut with an ellipsis): the overlay of episode videos."""
    h, w = frame.shape[:2]
    size = max(11, w // 26)
    font = _font(size)
    width_chars = width_chars or max(20, int(w / (size * 0.55)))
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(str(line), width_chars) or [""]
    if len(wrapped) > max_lines:
        wrapped = wrapped[:max_lines]
        wrapped[-1] = wrapped[-1][: max(0, width_chars - 1)] + "…"
    band_h = (size + 4) * max_lines + 6
    pil = Image.new("RGB", (w, h + band_h), (0, 0, 0))
    pil.paste(Image.fromarray(np.ascontiguousarray(frame[..., :3], dtype=np.uint8)), (0, 0))
    d = ImageDraw.Draw(pil)
    for i, text in enumerate(wrapped):
        d.text((4, h + 3 + i * (size + 4)), text, fill=(255, 255, 255) if i else (255, 220, 90), font=font)
    return np.asarray(pil, dtype=np.uint8)
