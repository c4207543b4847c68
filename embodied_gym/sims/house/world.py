"""The house as a mutable world: geometry, collision and entity state (no OpenGL here).

:class:`HouseWorld` turns a :class:`HouseSpec` into wall segments, furniture footprints, doors
and movable objects, answers "can a disc of the agent's radius stand here?" (used both to accept
moves and to build the navigation grid) and keeps the state that actions change: door openness,
object positions, what is held and on which receptacle each object rests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..geometry import free_mask, rect_distances, room_at, segment_distances
from ..navigation import OccupancyGrid
from . import catalog
from .spec import HouseSpec, OpeningSpec, shared_wall

DOOR_THICKNESS = 0.06


@dataclass
class Entity:
    """Runtime record of a furniture piece, door or movable object."""

    id: int
    kind: str  # "object" | "furniture" | "door"
    category: str
    name: str
    color: str | None
    room: str | None
    shape: catalog.Shape
    scale: float
    extents: tuple[float, float, float]  # local (sx, sy, sz)
    pos: np.ndarray  # (x, y, z); for doors the centre of the opening at floor level
    yaw: float = 0.0
    receptacle: bool = False
    top: float = 0.0
    pickable: bool = False
    held: bool = False
    on: int | None = None
    is_open: bool = False
    opening: OpeningSpec | None = None
    axis: str = "x"  # doors: the wall is the line x = const ("x") or z = const ("z")
    swing_negative: bool = True  # doors: rooms[0] lies on the negative side of the wall

    def footprint(self) -> tuple[float, float, float, float]:
        """Axis-aligned ``(x0, z0, x1, z1)`` of the entity on the floor."""
        sx, _, sz = self.extents
        if self.kind == "door":
            assert self.opening is not None
            (ax, az), (bx, bz) = door_segment(self.opening, self.axis)
            t = DOOR_THICKNESS / 2
            return (min(ax, bx) - t, min(az, bz) - t, max(ax, bx) + t, max(az, bz) + t)
        yaw = round(self.yaw) % 180
        if yaw == 90:
            sx, sz = sz, sx
        elif yaw != 0:
            sx = sz = max(sx, sz)
        x, _, z = self.pos
        return (x - sx / 2, z - sz / 2, x + sx / 2, z + sz / 2)

    @property
    def size(self) -> tuple[float, float, float]:
        """World-axis extents ``(x, y, z)`` of the entity (cached per yaw)."""
        cached = self.__dict__.get("_size")
        if cached is not None and cached[0] == (self.yaw, self.is_open):
            return cached[1]
        x0, z0, x1, z1 = self.footprint()
        size = (x1 - x0, self.extents[1] if self.kind != "door" else catalog.OPENING_HEIGHT, z1 - z0)
        self.__dict__["_size"] = ((self.yaw, self.is_open), size)
        return size


def door_segment(o: OpeningSpec, axis: str) -> np.ndarray:
    """The two jamb points ``2 x 2`` ``(x, z)`` of an opening in a wall along ``axis`` (``"x"``:
    the wall is the line ``x = const``); the first point is the door's hinge."""
    cx, cz = o.center
    h = o.width / 2
    if axis == "x":
        return np.array([[cx, cz - h], [cx, cz + h]])
    return np.array([[cx - h, cz], [cx + h, cz]])


def door_transform(door: Entity) -> tuple[tuple[float, float, float], float]:
    """Hinge position and yaw (degrees) of a door panel whose local geometry spans
    ``z in [0, width]`` from the hinge (see ``render.py``). Closed: the panel lies in the
    wall; open: it has swung 90 degrees into ``rooms[0]``."""
    assert door.opening is not None
    hinge = door_segment(door.opening, door.axis)[0]
    if door.axis == "x":
        yaw = 0.0 if not door.is_open else (-90.0 if door.swing_negative else 90.0)
    else:
        yaw = 90.0 if not door.is_open else (180.0 if door.swing_negative else 0.0)
    return (float(hinge[0]), 0.0, float(hinge[1])), yaw


