"""``egym eval --env-workers N``: environments run in N worker processes (never in the event
loop's process), give the same results as the environment thread, and a worker that dies mid
episode is restarted: the episode is retried from its logged steps (each step logged once) or,
when it keeps dying, recorded as an infrastructure failure that is not scored while the other
episodes finish. A worker that stays alive but stops answering (hung) is killed at the per-call
deadline (``env_call_timeout``) and then treated like a dead one."""

from __future__ import annotations

import json
import os
from collections import Counter

import crash_env  # noqa: F401  (registers EgymCrash-v0)
import pytest

from embodied_gym.cli import main
from embodied_gym.eval import EvalConfig, run_eval
from embodied_gym.eval.config import ConfigError

ENV = "crash_env:EgymCrash-v0"


def _run(out, **kw):
    return run_eval(EvalConfig(env_id=ENV, episodes=6, agent="oracle", out=out, concurrency=3, progress=False, **kw))


def _records(out):
    return [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]


def test_workers_give_the_thread_figures_and_run_envs_in_other_processes(tmp_path):
    local = _run(tmp_path / "thread")
    workers = _run(tmp_path / "workers", env_workers=2)
    assert workers["overall"] == local["overall"] and workers["by_split"] == local["by_split"]
    assert workers["run"]["env_host"] == "processes" and workers["run"]["env_workers"] == 2
    pids = {r["result"]["pid"] for r in _records(tmp_path / "workers") if r["type"] == "episode"}
    assert os.getpid() not in pids and len(pids) == 2
    assert {r["result"]["pid"] for r in _records(tmp_path / "thread") if r["type"] == "episode"} == {os.getpid()}


def test_a_crashed_worker_is_restarted_and_the_episode_retried_from_its_logged_steps(tmp_path):
    marker = tmp_path / "crashed-once"
    local = _run(tmp_path / "thread")
    out = tmp_path / "crash"
    summary = _run(out, env_workers=2, env_kwargs={"crash_episode": "toy-002", "crash_marker": str(marker)})
    assert marker.exists()  # it did crash
    # every episode in flight on that worker was lost with it (and retried), not only the crashing one
    assert summary["run"]["env_worker_restarts"] == 1 and summary["run"]["this_run"]["infra_failures"] >= 1
    assert summary["overall"] == local["overall"] and summary["run"]["n_errors"] == 0
    steps = Counter((r["episode_id"], r["step"]) for r in _records(out) if r["type"] == "step")
    assert max(steps.values()) == 1  # the retry re-fed the logged steps instead of asking again
    assert summary["run"]["steps"] == local["run"]["steps"]


def test_an_episode_that_keeps_killing_its_worker_is_an_infrastructure_failure(tmp_path):
    out = tmp_path / "always"
    # one env per worker, so no other episode shares the crashing process (see the next test for that)
    summary = _run(out, env_workers=3, env_retries=1, env_kwargs={"crash_episode": "toy-001", "always": True})
    assert summary["run"]["n_errors"] == 1 and summary["overall"]["n"] == 5
    (err,) = summary["run"]["errors"]
    assert err["episode_id"] == "toy-001"
    final = [r for r in _records(out) if r["type"] == "episode" and r["episode_id"] == "toy-001"][-1]
    assert final["incomplete"] is True and "died during the call" in final["error"]
    infra = [r for r in _records(out) if r["type"] == "infra_failure"]
    assert [r["episode_id"] for r in infra] == ["toy-001", "toy-001"]
    assert summary["run"]["env_worker_restarts"] >= 1  # 2 deaths; the second needed no restart (run over)


def test_a_hung_worker_is_killed_at_the_call_deadline_restarted_and_the_episode_retried(tmp_path):
    """A real worker process that stays alive but never answers (it sleeps 60 s in ``step``) is
    killed once it has sent no reply for ``env_call_timeout`` seconds; the worker restarts, every
    episode it held is retried from its logged steps, and the figures equal the thread run's.
    (Without the deadline the process would exit after 60 s and the errors would say "died
    during the call", not "killed as hung".)"""
    marker = tmp_path / "hung-once"
    local = _run(tmp_path / "thread")
    out = tmp_path / "hang"
    summary = _run(out, env_workers=2, env_call_timeout=3.0,
                   env_kwargs={"crash_episode": "toy-002", "crash_marker": str(marker), "hang": 60})
    assert marker.exists()  # it did hang
    assert summary["run"]["env_worker_hangs"] == 1 and summary["run"]["env_worker_restarts"] == 1
    infra = [r for r in _records(out) if r["type"] == "infra_failure"]
    assert infra and all("killed as hung" in r["error"] for r in infra)
    assert summary["overall"] == local["overall"] and summary["run"]["n_errors"] == 0
    steps = Counter((r["episode_id"], r["step"]) for r in _records(out) if r["type"] == "step")
    assert max(steps.values()) == 1 and summary["run"]["steps"] == local["run"]["steps"]


