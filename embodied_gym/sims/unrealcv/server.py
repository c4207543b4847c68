"""Reading and writing the Unreal server's state for :class:`~.simulator.UnrealCVSimulator` (a
mixin): the camera pose, the actors (ids, colours, bounds, kinds) and the movable actors' state
saved and restored by ``snapshot``/``restore``. Unreal units are converted in
:mod:`embodied_gym.sims.unreal_frame` only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..base import Pose
from ..unreal_frame import location_from_unreal, location_to_unreal, rotation_from_unreal, rotation_to_unreal
from . import objects as uobj
from .connection import Connection


class ServerState:
    """Server-state half of :class:`~.simulator.UnrealCVSimulator` (which sets these attributes)."""

    camera: int
    camera_height: float
    conn: Connection
    _actors: dict[str, uobj.Actor]
    _pose: Pose | None
    _nav: tuple[tuple, np.ndarray, Any] | None
    _kind_args: tuple

    # -- server state ----------------------------------------------------------------------------
    def _cam(self, what: str) -> str:
        return f"/camera/{self.camera}/{what}"

    def _server_pose(self) -> Pose:
        loc = self.conn.floats("vget " + self._cam("location"), 3)
        rot = self.conn.floats("vget " + self._cam("rotation"), 3)
        x, y, z = location_from_unreal(loc)
        yaw, pitch = rotation_from_unreal(*rot)
        return Pose(x, y - self.camera_height, z, yaw % 360.0, pitch)

    def _set_pose(self, pose: Pose) -> None:
        loc = location_to_unreal(pose.x, pose.y + self.camera_height, pose.z)
        rot = rotation_to_unreal(pose.yaw, pose.pitch)
        self.conn.batch([f"vset {self._cam('location')} {loc[0]:.4f} {loc[1]:.4f} {loc[2]:.4f}",
                         f"vset {self._cam('rotation')} {rot[0]:.4f} {rot[1]:.4f} {rot[2]:.4f}"])
        self._pose = Pose(pose.x, pose.y, pose.z, pose.yaw % 360.0, pose.pitch)

    def _load_actors(self) -> None:
        names = sorted(self.conn.text("vget /objects").split())
        colors = self.conn.batch([f"vget /object/{n}/color" for n in names])
        floor = (self._pose.y if self._pose else 0.0)
        self._actors = {}
        for i, (n, c) in enumerate(zip(names, colors, strict=True)):
            try:
                rgb = Connection.color(c, f"vget /object/{n}/color")
            except RuntimeError:  # no mask colour: the actor never shows in the segmentation
                rgb = (-1, -1, -1)
            lo, hi = self._bounds(n)
            if lo == hi and n not in self._kind_args[2]:  # no bounds: size unknown, not pickable
                kind, rec = ("door" if "door" in n.lower() else "furniture"), False
            else:
                kind, rec = uobj.classify(n, lo, hi, floor, *self._kind_args)
            self._actors[n] = uobj.Actor(n, i + 1, rgb, lo, hi, kind, rec,
                                         is_open=False if kind == "door" else None)

    def _bounds(self, name: str) -> tuple[tuple, tuple]:
        """World bounds in metres; a server without ``bounds`` gives the location twice (size 0)."""
        try:
            return uobj.bounds_from_unreal(self.conn.floats(f"vget /object/{name}/bounds", 6))
        except RuntimeError:
            loc = location_from_unreal(self._floats_or(f"vget /object/{name}/location", 3))
            return loc, loc

    def _floats_or(self, command: str, n: int, default: float = 0.0) -> list[float]:
        """``n`` numbers of a ``vget``, or ``default`` ones when the server refuses it."""
        try:
            return self.conn.floats(command, n)
        except RuntimeError:
            return [default] * n

    def _refresh(self, name: str) -> None:
        a = self._actors[name]
        a.lo, a.hi = self._bounds(name)

    def _movable_state(self) -> dict[str, Any]:
        out = {}
        for n, a in sorted(self._actors.items()):
            if a.kind in ("object", "door"):
                out[n] = {"location": self._floats_or(f"vget /object/{n}/location", 3),
                          "rotation": self._floats_or(f"vget /object/{n}/rotation", 3),
                          "hidden": a.hidden, "is_open": a.is_open}
        return out

    def _apply_movable_state(self, state: Mapping[str, Any]) -> None:
        cmds = []
        for n, s in state.items():
            loc, rot = s["location"], s["rotation"]
            cmds += [f"vset /object/{n}/location {loc[0]:.4f} {loc[1]:.4f} {loc[2]:.4f}",
                     f"vset /object/{n}/rotation {rot[0]:.4f} {rot[1]:.4f} {rot[2]:.4f}",
                     f"vset /object/{n}/{'hide' if s['hidden'] else 'show'}"]
        if cmds:
            self.conn.batch(cmds)
        for n, s in state.items():
            a = self._actors[n]
            a.hidden, a.is_open = bool(s["hidden"]), s["is_open"]
            self._refresh(n)
        self._nav = None
