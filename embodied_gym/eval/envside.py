"""Environment-side execution: every call into an environment runs on one worker thread.

OpenGL contexts belong to the thread that made them, and simulator backends may share one
context per process, so *every* environment call of every run in this process (creation,
``reset``, ``step``, ``oracle_action``, ``close``) goes through :func:`env_thread`. The
functions below are what runs there; the scheduler awaits them with :func:`call`.

The thread is a daemon thread: a call that never returns (a simulator hung in ``step``; a thread
cannot be killed) must not keep the process of a stopped run alive at exit
(:mod:`.stopping`).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Executor, Future
from typing import Any

from ..agents.judge import make_judge
from ..envs.contract import check_eval_env


class _DaemonThread(Executor):
    """One daemon thread running the calls submitted to it in order: a
    ``ThreadPoolExecutor(max_workers=1)`` whose thread the interpreter does not wait for at exit."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        self._calls.put((fut, fn, args, kwargs))
        return fut

    def _work(self) -> None:
        while True:
            fut, fn, args, kwargs = self._calls.get()
            if not fut.set_running_or_notify_cancel():  # cancelled while queued
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 -- handed to the caller
                fut.set_exception(exc)
            else:
                fut.set_result(result)
            del fut, fn, args, kwargs  # drop references (e.g. frames) while waiting for the next call


_ENV_THREAD: Executor | None = None
_ENV_THREAD_LOCK = threading.Lock()


def env_thread() -> Executor:
    """The process-wide environment thread (created on first use; a daemon thread)."""
    global _ENV_THREAD
    with _ENV_THREAD_LOCK:
        if _ENV_THREAD is None:
            _ENV_THREAD = _DaemonThread("egym-env")
    return _ENV_THREAD


async def call(fn: Any, *args: Any) -> Any:
    """Run ``fn(*args)`` on the environment thread and await its result."""
    return await asyncio.get_running_loop().run_in_executor(env_thread(), fn, *args)


def make_env(env_id: str, episodes: Any, kwargs: dict[str, Any]) -> Any:
    """``gym.make(env_id, episodes=..., **kwargs)``, wrapped in ``TextAction`` when its actions are
    ``Discrete``; checked against :class:`~embodied_gym.envs.contract.EvalEnv`."""
    import gymnasium as gym

    import embodied_gym  # noqa: F401  (registers the ids)

    if episodes is not None:
        kwargs = {**kwargs, "episodes": episodes}
    if "judge" in kwargs:  # a model name / LLMJudge arguments from --env-kwargs -> the network client
        kwargs = {**kwargs, "judge": make_judge(kwargs["judge"])}
    env = gym.make(env_id, **kwargs)
    try:
        check_eval_env(env, env_id)
    except ValueError:
        env.close()
        raise
    if isinstance(env.action_space, gym.spaces.Discrete):
        from ..envs.wrappers import TextAction

        env = TextAction(env)
    return env


def reset(env: Any, episode_id: str, seed: int, oracle: bool) -> tuple[Any, Any]:
    """Start ``episode_id``; returns ``(observation, oracle action or None)``."""
    obs, _info = env.reset(seed=seed, options={"episode_id": episode_id})
    return obs, (env.unwrapped.oracle_action() if oracle else None)


def perceive(env: Any, report: bool, state: bool) -> tuple[str | None, dict | None]:
    """The environment's privileged perception of the current step: its text report
    (``--perception oracle``) and its structured state (agents with ``needs_scene``), each only
    when asked for."""
    inner = env.unwrapped
    return (str(inner.perception_report()) if report else None), (inner.perception_state() if state else None)


def step(env: Any, action: str, oracle: bool) -> tuple:
    """One step: ``(obs, reward, terminated, truncated, info, next oracle action or None)``."""
    obs, reward, terminated, truncated, info = env.step(action)
    done = bool(terminated or truncated)
    return obs, float(reward), bool(terminated), bool(truncated), info, (
        env.unwrapped.oracle_action() if oracle and not done else None
    )
