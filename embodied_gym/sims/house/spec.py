"""HouseSpec: the JSON-serialisable description of one procedural house.

A spec lists everything needed to rebuild the house bit-exactly: axis-aligned rooms with their
textures, the openings between rooms (open doorways and real doors), static furniture, movable
objects and the agent's start pose. :func:`HouseSpec.from_dict` validates its input and raises
``ValueError`` naming the offending field and value, e.g.
``rooms[2].kind: unknown room kind 'garage'``.

Coordinates: metres, ``y`` up, ground plane ``(x, z)``; yaw in degrees (see ``sims/base.py``).
Entity ids (furniture, doors, objects) are unique integers in ``1..254``: they are the values of
the segmentation map.
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..geometry import room_at
from . import catalog

MAX_ENTITY_ID = 254
STYLES = ("train", "ood")


@dataclass
class RoomSpec:
    """A rectangular room. ``bounds`` = ``(min_x, min_z, max_x, max_z)``."""

    id: str
    kind: str
    name: str
    bounds: tuple[float, float, float, float]
    wall_texture: str
    floor_texture: str

    def contains(self, x: float, z: float, margin: float = 0.0) -> bool:
        x0, z0, x1, z1 = self.bounds
        return x0 + margin <= x <= x1 - margin and z0 + margin <= z <= z1 - margin


@dataclass
class OpeningSpec:
    """A gap in the wall shared by ``rooms[0]`` and ``rooms[1]``, centred on ``center``
    (``(x, z)`` on that wall), ``width`` metres wide. ``kind`` is ``"doorway"`` (always open) or
    ``"door"`` (an entity with ``id`` that blocks passage until opened; it swings into
    ``rooms[0]``). Doorways have ``id`` ``None``."""

    rooms: tuple[str, str]
    kind: str
    center: tuple[float, float]
    width: float
    id: int | None = None
    name: str | None = None
    texture: str | None = None
    color: str | None = None
    is_open: bool = False


@dataclass
class FurnitureSpec:
    """Static furniture standing on the floor at ``position`` ``(x, z)``; ``yaw`` is a multiple
    of 90 degrees (the footprint stays axis-aligned)."""

    id: int
    category: str
    name: str
    room: str
    position: tuple[float, float]
    yaw: float = 0.0
    color: str | None = None


@dataclass
class ObjectSpec:
    """A movable (pickable) object at ``position`` ``(x, y, z)`` (``y`` is its base height);
    ``on`` is the id of the furniture it rests on, ``None`` when on the floor."""

    id: int
    category: str
    color: str
    size: str
    name: str
    room: str
    position: tuple[float, float, float]
    yaw: float = 0.0
    on: int | None = None


@dataclass
class HouseSpec:
    """A whole house. See the module docstring; build one with
    :func:`embodied_gym.sims.house.generate_house_spec` or load one with :meth:`from_dict`."""

    rooms: list[RoomSpec]
    openings: list[OpeningSpec] = field(default_factory=list)
    furniture: list[FurnitureSpec] = field(default_factory=list)
    objects: list[ObjectSpec] = field(default_factory=list)
    agent_start: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)
    ceiling_texture: str = catalog.CEILING_TEXTURE["train"]
    seed: int | None = None
    style: str = "train"
    version: int = 1

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON tree; numbers of geometric fields are floats, so equal specs give equal
        JSON whether built in code or parsed."""
        d = json.loads(json.dumps(asdict(self)))
        for key in ("rooms", "openings", "furniture", "objects"):
            for item in d[key]:
                for f in ("bounds", "center", "position"):
                    if f in item:
                        item[f] = [float(v) for v in item[f]]
                for f in ("width", "yaw"):
                    if f in item:
                        item[f] = float(item[f])
        d["agent_start"] = [float(v) for v in d["agent_start"]]
        return d

    def to_json(self, indent: int | None = None) -> str:
        """The spec as JSON text (``indent`` as for :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HouseSpec:
        """Build and validate a spec from its dict form; ``ValueError`` names field and value."""
        if not isinstance(data, dict):
            raise ValueError(f"house spec: expected a JSON object, got {type(data).__name__}")
        spec = _parse(cls, data, "")
        spec.validate()
        return spec

    @classmethod
    def from_json(cls, text: str) -> HouseSpec:
        """A validated spec from JSON text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"house spec: invalid JSON: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> HouseSpec:
        """A validated spec from a JSON file."""
        try:
            return cls.from_json(Path(path).read_text())
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc

    def save(self, path: str | Path) -> None:
        """Write the spec as JSON to ``path``."""
        Path(path).write_text(self.to_json(indent=1))

    # -- lookups ---------------------------------------------------------------------------
    def room(self, room_id: str) -> RoomSpec:
        """The room with id ``room_id`` (``KeyError`` if none)."""
        for r in self.rooms:
            if r.id == room_id:
                return r
        raise KeyError(room_id)

    def room_at(self, x: float, z: float) -> RoomSpec | None:
        """The room holding ``(x, z)`` (:func:`~embodied_gym.sims.geometry.room_at`)."""
        return room_at(self.rooms, x, z)

    @property
    def doors(self) -> list[OpeningSpec]:
        """The openings that are doors (not open doorways)."""
        return [o for o in self.openings if o.kind == "door"]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(min_x, min_z, max_x, max_z)`` of all rooms together."""
        return (
            min(r.bounds[0] for r in self.rooms),
            min(r.bounds[1] for r in self.rooms),
            max(r.bounds[2] for r in self.rooms),
            max(r.bounds[3] for r in self.rooms),
        )

    # -- validation ------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field and its value."""
        _check(self.version == 1, "version", self.version, "only version 1 is supported")
        _check(self.style in STYLES, "style", self.style, f"expected one of {STYLES}")
        _check(catalog.texture_exists(self.ceiling_texture), "ceiling_texture", self.ceiling_texture,
               "no such MiniWorld texture")
        _check(1 <= len(self.rooms) <= 16, "rooms", len(self.rooms), "a house has 1 to 16 rooms")
        room_ids: dict[str, RoomSpec] = {}
        for i, r in enumerate(self.rooms):
            p = f"rooms[{i}]"
            _check(isinstance(r.id, str) and r.id and r.id not in room_ids, f"{p}.id", r.id,
                   "room ids must be unique non-empty strings")
            _check(r.kind in catalog.ROOM_KINDS, f"{p}.kind", r.kind, "unknown room kind")
            _check(len(r.bounds) == 4, f"{p}.bounds", r.bounds, "expected [min_x, min_z, max_x, max_z]")
            x0, z0, x1, z1 = r.bounds
            _check(x1 - x0 >= 1.5 and z1 - z0 >= 1.5, f"{p}.bounds", list(r.bounds),
                   "rooms must be at least 1.5 m wide in x and z")
            for f in ("wall_texture", "floor_texture"):
                _check(catalog.texture_exists(getattr(r, f)), f"{p}.{f}", getattr(r, f), "no such MiniWorld texture")
            for j, other in enumerate(self.rooms[:i]):
                _check(not _overlap(r.bounds, other.bounds), f"{p}.bounds", list(r.bounds),
                       f"overlaps rooms[{j}] {list(other.bounds)}")
            room_ids[r.id] = r
        ids: set[int] = set()

        def check_id(p: str, v: Any) -> None:
            _check(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ENTITY_ID, p, v,
                   f"entity ids are integers in 1..{MAX_ENTITY_ID}")
            _check(v not in ids, p, v, "duplicate entity id")
            ids.add(v)

        for i, o in enumerate(self.openings):
            p = f"openings[{i}]"
            _check(o.kind in ("doorway", "door"), f"{p}.kind", o.kind, "expected 'doorway' or 'door'")
            _check(len(o.rooms) == 2 and all(r in room_ids for r in o.rooms) and o.rooms[0] != o.rooms[1],
                   f"{p}.rooms", list(o.rooms), "expected two different room ids of this house")
            _check(0.8 <= o.width <= 3.0, f"{p}.width", o.width, "openings are 0.8 to 3.0 m wide")
            wall = shared_wall(room_ids[o.rooms[0]], room_ids[o.rooms[1]])
            _check(wall is not None, f"{p}.rooms", list(o.rooms), "these rooms share no wall")
            axis, coord, lo, hi = wall  # type: ignore[misc]
            cx, cz = o.center
            along, across = (cz, cx) if axis == "x" else (cx, cz)
            _check(abs(across - coord) < 1e-6 and lo + o.width / 2 <= along + 1e-9 <= hi - o.width / 2 + 2e-9,
                   f"{p}.center", list(o.center), "the opening must lie on the rooms' shared wall")
            if o.kind == "door":
                check_id(f"{p}.id", o.id)
                _check(isinstance(o.name, str) and o.name, f"{p}.name", o.name, "doors need a name")
                _check(catalog.texture_exists(o.texture or ""), f"{p}.texture", o.texture, "no such MiniWorld texture")
            else:
                _check(o.id is None, f"{p}.id", o.id, "doorways have no id")
        for i, f in enumerate(self.furniture):
            p = f"furniture[{i}]"
            check_id(f"{p}.id", f.id)
            _check(f.category in catalog.FURNITURE_CATEGORIES, f"{p}.category", f.category, "unknown furniture category")
            _check(f.room in room_ids, f"{p}.room", f.room, "unknown room id")
            _check(len(f.position) == 2 and room_ids.get(f.room, self.rooms[0]).contains(*f.position),
                   f"{p}.position", list(f.position), f"not inside room {f.room!r}")
            _check(f.yaw % 90 == 0, f"{p}.yaw", f.yaw, "furniture yaw must be a multiple of 90")
            _check(f.color is None or f.color in catalog.COLORS, f"{p}.color", f.color, "unknown colour")
        furn_ids = {f.id: f for f in self.furniture}
        for i, o in enumerate(self.objects):
            p = f"objects[{i}]"
            check_id(f"{p}.id", o.id)
            _check(o.category in catalog.OBJECT_CATEGORIES, f"{p}.category", o.category, "unknown object category")
            cat = catalog.OBJECT_CATEGORIES[o.category]
            _check(o.color in cat.colors, f"{p}.color", o.color, f"{o.category} comes in {', '.join(cat.colors)}")
            _check(o.size in catalog.SIZE_SCALE, f"{p}.size", o.size, f"expected one of {tuple(catalog.SIZE_SCALE)}")
            _check(o.room in room_ids, f"{p}.room", o.room, "unknown room id")
            _check(len(o.position) == 3 and room_ids.get(o.room, self.rooms[0]).contains(o.position[0], o.position[2]),
                   f"{p}.position", list(o.position), f"not inside room {o.room!r}")
            _check(o.on is None or o.on in furn_ids, f"{p}.on", o.on, "not a furniture id of this house")
        names = [o.name for o in self.objects]
        for i, o in enumerate(self.objects):
            _check(isinstance(o.name, str) and o.name and names.count(o.name) == 1, f"objects[{i}].name", o.name,
                   "object names must be unique and non-empty")
        _check(len(self.agent_start) == 5 and all(isinstance(v, (int, float)) for v in self.agent_start),
               "agent_start", list(self.agent_start), "expected [x, y, z, yaw, pitch]")
        _check(self.room_at(self.agent_start[0], self.agent_start[2]) is not None, "agent_start",
               list(self.agent_start), "the start is in no room")


