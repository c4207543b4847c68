"""``egym bench harness`` end to end at a tiny size (figures are not asserted: timings are noisy)."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

from embodied_gym.cli import main
from embodied_gym.envs.light import LightClosedLoopEnv
from embodied_gym.eval.bench import bench_harness, format_harness_report


def test_light_env_follows_the_env_contract():
    """The benchmark's stand-in env passes gymnasium's checker and ends with an episode_result."""
    env = LightClosedLoopEnv(episodes=3, max_steps=4)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(options={"episode_id": "light-0002"})
    for _ in range(20):
        obs, _, term, trunc, info = env.step(env.oracle_action())
        if term or trunc:
            break
    assert env.metadata["family"] == "closed_loop" and info["episode_result"]["episode_id"] == "light-0002"
    assert isinstance(obs["image"], np.ndarray) and obs["image"].shape == (240, 320, 3)


def test_bench_harness_runs_both_concurrencies(capsys):
    """Both runs finish every episode with one request per step; the JSON has the contract keys."""
    result = bench_harness(episodes=4, steps=3, concurrency=2, latency=0.01, env="light")
    assert result["concurrency"] == 2 and result["steps_total"] == 12 and result["env_kind"] == "light"
    assert result["speedup"] > 0 and isinstance(result["overhead_ms_per_step"], float)
    assert "speedup" in format_harness_report(result)
    assert main(["bench", "harness", "--json", "--episodes", "2", "--steps-per-episode", "2", "--concurrency", "2",
                 "--latency", "0.01", "--env", "light"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"speedup", "concurrency", "overhead_ms_per_step"} <= set(printed) and printed["concurrency"] == 2
    assert gym.spec("EgymLightClosedLoop-v0") is not None
