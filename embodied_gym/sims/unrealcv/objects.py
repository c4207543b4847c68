"""UnrealCV actors -> the interface's object records.

``vget /objects`` lists every actor of the running level (walls and floors included); each has an
object-mask colour (``vget /object/NAME/color``, exactly the colour of its pixels in
``object_mask``) and world bounds (``vget /object/NAME/bounds``, centimetres). Ids are assigned in
sorted name order. Unreal carries no semantics, so kinds come from names and sizes unless given:

* ``door`` when the name contains ``door`` (case-insensitive);
* ``object`` (pickable) when the largest side of its bounds is at most ``pickable_size`` metres;
* ``furniture`` otherwise; a receptacle when its top is below ``receptacle_height`` metres
  (and above floor level: the floor itself is no receptacle).

``kinds={"ActorName": "object" | "furniture" | "door"}`` overrides the rule per actor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..base import ObjectInfo, Pose, RoomInfo
from ..unreal_frame import location_from_unreal


@dataclass
class Actor:
    """One actor of the level as the backend tracks it (bounds in the simulator frame, metres)."""

    name: str
    id: int
    color: tuple[int, int, int]
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    kind: str
    receptacle: bool
    is_open: bool | None = None
    hidden: bool = False

    @property
    def base(self) -> tuple[float, float, float]:
        return ((self.lo[0] + self.hi[0]) / 2, self.lo[1], (self.lo[2] + self.hi[2]) / 2)

    @property
    def size(self) -> tuple[float, float, float]:
        return tuple(h - lo for lo, h in zip(self.lo, self.hi, strict=True))  # type: ignore[return-value]


def category_of(name: str) -> str:
    """``"BP_DiningTable_C_3"`` -> ``"dining table"``."""
    core = re.sub(r"^(BP|SM|SK|BPS)_", "", name)
    core = re.sub(r"(_C)?(_\d+)*$", "", core)
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", core.replace("_", " "))
    return " ".join(w.lower() for w in words if not w.isdigit()) or name.lower()


def bounds_from_unreal(values: list[float]) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """``vget /object/NAME/bounds`` (``minX minY minZ maxX maxY maxZ``, cm) -> ``(lo, hi)`` in metres."""
    a = location_from_unreal(values[:3])
    b = location_from_unreal(values[3:])
    lo = tuple(min(u, v) for u, v in zip(a, b, strict=True))
    hi = tuple(max(u, v) for u, v in zip(a, b, strict=True))
    return lo, hi  # type: ignore[return-value]


def classify(name: str, lo, hi, floor: float, pickable_size: float, receptacle_height: float,
             kinds: Mapping[str, str]) -> tuple[str, bool]:
    """``(kind, receptacle)`` of one actor."""
    size = max(h - v for v, h in zip(lo, hi, strict=True))
    kind = kinds.get(name) or ("door" if "door" in name.lower() else "object" if size <= pickable_size else "furniture")
    if kind not in ("object", "furniture", "door"):
        raise ValueError(f"kinds[{name!r}]: expected 'object', 'furniture' or 'door' (got {kind!r})")
    return kind, kind == "furniture" and 0.05 < hi[1] - floor <= receptacle_height  # the floor itself is none


def segmentation_ids(mask: np.ndarray, actors: Mapping[str, Actor]) -> np.ndarray:
    """An ``object_mask`` image (``H x W x 3``) -> ``H x W`` int32 ids (0: a colour of no actor)."""
    c = mask[..., :3].astype(np.uint32)
    key = (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]
    uniq, inv = np.unique(key.ravel(), return_inverse=True)
    by_color = {(a.color[0] << 16) | (a.color[1] << 8) | a.color[2]: a.id for a in actors.values()
                if not a.hidden and min(a.color) >= 0}
    lut = np.array([by_color.get(int(u), 0) for u in uniq], dtype=np.int32)
    return lut[inv].reshape(key.shape)


def resting_on(a: Actor, actors: Mapping[str, Actor]) -> int | None:
    """The receptacle whose top ``a`` rests on (base within 5 cm of its top, inside its footprint)."""
    x, y, z = a.base
    best = None
    for r in actors.values():
        if r.receptacle and r.id != a.id and r.lo[0] <= x <= r.hi[0] and r.lo[2] <= z <= r.hi[2] and abs(r.hi[1] - y) <= 0.05:
            if best is None or r.hi[1] > best.hi[1]:
                best = r
    return None if best is None else best.id


def records(actors: Mapping[str, Actor], agent: Pose, rooms: list[RoomInfo], held: str | None,
            hand: tuple[float, float, float]) -> dict[int, ObjectInfo]:
    """One :class:`ObjectInfo` per actor (``visible``/``bbox`` left for the frame to fill)."""
    out = {}
    for a in actors.values():
        pos = hand if a.name == held else a.base
        room = next((r.id for r in rooms if r.contains(pos[0], pos[2])), None)
        out[a.id] = ObjectInfo(
            id=a.id, category=category_of(a.name), name=category_of(a.name), kind=a.kind, room=room,
            position=pos, size=a.size, distance=math.dist((agent.x, agent.y, agent.z), pos),
            pickable=a.kind == "object", receptacle=a.receptacle, openable=a.kind == "door",
            is_open=a.is_open if a.kind == "door" else None, held=a.name == held,
            on=None if a.name == held or a.kind != "object" else resting_on(a, actors),
        )
    return out
