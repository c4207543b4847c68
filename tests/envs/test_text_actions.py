"""Free-text action parsing for language agents: formats, precedence, and never raising."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embodied_gym.envs.text_actions import parse_action
from embodied_gym.sims.base import ACTIONS


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<answer>TurnLeft</answer>", "TurnLeft"),
        ("turn left", "TurnLeft"),
        ("Action: move_forward", "MoveForward"),
        ('{"action": "TurnLeft"}', "TurnLeft"),
        ('Sure! {"thought": "door ahead", "Action": "open door"}', "OpenDoor"),
        ("MOVE-FORWARD.", "MoveForward"),
        ("  `pick_object`  ", "PickObject"),
        ("Move Backward", "MoveBackward"),
        ("look   DOWN", "LookDown"),
        ("finish", "Finish"),
        ("I can see the key on my left, so I will turn left.", "TurnLeft"),
        ("I am close enough. I pick up the key.", "PickObject"),
        ("Thought: the ball is ahead.\nAction: MoveForward", "MoveForward"),
        ("<ANSWER> drop object </ANSWER>", "DropObject"),
    ],
)
def test_formats(text, expected):
    """Each documented reply format (tags, plain names with any case/separator, Action: lines, JSON, one-action prose) parses to its action."""
    assert parse_action(text) == expected


def test_every_action_name_parses_to_itself():
    for name in ACTIONS:
        assert parse_action(name) == name
        assert parse_action(f"<answer>{name}</answer>") == name


def test_last_answer_wins_and_has_priority_over_prose():
    assert parse_action("<answer>TurnLeft</answer> no wait <answer>TurnRight</answer>") == "TurnRight"
    assert parse_action("I could move forward. <answer>look up</answer>") == "LookUp"
    assert parse_action("turn left <answer>banana</answer>") is None, "an unparsable last answer is not rescued by prose"


@pytest.mark.parametrize(
    "text",
    ["", "banana", "I will move forward and then turn left", "<answer></answer>", '{"action": 3}', '{"action": "fly"}', "42"],
)
def test_unparsable_or_ambiguous_is_none(text):
    assert parse_action(text) is None


def test_non_string_is_none():
    assert parse_action(None) is None
    assert parse_action(3) is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_no_string_raises(text):
    result = parse_action(text)
    assert result is None or result in ACTIONS


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ACTIONS), st.text(alphabet="<>{}[]\"':, \n", max_size=30))
def test_tagged_answer_survives_surrounding_noise(name, noise):
    assert parse_action(f"{noise}<answer>{name}</answer>") == name
