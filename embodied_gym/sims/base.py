"""The simulator contract every backend implements.

A *simulator* loads a scene, places an agent at a pose, steps discrete actions and returns an
:class:`Observation`: pixels, instance segmentation and per-object ground truth, all produced by
the same render. Backends (``house`` on MiniWorld, ``thor`` on AI2-THOR, ``unrealcv`` on Unreal)
implement :class:`Simulator`; everything above ``sims/`` (episodes, environments, rewards,
training, agents) talks to this interface only.

Conventions shared by every backend (backends convert from their native frames):

* Units are metres and degrees.
* ``y`` is up; the ground plane is ``(x, z)``.
* ``yaw`` is the heading in degrees, counter-clockwise seen from above, ``0`` facing ``+x``;
  the forward vector is ``(cos(yaw), 0, -sin(yaw))`` (MiniWorld's convention). ``pitch`` is
  positive when looking up.
* Object ids are positive integers, stable for the lifetime of a scene; ``0`` in a
  segmentation map means "no object" (walls, floor, ceiling, sky).
* Pixel boxes are ``(x0, y0, x1, y1)`` in integer pixel coordinates, ``x1``/``y1`` exclusive.

The action vocabulary is EmbRACE-3K's (:data:`ACTIONS`). An unknown action name raises
``ValueError``; an action that is known but cannot be carried out (nothing in reach to pick,
walking into a wall, opening no door) does *not* raise: the observation reports
``last_action_success=False`` with an ``error`` message and the episode goes on.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from .actions import ACTION_INDEX, ACTIONS, EMBRACE_ACTIONS, check_action, resolve_action
from .geometry import drop_ray, footprint, path_length, surface_at
from .navigation import OccupancyGrid
from .scenes import SceneSource

__all__ = [
    "ACTIONS",
    "ACTION_INDEX",
    "EMBRACE_ACTIONS",
    "InfrastructureError",
    "ObjectInfo",
    "Observation",
    "Pose",
    "RoomInfo",
    "SceneSource",
    "SimState",
    "Simulator",
    "check_action",
    "pose_xz",
    "resolve_action",
]


class InfrastructureError(RuntimeError):
    """The simulator failed, not the agent: its process died or hung past the backend's timeout,
    or its connection dropped and could not be re-established.

    Backends raise it from ``reset``/``step``/``teleport``/``observe`` (never a plain timeout or
    a socket error) after trying to recover: a backend that manages to restart its simulator does
    so before raising, so the *next* episode can run, but the interrupted episode is lost and
    must not be scored. The evaluation layer records such an episode as an error (kept out of
    every figure, retried on resume), never as a model failure. ``backend`` names the backend,
    ``restarted`` says whether the simulator is usable again.
    """

    def __init__(self, message: str, *, backend: str = "", restarted: bool = False):
        super().__init__(message)
        self.backend = backend
        self.restarted = restarted


@dataclass(frozen=True)
class Pose:
    """Agent pose: position in metres (``y`` up), heading ``yaw`` and ``pitch`` in degrees."""

    x: float
    y: float
    z: float
    yaw: float = 0.0
    pitch: float = 0.0

    @property
    def position(self) -> tuple[float, float, float]:
        """``(x, y, z)`` in metres."""
        return (self.x, self.y, self.z)

    @property
    def xz(self) -> tuple[float, float]:
        """``(x, z)``: the position on the ground plane."""
        return (self.x, self.z)

    @property
    def forward(self) -> tuple[float, float, float]:
        """Unit heading vector on the ground plane."""
        r = math.radians(self.yaw)
        return (math.cos(r), 0.0, -math.sin(r))

    def to_list(self) -> list[float]:
        """``[x, y, z, yaw, pitch]`` (the JSON form of a pose)."""
        return [self.x, self.y, self.z, self.yaw, self.pitch]

    @classmethod
    def from_list(cls, values: Sequence[float]) -> Pose:
        """A pose from 3 to 5 numbers ``[x, y, z, yaw, pitch]`` (``ValueError`` otherwise)."""
        if len(values) not in (3, 4, 5):
            raise ValueError(f"pose needs 3 to 5 numbers [x, y, z, yaw, pitch], got {list(values)!r}")
        return cls(*(float(v) for v in values))

    def with_(self, **changes: float) -> Pose:
        """A copy with the given fields changed (``pose.with_(yaw=90.0)``)."""
        return replace(self, **changes)


@dataclass
class RoomInfo:
    """A room of the scene: id, kind (``kitchen``, ``bedroom``, ...), display name and its
    axis-aligned footprint ``(min_x, min_z, max_x, max_z)`` in metres."""

    id: str
    kind: str
    name: str
    bounds: tuple[float, float, float, float]

    @property
    def center(self) -> tuple[float, float]:
        """``(x, z)`` centre of the footprint."""
        x0, z0, x1, z1 = self.bounds
        return ((x0 + x1) / 2.0, (z0 + z1) / 2.0)

    def contains(self, x: float, z: float) -> bool:
        """Whether ``(x, z)`` lies in the footprint (edges included)."""
        x0, z0, x1, z1 = self.bounds
        return x0 <= x <= x1 and z0 <= z <= z1


@dataclass
class ObjectInfo:
    """Ground truth for one object of the scene, as seen in one observation.

    ``kind`` is ``"object"`` (movable, maybe pickable), ``"furniture"`` (static, maybe a
    receptacle) or ``"door"``. ``visible``, ``bbox`` and ``pixel_count`` come from the instance
    segmentation of the same frame, so they are exact for that frame. ``distance`` is the
    Euclidean distance in metres from the agent's position to the object's position.
    ``on`` is the id of the receptacle the object rests on, if any.
    """

    id: int
    category: str
    name: str
    kind: str = "object"
    color: str | None = None
    room: str | None = None
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)
    visible: bool = False
    bbox: tuple[int, int, int, int] | None = None
    pixel_count: int = 0
    distance: float = 0.0
    pickable: bool = False
    receptacle: bool = False
    openable: bool = False
    is_open: bool | None = None
    held: bool = False
    on: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-serialisable dict."""
        return asdict(self)


