"""Baseline agents: ``random``, ``oracle`` and the blind text-only agent.

* :class:`RandomAgent` answers uniformly at random, deterministically per (run seed, episode,
  step), with its family's random answer: an action name for closed-loop tasks; for BEAR an
  option letter, or a random point / box when the question asks for coordinates. It gives the chance level of every metric.
* :class:`OracleAgent` answers the ground truth the runner reads from
  ``env.unwrapped.oracle_action()`` (on the environment thread). It validates environments: it
  must score 1.0.
* the blind text-only agent (``--agent blind:MODEL``) is not here: it is
  :class:`~embodied_gym.agents.openai_agent.OpenAIAgent` with ``blind=True`` (built by
  :func:`~embodied_gym.agents.factory.make_agent`), which receives the same prompt without any
  image; the gap to the normal agent measures how much the model needs the images.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from typing import Any

from ..envs.prompts import _options_text, _text
from ..sims.base import ACTIONS
from .base import Agent, AgentReply, StepContext


def _rng(seed: int, episode_id: str, step: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}|{episode_id}|{step}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def random_bear_answer(obs: dict[str, Any], rng: random.Random) -> str:
    """A uniformly random answer in the format the BEAR question asks for."""
    question = _text(obs.get("question"))
    options = obs.get("options")
    letters = [line[0] for line in _options_text(options).splitlines() if line[:1].isalpha()]
    if letters:
        return rng.choice(letters)
    if re.search(r"x1\s*,\s*y1\s*,\s*x2\s*,\s*y2", question):
        x0, x1 = sorted(rng.random() for _ in range(2))
        y0, y1 = sorted(rng.random() for _ in range(2))
        return f"[{x0:.2f}, {y0:.2f}, {x1:.2f}, {y1:.2f}]"
    if re.search(r"\(\s*x\s*,\s*y\s*\)", question):
        return f"({rng.random():.2f}, {rng.random():.2f})"
    return rng.choice("ABCD")


def random_closed_loop_action(obs: dict[str, Any], rng: random.Random) -> str:
    """A uniformly random action name."""
    return rng.choice(ACTIONS)


def random_recorded_action(obs: dict[str, Any], rng: random.Random) -> str:
    """A uniformly random action of the vocabulary the observation lists (``obs["actions"]``,
    comma-separated: replayed recordings), else of :data:`~embodied_gym.sims.base.ACTIONS`."""
    listed = [a.strip() for a in _text(obs.get("actions")).split(",") if a.strip()]
    return rng.choice(listed or list(ACTIONS))


class RandomAgent(Agent):
    """Uniform random answers (see the module docstring): ``answer(obs, rng)`` is the family's
    random reply (:attr:`embodied_gym.agents.families.Family.random_answer`)."""

    name = "random"

    def __init__(self, answer: Callable[[dict[str, Any], random.Random], str]) -> None:
        self.answer = answer

    async def act(self, obs: dict[str, Any], ctx: StepContext) -> AgentReply:
        return AgentReply(self.answer(obs, _rng(ctx.seed, ctx.episode_id, ctx.step)), prompt="random")


class OracleAgent(Agent):
    """Answers ``ctx.oracle``, the environment's ground truth for the current step."""

    name = "oracle"
    needs_oracle = True

    async def act(self, obs: dict[str, Any], ctx: StepContext) -> AgentReply:
        if ctx.oracle is None:
            return AgentReply("", prompt="oracle", error="the environment gave no oracle action")
        return AgentReply(str(ctx.oracle), prompt="oracle")
