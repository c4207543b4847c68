"""What the house agent sees: rendering, observations and object records, camera projection,
and poses that put an object in view (a mixin of :class:`~.simulator.HouseSimulator`, which owns
the state these read: pose, world, frame buffer)."""

from __future__ import annotations

import math

import numpy as np

from ..base import ObjectInfo, Observation, Pose
from . import interact, render
from .world import HouseWorld


class HouseCamera:
    """Rendering and observation half of :class:`~.simulator.HouseSimulator` (which sets these
    attributes and provides ``_w()``, ``teleport``, ``snapshot``/``restore`` and
    ``reachable_positions``)."""

    width: int
    height: int
    depth: bool
    camera_height: float
    max_pitch: float
    look_step: float
    interact_distance: float
    _pose: Pose
    _proj: np.ndarray
    _fb: render.FrameBuffer | None
    _frame: tuple | None
    _frame_fresh: bool
    _steps: int
    _last: tuple[str | None, bool, str | None]

    # -- observation -------------------------------------------------------------------------------
    def _carry_pose(self) -> tuple[np.ndarray, float]:
        p = self._pose
        fx, _, fz = p.forward
        rx, rz = math.sin(math.radians(p.yaw)), math.cos(math.radians(p.yaw))  # right-hand side
        return (np.array([p.x + 0.5 * fx + 0.22 * rx, self.camera_height - 0.55, p.z + 0.5 * fz + 0.22 * rz]), p.yaw)

    def _distance(self, pos: np.ndarray) -> float:
        return interact.distance(self._pose, pos)

    def _view(self) -> np.ndarray:
        p = self._pose
        return render.view_matrix(np.array([p.x, self.camera_height, p.z]), p.yaw, p.pitch)

    @render.gl_session
    def _render(self) -> None:
        world = self._w()
        assert self._scene_gl is not None and self._fb is not None
        carry = {}
        held = world.held_object()
        if held is not None:
            pos, yaw = self._carry_pose()
            world.entities[held].pos = pos
            world.entities[held].yaw = yaw
            carry[held] = (tuple(pos), yaw)
        self._scene_gl.draw(self._fb, self._view(), self._proj, world, carry)
        rgb, ids = self._fb.read()
        depth = self._fb.read_depth() if self.depth else None
        render.end_frame()
        counts = np.bincount(ids.ravel(), minlength=256)
        boxes: dict[int, tuple[int, int, int, int]] = {}
        for i in np.nonzero(counts[1:])[0] + 1:
            m = ids == i
            r = np.flatnonzero(m.any(axis=1))
            c = np.flatnonzero(m.any(axis=0))
            boxes[int(i)] = (int(c[0]), int(r[0]), int(c[-1]) + 1, int(r[-1]) + 1)
        seg = ids.astype(np.int32)
        self._frame = (rgb, seg, depth, counts, boxes)
        self._frame_fresh = True

    @render.gl_session
    def observe(self) -> Observation:
        world = self._w()
        if self._frame is None:
            self._render()
        assert self._frame is not None
        rgb, seg, depth, counts, boxes = self._frame
        if not self._frame_fresh:  # the arrays were handed out already: hand out copies
            rgb, seg, depth = rgb.copy(), seg.copy(), None if depth is None else depth.copy()
        self._frame_fresh = False
        p = self._pose
        name, ok, err = self._last
        return Observation(
            rgb=rgb, segmentation=seg, objects=self._records(world, counts, boxes), agent=p, depth=depth,
            held_object=world.held_object(), room=world.room_at(p.x, p.z), last_action=name,
            last_action_success=ok, error=err, step=self._steps,
        )

    def _records(self, world: HouseWorld, counts: np.ndarray | None, boxes: dict) -> dict[int, ObjectInfo]:
        out: dict[int, ObjectInfo] = {}
        for i, e in world.entities.items():
            n = int(counts[i]) if counts is not None else 0
            out[i] = ObjectInfo(
                id=i, category=e.category, name=e.name, kind=e.kind, color=e.color,
                room=(world.room_at(self._pose.x, self._pose.z) if e.held else e.room),
                position=(float(e.pos[0]), float(e.pos[1]), float(e.pos[2])), size=e.size,
                visible=n > 0, bbox=boxes.get(i), pixel_count=n, distance=self._distance(e.pos),
                pickable=e.pickable, receptacle=e.receptacle, openable=e.kind == "door",
                is_open=e.is_open if e.kind == "door" else None, held=e.held, on=e.on,
            )
        return out

    def objects(self) -> dict[int, ObjectInfo]:
        world = self._w()
        if world.held_object() is not None:
            pos, yaw = self._carry_pose()
            world.entities[world.held_object()].pos = pos  # type: ignore[index]
        return self._records(world, None, {})

    @render.gl_session
    def interaction_pose(self, object_id: int, *, min_distance: float = 0.6,
                         max_distance: float | None = None) -> Pose | None:
        """A navigable pose (reachable from the agent with the current door states) from which
        ``object_id`` is within reach and in view: facing it, pitched toward it in whole
        ``look_step`` increments. Candidates are tried nearest-to-agent first and confirmed by
        rendering; the state is left unchanged. ``None`` if no such pose exists."""
        world = self._w()
        e = world.entities.get(int(object_id))
        if e is None:
            raise ValueError(f"object_id: no object with id {object_id!r} in this house")
        hi = self.interact_distance - 0.15 if max_distance is None else max_distance
        cells = self.reachable_positions()
        ox, oy, oz = (float(v) for v in e.pos)
        d = np.hypot(cells[:, 0] - ox, cells[:, 1] - oz)
        cand = cells[(d >= min_distance) & (d <= hi)]
        if len(cand) == 0:
            return None
        cand = cand[np.argsort(np.hypot(cand[:, 0] - self._pose.x, cand[:, 1] - self._pose.z), kind="stable")]
        saved = self.snapshot()
        try:
            for x, z in cand[:30]:
                yaw = math.degrees(math.atan2(-(oz - z), ox - x)) % 360.0
                target = oy + min(e.size[1], 0.3) / 2
                pitch = -math.degrees(math.atan2(self.camera_height - target, math.hypot(ox - x, oz - z)))
                pitch = max(-self.max_pitch, min(self.max_pitch, round(pitch / self.look_step) * self.look_step))
                pose = Pose(float(x), 0.0, float(z), yaw, pitch)
                if math.dist((x, 0.0, z), (ox, oy, oz)) > self.interact_distance:
                    continue
                obs = self.teleport(pose)
                if obs.last_action_success and obs.objects[e.id].visible:
                    return pose
        finally:
            self.restore(saved)
        return None

    # -- camera ------------------------------------------------------------------------------------
    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._w()
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        clip = (self._proj @ self._view() @ np.c_[pts, np.ones(len(pts))].T).T
        w = clip[:, 3]
        in_front = w > render.NEAR
        safe = np.where(np.abs(w) < 1e-9, 1e-9, w)
        u = (clip[:, 0] / safe + 1.0) * 0.5 * self.width
        v = (1.0 - clip[:, 1] / safe) * 0.5 * self.height
        return np.stack([u, v], axis=1), in_front
