"""Property tests: no input string makes the agent-side parsers raise (hypothesis)."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from embodied_gym.agents.base import StepContext
from embodied_gym.agents.baselines import random_bear_answer
from embodied_gym.agents.factory import parse_agent_spec
from embodied_gym.agents.openai_agent import extract_text, parse_retry_after
from embodied_gym.agents.settings import Pricing
from embodied_gym.envs.prompts import PromptBuilder, PromptConfig

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["retry-after", "retry-after-ms", "x"]), st.text()))
def test_retry_after_never_raises(headers):
    """Any header text gives a finite non-negative number of seconds or None."""
    value = parse_retry_after(headers)
    assert value is None or (value >= 0 and value == value and value != float("inf"))


@given(json_values)
def test_extract_text_never_raises(payload):
    """Any JSON-like completion body gives (str, int >= 0, int >= 0)."""
    text, p, c = extract_text(payload)
    assert isinstance(text, str) and p >= 0 and c >= 0


@given(st.fixed_dictionaries({"choices": st.lists(st.fixed_dictionaries(
    {"message": st.fixed_dictionaries({"content": st.none() | st.text()})}), max_size=2)}))
def test_extract_text_reads_first_choice(payload):
    text, _, _ = extract_text(payload)
    first = payload["choices"][0]["message"]["content"] if payload["choices"] else None
    assert text == (first or "")


@given(st.text())
def test_agent_spec_only_raises_value_error(spec):
    """A malformed agent spec is a ValueError (a ConfigError) naming the field 'agent' (the CLI
    turns it into --agent; issue 8: library errors name fields), never another exception."""
    from embodied_gym.agents.settings import ConfigError

    try:
        kind, arg = parse_agent_spec(spec)
    except ConfigError as exc:
        assert exc.field == "agent" and "field 'agent'" in str(exc) and "--agent" not in str(exc)
    else:
        assert kind in ("oracle", "random", "openai", "blind", "hf", "tools")
        assert (arg is None) == (kind in ("oracle", "random"))


@settings(max_examples=60, deadline=None)
@given(st.text(), st.text(), st.text(), st.integers(0, 500))
def test_closed_loop_prompt_accepts_any_text(instruction, feedback, reply, step):
    """Any instruction / feedback / earlier reply text (braces included) builds a prompt."""
    builder = PromptBuilder(PromptConfig.load("closed_loop"))
    ctx = StepContext("e", "closed_loop")
    ctx.record({"image": np.zeros((4, 4, 3), np.uint8)}, reply, None, feedback)
    msgs = builder.build({"image": np.zeros((4, 4, 3), np.uint8), "instruction": instruction, "step": step,
                          "feedback": feedback}, ctx)
    assert instruction in msgs[-1]["content"][-1]["text"]


@settings(max_examples=60, deadline=None)
@given(st.text(), st.lists(st.text(), max_size=5) | st.text() | st.none(), st.text())
def test_bear_prompt_and_random_answer_accept_any_text(question, options, skill):
    obs = {"image": np.zeros((4, 4, 3), np.uint8), "question": question, "options": options, "skill": skill}
    msgs = PromptBuilder(PromptConfig.load("bear"), include_images=False).build(obs, StepContext("e", "bear"))
    assert all(p["type"] == "text" for p in msgs[-1]["content"])
    assert isinstance(random_bear_answer(obs, random.Random(0)), str)


@given(st.text(), st.integers(0, 10**9), st.integers(0, 10**9))
def test_pricing_never_raises(model, p, c):
    cost, known = Pricing.load().cost(model, p, c)
    assert cost >= 0 and isinstance(known, bool)


@given(st.text())
def test_env_text_action_parser_never_raises(reply):
    """Whatever a model replies, the closed-loop TextAction parser returns an action or None."""
    from embodied_gym.envs.text_actions import parse_action
    from embodied_gym.sims.base import ACTIONS

    assert parse_action(reply) in (*ACTIONS, None)