@dataclass
class Observation:
    """What the agent and the evaluator get after ``reset``/``step``/``teleport``.

    ``rgb`` is ``H x W x 3`` uint8; ``depth`` (optional) is ``H x W`` float32 metres;
    ``segmentation`` is ``H x W`` int32 object ids (0 = none) rendered in the same pass as
    ``rgb``. ``objects`` maps every object id of the scene to its record (visible or not).
    """

    rgb: np.ndarray
    segmentation: np.ndarray
    objects: dict[int, ObjectInfo]
    agent: Pose
    depth: np.ndarray | None = None
    held_object: int | None = None
    room: str | None = None
    last_action: str | None = None
    last_action_success: bool = True
    error: str | None = None
    step: int = 0

    @property
    def visible_objects(self) -> list[ObjectInfo]:
        """Objects with at least one pixel in this frame, nearest first."""
        return sorted((o for o in self.objects.values() if o.visible), key=lambda o: o.distance)

    def mask(self, object_id: int) -> np.ndarray:
        """Boolean ``H x W`` mask of one object in this frame."""
        return self.segmentation == object_id


@dataclass
class SimState:
    """An opaque, picklable snapshot of the whole simulator state (scene, agent, objects, step
    counter). Produced by :meth:`Simulator.snapshot`, consumed by :meth:`Simulator.restore`."""

    backend: str
    data: dict[str, Any] = field(default_factory=dict)


