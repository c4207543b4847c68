"""The ``thor`` backend: AI2-THOR through the real ``ai2thor.controller.Controller``.

Scenes are iTHOR floor plans (``"FloorPlan1"``...) or ProcTHOR house dicts. Every event comes
with RGB, depth (metres) and instance segmentation from the same render. Actions map to THOR's:

==============  =====================================================================
MoveForward     ``MoveAhead(moveMagnitude=move_step)``; MoveBackward: ``MoveBack``
TurnLeft/Right  ``RotateLeft/RotateRight(degrees=turn_step)``
LookUp/Down     ``LookUp/LookDown(degrees=look_step)`` (THOR allows 30 up, 60 down)
PickObject      ``PickupObject`` of the nearest visible pickable object within reach
DropObject      ``PutObject`` on the nearest visible receptacle within reach, else ``DropHandObject``
OpenDoor        ``OpenObject`` of the nearest visible closed openable (doors first) within reach
Finish          nothing is sent
==============  =====================================================================

A failed THOR action (``lastActionSuccess`` false) is a failed step carrying THOR's
``errorMessage``. A Unity process that dies or does not answer within ``timeout`` seconds is
stopped, started again on the same scene, and reported as
:class:`~embodied_gym.sims.base.InfrastructureError` (the episode is lost, not failed).
Frames are converted in :mod:`.frame` only.
"""

from __future__ import annotations

import inspect
import math
import re
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
from ..instances import with_frame
from ..navigation import OccupancyGrid
from ..pinhole import project_points
from ..remote import RemoteSimulator
from . import frame
from .build import resolve_executable
from .process import ThorProcess, check_controller_kwargs
from .records import ObjectIds, ithor_rooms, object_records, procthor_rooms, segmentation_ids

DEFAULT_SCENE = "FloorPlan1"


