"""A tiny deterministic simulator for fast environment tests (no rendering library).

One empty 4 m x 4 m room (navigable cells every 0.25 m from 0.25 to 3.75), a pickable ball,
a desk receptacle and a closed door on the east wall. Geodesic distance is Euclidean (no
obstacles). Frames are flat colours computed from the pose, so different poses give different
images. Registered as backend ``"fake"`` by the tests that use it.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from embodied_gym.sims.base import ObjectInfo, Observation, Pose, SimState, Simulator, check_action, pose_xz

START = Pose(1.0, 0.0, 1.0, 0.0)


def _objects() -> dict[int, ObjectInfo]:
    return {
        1: ObjectInfo(1, "ball", "the red ball", color="red", position=(3.0, 0.2, 1.0), pickable=True),
        2: ObjectInfo(2, "desk", "the desk", kind="furniture", position=(1.0, 0.4, 3.0), receptacle=True),
        3: ObjectInfo(3, "door", "the door", kind="door", position=(3.75, 1.0, 2.0), openable=True, is_open=False),
    }


class FakeSim(Simulator):
    name = "fake"
    hfov = 60.0

    def __init__(self, width: int = 32, height: int = 24, seed: int = 0):
        self.width, self.height = width, height
        self._pose, self._objs, self._held, self._step = START, _objects(), None, 0

    # -- scene -----------------------------------------------------------------------------
    def reset(self, scene=None, *, seed=None):
        self._pose, self._objs, self._held, self._step = START, _objects(), None, 0
        return self.observe()

    @property
    def scene(self):
        return {"fake": True}

    @property
    def pose(self):
        return self._pose

    def rooms(self):
        return []

    def objects(self):
        return copy.deepcopy(self._objs)

    def _inside(self, x, z):
        return 0.25 - 1e-9 <= x <= 3.75 + 1e-9 and 0.25 - 1e-9 <= z <= 3.75 + 1e-9

    def _obs(self, action=None, ok=True, error=None):
        objs = self.objects()
        for o in objs.values():
            o.distance = math.dist(self._pose.xz, (o.position[0], o.position[2]))
        v = int(self._pose.x * 40) % 256, int(self._pose.z * 40) % 256, int(self._pose.yaw) % 256
        rgb = np.empty((self.height, self.width, 3), np.uint8)
        rgb[:] = v
        return Observation(rgb, np.zeros((self.height, self.width), np.int32), objs, self._pose, held_object=self._held,
                           last_action=action, last_action_success=ok, error=error, step=self._step)

    def observe(self):
        return self._obs()

    def teleport(self, pose):
        if not self._inside(pose.x, pose.z):
            return self._obs("Teleport", False, "pose is not navigable")
        self._pose = pose
        return self._obs("Teleport")

    def _near(self, pred):
        cands = [o for o in self._objs.values() if pred(o)]
        cands = [o for o in cands if math.dist(self._pose.xz, (o.position[0], o.position[2])) <= self.interact_distance]
        return min(cands, key=lambda o: math.dist(self._pose.xz, (o.position[0], o.position[2])), default=None)

    def step(self, action):
        name = check_action(action)
        self._step += 1
        p = self._pose
        if name in ("MoveForward", "MoveBackward"):
            s = self.move_step if name == "MoveForward" else -self.move_step
            fx, _, fz = p.forward
            x, z = round(p.x + s * fx, 6), round(p.z + s * fz, 6)
            if not self._inside(x, z):
                return self._obs(name, False, "blocked by a wall")
            self._pose = p.with_(x=x, z=z)
        elif name in ("TurnLeft", "TurnRight"):
            self._pose = p.with_(yaw=(p.yaw + (self.turn_step if name == "TurnLeft" else -self.turn_step)) % 360)
        elif name in ("LookUp", "LookDown"):
            self._pose = p.with_(pitch=p.pitch + (self.look_step if name == "LookUp" else -self.look_step))
        elif name == "PickObject":
            o = self._near(lambda o: o.pickable and not o.held) if self._held is None else None
            if o is None:
                return self._obs(name, False, "nothing to pick up in reach")
            o.held, self._held = True, o.id
        elif name == "DropObject":
            if self._held is None:
                return self._obs(name, False, "not holding anything")
            o, rec = self._objs[self._held], self._near(lambda o: o.receptacle)
            o.held, self._held = False, None
            o.on = rec.id if rec else None
            o.position = rec.position if rec else (p.x, 0.0, p.z)
        elif name == "OpenDoor":
            door = self._near(lambda o: o.openable and not o.is_open)
            if door is None:
                return self._obs(name, False, "no closed door in reach")
            door.is_open = True
        if self._held is not None:
            self._objs[self._held].position = (self._pose.x, 1.0, self._pose.z)
        return self._obs(name)

    def set_object_state(self, object_id, *, position=None, is_open=None, held=None):
        o = self._objs[object_id]
        if position is not None:
            o.position = tuple(position)
        if is_open is not None:
            o.is_open = is_open
        if held is not None:
            o.held = held
            self._held = object_id if held else None

    # -- navigation ------------------------------------------------------------------------
    def reachable_positions(self):
        v = np.arange(0.25, 3.76, 0.25)
        return np.array([(x, z) for x in v for z in v])

    def shortest_path(self, start, goal):
        a, b = pose_xz(start), pose_xz(goal)
        bx, bz = min(max(b[0], 0.25), 3.75), min(max(b[1], 0.25), 3.75)
        return [a, (bx, bz)] if self._inside(*a) else []

    # -- camera ----------------------------------------------------------------------------
    def project(self, points):
        pts = np.asarray(points, float)
        yaw = math.radians(self._pose.yaw)
        dx, dz = pts[:, 0] - self._pose.x, pts[:, 2] - self._pose.z
        fwd = dx * math.cos(yaw) - dz * math.sin(yaw)
        right = dx * math.sin(yaw) + dz * math.cos(yaw)
        f = (self.width / 2) / math.tan(math.radians(self.hfov / 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            u = self.width / 2 + f * right / fwd
        v = np.full(len(pts), self.height / 2)
        return np.column_stack([u, v]), fwd > 1e-6

    # -- state -----------------------------------------------------------------------------
    def snapshot(self):
        return SimState("fake", {"pose": self._pose, "objs": copy.deepcopy(self._objs), "held": self._held})

    def restore(self, state):
        self._pose, self._objs, self._held = state.data["pose"], copy.deepcopy(state.data["objs"]), state.data["held"]
        return self.observe()

    def top_down_map(self, path=None, *, size=512):
        return np.zeros((size, size, 3), np.uint8)
