"""THOR event metadata -> the interface's object records, instance ids and rooms.

THOR names objects by string ``objectId`` (``"Apple|+00.12|+00.90|-01.50"``) and colours its
instance segmentation per ``objectId`` (``metadata["colors"]``); the interface wants positive
integer ids stable for a scene. :class:`ObjectIds` numbers the objects of a scene in sorted
``objectId`` order (deterministic across runs), and :func:`segmentation_ids` turns THOR's colour
frame into an ``int32`` id map (``0`` for walls, floor and anything that is not an object).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..base import ObjectInfo, Pose, RoomInfo
from .frame import position_from_thor, size_from_thor, xz_from_thor

#: THOR object types that are doors of the house (ProcTHOR); openable ones become ``kind="door"``
DOOR_TYPES = frozenset({"Door", "Doorway", "Doorframe"})
#: THOR receptacle types that are the ground itself: not receptacles here (an object on the floor
#: rests on nothing, ``on=None``, as in every backend)
FLOOR_TYPES = frozenset({"Floor"})
#: ProcTHOR ``roomType`` -> room kind
ROOM_KINDS = {"Kitchen": "kitchen", "LivingRoom": "living_room", "Bedroom": "bedroom", "Bathroom": "bathroom"}
#: iTHOR floor plan number ranges -> room kind (1-30 kitchens, 201-230 living rooms, ...)
ITHOR_KINDS = ((1, 99, "kitchen"), (200, 299, "living_room"), (300, 399, "bedroom"), (400, 499, "bathroom"))


def type_words(object_type: str) -> str:
    """``"DiningTable"`` -> ``"dining table"``."""
    return " ".join(w.lower() for w in re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", object_type)) or object_type.lower()


class ObjectIds:
    """``objectId`` <-> integer id for one scene (sorted order; later arrivals appended)."""

    def __init__(self, object_ids: Sequence[str] = ()):
        self.by_name: dict[str, int] = {}
        for name in sorted(object_ids):
            self.add(name)

    def add(self, name: str) -> int:
        if name not in self.by_name:
            self.by_name[name] = len(self.by_name) + 1
        return self.by_name[name]

    def name(self, oid: int) -> str:
        for k, v in self.by_name.items():
            if v == oid:
                return k
        raise KeyError(oid)


def segmentation_ids(colors: np.ndarray, color_to_object: Mapping[tuple, str], ids: ObjectIds) -> np.ndarray:
    """THOR's instance colour frame (``H x W x 3`` uint8) -> ``H x W`` int32 object ids."""
    c = colors[..., :3].astype(np.uint32)
    key = (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]
    uniq, inv = np.unique(key.ravel(), return_inverse=True)
    lut = np.zeros(len(uniq), dtype=np.int32)
    for k, u in enumerate(uniq.tolist()):
        name = color_to_object.get(((u >> 16) & 255, (u >> 8) & 255, u & 255))
        if name is not None and name in ids.by_name:
            lut[k] = ids.by_name[name]
    return lut[inv].reshape(key.shape)


def object_type(m: Mapping[str, Any]) -> str:
    """A THOR object's type (``objectType``, else the head of its ``objectId``)."""
    return str(m.get("objectType") or m["objectId"].split("|")[0])


def _kind(m: Mapping[str, Any]) -> str:
    if m.get("pickupable"):
        return "object"
    if object_type(m) in DOOR_TYPES and m.get("openable"):
        return "door"
    return "furniture"


def _names(objects: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Display names: the type in words, with the salient material when it tells apart objects
    of the same type (THOR reports no colours)."""
    count: dict[str, int] = {}
    for m in objects:
        count[object_type(m)] = count.get(object_type(m), 0) + 1
    out = {}
    for m in objects:
        base = type_words(object_type(m))
        mats = m.get("salientMaterials") or []
        out[m["objectId"]] = f"{mats[0].lower()} {base}" if count[object_type(m)] > 1 and mats else base
    return out


def object_records(meta: Mapping[str, Any], ids: ObjectIds, rooms: Sequence[RoomInfo], agent: Pose) -> dict[int, ObjectInfo]:
    """One :class:`ObjectInfo` per THOR object (``visible``/``bbox`` left for the frame to fill)."""
    objects = meta["objects"]
    names = _names(objects)
    types = {o["objectId"]: object_type(o) for o in objects}
    out: dict[int, ObjectInfo] = {}
    for m in objects:
        oid = ids.add(m["objectId"])
        box = m.get("axisAlignedBoundingBox") or {}
        if box.get("center") and box.get("size"):
            cx, cy, cz = position_from_thor(box["center"])
            size = size_from_thor(box["size"])
            pos = (cx, cy - size[1] / 2, cz)
        else:
            pos, size = position_from_thor(m["position"]), (0.0, 0.0, 0.0)
        parents = [p for p in (m.get("parentReceptacles") or []) if types.get(p) not in FLOOR_TYPES]
        on = ids.by_name.get(parents[0]) if parents and not m.get("isPickedUp") else None
        kind = _kind(m)
        room = next((r.id for r in rooms if r.contains(pos[0], pos[2])), None)
        out[oid] = ObjectInfo(
            id=oid, category=type_words(object_type(m)), name=names[m["objectId"]], kind=kind,
            color=None, room=room, position=pos, size=size,
            distance=math.dist((agent.x, agent.y, agent.z), pos),
            pickable=bool(m.get("pickupable")),
            receptacle=bool(m.get("receptacle")) and object_type(m) not in FLOOR_TYPES,
            openable=bool(m.get("openable")), is_open=bool(m.get("isOpen")) if m.get("openable") else None,
            held=bool(m.get("isPickedUp")), on=on,
        )
    return out


def ithor_rooms(scene_name: str, positions: np.ndarray) -> list[RoomInfo]:
    """An iTHOR floor plan is one room: its kind from the plan number, its footprint the extent of
    the reachable positions."""
    m = re.match(r"FloorPlan(\d+)", scene_name or "")
    kind = "room"
    if m:
        n = int(m.group(1))
        kind = next((k for lo, hi, k in ITHOR_KINDS if lo <= n <= hi), "room")
    if len(positions) == 0:
        return []
    x0, z0 = positions.min(axis=0)
    x1, z1 = positions.max(axis=0)
    return [RoomInfo(id="room0", kind=kind, name=kind.replace("_", " "),
                     bounds=(float(x0) - 0.5, float(z0) - 0.5, float(x1) + 0.5, float(z1) + 0.5))]


def procthor_rooms(house: Mapping[str, Any]) -> list[RoomInfo]:
    """The rooms of a ProcTHOR house dict (``rooms[*].floorPolygon`` / ``roomType``), each with the
    axis-aligned bounds of its polygon in the simulator frame."""
    out = []
    for i, r in enumerate(house.get("rooms", [])):
        pts = [xz_from_thor(p["x"], p["z"]) for p in r.get("floorPolygon", [])]
        if not pts:
            continue
        xs, zs = [p[0] for p in pts], [p[1] for p in pts]
        kind = ROOM_KINDS.get(r.get("roomType", ""), type_words(r.get("roomType", "room")).replace(" ", "_"))
        out.append(RoomInfo(id=str(r.get("id", f"room{i}")), kind=kind, name=kind.replace("_", " "),
                            bounds=(min(xs), min(zs), max(xs), max(zs))))
    return out