def shared_wall(a: RoomSpec, b: RoomSpec) -> tuple[str, float, float, float] | None:
    """The wall two touching rooms share: ``(axis, coord, lo, hi)`` where ``axis`` ``"x"`` means
    the wall is the line ``x == coord`` for ``z`` in ``[lo, hi]`` (``"z"`` likewise)."""
    ax0, az0, ax1, az1 = a.bounds
    bx0, bz0, bx1, bz1 = b.bounds
    for coord_a, coord_b, axis in ((ax1, bx0, "x"), (ax0, bx1, "x"), (az1, bz0, "z"), (az0, bz1, "z")):
        if abs(coord_a - coord_b) > 1e-6:
            continue
        lo, hi = (max(az0, bz0), min(az1, bz1)) if axis == "x" else (max(ax0, bx0), min(ax1, bx1))
        if hi - lo > 1e-6:
            return (axis, coord_a, lo, hi)
    return None


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] - 1e-6 and b[0] < a[2] - 1e-6 and a[1] < b[3] - 1e-6 and b[1] < a[3] - 1e-6


def _check(ok: Any, path: str, value: Any, why: str) -> None:
    if not ok:
        raise ValueError(f"{path}: {why} (got {value!r})" if "unknown" not in why else f"{path}: {why} {value!r}")