class Simulator(ABC):
    """One simulator backend. Subclasses document their defaults (step sizes, resolution).

    Lifecycle: ``sim = make_simulator(name, **kwargs)``; ``obs = sim.reset(scene)``; then any
    number of ``step``/``teleport``/``observe`` calls; ``sim.close()``. A simulator is also a
    context manager.
    """

    #: registry name of the backend ("house", "thor", "unrealcv")
    name: str = "base"
    #: the action vocabulary this backend supports (a subset of :data:`ACTIONS`, in that order)
    actions: tuple[str, ...] = ACTIONS
    #: metres per MoveForward/MoveBackward
    move_step: float = 0.25
    #: degrees per TurnLeft/TurnRight
    turn_step: float = 30.0
    #: degrees per LookUp/LookDown
    look_step: float = 15.0
    #: metres within which PickObject / OpenDoor / DropObject act
    interact_distance: float = 1.5
    #: height of the camera above the agent's position ``y``, metres
    camera_height: float = 1.2
    #: largest camera pitch reachable with LookUp / LookDown, degrees either way
    max_pitch: float = 60.0
    width: int = 320
    height: int = 240
    #: spacing in metres of the grid of :meth:`reachable_positions`
    grid_size: float = 0.25
    #: ``True`` when :meth:`navigable` is the backend's own collision test (exact, finer than the
    #: reachable grid: planners may sample it on a fine raster); ``False`` when it is the default
    #: reading of the reachable grid
    exact_navigable: bool = False

    @classmethod
    def check_options(cls, options: Mapping[str, Any], *, where: str = "", extra: Sequence[str] = ()) -> None:
        """Raise ``TypeError`` naming the first of ``options`` (constructor keyword arguments)
        this backend does not accept, and the accepted ones (``extra``: further names the caller
        accepts, listed first; ``where`` prefixes the message). Called by
        :func:`~embodied_gym.sims.make_simulator` and by environments when they are made, before
        anything is built. The default accepts the named parameters of ``__init__``; a backend
        whose ``__init__`` forwards ``**kwargs`` to a native controller overrides it to check those."""
        params = inspect.signature(cls.__init__).parameters
        accepted = sorted(k for k, p in params.items() if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
        bad = [k for k in options if k not in accepted]
        if bad:
            raise TypeError(f"{where}unknown argument {bad[0]!r} for the {cls.name!r} backend; accepted: "
                            f"{', '.join([*extra, *accepted])}")

    # -- scene and agent -------------------------------------------------------------------
    @abstractmethod
    def reset(self, scene: Any = None, *, seed: int | None = None) -> Observation:
        """Load ``scene`` (backend-specific: a house spec / seed, a THOR scene name, an Unreal
        map) and return the first observation with the agent at the scene's start pose."""

    @property
    @abstractmethod
    def scene(self) -> Any:
        """A JSON-serialisable description from which ``reset(scene)`` rebuilds this scene."""

    @abstractmethod
    def teleport(self, pose: Pose) -> Observation:
        """Place the agent at ``pose``. Fails (``last_action_success=False``) without moving when
        the pose is not navigable."""

    @abstractmethod
    def step(self, action: str | int) -> Observation:
        """Carry out one action of :data:`ACTIONS`; raises ``ValueError`` for unknown names."""

    @abstractmethod
    def observe(self) -> Observation:
        """Render and return the current observation without changing state."""

    @property
    @abstractmethod
    def pose(self) -> Pose:
        """The agent's current pose (no rendering)."""

    @abstractmethod
    def rooms(self) -> list[RoomInfo]:
        """The rooms of the current scene."""

    @abstractmethod
    def objects(self) -> dict[int, ObjectInfo]:
        """Every object of the scene with its current state (no rendering: ``visible``/``bbox``
        are left unset)."""

    @abstractmethod
    def set_object_state(
        self,
        object_id: int,
        *,
        position: Sequence[float] | None = None,
        is_open: bool | None = None,
        held: bool | None = None,
    ) -> None:
        """Put one object in a recorded state (used to replay episodes from poses and states)."""

    # -- navigation ------------------------------------------------------------------------
    @abstractmethod
    def reachable_positions(self) -> np.ndarray:
        """``N x 2`` array of navigable ``(x, z)`` grid positions with the current door states."""

    @abstractmethod
    def shortest_path(self, start: Pose | Sequence[float], goal: Pose | Sequence[float]) -> list[tuple[float, float]]:
        """Shortest navigable path from ``start`` to ``goal`` as ``(x, z)`` waypoints, both ends
        included; ``[]`` when ``goal`` cannot be reached."""

    def geodesic_distance(self, start: Pose | Sequence[float], goal: Pose | Sequence[float]) -> float:
        """Length in metres of :meth:`shortest_path`; ``inf`` when unreachable."""
        path = self.shortest_path(start, goal)
        return path_length(path) if path else math.inf

    def navigable(self, points: np.ndarray) -> np.ndarray:
        """Which ``(x, z)`` points (``N x 2`` array) can hold the agent with the current door
        states: ``N`` booleans. The default reads the grid of :meth:`reachable_positions`: a point
        is navigable when the grid point nearest to it (within half a :attr:`grid_size` on each
        axis) is reachable. Backends with their own collision geometry override it and set
        :attr:`exact_navigable`."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        grid = OccupancyGrid.from_cells(self.reachable_positions(), self.grid_size)
        rc = grid.cells_of(pts)
        inside = (rc[:, 0] >= 0) & (rc[:, 0] < grid.rows) & (rc[:, 1] >= 0) & (rc[:, 1] < grid.cols)
        out = np.zeros(len(pts), dtype=bool)
        out[inside] = grid.free[rc[inside, 0], rc[inside, 1]]
        return out

    # -- receptacles -----------------------------------------------------------------------
    def surfaces(self) -> dict[int, tuple[float, float, float, float]]:
        """Receptacle tops: object id -> ``(x0, z0, x1, z1)`` rectangle on which dropped objects
        rest. The default is each receptacle's footprint from :attr:`ObjectInfo.size`; backends
        whose tops are smaller (a desk top, a chair seat) override it."""
        return {i: footprint(o) for i, o in sorted(self.objects().items()) if o.receptacle}

    def drop_target(self, pose: Pose | None = None) -> int | None:
        """The receptacle a ``DropObject`` from ``pose`` (default: the agent's pose) would put the
        held object on, or ``None`` for the floor / nothing. Does not change any state. The
        default is the heading-ray rule of :func:`~embodied_gym.sims.geometry.drop_ray` over
        :meth:`surfaces` within :attr:`interact_distance`; backends override it with the rule
        their ``DropObject`` applies."""
        tops = self.surfaces()
        hit = drop_ray(pose if pose is not None else self.pose, self.interact_distance, lambda x, z: surface_at(tops, x, z))
        return None if hit is None else hit[2]

    # -- camera ----------------------------------------------------------------------------
    @abstractmethod
    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project world points (``N x 3``) into the current camera: returns pixel coordinates
        ``N x 2`` (float, ``(u, v)``) and a boolean ``N`` mask of points in front of the camera."""

    # -- state -----------------------------------------------------------------------------
    @abstractmethod
    def snapshot(self) -> SimState:
        """Capture the whole simulator state."""

    @abstractmethod
    def restore(self, state: SimState) -> Observation:
        """Return to a state captured by :meth:`snapshot` (of this backend) and observe."""

    # -- maps ------------------------------------------------------------------------------
    @abstractmethod
    def top_down_map(
        self, path: Sequence[Sequence[float]] | None = None, *, size: int = 512
    ) -> np.ndarray:
        """An ``size x size x 3`` uint8 image of the scene seen from above (rooms, doors,
        objects, the agent), with ``path`` (``(x, z)`` points) drawn over it when given."""

    def close(self) -> None:  # noqa: B027 (an optional hook: backends without resources keep it)
        """Release the backend's resources (windows, processes, sockets)."""

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pose_xz(p: Pose | Sequence[float]) -> tuple[float, float]:
    """The ground-plane position of a :class:`Pose` or an ``(x, z)`` / ``(x, y, z, ...)`` sequence."""
    if isinstance(p, Pose):
        return p.xz
    vals = list(p)
    if len(vals) == 2:
        return (float(vals[0]), float(vals[1]))
    if len(vals) >= 3:
        return (float(vals[0]), float(vals[2]))
    raise ValueError(f"cannot read a ground position from {vals!r}")
