"""``egym bench sim``: steps per second of the ``house`` backend against stock MiniWorld.

Both are measured in the same process, interleaved in rounds (house, MiniWorld, house, ...) so
that load from other processes hits both alike; each figure is the median over rounds.

* ``house``: :class:`HouseSimulator` stepping a fixed cycle of movement actions, every step
  rendering RGB *and* the exact instance segmentation and building the per-object records.
* ``miniworld``: ``gym.make("MiniWorld-ThreeRooms-v0", obs_width=W, obs_height=H)`` stepping
  the same kind of cycle (RGB only).

``egym bench sim --backend NAME --sim-arg KEY=VALUE ...`` measures any other backend
(:func:`bench_backend`): steps per second of the same action cycle through the
:class:`~embodied_gym.sims.base.Simulator` interface, each step returning RGB, instance
segmentation, depth where the backend renders it, and the object records.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import statistics
import sys
import time
from typing import Any

RESOLUTIONS = ((320, 240), (640, 480))
_HOUSE_CYCLE = ("MoveForward", "TurnLeft", "MoveForward", "TurnRight", "MoveBackward", "TurnRight", "TurnLeft")
_WARMUP = 10


def _time_house(sim, steps: int) -> float:
    for i in range(_WARMUP):
        sim.step(_HOUSE_CYCLE[i % len(_HOUSE_CYCLE)])
    t0 = time.perf_counter()
    for i in range(steps):
        obs = sim.step(_HOUSE_CYCLE[i % len(_HOUSE_CYCLE)])
    dt = time.perf_counter() - t0
    assert obs.segmentation.shape == obs.rgb.shape[:2]
    return steps / dt


def _time_miniworld(env, steps: int) -> float:
    a = env.unwrapped.actions
    cycle = (a.move_forward, a.turn_left, a.move_forward, a.turn_right, a.move_back, a.turn_right, a.turn_left)
    for i in range(_WARMUP):
        env.step(cycle[i % len(cycle)])
    t0 = time.perf_counter()
    for i in range(steps):
        env.step(cycle[i % len(cycle)])
    return steps / (time.perf_counter() - t0)


def bench_sim(steps: int = 300, seed: int = 0, rounds: int = 3) -> dict[str, Any]:
    """Measure steps/s; returns ``{"house": {"320x240": f, "640x480": f}, "miniworld": {...},
    "ratio_320x240": f, "ratio_640x480": f, ...}`` (ratios are house / miniworld)."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive integer (got {steps!r})")
    import gymnasium as gym

    from .house.render import gl_renderer  # sets pyglet's headless option before MiniWorld imports pyglet
    from .house.simulator import HouseSimulator

    importlib.import_module("miniworld")  # registers the MiniWorld environments

    result: dict[str, Any] = {"house": {}, "miniworld": {}}
    for w, h in RESOLUTIONS:
        key = f"{w}x{h}"
        sim = HouseSimulator(seed=seed, width=w, height=h)
        sim.reset(seed)
        with contextlib.redirect_stdout(sys.stderr):  # MiniWorld prints framebuffer fallbacks
            env = gym.make("MiniWorld-ThreeRooms-v0", obs_width=w, obs_height=h)
            env.reset(seed=seed)
        house, stock = [], []
        for _ in range(rounds):
            house.append(_time_house(sim, steps))
            stock.append(_time_miniworld(env, steps))
        sim.close()
        env.close()
        result["house"][key] = round(statistics.median(house), 1)
        result["miniworld"][key] = round(statistics.median(stock), 1)
        result[f"ratio_{key}"] = round(result["house"][key] / result["miniworld"][key], 2)
    result["config"] = {
        "steps": steps,
        "rounds": rounds,
        "seed": seed,
        "house_segmentation": True,
        "renderer": gl_renderer(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    return result


def bench_backend(backend: str, sim_kwargs: dict[str, Any] | None = None, *, scene: Any = None, steps: int = 100,
                  rounds: int = 3) -> dict[str, Any]:
    """Steps/s of backend ``backend`` built with ``sim_kwargs`` on ``scene`` (median over rounds)."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive integer (got {steps!r})")
    from . import make_simulator

    sim = make_simulator(backend, **(sim_kwargs or {}))
    try:
        obs = sim.reset(scene)
        per_round = [round(_time_house(sim, steps), 2) for _ in range(rounds)]
        return {"backend": backend, "resolution": f"{obs.rgb.shape[1]}x{obs.rgb.shape[0]}",
                "steps_per_s": round(statistics.median(per_round), 2), "rounds": per_round,
                "depth": obs.depth is not None, "config": {"steps": steps, "rounds": rounds, "scene": scene,
                                                            "sim_kwargs": sim_kwargs or {}, "cpus": os.cpu_count()}}
    finally:
        sim.close()


def format_backend_report(d: dict[str, Any]) -> str:
    """Human-readable line of :func:`bench_backend`'s result."""
    return (f"{d['backend']} {d['resolution']}: {d['steps_per_s']:.1f} steps/s (median of {d['rounds']}; "
            f"RGB + instance segmentation{' + depth' if d['depth'] else ''} + object records per step)")


def format_sim_report(d: dict[str, Any]) -> str:
    """Human-readable table of :func:`bench_sim`'s result."""
    lines = ["simulator steps/s (median of rounds; house renders RGB + instance segmentation)",
             f"{'resolution':>12} {'house':>10} {'miniworld':>10} {'ratio':>7}"]
    for w, h in RESOLUTIONS:
        key = f"{w}x{h}"
        lines.append(f"{key:>12} {d['house'][key]:>10.1f} {d['miniworld'][key]:>10.1f} {d[f'ratio_{key}']:>6.2f}x")
    cfg = d.get("config", {})
    if cfg:
        lines.append(f"steps={cfg.get('steps')} rounds={cfg.get('rounds')} seed={cfg.get('seed')} "
                     f"renderer={cfg.get('renderer')} cpus={cfg.get('cpus')}")
    return "\n".join(lines)
