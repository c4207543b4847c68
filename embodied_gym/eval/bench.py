"""``egym bench harness``: how much faster concurrent rollouts are, and what the harness costs.

:func:`bench_harness` starts :mod:`~embodied_gym.agents.fake_server` in a *separate process*
(so its CPU time is not charged to the harness) answering every request after ``latency``
seconds, then runs the same ``episodes`` closed-loop episodes of ``steps`` steps with
``openai:bench-model`` through :func:`~embodied_gym.eval.run_eval` twice, at
concurrency 1 and at ``concurrency``, each with its own empty cache (no hits), after an
unmeasured one-episode warm-up run (imports, first simulator build, texture caches). It reports:

* ``episodes_per_min_1`` / ``episodes_per_min_k``: throughput during the rollouts (environment
  creation excluded: ``setup_s_*`` is reported apart);
* ``speedup``: rollout time at concurrency 1 over rollout time at ``concurrency`` (target
  ``>= 0.8 * concurrency``; the run at ``concurrency`` is repeated ``repeats`` times and the
  median is used, ``rollout_s_k_runs`` lists them all; ``load_average`` is the machine's 1-minute
  load before and after);
* ``overhead_ms_per_step``: at concurrency 1, ``(rollout time - requests * latency) / steps``:
  everything per step except the server's own latency (prompt building, image encoding, HTTP
  client, environment step and render, log and cache writes);
* ``cpu_ms_per_step_1`` / ``_k``: process CPU time per step.

Environment (``env``): ``"light"`` (default) is :class:`~embodied_gym.envs.light.LightClosedLoopEnv`, a documented
stand-in with the same contract whose 320x240 frames are drawn with numpy (no 3D rendering), so
the figure measures the harness; ``"closed_loop"`` is the real ``EmbodiedTask-v0`` on the
``house`` simulator with the first ``episodes`` episodes of ``house-v1:test`` (``max_steps`` set
to ``steps``): every reset builds a new house and every step renders, all on the one environment
thread, so with 8-step episodes and 200 ms answers that figure measures the simulator as much as
the harness; ``"auto"`` uses the real environment when its suite and simulator load, else
``light``. The result names the env that ran (``env``, ``env_kind``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..envs.light import LIGHT_ID, LightClosedLoopEnv  # noqa: F401  (registers the stand-in env)


def _real_env_setup(episodes: int, steps: int, suite: str) -> tuple[str, Any] | None:
    """``("EmbodiedTask-v0", [Episode...])`` with ``max_steps=steps`` when the suite and simulator load."""
    try:
        import embodied_gym  # noqa: F401

        from ..episodes.spec import load_episodes
        from ..sims import make_simulator

        eps = load_episodes(suite)
        from .envside import env_thread

        # the simulator check runs on the environment thread, where every GL call of the runs happens
        env_thread().submit(lambda: make_simulator("house").close()).result()
    except Exception:  # noqa: BLE001 -- the real env is optional here
        return None
    # copies of the suite's episodes get their own id and instruction, so no two episodes send
    # identical requests (which the cache would answer without the server)
    eps = [dataclasses.replace(e, id=f"{e.id}-b{i}", instruction=f"{e.instruction} (copy {i})", max_steps=steps)
           for i, e in ((i, eps[i % len(eps)]) for i in range(episodes))]
    return "EmbodiedTask-v0", eps


class _Server:
    """The fake server in a child process (its CPU is not the harness's)."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "embodied_gym.agents.fake_server", "--latency", str(latency)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                             os.environ.get("PYTHONPATH", "")])})
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.proc.kill()
            raise RuntimeError("the fake OpenAI server did not start")

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def bench_harness(episodes: int = 64, steps: int = 8, concurrency: int = 32, latency: float = 0.2,
                  env: str = "light", suite: str = "house-v1:test", repeats: int = 3,
                  env_workers: int = 0, env_call_timeout: float | None = None) -> dict[str, Any]:
    """Run the benchmark described in the module docstring; returns its figures as a dict.
    ``suite``: the episodes the real closed-loop env cycles through (each copied with a new id).
    ``repeats``: runs at ``concurrency`` (a few seconds each, so sensitive to momentary load on a
    shared machine); the median one is reported, all rollout times are listed. ``env_workers``: the
    runs at ``concurrency`` keep their environments in that many worker processes
    (:mod:`.workers`; started once, warmed up, shared by the repeats); the run at concurrency 1
    stays the plain serial run on the environment thread, so the workers' pipe traffic counts
    against the speed-up, never for it. ``env_call_timeout``: the workers' per-call deadline, as
    ``egym eval --env-call-timeout`` (None: eval's default): a worker that does not answer for that
    long is killed as hung and restarted, its episodes retried; the result counts such hangs
    (``env_worker_hangs``), whose rollouts then include the wait, so such a figure is no measurement."""
    from .config import EvalConfig
    from .envhost import make_host
    from .scheduler import run_eval

    if env_call_timeout is None:
        env_call_timeout = next(f.default for f in dataclasses.fields(EvalConfig) if f.name == "env_call_timeout")
    if episodes < 1 or steps < 1 or concurrency < 1 or latency < 0 or repeats < 1:
        raise ValueError("bench harness: episodes, steps, concurrency and repeats must be >= 1 and latency >= 0")
    if env not in ("auto", "closed_loop", "light"):
        raise ValueError(f"bench harness: env must be auto, closed_loop or light, got {env!r}")
    real = _real_env_setup(episodes, steps, suite) if env in ("auto", "closed_loop") else None
    if env == "closed_loop" and real is None:
        raise ValueError(f"bench harness: the real closed-loop env is not available ({suite} or the house simulator)")
    env_id, eps, env_kwargs = (real[0], real[1], {}) if real else (LIGHT_ID, episodes, {"max_steps": steps})
    host = None
    if env_workers:
        # a spawned worker imports only what the id names: the stand-in env registers on import
        worker_id = env_id if real else f"embodied_gym.envs.light:{LIGHT_ID}"
        host = make_host(worker_id, eps, env_kwargs, env_workers=env_workers, call_timeout=env_call_timeout)
    server = _Server(latency)
    runs: dict[int, list[dict[str, Any]]] = {}
    load0 = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="egym-bench-") as tmp:
            # warm-up (not measured): imports, the first simulator build and texture caches
            run_eval(EvalConfig(env_id=env_id, episodes=eps if real is None else eps[:1], agent="openai:bench-model",
                                out=Path(tmp) / "warmup", base_url=server.url, api_key="bench", progress=False,
                                limit=1, cache=str(Path(tmp) / "warmup.sqlite"), env_kwargs=env_kwargs))
            if host is not None:  # warm every worker too (imports, first house, caches), with the real episodes
                run_eval(EvalConfig(env_id=env_id, episodes=eps, agent="openai:bench-model", out=Path(tmp) / "warmup-w",
                                    base_url=server.url, api_key="bench", progress=False, limit=env_workers,
                                    concurrency=env_workers, cache=str(Path(tmp) / "warmup-w.sqlite"),
                                    env_kwargs=env_kwargs, env_host=host))
            plan = [1] + [concurrency] * (repeats if concurrency != 1 else 0)
            for i, k in enumerate(plan):
                cpu0 = time.process_time()
                summary = run_eval(EvalConfig(
                    env_id=env_id, episodes=eps, agent="openai:bench-model", out=Path(tmp) / f"run{i}",
                    concurrency=k, base_url=server.url, api_key="bench", progress=False,
                    cache=str(Path(tmp) / f"cache{i}.sqlite"), env_kwargs=env_kwargs,
                    env_host=host if k != 1 else None))
                run = summary["run"]
                if run["n_results"] != episodes:
                    raise RuntimeError(f"bench harness: concurrency {k} finished {run['n_results']}/{episodes} episodes")
                if run["cache_hits"] and not run["this_run"]["infra_failures"]:  # (a retried step is asked again)
                    raise RuntimeError(f"bench harness: concurrency {k} got {run['cache_hits']} answers from its "
                                       "fresh cache: some requests were identical, so the server was not asked")
                runs.setdefault(k, []).append({"rollout_s": run["rollout_s"], "setup_s": run["setup_s"],
                                               "steps": run["steps"], "requests": run["requests"],
                                               "cpu_s": time.process_time() - cpu0})
    finally:
        server.close()
        if host is not None:
            import asyncio

            asyncio.run(host.shutdown())
    stats = host.stats() if host is not None else {}
    workers = {"env_call_timeout": env_call_timeout, "env_worker_hangs": stats["env_worker_hangs"],
               "env_worker_restarts": stats["env_worker_restarts"]} if host is not None else {}
    one = runs[1][0]
    many = sorted(runs[concurrency], key=lambda r: r["rollout_s"])[len(runs[concurrency]) // 2]  # the median run
    steps_total = one["steps"]
    return {
        "speedup": round(one["rollout_s"] / many["rollout_s"], 2),
        "concurrency": concurrency,
        "overhead_ms_per_step": round(1000 * (one["rollout_s"] - one["requests"] * latency) / steps_total, 3),
        "target_speedup": round(0.8 * concurrency, 2),
        "episodes": episodes, "steps_per_episode": steps, "steps_total": steps_total, "latency_s": latency,
        "episodes_per_min_1": round(60 * episodes / one["rollout_s"], 2),
        "episodes_per_min_k": round(60 * episodes / many["rollout_s"], 2),
        "rollout_s_1": round(one["rollout_s"], 3), "rollout_s_k": round(many["rollout_s"], 3),
        "ideal_rollout_s_k": round(-(-episodes // concurrency) * steps * latency, 3),
        "setup_s_1": round(one["setup_s"], 3), "setup_s_k": round(many["setup_s"], 3),
        "cpu_ms_per_step_1": round(1000 * one["cpu_s"] / steps_total, 3),
        "cpu_ms_per_step_k": round(1000 * many["cpu_s"] / many["steps"], 3),
        "rollout_s_k_runs": [round(r["rollout_s"], 3) for r in runs[concurrency]],
        "load_average": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "env": env_id, "env_kind": "closed_loop" if real else "light", "env_workers": env_workers, **workers,
        "cpu_count": os.cpu_count(),
    }


def format_harness_report(result: dict[str, Any]) -> str:
    """A few human-readable lines for :func:`bench_harness`'s result."""
    r = result
    ok = "meets" if r["speedup"] >= r["target_speedup"] else "MISSES"
    return "\n".join([
        f"harness benchmark: {r['episodes']} episodes x {r['steps_per_episode']} steps, server latency "
        f"{r['latency_s'] * 1000:.0f} ms, env {r['env']} ({r['env_kind']})"
        + (f", {r['env_workers']} env worker processes at {r['concurrency']}" if r.get("env_workers") else ""),
        f"  concurrency 1:  {r['episodes_per_min_1']:.1f} episodes/min (rollout {r['rollout_s_1']:.2f} s)",
        f"  concurrency {r['concurrency']}: {r['episodes_per_min_k']:.1f} episodes/min (rollout {r['rollout_s_k']:.2f} s,"
        f" median of {r['rollout_s_k_runs']}; ideal {r['ideal_rollout_s_k']:.2f} s)",
        f"  speedup {r['speedup']:.2f}x ({ok} the target {r['target_speedup']:.1f}x)",
        f"  harness overhead {r['overhead_ms_per_step']:.2f} ms/step (server time excluded);"
        f" CPU {r['cpu_ms_per_step_1']:.2f} ms/step at 1, {r['cpu_ms_per_step_k']:.2f} ms/step at {r['concurrency']}",
        f"  machine load average {r['load_average'][0]} before, {r['load_average'][1]} after",
        *([f"  WARNING: {r['env_worker_hangs']} env worker(s) hung and were killed at the {r['env_call_timeout']:g} s "
           "call deadline: the rollout times include that wait; not a measurement"] if r.get("env_worker_hangs") else []),
        json.dumps(r),
    ])
