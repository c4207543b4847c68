"""``egym eval --ray [ADDRESS]``: each environment on its own Ray actor, owning its simulator.

The scheduler, the agent and every API call stay in this process (the Ray driver); only the
environment calls go to the actors (``await actor.step.remote(...)`` on the event loop). Actors
are created with ``max_restarts=-1``: when one dies (its node, a driver crash, the OOM killer)
Ray starts it again, which makes its environment anew; the call in flight fails with
:class:`~embodied_gym.eval.envhost.EnvLost` and the scheduler retries the episode from its
logged steps. The run writes the same files as a local run, so ``--resume`` works across both.

``ADDRESS``: ``local`` joins the Ray instance this process already initialised, or starts a
local one (``ray.init()`` with this machine's CPUs, no dashboard); anything else is passed to
``ray.init(address=...)`` (``auto``, ``ray://head:10001``). ``actor_options`` go to
``.options()`` of every actor (e.g. ``{"num_gpus": 1}`` for AI2-THOR GPU nodes, or
``{"resources": {"thor": 1}}``); see docs/SCALING.md.

``call_timeout``: an actor that has not answered a ``reset`` / ``step`` / ``perceive`` call
within that many seconds is killed as hung (``ray.kill(actor, no_restart=False)``: Ray starts it
again) and the call fails with ``EnvLost``, like a dead actor's. When a run is stopped
(:mod:`.stopping`), :meth:`RayHost.abort` kills the same way every actor with a call in flight
(an actor whose making was cancelled is killed for good), so no call waits for a simulator that
may never return.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .envhost import EnvHandle, EnvHost, EnvInfo, EnvLost


class _EnvActor:
    """The actor body: one environment, made in the constructor (so a restart makes it again)."""

    def __init__(self, env_id: str, episodes: Any, env_kwargs: dict[str, Any]) -> None:
        import os

        os.environ.setdefault("PYGLET_HEADLESS", "true")
        from .envside import make_env

        self.env = make_env(env_id, episodes, env_kwargs)

    def describe(self) -> EnvInfo:
        from .envhost import describe

        return describe(self.env)

    def reset(self, episode: str, seed: int, oracle: bool) -> tuple[Any, Any]:
        from .envside import reset

        return reset(self.env, episode, seed, oracle)

    def step(self, action: str, oracle: bool) -> tuple:
        from .envside import step

        return step(self.env, action, oracle)

    def perceive(self, report: bool, state: bool) -> tuple[str | None, dict | None]:
        from .envside import perceive

        return perceive(self.env, report, state)

    def close(self) -> None:
        self.env.close()


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ValueError("--ray needs the ray package: pip install 'embodied-gym[ray]' (or pip install ray)") from None
    return ray


class _RayHandle(EnvHandle):
    def __init__(self, actor: Any, info: EnvInfo, lost: tuple[type, ...], call_timeout: float | None = None) -> None:
        self.actor, self.info, self.lost, self.call_timeout = actor, info, lost, call_timeout
        self.deaths = 0
        self.hangs = 0
        self.busy = 0  # calls in flight

    async def _call(self, method: str, *args: Any) -> Any:
        ref = getattr(self.actor, method).remote(*args)
        self.busy += 1
        try:
            if self.call_timeout is None or method == "close":
                return await ref
            return await asyncio.wait_for(ref, self.call_timeout)
        except self.lost as exc:
            self.deaths += 1
            raise EnvLost(f"Ray env actor died during {method}: {type(exc).__name__}: {exc}", restarted=True) from None
        except asyncio.TimeoutError:
            self.hangs += 1
            _ray().kill(self.actor, no_restart=False)
            raise EnvLost(f"Ray env actor did not answer {method} within the call deadline ({self.call_timeout:g} s); "
                          "killed as hung (Ray starts it again)", restarted=True) from None
        finally:
            self.busy -= 1

    async def reset(self, episode: str, seed: int, oracle: bool) -> tuple[Any, Any]:
        return await self._call("reset", episode, seed, oracle)

    async def step(self, action: str, oracle: bool) -> tuple:
        return await self._call("step", action, oracle)

    async def perceive(self, report: bool, state: bool) -> tuple[str | None, dict | None]:
        return await self._call("perceive", report, state)

    async def close(self) -> None:
        try:
            await self._call("close")
        except EnvLost:
            pass
        _ray().kill(self.actor)


class RayHost(EnvHost):
    """One Ray actor per env (see the module docstring)."""

    name = "ray"

    def __init__(self, env_id: str, episodes: Any, env_kwargs: dict[str, Any], address: str = "local",
                 actor_options: dict[str, Any] | None = None, call_timeout: float | None = None) -> None:
        ray = _ray()
        self.started_here = False
        if not ray.is_initialized():
            if address == "local":
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
            self.started_here = True
        self.args = (env_id, episodes, dict(env_kwargs))
        self.call_timeout = call_timeout
        # scheduling only: an actor holds no CPU while it waits, so many fit on a node
        self.options = {"num_cpus": 0, "max_restarts": -1, "max_task_retries": 0, **(actor_options or {})}
        self.actor_class = ray.remote(_EnvActor)
        self.handles: list[_RayHandle] = []
        from ray.exceptions import RayActorError

        self.lost: tuple[type, ...] = (RayActorError,)

    async def make(self) -> EnvHandle:
        actor = self.actor_class.options(**self.options).remote(*self.args)
        try:
            info = await actor.describe.remote()
        except BaseException as exc:  # it failed, or the run stopped while it was made: no handle uses it
            _ray().kill(actor, no_restart=True)
            if isinstance(exc, self.lost):
                raise EnvLost(f"Ray env actor could not start: {exc}") from None
            raise
        handle = _RayHandle(actor, info, self.lost, self.call_timeout)
        self.handles.append(handle)
        return handle

    async def shutdown(self) -> None:
        if self.started_here:
            _ray().shutdown()

    def abort(self) -> int:
        """Kill every actor with a call in flight (Ray starts it again; the call fails with
        ``EnvLost``)."""
        busy = [h for h in self.handles if h.busy]
        for h in busy:
            _ray().kill(h.actor, no_restart=False)
        return len(busy)

    def stats(self) -> dict[str, Any]:
        return {"env_host": self.name, "ray_actor_deaths": sum(h.deaths for h in self.handles),
                "ray_actor_hangs": sum(h.hangs for h in self.handles)}