def test_an_episode_whose_worker_keeps_hanging_is_an_infrastructure_failure_not_the_models(tmp_path):
    out = tmp_path / "always-hangs"
    summary = _run(out, env_workers=3, env_retries=1, env_call_timeout=2.0,
                   env_kwargs={"crash_episode": "toy-001", "always": True, "hang": 60})
    assert summary["run"]["n_errors"] == 1 and summary["overall"]["n"] == 5  # not scored
    assert summary["run"]["env_worker_hangs"] == 2
    final = [r for r in _records(out) if r["type"] == "episode" and r["episode_id"] == "toy-001"][-1]
    assert final["incomplete"] is True and "killed as hung" in final["error"] and final["result"] is None


def test_flags_and_bad_values(tmp_path, capsys):
    with pytest.raises(ConfigError, match="env_workers"):
        EvalConfig(env_id=ENV, episodes=2, agent="oracle", out=tmp_path, env_workers=-1)
    with pytest.raises(ConfigError, match="env_workers"):
        EvalConfig(env_id=ENV, episodes=2, agent="oracle", out=tmp_path, env_workers=2, ray="local")
    for bad in (0, -1.0, "5", True):
        with pytest.raises(ConfigError, match="env_call_timeout"):
            EvalConfig(env_id=ENV, episodes=2, agent="oracle", out=tmp_path, env_workers=2, env_call_timeout=bad)
    with pytest.raises(ConfigError, match="ray_actor_options"):
        EvalConfig(env_id=ENV, episodes=2, agent="oracle", out=tmp_path, ray="local", ray_actor_options=[1])
    from embodied_gym.cli import build_parser

    args = build_parser().parse_args(["eval", "--env", ENV, "--episodes", "x", "--agent", "oracle", "--out", "o", "--ray"])
    assert args.ray == "local"  # the flag alone
    args = build_parser().parse_args(["eval", "--env", ENV, "--episodes", "x", "--agent", "oracle", "--out", "o",
                                      "--ray", "ray://head:10001", "--ray-actor-options", '{"num_gpus": 1}'])
    assert (args.ray, args.ray_actor_options) == ("ray://head:10001", {"num_gpus": 1})
    args = build_parser().parse_args(["eval", "--env", ENV, "--episodes", "x", "--agent", "oracle", "--out", "o",
                                      "--env-workers", "2", "--env-call-timeout", "7.5"])
    assert args.env_call_timeout == 7.5
    assert main(["eval", "--env", ENV, "--episodes", "toy:2", "--agent", "oracle", "--out", str(tmp_path / "r"),
                 "--env-workers", "1", "--no-progress"]) == 0
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["run"]["env_workers"] == 1


def test_bench_harness_with_env_workers_runs_every_episode_in_workers():
    """``egym bench harness --env-workers N`` on the light env (tiny sizes: this checks the
    plumbing; the speed-up figures live in docs/BENCHMARKS.md)."""
    from embodied_gym.eval.bench import bench_harness

    r = bench_harness(episodes=4, steps=2, concurrency=2, latency=0.01, env="light", repeats=1, env_workers=2)
    assert r["env_workers"] == 2 and r["steps_total"] == 8 and r["speedup"] > 0


