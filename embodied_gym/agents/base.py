"""The agent interface: what the runner asks of every agent (API model, local model, baseline).

An :class:`Agent` maps one observation of an environment, plus the episode's memory
(:class:`StepContext`, kept by the runner), to an :class:`AgentReply` whose ``text`` is handed to
the environment as the action (closed-loop environments are wrapped in ``TextAction``, BEAR's
action space is text already). Contract:

* ``await agent.act(obs, ctx)`` never raises for a model-side problem. A real reply of the model
  (whatever it says) comes back as ``AgentReply(text)`` and goes to the environment, which scores
  it. When *no* reply of the model came back (the API call failed after its retries, the server
  sent an empty or malformed completion, a local generation crashed) the reply has
  ``infra_failure=True``: an infrastructure failure, never handed to the environment or cached;
  the harness records it apart from the model's metrics and the step is asked again on
  ``--resume``. Only misconfiguration that would fail every request (bad key, unknown model), or
  an endpoint that keeps failing or never answers, raises :class:`AgentFatalError`, which stops the
  run (everything logged so far is kept; ``--resume`` continues).
* One agent object serves many concurrent episodes: per-episode state lives in ``ctx``.
* Agents never touch the environment: ground truth for the oracle is fetched by the runner on the
  environment thread and passed as ``ctx.oracle`` when ``agent.needs_oracle`` is true.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

from ..envs.context import StepContext, observation_image

__all__ = ["Agent", "AgentFatalError", "AgentReply", "StepContext", "observation_image"]


class AgentFatalError(ValueError):
    """A configuration error that would fail every request (authentication, unknown model, an
    endpoint that keeps failing); a ``ValueError`` so ``egym`` reports it as bad input."""


@dataclass
class AgentReply:
    """One agent decision.

    ``text`` is the raw reply given to the environment ("" when the call failed). ``prompt`` is the
    JSON-safe request (images replaced by ``"<image WxH sha256:...>"`` placeholders) and
    ``request_hash`` the cache key of the full request. Token counts are those reported by the
    model server (for cached replies: what the original call used); ``cost`` is what *this* call
    cost in USD (0 for a cache hit). ``attempts`` counts HTTP requests sent (0 for a cache hit or a
    baseline). ``error`` describes what went wrong; ``infra_failure`` is true when no reply of the
    model came back at all (see the module docstring), so ``text`` is not the model's."""

    text: str
    request_hash: str | None = None
    prompt: Any = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    attempts: int = 0
    error: str | None = None
    infra_failure: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Agent(ABC):
    """Base class of every agent. Subclasses set ``name`` and implement :meth:`act`."""

    name: str = "agent"
    #: when true, the runner fills ``ctx.oracle`` with ``env.unwrapped.oracle_action()`` each step
    needs_oracle: bool = False
    #: when true, the runner fills ``ctx.scene`` with ``env.unwrapped.perception_state()`` (privileged
    #: ground truth of the current frame) before each step
    needs_scene: bool = False
    #: an agent that encodes observation frames itself (API models: JPEG data URLs) may expose its
    #: encoder here: an object with ``spec`` (the arguments of
    #: :func:`~embodied_gym.agents.frame_encoding.encode_image` after the image) and
    #: ``prime(image, encoded)``; hosts that run environments in other processes then encode each
    #: new frame there and prime it (a cache, never a change of what the model is sent)
    frame_encoder: Any = None

    def waiting_for(self) -> str | None:
        """What the agent's longest-waiting call is waiting for, e.g. ``"openai:gpt-4o: 75 s,
        attempt 3/6 (last: timeout after 60 s)"``; ``None`` when nothing waits (for progress displays)."""
        return None

    @abstractmethod
    async def act(self, obs: dict[str, Any], ctx: StepContext) -> AgentReply:
        """Decide the next action for ``obs``. Must not raise for model-side failures."""

    async def aclose(self) -> None:  # noqa: B027 -- optional hook, a no-op by default
        """Release clients, threads and models."""
