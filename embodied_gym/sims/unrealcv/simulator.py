"""The ``unrealcv`` backend: a running Unreal level through the real ``unrealcv`` client.

The agent is UnrealCV camera ``camera`` (default 0). Per action:

==============  ======================================================================
MoveForward     ``vset /camera/C/moveto`` ``move_step`` ahead (sweeps, stops at collisions);
                a move cut short is undone and fails; MoveBackward likewise
TurnLeft/Right  ``vset /camera/C/rotation`` with the yaw changed by ``turn_step``
LookUp/Down     the pitch changed by ``look_step`` (within ``max_pitch``)
PickObject      the nearest visible pickable actor within reach is hidden and held
DropObject      the held actor is moved ``0.6 m`` ahead (onto a receptacle there, else the
                floor) and shown again
OpenDoor        the nearest visible closed door actor within reach turns 90 degrees
Finish          nothing is sent
==============  ======================================================================

Observations: ``lit png`` (RGB), ``object_mask png`` (instance ids, one per actor of
``vget /objects`` with mask pixels), ``depth npy`` (centimetres -> metres). Unreal units are
converted in :mod:`embodied_gym.sims.unreal_frame` only. Navigable positions are probed with
``moveto`` on a grid of ``nav_cell`` metres from the start pose (UnrealCV exposes no navmesh);
teleports are refused off that grid. A server that stops answering within ``timeout`` seconds or
drops the connection raises :class:`~embodied_gym.sims.base.InfrastructureError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..base import (
    InfrastructureError,
    ObjectInfo,
    Observation,
    Pose,
    RoomInfo,
    SimState,
)
from ..geometry import drop_ray, surface_at
from ..instances import with_frame
from ..navigation import OccupancyGrid
from ..pinhole import project_points
from ..remote import RemoteSimulator
from ..unreal_frame import (
    distance_to_unreal,
    location_from_unreal,
    location_to_unreal,
)
from . import objects as uobj
from .connection import Connection
from .presets import PRESETS, StepPreset
from .probe import probe_reachable
from .server import ServerState


class UnrealCVSimulator(ServerState, RemoteSimulator):
    """A running UnrealCV level behind :class:`~embodied_gym.sims.base.Simulator`.

    ``address``: ``(host, port)`` or ``"host:port"`` (default ``$UNREALCV_ADDRESS`` or
    ``127.0.0.1:9000``); ``preset``: a key of :data:`PRESETS` (``move_step``/``turn_step``/
    ``look_step`` override it); ``camera_height``: metres of the camera above the floor
    (``Pose.y`` is the floor); ``nav_cell``/``nav_extent``: the probe grid's spacing and
    half-width (metres); ``kinds``/``pickable_size``/``receptacle_height``: see :mod:`.objects`;
    ``retries``/``retry_delay``: connection attempts; ``timeout``: seconds per request.
    ``width``/``height`` ask the server for that size (``vset /camera/C/size``) when given;
    the frames' real size is what the attributes report. ``seed`` is accepted and unused.
    """

    name = "unrealcv"
    max_pitch = 60.0

    def __init__(self, *, address: tuple[str, int] | str | None = None, camera: int = 0, preset: str = "embrace3k",
                 move_step: float | None = None, turn_step: float | None = None, look_step: float | None = None,
                 interact_distance: float = 1.5, camera_height: float = 1.5, nav_cell: float = 0.5,
                 nav_extent: float = 30.0, kinds: Mapping[str, str] | None = None, pickable_size: float = 0.5,
                 receptacle_height: float = 1.2, width: int | None = None, height: int | None = None,
                 retries: int = 5, retry_delay: float = 1.0, timeout: float = 30.0, seed: int | None = None):
        if preset not in PRESETS:
            raise ValueError(f"preset: expected one of {', '.join(PRESETS)} (got {preset!r})")
        p = PRESETS[preset]
        self.preset = preset
        self.move_step = float(move_step if move_step is not None else p.move_step)
        self.turn_step = float(turn_step if turn_step is not None else p.turn_step)
        self.look_step = float(look_step if look_step is not None else p.look_step)
        for key, v in (("move_step", self.move_step), ("turn_step", self.turn_step), ("look_step", self.look_step),
                       ("interact_distance", interact_distance), ("camera_height", camera_height),
                       ("nav_cell", nav_cell), ("nav_extent", nav_extent), ("timeout", timeout)):
            if not math.isfinite(float(v)) or float(v) <= 0:
                raise ValueError(f"{key}: expected a positive number (got {v!r})")
        self.camera, self.interact_distance = int(camera), float(interact_distance)
        self.camera_height, self.nav_cell, self.nav_extent = float(camera_height), float(nav_cell), float(nav_extent)
        self.grid_size = self.nav_cell
        self.grid_size = self.nav_cell
        self._kind_args = (float(pickable_size), float(receptacle_height), dict(kinds or {}))
        self.seed = seed
        self.conn = Connection(address, retries=retries, retry_delay=retry_delay, timeout=timeout)
        if width is not None and height is not None:
            self.conn.request(f"vset /camera/{self.camera}/size {int(width)} {int(height)}")
        self.width, self.height = int(width or 0), int(height or 0)
        self._actors: dict[str, uobj.Actor] = {}
        self._initial: dict[str, Any] | None = None
        self._start: Pose | None = None
        self._pose: Pose | None = None
        self._held: str | None = None
        self._nav: tuple[tuple, np.ndarray, Any] | None = None
        self._steps, self._last = 0, (None, True, None)

    # -- scene -----------------------------------------------------------------------------------
    def reset(self, scene: Any = None, *, seed: int | None = None) -> Observation:
        if self._initial is None:
            self._pose = self._server_pose()
            self._load_actors()
            self._initial = {"pose": self._pose.to_list(), "objects": self._movable_state()}
        start = Pose.from_list(self._initial["pose"])
        if isinstance(scene, Mapping) and scene.get("start") is not None:
            start = Pose.from_list(scene["start"])
        elif scene is not None and not isinstance(scene, (str, Mapping)):
            raise ValueError(f"scene: expected None (the running level), a level name or "
                             f"{{'level': ..., 'start': [x, y, z, yaw, pitch]}} (got {scene!r:.120})")
        self._held = None
        self._apply_movable_state(self._initial["objects"])
        self._set_pose(start)
        self._start = start
        self._steps, self._last = 0, (None, True, None)
        return self.observe()

    def _require(self) -> None:
        if self._start is None:
            self.reset()

    @property
    def scene(self) -> dict[str, Any]:
        self._require()
        return {"level": None, "start": self._start.to_list()}  # type: ignore[union-attr]

    @property
    def pose(self) -> Pose:
        self._require()
        return self._pose  # type: ignore[return-value]

    def rooms(self) -> list[RoomInfo]:
        """One room: the extent of the probed navigable grid (UnrealCV reports no rooms)."""
        pts = self.reachable_positions()
        if len(pts) == 0:
            return []
        (x0, z0), (x1, z1) = pts.min(axis=0), pts.max(axis=0)
        return [RoomInfo("room0", "room", "room", (float(x0) - 0.5, float(z0) - 0.5, float(x1) + 0.5, float(z1) + 0.5))]

    # -- observation -----------------------------------------------------------------------------
    def _hand(self) -> tuple[float, float, float]:
        p = self._pose
        fx, _, fz = p.forward  # type: ignore[union-attr]
        return (p.x + 0.4 * fx, p.y + self.camera_height - 0.4, p.z + 0.4 * fz)  # type: ignore[union-attr]

    def _records(self) -> dict[int, ObjectInfo]:
        return uobj.records(self._actors, self._pose, [], self._held, self._hand())  # type: ignore[arg-type]

    def observe(self) -> Observation:
        self._require()
        server = self._server_pose()
        p = self._pose
        if math.dist(server.position, p.position) > 0.01 or abs((server.yaw - p.yaw + 180) % 360 - 180) > 0.01:
            self._pose = server  # the level moved the camera: the server is right
        lit, mask, depth = self.conn.batch(["vget " + self._cam(v) for v in ("lit png", "object_mask png", "depth npy")])
        rgb = Connection.png(lit, "lit png")
        seg = uobj.segmentation_ids(Connection.png(mask, "object_mask png"), self._actors)
        try:
            depth_m = (Connection.npy(depth, "depth npy").astype(np.float32) / distance_to_unreal(1.0)).reshape(rgb.shape[:2])
        except (RuntimeError, ValueError):  # a server without depth
            depth_m = None
        self.height, self.width = rgb.shape[:2]
        recs = with_frame(self._records(), seg)
        name, ok, err = self._last
        held = self._actors[self._held].id if self._held else None
        return Observation(rgb=rgb, segmentation=seg, objects=recs, agent=self._pose, depth=depth_m, held_object=held,
                           room=None, last_action=name, last_action_success=ok, error=err, step=self._steps)

    # -- actions ---------------------------------------------------------------------------------
    def _move(self, sign: float) -> tuple[bool, str | None]:
        p = self._pose
        fx, _, fz = p.forward  # type: ignore[union-attr]
        target = p.with_(x=p.x + sign * self.move_step * fx, z=p.z + sign * self.move_step * fz)  # type: ignore[union-attr]
        loc = location_to_unreal(target.x, target.y + self.camera_height, target.z)
        reply = self.conn.batch([f"vset {self._cam('moveto')} {loc[0]:.4f} {loc[1]:.4f} {loc[2]:.4f}",
                                 "vget " + self._cam("location")])
        got = location_from_unreal([float(v) for v in str(reply[1]).split()])
        if math.hypot(got[0] - target.x, got[2] - target.z) <= 0.01:
            self._pose = target
            return True, None
        moved = math.hypot(got[0] - p.x, got[2] - p.z)  # type: ignore[union-attr]
        self._set_pose(p)  # type: ignore[arg-type]
        return False, f"blocked after {moved:.2f} of {self.move_step:g} m (collision)"

    def _do_MoveForward(self) -> tuple[bool, str | None]:
        return self._move(1.0)

    def _do_MoveBackward(self) -> tuple[bool, str | None]:
        return self._move(-1.0)

    def _rotate(self, dyaw: float, dpitch: float) -> tuple[bool, str | None]:
        p = self._pose
        pitch = p.pitch + dpitch  # type: ignore[union-attr]
        if abs(pitch) > self.max_pitch + 1e-9:
            return False, f"pitch {pitch:g} would exceed +-{self.max_pitch:g} degrees"
        self._set_pose(p.with_(yaw=(p.yaw + dyaw) % 360.0, pitch=pitch))  # type: ignore[union-attr]
        return True, None

    def _do_TurnLeft(self) -> tuple[bool, str | None]:
        return self._rotate(self.turn_step, 0.0)

    def _do_TurnRight(self) -> tuple[bool, str | None]:
        return self._rotate(-self.turn_step, 0.0)

    def _do_LookUp(self) -> tuple[bool, str | None]:
        return self._rotate(0.0, self.look_step)

    def _do_LookDown(self) -> tuple[bool, str | None]:
        return self._rotate(0.0, -self.look_step)

    def _name(self, oid: int) -> str:
        return next(n for n, a in self._actors.items() if a.id == oid)

    def _do_PickObject(self) -> tuple[bool, str | None]:
        if self._held is not None:
            return False, f"already holding {uobj.category_of(self._held)}"
        cands = self._in_reach(lambda o: o.pickable)
        if not cands:
            return False, f"no pickable object in view within {self.interact_distance:g} m"
        name = self._name(cands[0].id)
        self.conn.text(f"vset /object/{name}/hide")
        self._actors[name].hidden, self._held = True, name
        return True, None

    def _place(self, name: str, base: Sequence[float]) -> None:
        """Move actor ``name`` so that the base centre of its bounds lands on ``base``."""
        a = self._actors[name]
        loc = self.conn.floats(f"vget /object/{name}/location", 3)
        delta = location_to_unreal(*np.subtract(base, a.base))
        self.conn.text(f"vset /object/{name}/location " + " ".join(f"{v + d:.4f}" for v, d in zip(loc, delta, strict=True)))
        self._refresh(name)

    def _do_DropObject(self) -> tuple[bool, str | None]:
        """Onto the receptacle top the heading ray meets within reach, else the floor 0.6 m ahead."""
        if self._held is None:
            return False, "not holding anything"
        p = self._pose
        tops = self.surfaces()
        hit = drop_ray(p, self.interact_distance, lambda x, z: surface_at(tops, x, z))  # type: ignore[arg-type]
        if hit is not None:
            x, z, rid = hit
            base = (x, self._actors[self._name(rid)].hi[1], z)
        else:
            fx, _, fz = p.forward  # type: ignore[union-attr]
            base = (p.x + 0.6 * fx, p.y, p.z + 0.6 * fz)  # type: ignore[union-attr]
        name = self._held
        self._place(name, base)
        self.conn.text(f"vset /object/{name}/show")
        self._actors[name].hidden, self._held = False, None
        return True, None

    def _turn_door(self, name: str, is_open: bool) -> None:
        rot = self.conn.floats(f"vget /object/{name}/rotation", 3)
        rot[1] += 90.0 if is_open else -90.0
        self.conn.text(f"vset /object/{name}/rotation {rot[0]:.4f} {rot[1]:.4f} {rot[2]:.4f}")
        self._actors[name].is_open = is_open
        self._refresh(name)
        self._nav = None

    def _do_OpenDoor(self) -> tuple[bool, str | None]:
        cands = self._in_reach(lambda o: o.kind == "door" and not o.is_open)
        if not cands:
            return False, f"no closed door in view within {self.interact_distance:g} m"
        self._turn_door(self._name(cands[0].id), True)
        return True, None

    def teleport(self, pose: Pose) -> Observation:
        self._require()
        if not isinstance(pose, Pose):
            pose = Pose.from_list(pose)  # type: ignore[arg-type]
        _, grid = self._navigation()
        if grid.nearest_free(pose.x, pose.z, 0.6 * self.nav_cell) is None:
            self._last = ("Teleport", False, f"Teleport failed: ({pose.x:.2f}, {pose.z:.2f}) is not on the navigable grid")
        elif abs(pose.pitch) > self.max_pitch + 1e-9:
            self._last = ("Teleport", False, f"Teleport failed: pitch {pose.pitch:g} exceeds +-{self.max_pitch:g}")
        else:
            self._set_pose(pose.with_(y=self._start.y))  # type: ignore[union-attr]
            self._last = ("Teleport", True, None)
        return self.observe()

    def set_object_state(self, object_id: int, *, position: Sequence[float] | None = None,
                         is_open: bool | None = None, held: bool | None = None) -> None:
        self._require()
        if not any(a.id == int(object_id) for a in self._actors.values()):
            raise ValueError(f"object_id: no actor with id {object_id!r} in this level")
        name = self._name(int(object_id))
        a = self._actors[name]
        if is_open is not None and bool(is_open) != bool(a.is_open):
            if a.kind != "door":
                raise ValueError(f"is_open: actor {object_id} ({name}) is not a door")
            self._turn_door(name, bool(is_open))
        if position is not None:
            pos = [float(v) for v in position]
            pos = [pos[0], a.lo[1], pos[1]] if len(pos) == 2 else pos
            if len(pos) != 3:
                raise ValueError(f"position: expected (x, y, z) or (x, z) (got {list(position)!r})")
            self._place(name, pos)
        if held is not None and bool(held) != (self._held == name):
            if held and self._held is not None:
                raise ValueError(f"held: already holding {self._held}; release it first")
            self.conn.text(f"vset /object/{name}/{'hide' if held else 'show'}")
            a.hidden, self._held = bool(held), (name if held else None)

    # -- navigation ------------------------------------------------------------------------------
    def _navigation(self):
        key = tuple(sorted((n, bool(a.is_open)) for n, a in self._actors.items() if a.kind == "door"))
        if self._nav is None or self._nav[0] != key:
            pts = probe_reachable(self, self._start, self.nav_cell, self.nav_extent)  # type: ignore[arg-type]
            self._nav = (key, pts, OccupancyGrid.from_cells(pts, self.nav_cell))
        return self._nav[1], self._nav[2]

    # -- camera, state, maps ---------------------------------------------------------------------
    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unreal's ``fov`` is horizontal; the vertical one follows from the frame's aspect."""
        self._require()
        hfov = self._floats_or("vget " + self._cam("fov"), 1, 90.0)[0]  # UnrealCV's default when unknown
        vfov = math.degrees(2 * math.atan(math.tan(math.radians(hfov) / 2) * self.height / self.width))
        p = self._pose
        eye = (p.x, p.y + self.camera_height, p.z)  # type: ignore[union-attr]
        return project_points(points, eye, p.yaw, p.pitch, vfov, self.width, self.height)  # type: ignore[union-attr]

    def snapshot(self) -> SimState:
        self._require()
        return SimState("unrealcv", {"scene": self.scene, "pose": self._pose.to_list(), "held": self._held,  # type: ignore[union-attr]
                                     "objects": self._movable_state(), "steps": self._steps, "last": list(self._last)})

    def restore(self, state: SimState) -> Observation:
        if not isinstance(state, SimState) or state.backend != "unrealcv":
            raise ValueError(f"state: expected a SimState of backend 'unrealcv' (got {state!r:.120})")
        self._require()
        d = state.data
        self._start = Pose.from_list(d["scene"]["start"])
        self._apply_movable_state(d["objects"])
        self._held = d["held"]
        self._set_pose(Pose.from_list(d["pose"]))
        self._steps, self._last = int(d["steps"]), tuple(d["last"])  # type: ignore[assignment]
        return self.observe()

    def close(self) -> None:
        self.conn.close()


__all__ = ["PRESETS", "InfrastructureError", "StepPreset", "UnrealCVSimulator"]