def test_bench_harness_workers_have_evals_call_deadline_and_survive_a_hung_worker(monkeypatch):
    """``egym bench harness --env-workers N`` keeps its environments in eval's worker host with eval's
    per-call deadline: a real worker process that stays alive but stops answering (stopped with
    SIGSTOP just before the first ``step`` of the measured runs) is killed at ``env_call_timeout``
    (2 s) and restarted, the measured run still finishes every episode, and the result counts the
    hang. Without the deadline nothing would answer until the test's watchdog resumes the process
    (SIGCONT) after 40 s: the bench then ends with no hang counted, and the test fails."""
    import signal
    import threading

    from embodied_gym.eval import workers
    from embodied_gym.eval.bench import bench_harness, format_harness_report

    episodes, steps, env_workers = 4, 2, 2
    warmup_steps = env_workers * steps  # the workers' warm-up run: env_workers episodes of `steps` steps
    calls, stopped = [0], []
    call = workers._Worker.call

    async def stop_once(self, slot, op, *args, **kwargs):
        if op == "step":
            calls[0] += 1
            if calls[0] == warmup_steps + 1:
                stopped.append(self.proc.pid)
                os.kill(self.proc.pid, signal.SIGSTOP)  # alive, but it answers nothing from now on
        return await call(self, slot, op, *args, **kwargs)

    def resume():  # the watchdog: never leave a stopped process behind, whatever the code under test does
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:  # killed at the deadline, as it should be
                pass

    monkeypatch.setattr(workers._Worker, "call", stop_once)
    watchdog = threading.Timer(40.0, resume)
    watchdog.start()
    try:
        r = bench_harness(episodes=episodes, steps=steps, concurrency=2, latency=0.01, env="light", repeats=1,
                          env_workers=env_workers, env_call_timeout=2.0)
    finally:
        watchdog.cancel()
        resume()
    assert stopped
    assert r["env_call_timeout"] == 2.0 and r["env_worker_hangs"] == 1 and r["env_worker_restarts"] == 1
    assert r["steps_total"] == episodes * steps  # the run at 1; the run at 2 finished all episodes too (else it raises)
    assert "WARNING: 1 env worker(s) hung" in format_harness_report(r)


def test_bench_harness_call_deadline_defaults_to_evals_and_has_a_flag():
    import dataclasses

    from embodied_gym.cli import build_parser
    from embodied_gym.eval.bench import bench_harness

    r = bench_harness(episodes=2, steps=1, concurrency=2, latency=0.0, env="light", repeats=1, env_workers=1)
    assert r["env_call_timeout"] == next(f.default for f in dataclasses.fields(EvalConfig)
                                         if f.name == "env_call_timeout") and r["env_worker_hangs"] == 0
    args = build_parser().parse_args(["bench", "harness", "--env-workers", "2", "--env-call-timeout", "7.5"])
    assert args.env_call_timeout == 7.5


def test_an_exception_that_cannot_be_unpickled_still_reaches_the_scheduler():
    """A worker's exception whose class cannot be rebuilt from its args (ConfigError) arrives
    as a RuntimeError with its type and message instead of hanging the call."""
    from embodied_gym.eval.workers import _portable

    exc = _portable(ConfigError("concurrency", "must be >= 1"))
    assert isinstance(exc, RuntimeError) and "ConfigError" in str(exc) and "concurrency" in str(exc)
    plain = ValueError("x")
    assert _portable(plain) is plain


def test_workers_encode_new_frames_for_api_agents_and_the_requests_stay_identical(tmp_path, monkeypatch):
    """With an API agent, each worker encodes every new frame with the agent's ``encode_image``
    spec next to the simulator and the agent only looks it up: the requests the server receives
    (data URLs included) are the thread run's, byte for byte, and the event loop's process
    compresses no frame (it does every frame in the thread run)."""
    from embodied_gym.agents import frame_encoding
    from embodied_gym.agents.fake_server import FakeOpenAIServer
    from embodied_gym.envs.light import LIGHT_ID

    calls = Counter()
    real = frame_encoding.encode_image

    def counting(image, *spec):
        calls["here"] += 1
        return real(image, *spec)

    monkeypatch.setattr(frame_encoding, "encode_image", counting)
    bodies = {}
    for name, workers in (("thread", 0), ("workers", 1)):
        with FakeOpenAIServer(latency=0.0) as server:
            summary = run_eval(EvalConfig(env_id=f"embodied_gym.envs.light:{LIGHT_ID}", episodes=2,
                                          agent="openai:m", out=tmp_path / name, base_url=server.base_url,
                                          api_key="k", progress=False, env_workers=workers,
                                          env_kwargs={"max_steps": 3}))
            bodies[name] = [r["body"] for r in server.requests]
        assert summary["run"]["steps"] == 6
        calls[name], calls["here"] = calls["here"], 0
    assert bodies["workers"] == bodies["thread"] and len(bodies["thread"]) == 6
    assert any("data:image/jpeg;base64," in str(b) for b in bodies["thread"])
    assert calls["thread"] >= 6 and calls["workers"] == 0
