"""Trajectory-reasoning arrows: geometry in normalised image coordinates and their drawing.

BEAR's trajectory questions show a frame with three coloured arrows drawn from the gripper /
hand and ask which one leads to the target ("none of the above" is the fourth option). Our agent
has no visible arm, so the *gripper point* is fixed at the bottom centre of the frame
(:data:`GRIPPER_POINT`), where a held object sits. Arrow ends are computed from ``sim.project``
of the target (see :mod:`.queries`) and stored normalised, so they are drawn at any resolution
of the same aspect ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

#: where arrows start, normalised ``(x, y)``
GRIPPER_POINT: tuple[float, float] = (0.5, 0.94)
#: colour names of the three arrows, in option order A, B, C
ARROW_COLORS: tuple[str, ...] = ("red", "green", "blue")
_RGB = {"red": (235, 30, 30), "green": (20, 210, 60), "blue": (40, 90, 255)}
#: smallest angle (degrees, at the gripper point) between two arrows or an arrow and the target
MIN_SEPARATION = 25.0


#: shortest arrow drawn (in frame heights, aspect-corrected), so that every arrow is visible
MIN_LENGTH = 0.15


def arrow_length(arrow: Sequence[Sequence[float]], aspect: float = 4 / 3) -> float:
    """Length of an arrow in frame heights (``x`` scaled by the aspect ratio)."""
    (sx, sy), (ex, ey) = arrow
    return math.hypot((ex - sx) * aspect, ey - sy)


def arrow_angle(start: Sequence[float], end: Sequence[float], aspect: float = 4 / 3) -> float:
    """Screen angle of an arrow in degrees (0 = right, 90 = up), measured in pixel proportions."""
    dx = (float(end[0]) - float(start[0])) * aspect
    dy = float(start[1]) - float(end[1])
    return math.degrees(math.atan2(dy, dx))


def angle_gap(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def arrow_to(point: Sequence[float], start: Sequence[float] = GRIPPER_POINT, reach: float = 0.85) -> list[list[float]]:
    """An arrow from ``start`` covering ``reach`` of the way to ``point`` (normalised coords)."""
    sx, sy = float(start[0]), float(start[1])
    ex = sx + (float(point[0]) - sx) * reach
    ey = sy + (float(point[1]) - sy) * reach
    return [[round(sx, 4), round(sy, 4)], [round(min(max(ex, 0.02), 0.98), 4), round(min(max(ey, 0.02), 0.98), 4)]]


def rotated_arrow(arrow: Sequence[Sequence[float]], degrees: float, aspect: float = 4 / 3) -> list[list[float]]:
    """``arrow`` turned by ``degrees`` (counter-clockwise on screen) about its start, clipped to
    the frame."""
    (sx, sy), (ex, ey) = arrow
    dx, dy = (ex - sx) * aspect, sy - ey
    r = math.radians(degrees)
    nx = dx * math.cos(r) - dy * math.sin(r)
    ny = dx * math.sin(r) + dy * math.cos(r)
    # shrink until the end lies inside the frame
    for scale in (1.0, 0.8, 0.6, 0.45, 0.3):
        ex2, ey2 = sx + nx * scale / aspect, sy - ny * scale
        if 0.02 <= ex2 <= 0.98 and 0.02 <= ey2 <= 0.98:
            return [[round(sx, 4), round(sy, 4)], [round(ex2, 4), round(ey2, 4)]]
    return [[round(sx, 4), round(sy, 4)], [round(min(max(sx + nx * 0.3 / aspect, 0.02), 0.98), 4), round(min(max(sy - ny * 0.3, 0.02), 0.98), 4)]]


def well_separated(arrows: Sequence[Sequence[Sequence[float]]], target_angle: float | None = None) -> bool:
    """Whether every pair of arrows differs by :data:`MIN_SEPARATION` degrees, and (when
    ``target_angle`` is given) every arrow misses the target direction by that much."""
    angles = [arrow_angle(a[0], a[1]) for a in arrows]
    for i in range(len(angles)):
        for j in range(i + 1, len(angles)):
            if angle_gap(angles[i], angles[j]) < MIN_SEPARATION:
                return False
        if target_angle is not None and angle_gap(angles[i], target_angle) < MIN_SEPARATION:
            return False
    return True


def draw_arrows(image: np.ndarray, arrows: Sequence[Sequence[Sequence[float]]], colors: Sequence[str] = ARROW_COLORS) -> np.ndarray:
    """A copy of ``image`` (``H x W x 3`` uint8) with one arrow per entry of ``arrows``
    (``[[x0, y0], [x1, y1]]`` normalised) in the matching colour of ``colors``. Each arrow is
    drawn over a halo of the colour (black or white) that contrasts most with the pixels under
    it, so an arrow stays visible on a surface of its own colour."""
    h, w = image.shape[:2]
    base = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
    pil = Image.fromarray(base)
    draw = ImageDraw.Draw(pil)
    width = max(1, round(min(w, h) / 60))
    halo = max(1, round(width / 2)) + 1
    head = max(3.0, min(w, h) / 14)
    for arrow, color in zip(arrows, colors, strict=False):
        (x0, y0), (x1, y1) = arrow
        p0 = (x0 * (w - 1), y0 * (h - 1))
        p1 = (x1 * (w - 1), y1 * (h - 1))
        rgb = _RGB.get(color, (255, 255, 255))
        ang = math.atan2(p1[1] - p0[1], p1[0] - p0[0])
        left = (p1[0] - head * math.cos(ang - 0.45), p1[1] - head * math.sin(ang - 0.45))
        right = (p1[0] - head * math.cos(ang + 0.45), p1[1] - head * math.sin(ang + 0.45))
        # the mean luminance under the arrow picks the halo: white on dark ground, black on light
        n = 24
        xs = np.clip(np.round(np.linspace(p0[0], p1[0], n)).astype(int), 0, w - 1)
        ys = np.clip(np.round(np.linspace(p0[1], p1[1], n)).astype(int), 0, h - 1)
        under = base[ys, xs].astype(float).mean(axis=0)
        lum = 0.299 * under[0] + 0.587 * under[1] + 0.114 * under[2]
        outline = (255, 255, 255) if lum < 110 else (0, 0, 0)
        draw.line([p0, p1], fill=outline, width=width + 2 * halo)
        draw.polygon([p1, left, right], fill=outline, outline=outline, width=halo * 2)
        draw.line([p0, p1], fill=rgb, width=width)
        draw.polygon([p1, left, right], fill=rgb)
    return np.asarray(pil, dtype=np.uint8)
