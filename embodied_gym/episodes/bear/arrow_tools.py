"""Image operations on drawn trajectory arrows, for tool-using agents (``extend_arrows``).

BEAR-Agent lengthens the drawn arrows of trajectory questions so a model can see where each one
leads. :func:`extend_arrows` does that from the pixels alone (no ground truth): it finds the
pixels of each arrow colour of :mod:`.arrows`, fits the arrow's axis by principal components,
takes the end nearer the gripper point as its start, and draws the line from there through the
far end to the border of the frame, in the arrow's colour.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .arrows import _RGB, GRIPPER_POINT

#: per-channel tolerance when matching an arrow colour
TOLERANCE = 40
#: fewest pixels of a colour that count as an arrow
MIN_PIXELS = 12


def find_arrows(image: np.ndarray) -> list[dict]:
    """``[{"color", "start": (x, y), "end": (x, y)}]`` in pixels for every arrow colour present."""
    rgb = np.asarray(image[..., :3], dtype=np.int16)
    h, w = rgb.shape[:2]
    gx, gy = GRIPPER_POINT[0] * (w - 1), GRIPPER_POINT[1] * (h - 1)
    found = []
    for name, colour in _RGB.items():
        mask = np.all(np.abs(rgb - np.array(colour, np.int16)) <= TOLERANCE, axis=-1)
        ys, xs = np.nonzero(mask)
        if len(xs) < MIN_PIXELS:
            continue
        pts = np.column_stack([xs, ys]).astype(np.float64)
        centre = pts.mean(axis=0)
        _, _, vt = np.linalg.svd(pts - centre, full_matrices=False)
        proj = (pts - centre) @ vt[0]
        a, b = centre + proj.min() * vt[0], centre + proj.max() * vt[0]
        start, end = (a, b) if math.dist(a, (gx, gy)) <= math.dist(b, (gx, gy)) else (b, a)
        found.append({"color": name, "start": (float(start[0]), float(start[1])), "end": (float(end[0]), float(end[1]))})
    return found


def extend_arrows(image: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """A copy of ``image`` with every found arrow extended to the frame's border, and the arrows
    found (:func:`find_arrows`) with their extended ends in normalised coordinates."""
    h, w = image.shape[:2]
    pil = Image.fromarray(np.ascontiguousarray(image[..., :3]).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    arrows = find_arrows(image)
    for arrow in arrows:
        (sx, sy), (ex, ey) = arrow["start"], arrow["end"]
        dx, dy = ex - sx, ey - sy
        norm = math.hypot(dx, dy)
        if norm < 1e-6:
            continue
        dx, dy = dx / norm, dy / norm
        ts = [t for t in ((0 - sx) / dx if dx < 0 else (w - 1 - sx) / dx if dx > 0 else math.inf,
                          (0 - sy) / dy if dy < 0 else (h - 1 - sy) / dy if dy > 0 else math.inf) if t > 0]
        t = min(ts) if ts else 0.0
        far = (sx + t * dx, sy + t * dy)
        draw.line([(sx, sy), far], fill=_RGB[arrow["color"]], width=max(1, round(min(w, h) / 120)))
        arrow["extended_to"] = (round(far[0] / max(w - 1, 1), 3), round(far[1] / max(h - 1, 1), 3))
    return np.asarray(pil, dtype=np.uint8), arrows