class HouseWorld:
    """Geometry and state of one house. ``agent_radius`` is the collision radius of the agent;
    ``cell`` the navigation grid spacing (metres)."""

    def __init__(self, spec: HouseSpec, agent_radius: float = 0.2, cell: float = 0.25):
        self.spec = spec
        self.agent_radius = float(agent_radius)
        self.cell = float(cell)
        self.rooms = {r.id: r for r in spec.rooms}
        self.room_rects = np.array([r.bounds for r in spec.rooms], dtype=np.float64)
        self.entities: dict[int, Entity] = {}
        self.axes: list[str] = []  # per opening
        swing: list[bool] = []
        for o in spec.openings:
            wall = shared_wall(self.rooms[o.rooms[0]], self.rooms[o.rooms[1]])
            assert wall is not None, o
            self.axes.append(wall[0])
            a = self.rooms[o.rooms[0]].bounds
            centre_a = (a[0] + a[2]) / 2 if wall[0] == "x" else (a[1] + a[3]) / 2
            swing.append(centre_a < wall[1])
        self.walls = self._wall_segments()
        for f in spec.furniture:
            cat = catalog.FURNITURE_CATEGORIES[f.category]
            self.entities[f.id] = Entity(
                id=f.id, kind="furniture", category=f.category, name=f.name, color=f.color or cat.colors[0],
                room=f.room, shape=cat.shape, scale=1.0,
                extents=catalog.shape_extents(cat.shape, 1.0, f.color or cat.colors[0]),
                pos=np.array([f.position[0], 0.0, f.position[1]]), yaw=float(f.yaw),
                receptacle=cat.receptacle, top=cat.top,
            )
        for o, axis, neg in zip(spec.openings, self.axes, swing, strict=False):
            if o.kind != "door":
                continue
            assert o.id is not None
            self.entities[o.id] = Entity(
                id=o.id, kind="door", category="door", name=o.name or "the door", color=o.color,
                room=o.rooms[0], shape=catalog.Shape("door", (DOOR_THICKNESS, catalog.OPENING_HEIGHT, o.width),
                                                     texture=o.texture),
                scale=1.0, extents=(DOOR_THICKNESS, catalog.OPENING_HEIGHT, o.width),
                pos=np.array([o.center[0], 0.0, o.center[1]]), is_open=bool(o.is_open), opening=o,
                axis=axis, swing_negative=neg,
            )
        for ob in spec.objects:
            cat = catalog.OBJECT_CATEGORIES[ob.category]
            scale = catalog.SIZE_SCALE[ob.size]
            self.entities[ob.id] = Entity(
                id=ob.id, kind="object", category=ob.category, name=ob.name, color=ob.color, room=ob.room,
                shape=cat.shape, scale=scale, extents=catalog.shape_extents(cat.shape, scale, ob.color),
                pos=np.array(ob.position, dtype=np.float64), yaw=float(ob.yaw), pickable=True, on=ob.on,
            )
        self.furniture_ids = [f.id for f in spec.furniture]
        self.furniture_rects = np.array([self.entities[i].footprint() for i in self.furniture_ids]).reshape(-1, 4)
        #: receptacle id -> world rect its objects rest on
        self.surfaces = {
            f.id: catalog.surface_rect(f.category, f.position, f.yaw, f.color)
            for f in spec.furniture if catalog.FURNITURE_CATEGORIES[f.category].receptacle
        }
        self.door_ids = [o.id for o in spec.doors]
        self.door_segs = {i: door_segment(self.entities[i].opening, self.entities[i].axis) for i in self.door_ids}
        self.object_ids = [o.id for o in spec.objects]
        self._grids: dict[tuple[bool, ...], OccupancyGrid] = {}

    # -- static geometry -----------------------------------------------------------------------
    def _wall_segments(self) -> np.ndarray:
        segs: list[tuple[tuple[float, float], tuple[float, float]]] = []
        for r in self.spec.rooms:
            x0, z0, x1, z1 = r.bounds
            edges = [("x", x1, z0, z1), ("z", z0, x0, x1), ("x", x0, z0, z1), ("z", z1, x0, x1)]
            for axis, coord, lo, hi in edges:
                cuts = []
                for o, o_axis in zip(self.spec.openings, self.axes, strict=False):
                    if r.id not in o.rooms or o_axis != axis:
                        continue
                    along, across = (o.center[1], o.center[0]) if axis == "x" else (o.center[0], o.center[1])
                    if abs(across - coord) < 1e-6 and lo - 1e-6 <= along <= hi + 1e-6:
                        cuts.append((along - o.width / 2, along + o.width / 2))
                start = lo
                for a, b in sorted(cuts) + [(hi, hi)]:
                    if a - start > 1e-6:
                        segs.append(((coord, start), (coord, a)) if axis == "x" else ((start, coord), (a, coord)))
                    start = max(start, b)
        return np.array(segs, dtype=np.float64).reshape(-1, 2, 2)

    def door_state(self) -> tuple[bool, ...]:
        """Openness of every door, in door-id order (the key of the cached navigation grids)."""
        return tuple(self.entities[i].is_open for i in self.door_ids)

    def blocking_segments(self) -> tuple[np.ndarray, list[int | None]]:
        """Wall segments plus the segments of closed doors, with the door id (or ``None``)."""
        closed = [i for i in self.door_ids if not self.entities[i].is_open]
        segs = [self.walls] + [self.door_segs[i][None] for i in closed]
        owners: list[int | None] = [None] * len(self.walls) + list(closed)
        return np.concatenate(segs, axis=0), owners

    def walkable(self, pts: np.ndarray) -> np.ndarray:
        """Which ``(x, z)`` points (``N x 2``) lie inside some room."""
        r = self.room_rects
        x, z = pts[:, 0:1], pts[:, 1:2]
        return ((x >= r[None, :, 0]) & (x <= r[None, :, 2]) & (z >= r[None, :, 1]) & (z <= r[None, :, 3])).any(axis=1)

    def free(self, pts: np.ndarray) -> np.ndarray:
        """Which ``(x, z)`` points (``N x 2``) can hold the agent."""
        segs, _ = self.blocking_segments()
        return free_mask(pts, self.agent_radius, self.walkable(pts), segs, self.furniture_rects)

    def blocker(self, x: float, z: float) -> str | None:
        """Why the agent cannot stand at ``(x, z)`` (``None`` when it can): ``"a wall"``, a door
        name, a furniture name or ``"the outside"``."""
        p = np.array([[x, z]], dtype=np.float64)
        segs, owners = self.blocking_segments()
        d = segment_distances(p, segs)[0]
        hit = np.nonzero(d < self.agent_radius)[0]
        if len(hit):
            doors = [owners[i] for i in hit if owners[i] is not None]
            return self.entities[doors[0]].name if doors else "a wall"  # type: ignore[index]
        if len(self.furniture_rects):
            fd = rect_distances(p, self.furniture_rects)[0]
            if fd.min() < self.agent_radius:
                return self.entities[self.furniture_ids[int(np.argmin(fd))]].name
        if not self.walkable(p)[0]:
            return "the outside"
        return None

    def grid(self) -> OccupancyGrid:
        """The navigation grid for the current door states (cached)."""
        key = self.door_state()
        if key not in self._grids:
            self._grids[key] = OccupancyGrid.from_predicate(self.spec.bounds, self.cell, self.free)
        return self._grids[key]

    # -- lookups -------------------------------------------------------------------------------
    def room_at(self, x: float, z: float) -> str | None:
        """Id of the room holding ``(x, z)`` (:func:`~embodied_gym.sims.geometry.room_at`)."""
        room = room_at(self.spec.rooms, x, z)
        return None if room is None else room.id

    def receptacle_at(self, x: float, z: float, inset: float = 0.03) -> int | None:
        """Id of the receptacle whose top contains ``(x, z)`` (nearest centre on ties)."""
        best, best_d = None, math.inf
        for i, rect in self.surfaces.items():
            e = self.entities[i]
            if rect[0] + inset <= x <= rect[2] - inset and rect[1] + inset <= z <= rect[3] - inset:
                d = math.hypot(x - e.pos[0], z - e.pos[2])
                if d < best_d:
                    best, best_d = i, d
        return best

    def rest_height(self, x: float, z: float) -> tuple[float, int | None]:
        """Height an object dropped at ``(x, z)`` rests at, and the receptacle id (or ``None``)."""
        rid = self.receptacle_at(x, z)
        return (self.entities[rid].top, rid) if rid is not None else (0.0, None)

    def held_object(self) -> int | None:
        """Id of the object the agent holds, or ``None``."""
        for i in self.object_ids:
            if self.entities[i].held:
                return i
        return None

    # -- state -------------------------------------------------------------------------------
    def state(self) -> dict:
        """The mutable state (doors, object poses, held flags, receptacles, rooms) as JSON-ready data."""
        return {
            "doors": {str(i): self.entities[i].is_open for i in self.door_ids},
            "objects": {
                str(i): {
                    "pos": [float(v) for v in self.entities[i].pos],
                    "yaw": float(self.entities[i].yaw),
                    "held": bool(self.entities[i].held),
                    "on": self.entities[i].on,
                    "room": self.entities[i].room,
                }
                for i in self.object_ids
            },
        }

    def set_state(self, state: dict) -> None:
        """Restore a state captured by :meth:`state`."""
        for k, v in state["doors"].items():
            self.entities[int(k)].is_open = bool(v)
        for k, v in state["objects"].items():
            e = self.entities[int(k)]
            e.pos = np.array(v["pos"], dtype=np.float64)
            e.yaw, e.held, e.on, e.room = float(v["yaw"]), bool(v["held"]), v["on"], v["room"]
