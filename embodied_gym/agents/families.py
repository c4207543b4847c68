"""The registry of environment families: everything the harness does differently per family.

An environment names its family in ``metadata["family"]`` (see
:mod:`embodied_gym.envs.contract`). The family decides how agents are prompted, how episode
results are summarised and what the random baseline answers. Registering a new family is one
call (a new suite whose envs look like an existing family just reuses its parts)::

    from embodied_gym.agents.families import Family, register_family, get_family
    from embodied_gym.envs.prompts import PromptFamily

    bear = get_family("bear")
    register_family(Family(
        "embrace_replay",
        prompt=bear.prompt,                      # or PromptFamily(render_fn, ("question", ...))
        summarize=my_summarizer,                 # list of info["episode_result"] -> summary dict
        random_answer=bear.random_answer,        # (obs, random.Random) -> reply text
    ))

and a prompt file ``configs/prompts/embrace_replay.json`` (or ``prompt_file`` in the agent
settings). Families without a summarizer get the generic one (means of every numeric field
overall and per ``category`` / ``split``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..envs.prompts import PROMPT_FAMILIES, PromptFamily
from ..rewards.bear import summarize_bear
from ..rewards.metrics import summarize_closed_loop
from ..rewards.replay import summarize_replay
from .baselines import random_bear_answer, random_closed_loop_action, random_recorded_action

Summarizer = Callable[[list[dict[str, Any]]], dict[str, Any]]


@dataclass(frozen=True)
class Family:
    """One environment family.

    ``name``: the value of ``metadata["family"]``. ``prompt``: how model agents are prompted
    (render function and template placeholders). ``summarize``: episode results -> the summary's
    metrics (``None``: the generic summary). ``random_answer``: the random baseline's reply for an
    observation. ``step_feedback``: whether the env's ``info["feedback"]`` after each step is kept
    in the agent's memory (closed loop: "TurnLeft succeeded"; question answering has none).
    ``log_fields``: keys of the step's ``info`` copied into each ``steps.jsonl`` step line (for
    error analysis without a re-run: BEAR's skill, question id, options and ground truth); looked
    up in the evaluator's view (:func:`embodied_gym.envs.common.evaluator_view`), so a key of
    the privileged part of ``info`` such as ``ground_truth`` is logged too -- by the runner, into the log,
    never into anything an agent sees."""

    name: str
    prompt: PromptFamily
    random_answer: Callable[[dict[str, Any], random.Random], str]
    summarize: Summarizer | None = None
    step_feedback: bool = False
    log_fields: tuple[str, ...] = ()


FAMILIES: dict[str, Family] = {}


def register_family(family: Family, *, replace: bool = False) -> Family:
    """Add ``family`` to the registry (and its prompt to the prompt builders'); a name already
    registered is an error unless ``replace``."""
    if family.name in FAMILIES and not replace:
        raise ValueError(f"environment family {family.name!r} is already registered")
    FAMILIES[family.name] = family
    PROMPT_FAMILIES[family.name] = family.prompt
    return family


def get_family(name: str) -> Family:
    """The registered family ``name``; ``ValueError`` naming the registered ones otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown environment family {name!r} (the env's metadata['family']); registered: "
                         f"{', '.join(sorted(FAMILIES))}; see embodied_gym.agents.families.register_family") from None


# the built-in families (their prompts are defined beside the prompt builder)
register_family(Family("closed_loop", prompt=PROMPT_FAMILIES["closed_loop"], random_answer=random_closed_loop_action,
                       summarize=summarize_closed_loop, step_feedback=True), replace=True)
register_family(Family("bear", prompt=PROMPT_FAMILIES["bear"], random_answer=random_bear_answer,
                       summarize=summarize_bear,
                       log_fields=("skill", "bear_skill", "question_id", "options", "ground_truth", "correct")),
                replace=True)
register_family(Family("replay", prompt=PROMPT_FAMILIES["replay"], random_answer=random_recorded_action,
                       summarize=summarize_replay), replace=True)
