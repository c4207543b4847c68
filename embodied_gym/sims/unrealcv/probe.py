"""Navigable positions of an Unreal level found by probing with ``moveto``.

UnrealCV exposes no navigation mesh. From the start pose, a breadth-first search over a square
grid of ``cell`` metres asks the server to sweep the camera from each reached cell to each of
its four neighbours (``vset location A``, ``vset moveto B``, ``vget location``, one round trip);
a neighbour is navigable when the sweep arrives within 1 cm. The camera pose is restored after.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..base import Pose
from ..unreal_frame import location_from_unreal, location_to_unreal

if TYPE_CHECKING:
    from .simulator import UnrealCVSimulator


def probe_reachable(sim: UnrealCVSimulator, start: Pose, cell: float, extent: float) -> np.ndarray:
    """``N x 2`` ``(x, z)`` grid points reachable from ``start`` within ``extent`` metres."""
    saved = sim.pose if sim._pose is not None else start
    eye = start.y + sim.camera_height
    limit = int(extent / cell)

    def unreal(i: int, k: int) -> tuple[float, float, float]:
        return location_to_unreal(start.x + i * cell, eye, start.z + k * cell)

    seen = {(0, 0)}
    frontier = [(0, 0)]
    reached = [(0, 0)]
    loc_cmd = f"/camera/{sim.camera}/location"
    while frontier:
        nxt = []
        for i, k in frontier:
            a = unreal(i, k)
            for di, dk in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                n = (i + di, k + dk)
                if n in seen or max(abs(n[0]), abs(n[1])) > limit:
                    continue
                b = unreal(*n)
                reply = sim.conn.batch([f"vset {loc_cmd} {a[0]:.4f} {a[1]:.4f} {a[2]:.4f}",
                                        f"vset /camera/{sim.camera}/moveto {b[0]:.4f} {b[1]:.4f} {b[2]:.4f}",
                                        f"vget {loc_cmd}"])
                got = location_from_unreal([float(v) for v in str(reply[2]).split()])
                target = location_from_unreal(b)
                if math.hypot(got[0] - target[0], got[2] - target[2]) <= 0.01:
                    seen.add(n)
                    nxt.append(n)
                    reached.append(n)
        frontier = nxt
    sim._set_pose(saved)
    pts = np.array([(start.x + i * cell, start.z + k * cell) for i, k in sorted(reached)], dtype=np.float64)
    return pts.reshape(-1, 2)
