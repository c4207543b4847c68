"""A small scripted scene with a ray-casting renderer, in AI2-THOR's native frame.

This is test support, not product code: it gives the fake Unity player and the fake UnrealCV
server something real to show (pixels, instance colours and depth from one camera model) and
THOR-like rules to enforce, so the backends are tested on geometry, not on canned answers.

Frame (AI2-THOR / Unity): metres, left-handed, ``y`` up; ``rotation`` is the heading in degrees,
clockwise seen from above, ``0`` facing ``+z`` (forward ``(sin r, 0, cos r)``); ``horizon`` is the
camera pitch in degrees, positive looking *down*. The camera has a vertical field of view.

Scene: two rooms (``x < 0.75`` and ``x > 0.75``) joined by a doorway closed by a door; a dining
table with an apple, a counter with a mug, a sofa with a book in the second room.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

AGENT_Y = 0.9009995  # THOR's default agent position y when standing on a floor at y = 0
CAMERA_OFFSET = 0.675  # camera above the agent's position
AGENT_RADIUS = 0.2
WALL_HEIGHT = 2.5
HORIZON_LIMITS = (-30.0, 60.0)  # THOR: at most 30 degrees up, 60 degrees down
BOUNDS = (-2.5, -2.0, 2.5, 2.0)  # (min x, min z, max x, max z) of the walkable floor


@dataclass
class Box:
    """An axis-aligned box: a wall (``object_type is None``) or an object of the scene."""

    name: str  # THOR objectId for objects; a structure name for walls
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    albedo: tuple[int, int, int]
    seg: tuple[int, int, int]
    object_type: str | None = None
    short_name: str = ""
    pickupable: bool = False
    receptacle: bool = False
    openable: bool = False
    is_open: bool = False
    parent: str | None = None
    material: str | None = None
    open_box: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    hidden: bool = False  # not rendered, does not collide (UnrealCV's ``hide``)

    def extent(self) -> tuple[np.ndarray, np.ndarray]:
        if self.openable and self.is_open and self.open_box is not None:
            return np.array(self.open_box[0]), np.array(self.open_box[1])
        return np.array(self.lo), np.array(self.hi)

    @property
    def size(self) -> np.ndarray:
        lo, hi = self.extent()
        return hi - lo


def object_id(kind: str, lo, hi) -> str:
    c = [(a + b) / 2 for a, b in zip(lo, hi, strict=True)]
    return f"{kind}|{c[0]:+06.2f}|{lo[1]:+06.2f}|{c[2]:+06.2f}"


def build_scene() -> list[Box]:
    """The boxes of the scene (walls first, then objects)."""
    walls = [
        ((-2.6, 0, -2.1), (-2.5, WALL_HEIGHT, 2.1)), ((2.5, 0, -2.1), (2.6, WALL_HEIGHT, 2.1)),
        ((-2.6, 0, -2.1), (2.6, WALL_HEIGHT, -2.0)), ((-2.6, 0, 2.0), (2.6, WALL_HEIGHT, 2.1)),
        ((0.7, 0, -2.0), (0.8, WALL_HEIGHT, -0.5)), ((0.7, 0, 0.5), (0.8, WALL_HEIGHT, 2.0)),
        ((0.7, 2.1, -0.5), (0.8, WALL_HEIGHT, 0.5)),  # lintel above the doorway
    ]
    boxes = [Box(f"Wall{i}", lo, hi, (205, 200, 190), (10, 10, 10 + i)) for i, (lo, hi) in enumerate(walls)]

    def obj(kind, lo, hi, albedo, seg, **kw):
        b = Box(object_id(kind, lo, hi), lo, hi, albedo, seg, object_type=kind, **kw)
        b.short_name = f"{kind}_{sum(1 for o in boxes if o.object_type == kind) + 1}"
        boxes.append(b)
        return b

    table = obj("DiningTable", (-1.6, 0.0, 0.8), (-0.6, 0.75, 1.6), (120, 80, 40), (200, 30, 30),
                receptacle=True, material="Wood")
    counter = obj("CounterTop", (-2.4, 0.0, -1.95), (-0.8, 0.9, -1.35), (90, 90, 100), (30, 200, 30),
                  receptacle=True, material="Stone")
    sofa = obj("Sofa", (1.5, 0.0, 1.2), (2.4, 0.45, 1.9), (60, 90, 160), (30, 30, 200),
               receptacle=True, material="Fabric")
    obj("Apple", (-1.24, 0.75, 1.16), (-1.16, 0.83, 1.24), (200, 20, 20), (250, 120, 0),
        pickupable=True, parent=table.name, material="Organic")
    obj("Mug", (-1.25, 0.9, -1.7), (-1.15, 1.0, -1.6), (240, 240, 240), (0, 250, 120),
        pickupable=True, parent=counter.name, material="Ceramic")
    obj("Book", (1.8, 0.45, 1.45), (2.0, 0.5, 1.6), (20, 120, 60), (120, 0, 250),
        pickupable=True, parent=sofa.name, material="Paper")
    obj("Doorway", (0.72, 0.0, -0.5), (0.78, 2.1, 0.5), (150, 110, 70), (250, 250, 0),
        openable=True, material="Wood", open_box=((0.8, 0.0, -0.5), (1.8, 2.1, -0.44)))
    return boxes


def _rect_dist(x: float, z: float, lo: np.ndarray, hi: np.ndarray) -> float:
    dx = max(lo[0] - x, 0.0, x - hi[0])
    dz = max(lo[2] - z, 0.0, z - hi[2])
    return math.hypot(dx, dz)


class World:
    """Scene state and rules; every method mirrors an AI2-THOR action."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.fov = 90.0
        self.grid_size = 0.25
        self.visibility_distance = 1.5
        self.reset()

    def reset(self) -> None:
        self.boxes = build_scene()
        self.by_id = {b.name: b for b in self.boxes if b.object_type}
        self.pos = np.array([-0.5, AGENT_Y, 0.0])
        self.rotation = 90.0
        self.horizon = 0.0
        self.held: str | None = None

    # -- camera and rendering ------------------------------------------------------------------
    @property
    def camera(self) -> np.ndarray:
        return self.pos + np.array([0.0, CAMERA_OFFSET, 0.0])

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, h = math.radians(self.rotation), math.radians(self.horizon)
        forward = np.array([math.sin(r) * math.cos(h), -math.sin(h), math.cos(r) * math.cos(h)])
        right = np.array([math.cos(r), 0.0, -math.sin(r)])
        up = np.array([math.sin(r) * math.sin(h), math.cos(h), math.cos(r) * math.sin(h)])
        return forward, right, up

    def hand_box(self, b: Box) -> tuple[np.ndarray, np.ndarray]:
        r = math.radians(self.rotation)
        c = self.camera + np.array([0.45 * math.sin(r), -0.4, 0.45 * math.cos(r)])
        half = (np.array(b.hi) - np.array(b.lo)) / 2
        return c - half, c + half

    def extent(self, b: Box) -> tuple[np.ndarray, np.ndarray]:
        return self.hand_box(b) if b.name == self.held else b.extent()

    def render(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rgb HxWx3 uint8, instance colours HxWx3 uint8, depth HxW float32 metres)``, rows
        top to bottom, from the agent's camera."""
        w, h = self.width, self.height
        f = (h / 2) / math.tan(math.radians(self.fov) / 2)
        forward, right, up = self.basis()
        a = (np.arange(w) + 0.5 - w / 2) / f
        b = (h / 2 - (np.arange(h) + 0.5)) / f
        d = forward[None, None, :] + a[None, :, None] * right[None, None, :] + b[:, None, None] * up[None, None, :]
        d = d.reshape(-1, 3)
        c = self.camera
        n = len(d)
        safe = np.where(np.abs(d) < 1e-12, 1e-12, d)
        inv = [np.ascontiguousarray(1.0 / safe[:, k]) for k in range(3)]
        rgb = np.zeros((n, 3), dtype=np.float64)
        seg = np.zeros((n, 3), dtype=np.uint8)
        # floor and ceiling planes
        t_floor = np.where(d[:, 1] < 0, -c[1] * inv[1], np.inf)
        t_ceil = np.where(d[:, 1] > 0, (WALL_HEIGHT - c[1]) * inv[1], np.inf)
        hit_f = t_floor < t_ceil
        best = np.minimum(t_floor, t_ceil)
        px = c[0] + best * d[:, 0]
        pz = c[2] + best * d[:, 2]
        checker = ((np.floor(px * 2) + np.floor(pz * 2)) % 2 == 0)[:, None]
        rgb[:] = np.where(hit_f[:, None], np.where(checker, [200, 190, 170], [160, 150, 130]), [235, 235, 235])
        seg[:] = np.where(hit_f[:, None], [1, 2, 3], [4, 5, 6])
        shade = np.array([0.8, 1.0, 0.65])
        for box in self.boxes:
            if box.hidden:
                continue
            lo, hi = self.extent(box)
            near, far = [], []
            for k in range(3):
                a0, a1 = (lo[k] - c[k]) * inv[k], (hi[k] - c[k]) * inv[k]
                near.append(np.minimum(a0, a1))
                far.append(np.maximum(a0, a1))
            tmin = np.maximum(np.maximum(near[0], near[1]), near[2])
            tmax = np.minimum(np.minimum(far[0], far[1]), far[2])
            hit = (tmin <= tmax) & (tmin > 1e-6) & (tmin < best)
            if not hit.any():
                continue
            th = tmin[hit]
            axis = np.where(th == near[0][hit], 0, np.where(th == near[1][hit], 1, 2))
            best[hit] = th
            rgb[hit] = np.array(box.albedo)[None, :] * shade[axis][:, None]
            seg[hit] = box.seg
        depth = best.astype(np.float32).reshape(h, w)  # d has unit component along forward
        return (np.clip(rgb, 0, 255).astype(np.uint8).reshape(h, w, 3), seg.reshape(h, w, 3), depth)

    # -- collisions ----------------------------------------------------------------------------
    def blocker(self, x: float, z: float) -> str | None:
        """Name of what a disc of the agent's radius at ``(x, z)`` would hit (``None``: free)."""
        x0, z0, x1, z1 = BOUNDS
        if not (x0 + AGENT_RADIUS <= x <= x1 - AGENT_RADIUS and z0 + AGENT_RADIUS <= z <= z1 - AGENT_RADIUS):
            return "Wall"
        for b in self.boxes:
            if b.pickupable or b.hidden:
                continue
            lo, hi = b.extent()
            if lo[1] > 1.9:  # above the agent (the lintel)
                continue
            if _rect_dist(x, z, lo, hi) < AGENT_RADIUS - 1e-9:
                return b.short_name or b.name
        return None

    def move(self, magnitude: float) -> tuple[bool, str]:
        r = math.radians(self.rotation)
        dx, dz = magnitude * math.sin(r), magnitude * math.cos(r)
        for k in (0.5, 1.0):
            hit = self.blocker(self.pos[0] + k * dx, self.pos[2] + k * dz)
            if hit:
                return False, f"{hit} is blocking Agent from moving by ({dx:.4f}, 0.0000, {dz:.4f})."
        self.pos = self.pos + np.array([dx, 0.0, dz])
        return True, ""

    def look(self, degrees: float) -> tuple[bool, str]:
        h = self.horizon + degrees
        lo, hi = HORIZON_LIMITS
        if not lo - 1e-6 <= h <= hi + 1e-6:
            return False, f"can't look beyond the horizon limits [{lo}, {hi}] (requested {h})"
        self.horizon = h
        return True, ""

    def teleport(self, position: dict, rotation: float, horizon: float) -> tuple[bool, str]:
        x, z = float(position["x"]), float(position["z"])
        hit = self.blocker(x, z)
        if hit:
            return False, f"Teleport failed: {hit} is in the way at ({x:.3f}, {z:.3f}) or it is off the floor"
        if not HORIZON_LIMITS[0] - 1e-6 <= horizon <= HORIZON_LIMITS[1] + 1e-6:
            return False, f"Teleport failed: horizon {horizon} out of range"
        self.pos = np.array([x, float(position.get("y", AGENT_Y)), z])
        self.rotation = float(rotation) % 360.0
        self.horizon = float(horizon)
        return True, ""

    def reachable(self) -> list[dict]:
        g = self.grid_size
        start = (round(self.pos[0] / g), round(self.pos[2] / g))
        seen, todo, out = {start}, [start], []
        while todo:
            i, k = todo.pop()
            if self.blocker(i * g, k * g):
                continue
            out.append((i, k))
            for di, dk in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                n = (i + di, k + dk)
                if n not in seen and abs(n[0] * g) < 10 and abs(n[1] * g) < 10:
                    seen.add(n)
                    todo.append(n)
        return [{"x": i * g, "y": float(self.pos[1]), "z": k * g} for i, k in sorted(out)]

    # -- objects -------------------------------------------------------------------------------
    def center(self, b: Box) -> np.ndarray:
        lo, hi = self.extent(b)
        return (lo + hi) / 2

    def visible_ids(self, seg: np.ndarray) -> set[str]:
        s = seg.reshape(-1, 3).astype(np.uint32)
        present = set(np.unique((s[:, 0] << 16) | (s[:, 1] << 8) | s[:, 2]).tolist())
        return {b.name for b in self.by_id.values() if (b.seg[0] << 16 | b.seg[1] << 8 | b.seg[2]) in present
                and np.linalg.norm(self.center(b) - self.camera) <= self.visibility_distance}

    def pickup(self, oid: str, visible: set[str], force: bool = False) -> tuple[bool, str]:
        b = self.by_id.get(oid)
        if b is None:
            return False, f"Object ID appears to be invalid: {oid}"
        if self.held is not None:
            return False, "Agent's hand is already holding an object"
        if not b.pickupable:
            return False, f"{oid} is not a pickupable object"
        if not force and oid not in visible:
            return False, f"{oid} is not interactable and (perhaps it is occluded by something)."
        self.held, b.parent = oid, None
        return True, ""

    def _rest(self, x: float, z: float, exclude: str) -> tuple[float, str | None]:
        best, parent = 0.0, None
        for b in self.by_id.values():
            if b.name == exclude or not b.receptacle:
                continue
            lo, hi = b.extent()
            if lo[0] <= x <= hi[0] and lo[2] <= z <= hi[2] and hi[1] > best:
                best, parent = float(hi[1]), b.name
        return best, parent

    def _place(self, b: Box, x: float, y: float, z: float) -> None:
        c = (np.array(b.lo) + np.array(b.hi)) / 2
        if (float(c[0]), float(b.lo[1]), float(c[2])) == (x, y, z):
            return  # already there (re-placing would only add rounding noise)
        half = (np.array(b.hi) - np.array(b.lo)) / 2
        b.lo = (x - half[0], y, z - half[2])
        b.hi = (x + half[0], y + 2 * half[1], z + half[2])

    def put(self, receptacle: str, visible: set[str], force: bool = False) -> tuple[bool, str]:
        if self.held is None:
            return False, "No object held."
        r = self.by_id.get(receptacle)
        if r is None or not r.receptacle:
            return False, f"{receptacle} is not a receptacle"
        if not force and receptacle not in visible:
            return False, f"{receptacle} is not visible or out of reach"
        b = self.by_id[self.held]
        lo, hi = r.extent()
        half = (np.array(b.hi) - np.array(b.lo)) / 2
        x = float(np.clip(self.pos[0], lo[0] + half[0] + 0.05, hi[0] - half[0] - 0.05))
        z = float(np.clip(self.pos[2], lo[2] + half[2] + 0.05, hi[2] - half[2] - 0.05))
        self._place(b, x, float(hi[1]), z)
        b.parent, self.held = receptacle, None
        return True, ""

    def drop(self) -> tuple[bool, str]:
        if self.held is None:
            return False, "Agent is not holding any object"
        b = self.by_id[self.held]
        lo, hi = self.hand_box(b)
        x, z = float((lo[0] + hi[0]) / 2), float((lo[2] + hi[2]) / 2)
        y, parent = self._rest(x, z, b.name)
        self._place(b, x, y, z)
        b.parent, self.held = parent, None
        return True, ""

    def set_open(self, oid: str, is_open: bool, visible: set[str], force: bool = False) -> tuple[bool, str]:
        b = self.by_id.get(oid)
        if b is None or not b.openable:
            return False, f"{oid} is not an openable object"
        if not force and oid not in visible:
            return False, f"{oid} is not interactable"
        if b.is_open == is_open:
            return False, f"{oid} is already {'open' if is_open else 'closed'}"
        b.is_open = is_open
        if self.blocker(self.pos[0], self.pos[2]) == b.short_name:
            b.is_open = not is_open
            return False, f"{oid} is blocked by the agent"
        return True, ""

    def set_poses(self, poses: list[dict]) -> tuple[bool, str]:
        by_name = {b.short_name: b for b in self.by_id.values()}
        for p in poses:
            b = by_name.get(p["objectName"])
            if b is None:
                return False, f"no object named {p['objectName']}"
            pos = p["position"]
            self._place(b, float(pos["x"]), float(pos["y"]), float(pos["z"]))
            b.parent = self._rest(float(pos["x"]), float(pos["z"]), b.name)[1]
            if b.name == self.held:
                self.held = None
        return True, ""
