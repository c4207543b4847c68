"""Environment-side execution: every call into an environment runs on one worker thread.

OpenGL contexts belong to the thread that made them, and simulator backends may share one
context per process, so *every* environment call of every run in this process (creation,
``reset``, ``step``, ``oracle_action``, ``close``) goes through :func:`env_thread`. The
functions below are what runs there; the scheduler awaits them with :func:`call`.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..agents.judge import make_judge
from ..envs.contract import check_eval_env

_ENV_THREAD: ThreadPoolExecutor | None = None


def env_thread() -> ThreadPoolExecutor:
    """The process-wide environment thread (created on first use)."""
    global _ENV_THREAD
    if _ENV_THREAD is None:
        _ENV_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="egym-env")
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
