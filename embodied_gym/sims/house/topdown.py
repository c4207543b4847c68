"""Top-down map of a house (PIL drawing; no OpenGL): rooms coloured by kind and labelled, walls,
doors (red closed, green open), furniture, objects in their colours, the agent and a path."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..base import Pose
from . import catalog
from .world import HouseWorld, door_transform

ROOM_FILL = {
    "kitchen": (250, 236, 200),
    "bathroom": (205, 232, 248),
    "bedroom": (232, 214, 240),
    "living_room": (222, 240, 210),
    "office": (240, 225, 210),
    "hallway": (225, 225, 225),
    "storage": (215, 205, 190),
    "dining_room": (248, 218, 214),
}


def draw_top_down(world: HouseWorld, agent: Pose, path: Sequence[Sequence[float]] | None = None,
                  size: int = 512) -> np.ndarray:
    """``size x size x 3`` uint8 map; ``+x`` points right and ``+z`` down."""
    if not isinstance(size, int) or size < 32:
        raise ValueError(f"size: expected an integer >= 32 (got {size!r})")
    x0, z0, x1, z1 = world.spec.bounds
    margin = 0.5
    scale = (size - 1) / max(x1 - x0 + 2 * margin, z1 - z0 + 2 * margin)
    ox = (size - (x1 - x0) * scale) / 2 - x0 * scale
    oz = (size - (z1 - z0) * scale) / 2 - z0 * scale

    def px(x: float, z: float) -> tuple[float, float]:
        return (x * scale + ox, z * scale + oz)

    img = Image.new("RGB", (size, size), (40, 40, 40))
    d = ImageDraw.Draw(img)
    for r in world.spec.rooms:
        a, b = px(r.bounds[0], r.bounds[1]), px(r.bounds[2], r.bounds[3])
        d.rectangle([a, b], fill=ROOM_FILL.get(r.kind, (230, 230, 230)))
    lw = max(2, size // 160)
    for (ax, az), (bx, bz) in world.walls:
        d.line([px(ax, az), px(bx, bz)], fill=(20, 20, 20), width=lw)
    for i in world.furniture_ids:
        e = world.entities[i]
        fx0, fz0, fx1, fz1 = e.footprint()
        d.rectangle([px(fx0, fz0), px(fx1, fz1)], fill=(150, 110, 70), outline=(80, 50, 30))
    for i in world.door_ids:
        e = world.entities[i]
        (hx, _, hz), yaw = door_transform(e)
        assert e.opening is not None
        w = e.opening.width
        ex, ez = hx + w * math.sin(math.radians(yaw)), hz + w * math.cos(math.radians(yaw))
        d.line([px(hx, hz), px(ex, ez)], fill=(40, 170, 60) if e.is_open else (210, 40, 40), width=lw + 2)
    for i in world.object_ids:
        e = world.entities[i]
        c = tuple(int(255 * v) for v in catalog.COLORS.get(e.color or "white", (1, 1, 1)))
        cx, cz = px(e.pos[0], e.pos[2])
        rad = max(3.0, 0.12 * scale)
        d.ellipse([cx - rad, cz - rad, cx + rad, cz + rad], fill=c, outline=(0, 0, 0))
    for r in world.spec.rooms:
        cx, cz = px((r.bounds[0] + r.bounds[2]) / 2, (r.bounds[1] + r.bounds[3]) / 2)
        d.text((cx, cz), r.name, fill=(60, 60, 60), anchor="mm")
    if path is not None and len(path) > 0:
        pts = []
        for p in path:
            vals = list(p)
            x, z = (vals[0], vals[1]) if len(vals) == 2 else (vals[0], vals[2])
            pts.append(px(float(x), float(z)))
        if len(pts) > 1:
            d.line(pts, fill=(30, 90, 230), width=lw + 1, joint="curve")
        for q in (pts[0], pts[-1]):
            d.ellipse([q[0] - lw * 2, q[1] - lw * 2, q[0] + lw * 2, q[1] + lw * 2], fill=(30, 90, 230))
    ax, az = px(agent.x, agent.z)
    yaw = math.radians(agent.yaw)
    fwd = (math.cos(yaw), -math.sin(yaw))
    right = (math.sin(yaw), math.cos(yaw))
    s = max(6.0, 0.3 * scale)
    tri = [
        (ax + fwd[0] * s, az + fwd[1] * s),
        (ax - fwd[0] * s * 0.6 + right[0] * s * 0.6, az - fwd[1] * s * 0.6 + right[1] * s * 0.6),
        (ax - fwd[0] * s * 0.6 - right[0] * s * 0.6, az - fwd[1] * s * 0.6 - right[1] * s * 0.6),
    ]
    d.polygon(tri, fill=(255, 140, 0), outline=(0, 0, 0))
    return np.asarray(img, dtype=np.uint8)
