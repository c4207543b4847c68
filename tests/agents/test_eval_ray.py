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


@pytest.mark.slow
def test_sigterm_stops_a_ray_run_whose_actor_hangs_and_kills_that_actor(local_ray, tmp_path):
    """An actor hung in ``step`` for an hour with the call deadline off (``inf``): SIGTERM to this
    process makes ``run_eval`` raise ``RunInterrupted`` (eval/stopping.py: the closes get their
    grace period, then the busy actor is killed), the episodes finished before it are in the log,
    the hung one is recorded nowhere, and the hung actor's process is gone. Without the stop the
    close would wait for the actor for ever: a watchdog then kills the actor's process after 120 s
    and the test fails on it."""
    import signal
    import threading
    import time

    import crash_env  # noqa: F401

    from embodied_gym.eval.stopping import RunInterrupted

    out, marker, rescued, ended = tmp_path / "ray", tmp_path / "marker", [], threading.Event()

    def records():
        path = out / "steps.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []

    def stop_when_hung():
        deadline = time.monotonic() + 300
        while not (marker.exists() and marker.read_text() and sum(r["type"] == "episode" for r in records()) >= 5):
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)
        if not ended.wait(120):  # the stop did not end the run: unblock it, and fail below
            rescued.append(True)
            os.kill(int(marker.read_text()), signal.SIGKILL)

    threading.Thread(target=stop_when_hung, daemon=True).start()
    with pytest.raises(RunInterrupted) as stopped:
        try:
            run_eval(EvalConfig(env_id="crash_env:EgymCrash-v0", episodes=6, agent="oracle", out=out, concurrency=2,
                                progress=False, ray="local", env_call_timeout=float("inf"),
                                env_kwargs={"crash_episode": "toy-002", "crash_marker": str(marker), "hang": 3600}))
        finally:
            ended.set()
    assert stopped.value.signum == signal.SIGTERM and not rescued
    ends = [r for r in records() if r["type"] == "episode"]
    assert len(ends) == 5 and all(r["result"] is not None for r in ends)
    assert "toy-002" not in {r["episode_id"] for r in ends}
    assert not [r for r in records() if r["type"] == "infra_failure"]
    hung = int(marker.read_text())
    deadline = time.monotonic() + 60  # ray.kill is asynchronous: a guard, not a speed
    while Path(f"/proc/{hung}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{hung}").exists(), "the hung actor's process was left behind"
