"""A top-down map drawn from what every backend can report (navigable cells, rooms, object
records, the agent's pose), for backends without a scene description of their own
(``thor``, ``unrealcv``): ``+x`` points right and ``+z`` down, like the house's map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .base import ObjectInfo, Pose, RoomInfo


def draw_overview(
    cells: np.ndarray,
    cell: float,
    objects: Sequence[ObjectInfo],
    rooms: Sequence[RoomInfo],
    agent: Pose,
    path: Sequence[Sequence[float]] | None = None,
    size: int = 512,
) -> np.ndarray:
    """``size x size x 3`` uint8: rooms (outlines), navigable cells (light), furniture and doors
    (footprints), objects (dots), the agent (triangle) and ``path`` (``(x, z)`` points) when given."""
    if not isinstance(size, int) or size < 32:
        raise ValueError(f"size: expected an integer >= 32 (got {size!r})")
    xs = [agent.x] + [c[0] for c in cells] + [o.position[0] for o in objects]
    zs = [agent.z] + [c[1] for c in cells] + [o.position[2] for o in objects]
    for r in rooms:
        xs += [r.bounds[0], r.bounds[2]]
        zs += [r.bounds[1], r.bounds[3]]
    x0, x1, z0, z1 = min(xs) - 0.5, max(xs) + 0.5, min(zs) - 0.5, max(zs) + 0.5
    scale = (size - 1) / max(x1 - x0, z1 - z0)

    def px(x: float, z: float) -> tuple[float, float]:
        return ((x - x0) * scale, (z - z0) * scale)

    img = Image.new("RGB", (size, size), (40, 40, 40))
    d = ImageDraw.Draw(img)
    for r in rooms:
        d.rectangle([px(r.bounds[0], r.bounds[1]), px(r.bounds[2], r.bounds[3])], outline=(200, 200, 200))
    h = cell / 2
    for cx, cz in cells:
        d.rectangle([px(cx - h, cz - h), px(cx + h, cz + h)], fill=(225, 225, 215))
    for o in objects:
        if o.kind == "object":
            continue
        ox, _, oz = o.position
        sx, _, sz = o.size
        color = (150, 110, 70) if o.kind == "furniture" else ((40, 170, 60) if o.is_open else (210, 40, 40))
        d.rectangle([px(ox - sx / 2, oz - sz / 2), px(ox + sx / 2, oz + sz / 2)], fill=color)
    rad = max(2.0, size / 150)
    for o in objects:
        if o.kind == "object":
            ox, _, oz = o.position
            u, v = px(ox, oz)
            d.ellipse([u - rad, v - rad, u + rad, v + rad], fill=(30, 90, 220))
    if path:
        d.line([px(p[0], p[1]) for p in path], fill=(230, 120, 0), width=max(2, size // 170))
    ax, az = px(agent.x, agent.z)
    fx, _, fz = agent.forward
    s = 3 * rad
    tip = (ax + fx * s * 1.5, az + fz * s * 1.5)
    lx, lz = (ax - fz * s * 0.7, az + fx * s * 0.7)
    rx, rz = (ax + fz * s * 0.7, az - fx * s * 0.7)
    d.polygon([tip, (lx, lz), (rx, rz)], fill=(220, 30, 30))
    return np.asarray(img, dtype=np.uint8)
