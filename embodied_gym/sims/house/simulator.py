"""HouseSimulator: the ``house`` backend (procedural houses on Farama MiniWorld)."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..base import Observation, Pose, RoomInfo, SimState, Simulator, check_action, pose_xz
from . import interact, render
from .camera import HouseCamera
from .generate import generate_house_spec
from .scene import SceneGL
from .spec import HouseSpec
from .topdown import draw_top_down
from .world import HouseWorld

_SCENE_CACHE = 8


class HouseSimulator(HouseCamera, Simulator):
    """Procedural multi-room houses rendered headless (EGL) with exact instance segmentation.

    Defaults (all constructor keyword arguments):

    * ``width`` x ``height`` = 320 x 240 pixels, vertical field of view ``fov_y`` = 60 degrees,
      camera ``camera_height`` = 1.2 m above the floor;
    * ``move_step`` = 0.25 m per MoveForward/MoveBackward, ``turn_step`` = 30 degrees per
      TurnLeft/TurnRight, ``look_step`` = 15 degrees per LookUp/LookDown, pitch limited to
      +-``max_pitch`` = 60 degrees;
    * ``interact_distance`` = 1.5 m: PickObject takes the nearest pickable object whose
      ``distance`` is within it *and* that has pixels in the current frame's segmentation;
      OpenDoor opens the nearest closed door within it that is in view; DropObject puts the held
      object on the first receptacle top the heading ray meets within it, else on the floor
      0.5 m ahead;
    * ``agent_radius`` = 0.2 m collision disc (walls, closed doors and furniture block; objects
      do not); ``nav_cell`` = 0.25 m navigation grid;
    * ``depth`` = False (set True to get ``Observation.depth``: metres along the camera axis).

    ``seed``, ``n_rooms``, ``style`` and ``categories`` are passed to
    :func:`generate_house_spec` when a scene is given as a seed. The first ``reset`` happens
    lazily (any query before it loads the house of ``seed``).
    """

    name = "house"
    exact_navigable = True

    def __init__(
        self,
        seed: int = 0,
        width: int = 320,
        height: int = 240,
        *,
        move_step: float = 0.25,
        turn_step: float = 30.0,
        look_step: float = 15.0,
        interact_distance: float = 1.5,
        fov_y: float = 60.0,
        camera_height: float = 1.2,
        agent_radius: float = 0.2,
        max_pitch: float = 60.0,
        nav_cell: float = 0.25,
        depth: bool = False,
        n_rooms: int | None = None,
        style: str = "train",
        categories: Sequence[str] | None = None,
    ):
        for name, v in (("width", width), ("height", height)):
            if not isinstance(v, (int, np.integer)) or not 8 <= int(v) <= 4096:
                raise ValueError(f"{name}: expected an integer in 8..4096 (got {v!r})")
        for name, v in (("move_step", move_step), ("turn_step", turn_step), ("look_step", look_step),
                        ("interact_distance", interact_distance), ("fov_y", fov_y), ("camera_height", camera_height),
                        ("agent_radius", agent_radius), ("nav_cell", nav_cell)):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: expected a positive number (got {v!r})")
        self.seed = int(seed)
        self.width, self.height = int(width), int(height)
        self.move_step, self.turn_step, self.look_step = float(move_step), float(turn_step), float(look_step)
        self.interact_distance = float(interact_distance)
        self.fov_y, self.camera_height = float(fov_y), float(camera_height)
        self.agent_radius, self.max_pitch, self.nav_cell = float(agent_radius), float(max_pitch), float(nav_cell)
        self.grid_size = self.nav_cell
        self.depth = bool(depth)
        self.gen_kwargs = {"n_rooms": n_rooms, "style": style, "categories": categories}
        self._proj = render.projection_matrix(self.fov_y, self.width / self.height)
        self._fb: render.FrameBuffer | None = None
        self._scenes: OrderedDict[str, tuple[SceneGL, dict]] = OrderedDict()
        self._specs: OrderedDict[int, HouseSpec] = OrderedDict()
        self._world: HouseWorld | None = None
        self._scene_gl: SceneGL | None = None
        self._spec_key = ""
        self._pose = Pose(0.0, 0.0, 0.0)
        self._steps = 0
        self._last: tuple[str | None, bool, str | None] = (None, True, None)
        self._frame: tuple | None = None  # (rgb, seg, depth, counts, boxes) of the current state
        self._frame_fresh = False
        self._finished = False

    # -- scene -----------------------------------------------------------------------------------
    def _spec_from(self, scene: Any, seed: int | None) -> HouseSpec:
        if scene is None:
            scene = self.seed if seed is None else seed
        if isinstance(scene, HouseSpec):
            scene.validate()
            return scene
        if isinstance(scene, dict):
            return HouseSpec.from_dict(scene)
        if isinstance(scene, (str, Path)):
            text = str(scene)
            return HouseSpec.from_json(text) if text.lstrip().startswith("{") else HouseSpec.load(text)
        if isinstance(scene, (int, np.integer)) and not isinstance(scene, bool):
            key = int(scene)
            if key not in self._specs:
                self._specs[key] = generate_house_spec(key, **self.gen_kwargs)  # type: ignore[arg-type]
                while len(self._specs) > 64:
                    self._specs.popitem(last=False)
            return self._specs[key]
        raise ValueError(f"scene: expected a HouseSpec, its dict/JSON, a path or an int seed (got {scene!r})")

    @render.gl_session
    def reset(self, scene: Any = None, *, seed: int | None = None) -> Observation:
        spec = self._spec_from(scene, seed)
        key = spec.to_json()
        if self._fb is None:
            self._fb = render.FrameBuffer(self.width, self.height)
        world = HouseWorld(spec, agent_radius=self.agent_radius, cell=self.nav_cell)
        if key in self._scenes:
            self._scenes.move_to_end(key)
            scene_gl, grids = self._scenes[key]
        else:
            scene_gl, grids = SceneGL(world), {}
            self._scenes[key] = (scene_gl, grids)
            while len(self._scenes) > _SCENE_CACHE:
                old, _ = self._scenes.popitem(last=False)[1]
                old.delete()
        world._grids = grids  # navigation grids depend only on the spec and the door states
        self._world, self._scene_gl, self._spec_key = world, scene_gl, key
        self._pose = Pose(*spec.agent_start)
        self._steps, self._last, self._finished, self._frame = 0, (None, True, None), False, None
        return self.observe()

    def _w(self) -> HouseWorld:
        if self._world is None:
            self.reset()
        assert self._world is not None
        return self._world

    @property
    def scene(self) -> dict[str, Any]:
        return self._w().spec.to_dict()

    @property
    def spec(self) -> HouseSpec:
        return self._w().spec

    @property
    def world(self) -> HouseWorld:
        return self._w()

    @property
    def pose(self) -> Pose:
        self._w()
        return self._pose

    @property
    def finished(self) -> bool:
        """Whether ``Finish`` was called since the last reset."""
        return self._finished

    def rooms(self) -> list[RoomInfo]:
        return [RoomInfo(r.id, r.kind, r.name, tuple(r.bounds)) for r in self._w().spec.rooms]  # type: ignore[arg-type]

    # -- actions ---------------------------------------------------------------------------------
    @render.gl_session
    def step(self, action: str | int) -> Observation:
        name = check_action(action)
        world = self._w()
        self._steps += 1
        ok, err = getattr(self, "_do_" + name)(world)
        self._last = (name, ok, None if ok else f"{name} failed: {err}")
        return self.observe()

    def _changed(self) -> None:
        self._frame = None

    def _move(self, world: HouseWorld, sign: float) -> tuple[bool, str | None]:
        p = self._pose
        fx, _, fz = p.forward
        x, z = p.x + sign * self.move_step * fx, p.z + sign * self.move_step * fz
        why = world.blocker(x, z)
        if why is not None:
            return False, f"blocked by {why}"
        self._pose = p.with_(x=x, z=z)
        self._changed()
        return True, None

    def _do_MoveForward(self, world: HouseWorld) -> tuple[bool, str | None]:
        return self._move(world, 1.0)

    def _do_MoveBackward(self, world: HouseWorld) -> tuple[bool, str | None]:
        return self._move(world, -1.0)

    def _turn(self, delta: float) -> tuple[bool, str | None]:
        yaw = (self._pose.yaw + delta) % 360.0
        self._pose = self._pose.with_(yaw=round(yaw, 9))
        self._changed()
        return True, None

    def _do_TurnLeft(self, world: HouseWorld) -> tuple[bool, str | None]:
        return self._turn(self.turn_step)

    def _do_TurnRight(self, world: HouseWorld) -> tuple[bool, str | None]:
        return self._turn(-self.turn_step)

    def _look(self, delta: float) -> tuple[bool, str | None]:
        pitch = self._pose.pitch + delta
        if abs(pitch) > self.max_pitch + 1e-9:
            return False, f"the camera is already at its {'upper' if delta > 0 else 'lower'} limit ({self.max_pitch:g} degrees)"
        self._pose = self._pose.with_(pitch=pitch)
        self._changed()
        return True, None

    def _do_LookUp(self, world: HouseWorld) -> tuple[bool, str | None]:
        return self._look(self.look_step)

    def _do_LookDown(self, world: HouseWorld) -> tuple[bool, str | None]:
        return self._look(-self.look_step)

    def _in_view(self) -> np.ndarray:
        """Pixel count per id in the frame of the current state (renders if needed)."""
        if self._frame is None:
            self._render()
        assert self._frame is not None
        return self._frame[3]

    def _do_PickObject(self, world: HouseWorld) -> tuple[bool, str | None]:
        ok, err = interact.pick(world, self._pose, self._in_view(), self.interact_distance, self._carry_pose()[0])
        if ok:
            self._changed()
        return ok, err

    def _do_DropObject(self, world: HouseWorld) -> tuple[bool, str | None]:
        ok, err = interact.drop(world, self._pose, self.interact_distance)
        if ok:
            self._changed()
        return ok, err

    def _do_OpenDoor(self, world: HouseWorld) -> tuple[bool, str | None]:
        ok, err = interact.open_door(world, self._pose, self._in_view(), self.interact_distance)
        if ok:
            self._changed()
        return ok, err

    def _do_Finish(self, world: HouseWorld) -> tuple[bool, str | None]:
        self._finished = True
        return True, None

    # -- teleport / state setting ----------------------------------------------------------------
    @render.gl_session
    def teleport(self, pose: Pose) -> Observation:
        world = self._w()
        if not isinstance(pose, Pose):
            pose = Pose.from_list(pose)  # type: ignore[arg-type]
        why = world.blocker(pose.x, pose.z)
        if why is not None:
            self._last = ("Teleport", False, f"Teleport failed: ({pose.x:.2f}, {pose.z:.2f}) is blocked by {why}")
        elif abs(pose.pitch) > self.max_pitch + 1e-9:
            self._last = ("Teleport", False, f"Teleport failed: pitch {pose.pitch:g} exceeds +-{self.max_pitch:g}")
        else:
            self._pose = Pose(pose.x, 0.0, pose.z, pose.yaw % 360.0, pose.pitch)
            self._last = ("Teleport", True, None)
            self._changed()
        return self.observe()

    def set_object_state(self, object_id: int, *, position: Sequence[float] | None = None,
                         is_open: bool | None = None, held: bool | None = None) -> None:
        world = self._w()
        e = world.entities.get(int(object_id))
        if e is None:
            raise ValueError(f"object_id: no object with id {object_id!r} in this house")
        if is_open is not None:
            if e.kind != "door":
                raise ValueError(f"is_open: object {object_id} ({e.name}) is not a door")
            e.is_open = bool(is_open)
        if position is not None:
            if e.kind != "object":
                raise ValueError(f"position: object {object_id} ({e.name}) cannot be moved")
            pos = [float(v) for v in position]
            if len(pos) == 2:
                pos = [pos[0], world.rest_height(pos[0], pos[1])[0], pos[1]]
            if len(pos) != 3:
                raise ValueError(f"position: expected (x, y, z) or (x, z) (got {list(position)!r})")
            e.pos = np.array(pos)
            rid = world.receptacle_at(pos[0], pos[2]) if pos[1] > 0 else None
            e.on = rid if rid is not None and abs(world.entities[rid].top - pos[1]) < 0.05 else None
            e.room = world.room_at(pos[0], pos[2]) or e.room
        if held is not None:
            if e.kind != "object":
                raise ValueError(f"held: object {object_id} ({e.name}) cannot be held")
            current = world.held_object()
            if held and current not in (None, e.id):
                raise ValueError(f"held: already holding object {current}; release it first")
            e.held = bool(held)
            if e.held:
                e.on = None
        self._changed()

    # -- navigation ------------------------------------------------------------------------------
    def reachable_positions(self) -> np.ndarray:
        """Free grid cells (``N x 2``) connected to the agent's position with the current door
        states (cells of rooms behind closed doors are left out)."""
        p = self.pose
        return self._w().grid().reachable_from(p.x, p.z)

    def shortest_path(self, start: Pose | Sequence[float], goal: Pose | Sequence[float]) -> list[tuple[float, float]]:
        return self._w().grid().shortest_path(pose_xz(start), pose_xz(goal))

    def navigable(self, points: np.ndarray) -> np.ndarray:
        """The house's own collision test (a disc of ``agent_radius`` clear of walls, closed
        doors and furniture, inside the rooms): what ``MoveForward`` and ``teleport`` accept."""
        return self._w().free(np.asarray(points, dtype=np.float64).reshape(-1, 2))

    def surfaces(self) -> dict[int, tuple[float, float, float, float]]:
        """Receptacle tops as drawn and used by ``DropObject`` (a desk top or a chair seat is
        smaller than the piece's footprint)."""
        return {int(i): tuple(float(v) for v in r) for i, r in sorted(self._w().surfaces.items())}  # type: ignore[misc]

    def drop_target(self, pose: Pose | None = None) -> int | None:
        """The receptacle ``DropObject`` from ``pose`` puts the held object on (the same rule:
        :func:`~embodied_gym.sims.house.interact.receptacle_spot`)."""
        spot = interact.receptacle_spot(self._w(), pose if pose is not None else self.pose, self.interact_distance)
        return None if spot is None else spot[2]

    # -- state -------------------------------------------------------------------------------------
    def snapshot(self) -> SimState:
        world = self._w()
        return SimState("house", {
            "scene": self._spec_key, "pose": self._pose.to_list(), "world": json.loads(json.dumps(world.state())),
            "steps": self._steps, "last": list(self._last), "finished": self._finished,
        })

    @render.gl_session
    def restore(self, state: SimState) -> Observation:
        if not isinstance(state, SimState) or state.backend != "house":
            raise ValueError(f"state: expected a SimState of backend 'house' (got {state!r})")
        d = state.data
        if self._world is None or d["scene"] != self._spec_key:
            self.reset(HouseSpec.from_json(d["scene"]))
        world = self._w()
        world.set_state(d["world"])
        self._pose = Pose.from_list(d["pose"])
        self._steps, self._finished = int(d["steps"]), bool(d["finished"])
        self._last = tuple(d["last"])  # type: ignore[assignment]
        self._changed()
        return self.observe()

    # -- maps --------------------------------------------------------------------------------------
    def top_down_map(self, path: Sequence[Sequence[float]] | None = None, *, size: int = 512) -> np.ndarray:
        world = self._w()
        self.objects()  # refresh the held object's position
        return draw_top_down(world, self._pose, path, size=size)

    @render.gl_session
    def close(self) -> None:
        if self._fb is None and not self._scenes:
            return
        for scene_gl, _ in self._scenes.values():
            scene_gl.delete()
        self._scenes.clear()
        if self._fb is not None:
            self._fb.delete()
            self._fb = None
        self._world = self._scene_gl = None
