"""Reply parsing stays correct on long adversarial replies (issue 10; its cost is measured by
``egym bench parse``, not here): property tests over replies built from the fragments that made
the old parsers quadratic, plus the equivalence of the linear ``<answer>`` scan with the old regex."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from embodied_gym.envs.contract import REPLY_CAP
from embodied_gym.envs.text_actions import _last_answer, parse_action
from embodied_gym.rewards.bear import extract_choice, parse_point
from embodied_gym.sims.base import ACTIONS

TRAPS = ["<answer>", "<ANSWER> ", "{", '{"action": ', "action: ", " " * 50, "(", "[", ", ", "\\boxed{", "think ",
         "\n", "x"]
OPTIONS = {"A": "front-left", "B": "right", "C": "behind you", "D": "None of the above"}


def adversarial(min_size: int = 1, max_size: int = 2500):
    return st.lists(st.sampled_from(TRAPS), min_size=min_size, max_size=max_size).map("".join)


@settings(max_examples=40, deadline=None)
@given(prefix=adversarial(), action=st.sampled_from(ACTIONS))
def test_a_tagged_answer_after_any_unclosed_garbage_is_found(prefix, action):
    """However long the garbage before it (cut to REPLY_CAP or not), the final tagged answer wins."""
    assert parse_action(prefix + f"<answer>{action}</answer>") == action


@settings(max_examples=40, deadline=None)
@given(text=adversarial(max_size=4000))
def test_unclosed_tags_alone_name_no_action(text):
    """Tags, braces and brackets without a closing </answer> and without any action verb: None."""
    assert parse_action(text) is None
    assert parse_action("<answer>" * 16000) is None


_OLD = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.sampled_from(["<answer>", "</answer>", "<Answer>", "</ANSWER>", "a", "TurnLeft", " "]),
                      max_size=30))
def test_the_linear_scan_finds_what_the_old_regex_found(parts):
    """The linear tag scan pairs tags exactly as the old non-greedy regex did (nested and stray
    tags included): same last answer, or None for both."""
    text = "".join(parts)
    old = _OLD.findall(text)
    assert _last_answer(text) == (old[-1] if old else None)


@settings(max_examples=30, deadline=None)
@given(prefix=st.lists(st.sampled_from(["(", "[", " " * 40, ", ", "<answer>", "\\boxed{", "answer "]),
                       max_size=2000).map("".join))
def test_bear_parsers_read_the_final_answer_after_garbage(prefix):
    assert parse_point(prefix + " (0.25, 0.75)") == (0.25, 0.75)
    assert extract_choice(prefix + " The answer is C.", OPTIONS) == "C"


def test_the_reply_cap_keeps_the_end_of_a_reply():
    reply = "I think " * 5000 + "<answer>MoveForward</answer>"
    assert len(reply) > REPLY_CAP and parse_action(reply) == "MoveForward"
    assert parse_action("<answer>MoveForward</answer>" + "x" * REPLY_CAP) is None  # cut off: only the tail counts
