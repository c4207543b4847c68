"""The contract between an environment and the evaluation harness (``egym eval``).

Any Gymnasium environment whose ``env.unwrapped`` satisfies :class:`EvalEnv` can be evaluated by
:mod:`embodied_gym.eval`, with any agent. The harness relies on exactly this, and nothing else:

* ``metadata["family"]``: the name of the environment family (``"closed_loop"``, ``"bear"``, ...)
  registered in :mod:`embodied_gym.agents.families`, which picks the prompt builder, the
  summarizer and the baseline agents. Missing means :data:`DEFAULT_FAMILY`.
* ``episodes``: the episodes this instance can play, in a fixed order; each is an object with an
  ``id`` attribute or a mapping with an ``"id"`` key (:func:`episode_id`). The harness evaluates
  them in this order (``--limit N``: the first N).
* ``reset(seed=..., options={"episode_id": ID})`` starts episode ``ID`` (deterministically for a
  given seed: ``--resume`` rebuilds an interrupted episode by re-feeding its logged actions).
* ``step(action)`` takes the agent's reply text, at most :data:`REPLY_CAP` characters (closed-loop envs with a ``Discrete`` action space
  are wrapped in :class:`~embodied_gym.envs.wrappers.TextAction`). ``info`` may carry ``action``
  or ``parsed_answer`` (what the env made of the reply; ``None`` = invalid), ``invalid_action``,
  ``feedback`` and ``score``; on the step that ends the episode (``terminated or truncated``) it
  must carry ``info[EPISODE_RESULT]``: a JSON-safe ``dict`` of the episode's metrics, which the
  family's summarizer aggregates.
* ``oracle_action()``: the ground-truth action / answer for the current step (used only by the
  oracle agent; it must not change the env's state).
* optional, for ``--perception oracle``: ``perception_report()``, a text of privileged ground truth
  about the current step's frame (:mod:`embodied_gym.envs.perception`) that the harness adds to
  every prompt; for agents with ``needs_scene`` (``tools:``): ``perception_state()``, the same
  ground truth as data. Neither may change the env's state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

#: the ``info`` key holding the finished episode's metrics
EPISODE_RESULT = "episode_result"
#: the family assumed when ``metadata`` names none
DEFAULT_FAMILY = "closed_loop"
#: the longest reply (characters) an environment reads: a longer reply is cut to its last
#: ``REPLY_CAP`` characters (where the ``<answer>`` is) before parsing, so no reply can stall an
#: environment; the harness cuts before the environment thread, the parsers cut again
REPLY_CAP = 8192


@runtime_checkable
class EvalEnv(Protocol):
    """What :mod:`embodied_gym.eval` needs of ``env.unwrapped`` (see the module docstring)."""

    metadata: dict[str, Any]
    episodes: Sequence[Any]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start the episode ``options["episode_id"]``; returns ``(observation, info)``."""
        ...

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """One step; ``info[EPISODE_RESULT]`` when the episode ends."""
        ...

    def oracle_action(self) -> Any:
        """The ground-truth action / answer for the current step, without changing state."""
        ...


def episode_id(episode: Any) -> str:
    """The id of one entry of ``env.episodes`` (an object with ``.id`` or a mapping with ``"id"``)."""
    return str(episode["id"] if isinstance(episode, dict) else episode.id)


def family_of(env: Any) -> str:
    """The family named by ``env.unwrapped.metadata["family"]`` (default :data:`DEFAULT_FAMILY`)."""
    return str((getattr(env.unwrapped, "metadata", None) or {}).get("family", DEFAULT_FAMILY))


def check_eval_env(env: Any, env_id: str = "environment") -> EvalEnv:
    """``env.unwrapped`` if it satisfies :class:`EvalEnv`; else ``ValueError`` naming what is missing."""
    inner = env.unwrapped
    missing = [name for name in ("metadata", "episodes", "reset", "step", "oracle_action") if not hasattr(inner, name)]
    if missing:
        raise ValueError(f"{env_id}: {type(inner).__name__} does not follow the evaluation contract "
                        f"(embodied_gym.envs.contract.EvalEnv): missing {', '.join(missing)}")
    return inner
