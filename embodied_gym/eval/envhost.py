"""Where the environments of a run live: the scheduler talks to *handles*, never to env objects.

An :class:`EnvHandle` is one environment instance somewhere, driven with awaitable calls
(``reset``, ``step``, ``perceive``, ``close``) and described by :class:`EnvInfo` (family, episode
ids, whether it has a perception report), read where the env lives. Hosts make handles:

* :class:`ThreadHost` (default): every env in this process, every call on the one environment
  thread (:mod:`.envside`), as before.
* :class:`~embodied_gym.eval.workers.ProcessHost` (``--env-workers N``): envs in N worker
  processes, each with its own OpenGL context; the event loop and the API calls stay here.
* :class:`~embodied_gym.eval.rayhost.RayHost` (``--ray [ADDRESS]``): one Ray actor per env.

A handle whose process or actor died raises :class:`EnvLost` (an
:class:`~embodied_gym.sims.base.InfrastructureError`) from the call in flight; the host restarts
the process or actor, and the handle's next ``reset`` makes its env again there, so the
scheduler can retry the episode (:func:`make_host` says how, :mod:`.scheduler` does it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..envs.contract import episode_id, family_of
from ..sims.base import InfrastructureError
from . import envside


class EnvLost(InfrastructureError):
    """The process or actor holding an environment died during a call (the episode in flight is
    lost; the host restarts it for the next one)."""


@dataclass(frozen=True)
class EnvInfo:
    """What the scheduler needs to know of an environment: ``family`` (``metadata["family"]``),
    ``episode_ids`` (``env.unwrapped.episodes`` in order), ``has_perception`` / ``has_scene`` (it
    has ``perception_report()`` / ``perception_state()``), ``metadata`` (a copy of
    ``env.unwrapped.metadata``, e.g. its ``prompt_profile``)."""

    family: str
    episode_ids: tuple[str, ...]
    has_perception: bool
    has_scene: bool
    metadata: dict[str, Any] = field(default_factory=dict)


def describe(env: Any) -> EnvInfo:
    """:class:`EnvInfo` of an env (runs where the env lives)."""
    inner = env.unwrapped
    return EnvInfo(family=family_of(env), episode_ids=tuple(episode_id(e) for e in inner.episodes),
                   has_perception=callable(getattr(inner, "perception_report", None)),
                   has_scene=callable(getattr(inner, "perception_state", None)),
                   metadata=dict(getattr(inner, "metadata", None) or {}))


class EnvHandle(ABC):
    """One environment of a run. ``info`` is set once the env exists. Calls raise whatever the
    env raised, or :class:`EnvLost` when its process/actor died."""

    info: EnvInfo

    @abstractmethod
    async def reset(self, episode: str, seed: int, oracle: bool) -> tuple[Any, Any]:
        """:func:`envside.reset`: ``(observation, oracle action or None)``."""

    @abstractmethod
    async def step(self, action: str, oracle: bool) -> tuple:
        """:func:`envside.step`: ``(obs, reward, terminated, truncated, info, oracle or None)``."""

    @abstractmethod
    async def perceive(self, report: bool, state: bool) -> tuple[str | None, dict | None]:
        """:func:`envside.perceive`: the privileged perception report and state, each if asked."""

    @abstractmethod
    async def close(self) -> None:
        """Close the env (never raises for an env whose process already died)."""


class EnvHost(ABC):
    """Makes handles for one run's ``env_id`` / ``episodes`` / ``env_kwargs``."""

    name = "host"
    #: the run's agent's ``frame_encoder`` (set by the scheduler; see
    #: :attr:`~embodied_gym.agents.base.Agent.frame_encoder`): hosts whose environments live in
    #: other processes may encode new frames there and prime it; None: nothing to do
    frame_encoder: Any = None

    @abstractmethod
    async def make(self) -> EnvHandle:
        """A new environment (its ``info`` filled in)."""

    async def shutdown(self) -> None:  # noqa: B027 (optional: hosts without processes keep it)
        """Stop processes/actors after every handle was closed."""

    def abort(self) -> int:
        """Kill at once every process/actor of this host that has a call still unanswered, so
        that each such call fails with :class:`EnvLost` (used when a stopped run's environments did
        not close in time, :mod:`.stopping`); the host stays usable (the next call starts them
        again). Returns how many were killed. Default: 0 (nothing to kill: a call on the
        environment thread cannot be stopped; that thread does not hold up the process's exit)."""
        return 0

    def stats(self) -> dict[str, Any]:
        """Counters for ``summary["run"]`` (e.g. restarts)."""
        return {"env_host": self.name}


class _ThreadHandle(EnvHandle):
    def __init__(self, env: Any, info: EnvInfo) -> None:
        self.env, self.info = env, info

    async def reset(self, episode: str, seed: int, oracle: bool) -> tuple[Any, Any]:
        return await envside.call(envside.reset, self.env, episode, seed, oracle)

    async def step(self, action: str, oracle: bool) -> tuple:
        return await envside.call(envside.step, self.env, action, oracle)

    async def perceive(self, report: bool, state: bool) -> tuple[str | None, dict | None]:
        return await envside.call(envside.perceive, self.env, report, state)

    async def close(self) -> None:
        await envside.call(self.env.close)


def _make_described(env_id: str, episodes: Any, kwargs: dict[str, Any]) -> tuple[Any, EnvInfo]:
    env = envside.make_env(env_id, episodes, kwargs)
    return env, describe(env)


class ThreadHost(EnvHost):
    """Every env in this process, every call on the one environment thread."""

    name = "thread"

    def __init__(self, env_id: str, episodes: Any, env_kwargs: dict[str, Any]) -> None:
        self.args = (env_id, episodes, dict(env_kwargs))

    async def make(self) -> EnvHandle:
        env, info = await envside.call(_make_described, *self.args)
        return _ThreadHandle(env, info)


def make_host(env_id: str, episodes: Any, env_kwargs: dict[str, Any], env_workers: int = 0,
              ray: str | None = None, ray_actor_options: dict[str, Any] | None = None,
              call_timeout: float | None = None) -> EnvHost:
    """The host for a run: Ray actors when ``ray`` is an address (``"local"`` starts a local Ray
    instance, or joins the one this process already initialised), else ``env_workers`` worker
    processes when >= 1, else the environment thread. ``ray_actor_options``: ``.options()`` of
    every Ray actor. ``call_timeout``: the per-call deadline of worker processes and Ray actors
    (seconds without an answer before the process/actor is killed as hung and restarted; None:
    none); the environment thread has none (it cannot be killed)."""
    if ray:
        from .rayhost import RayHost

        return RayHost(env_id, episodes, env_kwargs, address=ray, actor_options=ray_actor_options,
                       call_timeout=call_timeout)
    if env_workers:
        from .workers import ProcessHost

        return ProcessHost(env_id, episodes, env_kwargs, workers=env_workers, call_timeout=call_timeout)
    return ThreadHost(env_id, episodes, env_kwargs)