# -- dict -> dataclass with field checking ------------------------------------------------------
_NESTED = {"rooms": RoomSpec, "openings": OpeningSpec, "furniture": FurnitureSpec, "objects": ObjectSpec}
#: JSON type of every scalar or tuple field: str, int, num, bool ("?" = may be null), "nums:N"
#: (N finite numbers; N = "2|3" for either), "strs:N"
_TYPES: dict[type, dict[str, str]] = {
    RoomSpec: {"id": "str", "kind": "str", "name": "str", "bounds": "nums:4", "wall_texture": "str",
               "floor_texture": "str"},
    OpeningSpec: {"rooms": "strs:2", "kind": "str", "center": "nums:2", "width": "num", "id": "int?",
                  "name": "str?", "texture": "str?", "color": "str?", "is_open": "bool"},
    FurnitureSpec: {"id": "int", "category": "str", "name": "str", "room": "str", "position": "nums:2",
                    "yaw": "num", "color": "str?"},
    ObjectSpec: {"id": "int", "category": "str", "color": "str", "size": "str", "name": "str", "room": "str",
                 "position": "nums:3", "yaw": "num", "on": "int?"},
    HouseSpec: {"agent_start": "nums:5", "ceiling_texture": "str", "seed": "int?", "style": "str", "version": "int"},
}


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _typed(kind: str, v: Any, p: str) -> Any:
    if kind.endswith("?"):
        if v is None:
            return None
        kind = kind[:-1]
    if kind == "str" and isinstance(v, str):
        return v
    if kind == "int" and isinstance(v, int) and not isinstance(v, bool):
        return v
    if kind == "num" and _number(v):
        return float(v)
    if kind == "bool" and isinstance(v, bool):
        return v
    if kind.startswith(("nums:", "strs:")) and isinstance(v, (list, tuple)):
        n = int(kind[5:])
        ok = _number if kind.startswith("nums") else (lambda x: isinstance(x, str))
        if len(v) == n and all(ok(x) for x in v):
            return tuple(float(x) for x in v) if kind.startswith("nums") else tuple(v)
    what = {"str": "a string", "int": "an integer", "num": "a finite number", "bool": "true or false"}.get(
        kind, f"a list of {kind[5:]} {'finite numbers' if kind.startswith('nums') else 'strings'}")
    raise ValueError(f"{p}: expected {what} (got {v!r})")


def _parse(cls: type, data: dict[str, Any], prefix: str) -> Any:
    fields = cls.__dataclass_fields__
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{prefix}{unknown[0]}: unknown field in {cls.__name__}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        p = f"{prefix}{name}"
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"{p}: missing required field")
            continue
        v = data[name]
        if cls is HouseSpec and name in _NESTED:
            if not isinstance(v, list):
                raise ValueError(f"{p}: expected a list (got {v!r})")
            items = []
            for i, item in enumerate(v):
                if not isinstance(item, dict):
                    raise ValueError(f"{p}[{i}]: expected an object (got {item!r})")
                items.append(_parse(_NESTED[name], item, f"{p}[{i}]."))
            v = items
        else:
            v = _typed(_TYPES[cls][name], v, p)
        kwargs[name] = v
    return cls(**kwargs)
