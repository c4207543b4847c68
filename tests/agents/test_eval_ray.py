"""``egym eval --ray``: episodes on Ray actors of a local Ray instance (``ray.init(num_cpus=2)``)
write the same summary figures as the same run without Ray (oracle on the real
``EmbodiedTask-v0``), ``--resume`` continues a Ray run locally, and an actor that dies mid
episode is restarted by Ray and the episode retried from its logged steps. Skipped where the
``ray`` package is missing."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray package is not installed (pip install 'embodied-gym[ray]')")

from embodied_gym.eval import EvalConfig, run_eval  # noqa: E402

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def local_ray():
    # actors import this package and the tests' envs: give them the driver's import path
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parents[1])] + ([old] if old else []))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def _cfg(out, **kw):
    base = dict(env_id="EmbodiedTask-v0", episodes="house-v1:test", agent="oracle", out=out, limit=4, concurrency=2,
                progress=False)
    return EvalConfig(**{**base, **kw})


@pytest.mark.slow
def test_oracle_summary_on_ray_equals_the_local_run_and_resume_crosses_over(local_ray, tmp_path):
    local = run_eval(_cfg(tmp_path / "local"))
    on_ray = run_eval(_cfg(tmp_path / "ray", ray="local"))
    assert on_ray["run"]["env_host"] == "ray"
    for key in ("overall", "by_category", "by_split", "by_domain"):
        assert on_ray[key] == local[key], key
    # a Ray run interrupted after its first two episodes (the log cut there), resumed locally:
    # the same figures, every episode once
    mixed_dir = tmp_path / "mixed"
    run_eval(_cfg(mixed_dir, ray="local"))
    lines = (mixed_dir / "steps.jsonl").read_text().splitlines(keepends=True)
    ends = [i for i, x in enumerate(lines) if '"type": "episode"' in x]
    (mixed_dir / "steps.jsonl").write_text("".join(lines[: ends[1] + 1]))
    mixed = run_eval(_cfg(mixed_dir, resume=True))
    assert mixed["run"]["env_host"] == "thread"
    assert mixed["overall"] == local["overall"]
    finals = [json.loads(x) for x in (tmp_path / "mixed" / "steps.jsonl").read_text().splitlines()
              if '"type": "episode"' in x]
    assert len(finals) == 4 and len({f["episode_id"] for f in finals}) == 4


def _crash_env_runs(tmp_path, **ray_kw):
    """The crash env's 6 episodes run locally, then on Ray with ``ray_kw`` (its ``env_kwargs``
    make toy-002 fail once, at the marker); returns (local summary, Ray summary, Ray log records)."""
    import crash_env  # noqa: F401

    env = "crash_env:EgymCrash-v0"
    local = run_eval(EvalConfig(env_id=env, episodes=6, agent="oracle", out=tmp_path / "local", concurrency=2,
                                progress=False))
    out = tmp_path / "ray"
    summary = run_eval(EvalConfig(env_id=env, episodes=6, agent="oracle", out=out, concurrency=2, progress=False,
                                  ray="local", **ray_kw))
    assert (tmp_path / "marker").exists()  # it did fail
    return local, summary, [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_a_dead_actor_is_restarted_and_its_episode_retried(local_ray, tmp_path):
    local, summary, records = _crash_env_runs(
        tmp_path, env_kwargs={"crash_episode": "toy-002", "crash_marker": str(tmp_path / "marker")})
    # a call can also fail while Ray is still restarting the actor: each counts, each is retried
    assert summary["run"]["ray_actor_deaths"] >= 1 and summary["run"]["n_errors"] == 0
    assert summary["overall"]["n"] == 6 and summary["overall"]["success_rate"] == local["overall"]["success_rate"]
    steps = Counter((r["episode_id"], r["step"]) for r in records if r["type"] == "step")
    assert max(steps.values()) == 1


@pytest.mark.slow
def test_a_hung_actor_is_killed_at_the_call_deadline_and_its_episode_retried(local_ray, tmp_path):
    """An actor that stays alive but does not answer (``step`` sleeps 60 s) is killed at
    ``env_call_timeout``, restarted by Ray, and its episode retried: no error, every step logged once."""
    local, summary, records = _crash_env_runs(
        tmp_path, env_call_timeout=5.0,
        env_kwargs={"crash_episode": "toy-002", "crash_marker": str(tmp_path / "marker"), "hang": 60})
    assert summary["run"]["ray_actor_hangs"] == 1 and summary["run"]["n_errors"] == 0
    assert summary["overall"] == local["overall"]
    assert any("killed as hung" in r["error"] for r in records if r["type"] == "infra_failure")
    steps = Counter((r["episode_id"], r["step"]) for r in records if r["type"] == "step")
    assert max(steps.values()) == 1
