"""``egym demo``: a scripted walk through a procedural house on the embedded simulator.

The script walks (discrete actions, re-planning ``sim.shortest_path`` at every step) to a closed
door, opens it, walks to an object that became reachable behind it, looks down and picks it up.
It is specific to the ``house`` backend: it picks the door and the object through
``HouseSimulator.interaction_pose`` and the house's ``world`` (door and object ids, names). Every egocentric frame is
written as PNG next to its segmentation, plus an animated GIF and the top-down map with the
planned and the walked paths.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .sims.base import Observation
from .sims.geometry import relative_bearing


class _Walker:
    """Turns waypoints into discrete actions and records every observation."""

    def __init__(self, sim, max_steps: int = 250):
        self.sim = sim
        self.frames: list[Observation] = [sim.observe()]
        self.actions: list[str] = []
        self.max_steps = max_steps

    def act(self, name: str) -> Observation:
        obs = self.sim.step(name)
        self.frames.append(obs)
        self.actions.append(name)
        return obs

    def turn_towards(self, x: float, z: float) -> None:
        for _ in range(12):
            diff = relative_bearing(self.sim.pose, (x, z))
            if abs(diff) <= self.sim.turn_step / 2:
                return
            self.act("TurnLeft" if diff > 0 else "TurnRight")

    def go_to(self, x: float, z: float, tol: float = 0.2) -> bool:
        """Walk to within ``tol`` of ``(x, z)``, re-planning after each move."""
        while len(self.actions) < self.max_steps:
            p = self.sim.pose
            if math.hypot(x - p.x, z - p.z) <= tol:
                return True
            path = self.sim.shortest_path(p, (x, z))
            if len(path) < 2:
                return math.hypot(x - p.x, z - p.z) <= self.sim.move_step
            nxt = next((q for q in path[1:] if math.hypot(q[0] - p.x, q[1] - p.z) > 0.12), path[-1])
            self.turn_towards(*nxt)
            if not self.act("MoveForward").last_action_success:
                # sidestep the obstacle: turn towards the free side and try again
                self.act("TurnLeft" if relative_bearing(self.sim.pose, nxt) >= 0 else "TurnRight")
                self.act("MoveForward")
        return False

    def look_at(self, target_pitch: float) -> None:
        while self.sim.pose.pitch > target_pitch + 1e-6 and len(self.actions) < self.max_steps:
            if not self.act("LookDown").last_action_success:
                break


def _plan(sim) -> tuple[int | None, int]:
    """(door to open or None, object to pick): a door reachable now, and an object reachable
    only once it is open; else no door and the nearest reachable object."""
    world = sim.world
    start = sim.snapshot()
    try:
        for door in world.door_ids:
            approach = sim.interaction_pose(door, min_distance=0.6, max_distance=1.0)
            if approach is None:
                continue
            before = {o for o in world.object_ids if sim.interaction_pose(o) is not None}
            sim.set_object_state(door, is_open=True)
            after = [o for o in world.object_ids if o not in before and sim.interaction_pose(o) is not None]
            sim.set_object_state(door, is_open=False)
            if after:
                return door, after[0]
        reachable = [o for o in world.object_ids if sim.interaction_pose(o) is not None]
        if not reachable:
            raise RuntimeError("no object of this house can be reached from the start")
        return None, reachable[0]
    finally:
        sim.restore(start)


def _seg_colors(seg: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(12345)
    palette = rng.integers(40, 255, size=(256, 3), dtype=np.uint8)
    palette[0] = (0, 0, 0)
    return palette[seg.clip(0, 255)]


def run_demo(out: Path, seed: int = 0, width: int = 320, height: int = 240) -> dict[str, Any]:
    """Build house ``seed``, walk the scripted route and write everything under ``out``.

    Returns a JSON-serialisable dict of what was written and what happened."""
    from .sims.house import HouseSimulator

    out = Path(out)
    frames_dir = out / "frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    for old in frames_dir.glob("*.png"):
        old.unlink()
    sim = HouseSimulator(seed=seed, width=width, height=height)
    try:
        sim.reset(seed)
        door, target = _plan(sim)
        walker = _Walker(sim)
        events: list[dict[str, Any]] = []
        start = sim.pose
        planned: list[tuple[float, float]] = []
        if door is not None:
            approach = sim.interaction_pose(door, min_distance=0.6, max_distance=1.0)
            assert approach is not None
            planned += sim.shortest_path(sim.pose, approach)
            walker.go_to(approach.x, approach.z)
            walker.turn_towards(*sim.world.entities[door].pos[[0, 2]])
            obs = walker.act("OpenDoor")
            events.append({"action": "OpenDoor", "door": sim.world.entities[door].name,
                           "success": obs.last_action_success, "error": obs.error})
        pose = sim.interaction_pose(target)
        picked = False
        if pose is not None:
            planned += sim.shortest_path(sim.pose, pose)
            walker.go_to(pose.x, pose.z)
            walker.turn_towards(*sim.world.entities[target].pos[[0, 2]])
            walker.look_at(pose.pitch)
            obs = walker.act("PickObject")
            picked = obs.last_action_success and obs.held_object == target
            events.append({"action": "PickObject", "object": sim.world.entities[target].name,
                           "success": obs.last_action_success, "held": obs.held_object, "error": obs.error})
        walker.act("Finish")

        paths = []
        for i, obs in enumerate(walker.frames):
            p = frames_dir / f"{i:04d}.png"
            Image.fromarray(np.concatenate([obs.rgb, _seg_colors(obs.segmentation)], axis=1)).save(p)
            paths.append(str(p))
        gif = out / "demo.gif"
        Image.fromarray(walker.frames[0].rgb).save(
            gif, save_all=True, append_images=[Image.fromarray(o.rgb) for o in walker.frames[1:]], duration=150, loop=0
        )
        walked = [(start.x, start.z)] + [(o.agent.x, o.agent.z) for o in walker.frames[1:]]
        map_path = out / "top_down.png"
        top = sim.top_down_map(planned or walked, size=640)
        Image.fromarray(top).save(map_path)
        walked_map = out / "top_down_walked.png"
        Image.fromarray(sim.top_down_map(walked, size=640)).save(walked_map)
        scene_path = out / "house.json"
        scene_path.write_text(json.dumps(sim.scene, indent=1))
        result = {
            "out": str(out),
            "seed": seed,
            "resolution": [width, height],
            "rooms": [r.name for r in sim.rooms()],
            "target": sim.world.entities[target].name,
            "door": sim.world.entities[door].name if door is not None else None,
            "events": events,
            "picked": picked,
            "steps": len(walker.actions),
            "actions": walker.actions,
            "frames": len(paths),
            "frames_dir": str(frames_dir),
            "gif": str(gif),
            "top_down": str(map_path),
            "top_down_walked": str(walked_map),
            "scene": str(scene_path),
        }
        (out / "demo.json").write_text(json.dumps(result, indent=1))
        return result
    finally:
        sim.close()