class ThorSimulator(ThorProcess, RemoteSimulator):
    """AI2-THOR behind :class:`~embodied_gym.sims.base.Simulator`.

    Defaults: 300 x 300 pixels, vertical field of view 90 degrees, ``move_step`` 0.25 m (THOR's
    ``gridSize``), ``turn_step`` 30 degrees, ``look_step`` 30 degrees, reach 1.5 m (THOR's
    ``visibilityDistance``), ``timeout`` 60 s per Unity answer (``start_timeout`` 300 s to start).
    Any other keyword (``local_executable_path``, ``x_display``, ``platform``, ``gpu_device``,
    ``quality``, ``commit_id``, or an ``Initialize`` parameter such as ``agentMode``) is passed to
    the Controller unchanged; anything else raises ``TypeError`` naming it (other ``Initialize``
    parameters go in ``initialize={...}``). ``platform`` may be given by name
    (``"CloudRendering"``). ``seed`` is accepted for interface compatibility (THOR scenes are
    deterministic).
    """

    name = "thor"
    look_step = 30.0
    max_pitch = 30.0
    camera_height = 1.5759995

    @classmethod
    def check_options(cls, options: Mapping[str, Any], *, where: str = "", extra: Sequence[str] = ()) -> None:
        """Own arguments by name; everything else must be a Controller argument or an
        ``Initialize`` parameter (:func:`~.process.check_controller_kwargs`)."""
        own = set(inspect.signature(cls.__init__).parameters) - {"self", "controller_kwargs"}
        check_controller_kwargs({k: v for k, v in options.items() if k not in own}, where, extra)

    def __init__(self, *, width: int = 300, height: int = 300, move_step: float = 0.25, turn_step: float = 30.0,
                 look_step: float = 30.0, interact_distance: float = 1.5, field_of_view: float = 90.0,
                 timeout: float = 60.0, start_timeout: float = 300.0, seed: int | None = None,
                 initialize: dict[str, Any] | None = None, **controller_kwargs: Any):
        for key, v in (("width", width), ("height", height)):
            if not isinstance(v, int) or v < 16:
                raise ValueError(f"{key}: expected an integer >= 16 (got {v!r})")
        for key, v in (("move_step", move_step), ("turn_step", turn_step), ("look_step", look_step),
                       ("interact_distance", interact_distance), ("field_of_view", field_of_view),
                       ("timeout", timeout), ("start_timeout", start_timeout)):
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{key}: expected a positive number (got {v!r})")
        self.width, self.height = width, height
        self.move_step, self.turn_step, self.look_step = float(move_step), float(turn_step), float(look_step)
        self.grid_size = self.move_step  # GetReachablePositions spacing (THOR gridSize)
        self.grid_size = self.move_step  # GetReachablePositions is asked at gridSize = move_step
        self.interact_distance, self.field_of_view = float(interact_distance), float(field_of_view)
        self.timeout, self.start_timeout = float(timeout), float(start_timeout)
        self.seed = seed
        check_controller_kwargs(controller_kwargs)
        self._kwargs = resolve_executable({**(initialize or {}), **controller_kwargs})
        self._controller: Any = None
        self._scene: Any = None
        self._event: Any = None
        self._ids = ObjectIds()
        self._rooms: list[RoomInfo] = []
        self._nav: tuple[tuple, np.ndarray, OccupancyGrid] | None = None
        self._steps, self._last = 0, (None, True, None)

    # -- scene -----------------------------------------------------------------------------------
    @staticmethod
    def _check_scene(scene: Any) -> Any:
        if isinstance(scene, (int, np.integer)) and not isinstance(scene, bool):
            return f"FloorPlan{int(scene)}"
        if isinstance(scene, str) and scene.strip():
            return re.sub(r"_physics$", "", scene.strip())
        if isinstance(scene, dict) and "rooms" in scene and "objects" in scene:
            return scene
        raise ValueError(f"scene: expected an iTHOR scene name ('FloorPlan1'), a floor plan number or a "
                         f"ProcTHOR house dict with 'rooms' and 'objects' (got {scene!r:.200})")

    def reset(self, scene: Any = None, *, seed: int | None = None) -> Observation:
        scene = self._check_scene(scene if scene is not None else (self._scene or DEFAULT_SCENE))
        if self._controller is None:
            self._scene = scene
            self._start(scene)
        else:
            self._scene = scene
            try:
                self._controller.reset(scene)
            except ValueError:
                raise
            except Exception as exc:
                self._stop()
                raise InfrastructureError(f"AI2-THOR failed to load {scene!r:.80}: {exc}", backend="thor") from exc
        self._after_load()
        return self.observe()

    def _after_load(self) -> None:
        self._event = self._controller.last_event
        self._ids = ObjectIds([m["objectId"] for m in self._event.metadata["objects"]])
        self._nav = None
        self._steps, self._last = 0, (None, True, None)
        meta = self._event.metadata
        if meta.get("cameraPosition"):  # else the class default (the standard agent's eye height)
            self.camera_height = float(meta["cameraPosition"]["y"]) - frame.pose_from_agent(meta["agent"]).y
        if isinstance(self._scene, dict):
            self._rooms = procthor_rooms(self._scene)
        else:
            try:
                self._rooms = ithor_rooms(str(self._scene), self.reachable_positions())
            except (ValueError, RuntimeError):  # a player without GetReachablePositions: no rooms
                self._nav, self._rooms = None, []

    def _require(self) -> Any:
        if self._controller is None or self._event is None:
            self.reset()
        return self._event.metadata

    @property
    def scene(self) -> Any:
        self._require()
        return self._scene

    @property
    def pose(self) -> Pose:
        return frame.pose_from_agent(self._require()["agent"])

    def rooms(self) -> list[RoomInfo]:
        self._require()
        return list(self._rooms)

    # -- observation -------------------------------------------------------------------------------
    def _records(self) -> dict[int, ObjectInfo]:
        return object_records(self._event.metadata, self._ids, self._rooms, self.pose)

    def observe(self) -> Observation:
        self._require()
        e = self._event
        rgb = np.ascontiguousarray(e.frame[:, :, :3], dtype=np.uint8)
        if e.instance_segmentation_frame is not None:
            seg = segmentation_ids(e.instance_segmentation_frame, e.color_to_object_id, self._ids)
        else:
            seg = np.zeros(rgb.shape[:2], dtype=np.int32)
        depth = None if e.depth_frame is None else np.ascontiguousarray(e.depth_frame, dtype=np.float32)
        records = with_frame(self._records(), seg)
        pose = self.pose
        held = next((o.id for o in records.values() if o.held), None)
        room = next((r.id for r in self._rooms if r.contains(pose.x, pose.z)), None)
        name, ok, err = self._last
        return Observation(rgb=rgb, segmentation=seg, objects=records, agent=pose, depth=depth, held_object=held,
                           room=room, last_action=name, last_action_success=ok, error=err, step=self._steps)

    # -- actions -----------------------------------------------------------------------------------
    def _act(self, action: str, **args: Any) -> tuple[bool, str | None]:
        self._event = self._call(action, **args)
        meta = self._event.metadata
        return bool(meta["lastActionSuccess"]), (None if meta["lastActionSuccess"] else f"THOR {action}: {meta['errorMessage']}")

    def _move(self, action: str) -> tuple[bool, str | None]:
        ok, err = self._act(action, moveMagnitude=self.move_step)
        return ok, None if ok else f"blocked ({err})"

    def _do_MoveForward(self) -> tuple[bool, str | None]:
        return self._move("MoveAhead")

    def _do_MoveBackward(self) -> tuple[bool, str | None]:
        return self._move("MoveBack")

    def _do_TurnLeft(self) -> tuple[bool, str | None]:
        return self._act("RotateLeft", degrees=self.turn_step)

    def _do_TurnRight(self) -> tuple[bool, str | None]:
        return self._act("RotateRight", degrees=self.turn_step)

    def _do_LookUp(self) -> tuple[bool, str | None]:
        return self._act("LookUp", degrees=self.look_step)

    def _do_LookDown(self) -> tuple[bool, str | None]:
        return self._act("LookDown", degrees=self.look_step)

    def _do_PickObject(self) -> tuple[bool, str | None]:
        held = next((o for o in self._records().values() if o.held), None)
        if held is not None:
            return False, f"already holding {held.name}"
        cands = self._in_reach(lambda o: o.pickable and not o.held)
        if not cands:
            return False, f"no pickable object in view within {self.interact_distance:g} m"
        return self._act("PickupObject", objectId=self._ids.name(cands[0].id))

    def _do_DropObject(self) -> tuple[bool, str | None]:
        held = next((o for o in self._records().values() if o.held), None)
        if held is None:
            return False, "not holding anything"
        target = self.drop_target()
        if target is not None:  # our reach rule decided; THOR's own visibility test is not asked again
            return self._act("PutObject", objectId=self._ids.name(target), forceAction=True)
        return self._act("DropHandObject")

    def _do_OpenDoor(self) -> tuple[bool, str | None]:
        cands = self._in_reach(lambda o: o.openable and not o.is_open)
        cands.sort(key=lambda o: o.kind != "door")  # doors first, then nearest
        if not cands:
            return False, f"no closed door in view within {self.interact_distance:g} m"
        ok, err = self._act("OpenObject", objectId=self._ids.name(cands[0].id))
        if ok:
            self._nav = None
        return ok, err

    def teleport(self, pose: Pose) -> Observation:
        self._require()
        if not isinstance(pose, Pose):
            pose = Pose.from_list(pose)  # type: ignore[arg-type]
        ok, err = self._act("TeleportFull", **frame.teleport_args(pose))
        self._last = ("Teleport", ok, None if ok else f"Teleport failed: {err}")
        return self.observe()

    def set_object_state(self, object_id: int, *, position: Sequence[float] | None = None,
                         is_open: bool | None = None, held: bool | None = None) -> None:
        self._require()
        rec = self._records().get(int(object_id))
        if rec is None:
            raise ValueError(f"object_id: no object with id {object_id!r} in scene {self._scene!r:.60}")
        name = self._ids.name(rec.id)
        if held is not None and not held and rec.held:  # release first: poses then apply to a free object
            self._checked("DropHandObject", forceAction=True)
        if is_open is not None and bool(is_open) != bool(rec.is_open):
            if not rec.openable:
                raise ValueError(f"is_open: object {object_id} ({rec.name}) is not openable")
            self._checked("OpenObject" if is_open else "CloseObject", objectId=name, forceAction=True)
            self._nav = None
        if position is not None:
            pos = [float(v) for v in position]
            if len(pos) == 2:
                pos = [pos[0], rec.position[1], pos[1]]
            if len(pos) != 3:
                raise ValueError(f"position: expected (x, y, z) or (x, z) (got {list(position)!r})")
            delta = np.subtract(pos, rec.position)
            poses = self._object_poses()
            meta = next(m for m in self._event.metadata["objects"] if m["objectId"] == name)
            x, y, z = frame.position_from_thor(meta["position"])
            for p in poses:
                if p["objectName"] == meta["name"]:
                    p["position"] = frame.position_to_thor(x + delta[0], y + delta[1], z + delta[2])
            self._checked("SetObjectPoses", objectPoses=poses)
        if held and not rec.held:
            current = next((o for o in self._records().values() if o.held), None)
            if current is not None:
                raise ValueError(f"held: already holding object {current.id} ({current.name}); release it first")
            self._checked("PickupObject", objectId=name, forceAction=True)

    def _checked(self, action: str, **args: Any) -> None:
        ok, err = self._act(action, **args)
        if not ok:
            raise ValueError(f"{action} refused by AI2-THOR: {err}")

    def _object_poses(self) -> list[dict[str, Any]]:
        return [{"objectName": m.get("name", m["objectId"]), "position": dict(m["position"]),
                 "rotation": dict(m.get("rotation") or {"x": 0.0, "y": 0.0, "z": 0.0})}
                for m in sorted(self._event.metadata["objects"], key=lambda m: m["objectId"])
                if m.get("pickupable") or m.get("moveable")]

    # -- navigation --------------------------------------------------------------------------------
    def _navigation(self) -> tuple[np.ndarray, OccupancyGrid]:
        key = tuple(sorted((m["objectId"], bool(m.get("isOpen"))) for m in self._event.metadata["objects"]
                           if m.get("openable")))
        if self._nav is None or self._nav[0] != key:
            ev = self._call("GetReachablePositions")
            if not ev.metadata["lastActionSuccess"]:
                raise RuntimeError(f"GetReachablePositions failed: {ev.metadata['errorMessage']}")
            pts = np.array(frame.positions_from_thor(ev.metadata["actionReturn"] or []), dtype=np.float64).reshape(-1, 2)
            self._nav = (key, pts, OccupancyGrid.from_cells(pts, self.move_step))
        return self._nav[1], self._nav[2]

    # -- camera, state, maps -----------------------------------------------------------------------
    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        meta = self._require()
        p = self.pose
        eye = (frame.position_from_thor(meta["cameraPosition"]) if meta.get("cameraPosition")
               else (p.x, p.y + self.camera_height, p.z))
        return project_points(points, eye, p.yaw, p.pitch, float(meta.get("fov", self.field_of_view)),
                              int(meta["screenWidth"]), int(meta["screenHeight"]))

    def snapshot(self) -> SimState:
        meta = self._require()
        held = next((m["objectId"] for m in meta["objects"] if m.get("isPickedUp")), None)
        return SimState("thor", {
            "scene": self._scene, "pose": self.pose.to_list(), "object_poses": self._object_poses(),
            "open": {m["objectId"]: bool(m.get("isOpen")) for m in sorted(meta["objects"], key=lambda m: m["objectId"])
                     if m.get("openable")},
            "held": held, "steps": self._steps, "last": list(self._last),
        })

    def restore(self, state: SimState) -> Observation:
        if not isinstance(state, SimState) or state.backend != "thor":
            raise ValueError(f"state: expected a SimState of backend 'thor' (got {state!r:.120})")
        d = state.data
        if self._controller is None or d["scene"] != self._scene:
            self.reset(d["scene"])
        meta = self._event.metadata
        if any(m.get("isPickedUp") for m in meta["objects"]):
            self._checked("DropHandObject", forceAction=True)
        self._checked("SetObjectPoses", objectPoses=d["object_poses"])
        current = {m["objectId"]: bool(m.get("isOpen")) for m in self._event.metadata["objects"] if m.get("openable")}
        for oid, is_open in d["open"].items():
            if current.get(oid) != is_open:
                self._checked("OpenObject" if is_open else "CloseObject", objectId=oid, forceAction=True)
        self._checked("TeleportFull", **frame.teleport_args(Pose.from_list(d["pose"])), forceAction=True)
        if d["held"] is not None:
            self._checked("PickupObject", objectId=d["held"], forceAction=True)
        self._steps, self._last = int(d["steps"]), tuple(d["last"])  # type: ignore[assignment]
        return self.observe()

    def close(self) -> None:
        self._stop()
        self._event = None
