"""BEAR scorers: answer extraction in VLMEvalKit's manner, point-in-mask, box IoU, summaries.

The property tests prove that no input makes a scorer raise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embodied_gym.agents.judge import LLMJudge
from embodied_gym.rewards.bear import (
    box_iou,
    extract_choice,
    parse_box,
    parse_point,
    point_in_mask,
    score_answer,
    summarize_bear,
)

OPTIONS = {"A": "turn left", "B": "turn right", "C": "go through the doorway", "D": "None of the above"}


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("B", "B"),
        ("(C)", "C"),
        ("The answer is D.", "D"),
        ("Answer: (A)", "A"),
        ("<answer>C</answer>", "C"),
        ("\\boxed{B}", "B"),
        ("I would go right. **B**", "B"),
        ("Looking at the frame, the best option is C", "C"),
        ("After checking the video I pick B", "B"),
        ("go through the doorway", "C"),
        ("You should turn right here.", "B"),
    ],
)
def test_extract_choice_reads_common_reply_styles(reply, expected):
    """Letters alone, 'the answer is X', boxed / tagged answers, a letter near the end and a
    reply quoting one option's text are all read as that option."""
    assert extract_choice(reply, OPTIONS) == expected


@pytest.mark.parametrize(
    "reply",
    ["", "I am not sure", "A or B", "answer is a mystery to me, really it is", "turn left or turn right", "a"],
)
def test_extract_choice_refuses_ambiguous_or_empty_replies(reply):
    """Two letters, two option texts, the article 'a' and empty replies give no answer."""
    assert extract_choice(reply, OPTIONS) is None


def test_article_a_inside_sentence_is_not_read_as_option_a():
    """VLMEvalKit's guard: 'A' used as an article in a longer sentence is ambiguous."""
    assert extract_choice("A desk is on the left of the sofa here", OPTIONS) is None


def test_judge_is_consulted_only_when_rules_fail_and_its_errors_are_swallowed():
    calls = []

    def judge(reply, options):
        calls.append(reply)
        return "C"

    assert extract_choice("B", OPTIONS, judge=judge) == "B"
    assert calls == []
    assert extract_choice("walk into the next room", OPTIONS, judge=judge) == "C"
    assert extract_choice("walk", OPTIONS, judge=lambda r, o: 1 / 0) is None
    assert extract_choice("walk", OPTIONS, judge=lambda r, o: "Q") is None


def test_llm_judge_uses_openai_compatible_client_and_survives_failures():
    class Msg:
        content = " B."

    class Resp:
        choices = [type("C", (), {"message": Msg()})()]

    class Completions:
        def create(self, **kwargs):
            assert kwargs["model"] == "judge-model"
            assert "turn right" in kwargs["messages"][0]["content"]
            return Resp()

    client = type("Client", (), {"chat": type("Chat", (), {"completions": Completions()})()})()
    assert LLMJudge(model="judge-model", client=client)("whatever", OPTIONS) == "B"

    class Broken:
        @property
        def chat(self):
            raise ConnectionError("down")

    assert LLMJudge(client=Broken())("whatever", OPTIONS) is None


def test_points_and_boxes_parse_normalised_pixel_and_thousand_scales():
    assert parse_point("(0.41, 0.63)") == pytest.approx((0.41, 0.63))
    assert parse_point("The point is [32, 24]", 64, 48) == pytest.approx((0.5, 0.5))
    assert parse_point("(500, 250)", 64, 48) == pytest.approx((0.5, 0.25))
    assert parse_point("(-0.1, 0.5)") is None
    assert parse_point("no numbers") is None
    assert parse_box("[0.5, 0.6, 0.1, 0.2]") == pytest.approx((0.1, 0.2, 0.5, 0.6))
    assert parse_box("box: (0, 0, 32, 48)", 64, 48) == pytest.approx((0.0, 0.0, 0.5, 1.0))
    assert parse_box("[nan, 0, 1, 1]") is None


def test_point_in_mask_and_box_iou():
    mask = np.zeros((10, 20), bool)
    mask[2:5, 10:15] = True
    assert point_in_mask((0.6, 0.3), mask)
    assert not point_in_mask((0.1, 0.3), mask)
    assert not point_in_mask(None, mask)
    assert not point_in_mask((0.6, 0.3), np.zeros((0, 0)))
    assert box_iou((0, 0, 1, 1), (0, 0, 1, 1)) == pytest.approx(1.0)
    assert box_iou((0, 0, 1, 1), (0, 0, 0.5, 1)) == pytest.approx(0.5)
    assert box_iou((0, 0, 0.1, 0.1), (0.5, 0.5, 1, 1)) == 0.0
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


def test_score_answer_box_counts_correct_at_iou_half():
    """Boxes score their IoU; a step counts as correct from IoU 0.5 on."""
    gt = (0.0, 0.0, 0.5, 1.0)
    half = score_answer("bbox_general", "[0, 0, 0.25, 1]", box=gt)
    assert half.score == pytest.approx(0.5) and half.correct
    low = score_answer("bbox_general", "[0, 0, 0.2, 1]", box=gt)
    assert low.score == pytest.approx(0.4) and not low.correct
    mc = score_answer("path_planning", "The answer is B", answer="B", options=OPTIONS)
    assert mc.correct and mc.score == 1.0 and mc.parsed == "B"
    wrong = score_answer("path_planning", "C", answer="B", options=OPTIONS)
    assert not wrong.correct and wrong.score == 0.0


_text = st.text(alphabet=st.characters(), max_size=300) | st.sampled_from(
    ["(nan, inf)", "[1e309, 2, 3, 4]", "\\boxed{", "<answer></answer>", "(" * 50, "[-0, -0]", "9" * 400]
)


@settings(max_examples=300, deadline=None)
@given(reply=_text)
def test_no_reply_string_makes_a_scorer_raise(reply):
    mask = np.ones((4, 4), bool)
    for skill in ("next_action_prediction", "pointing_general", "bbox_spatial", "unknown_skill"):
        result = score_answer(skill, reply, answer="A", options=OPTIONS, mask=mask, box=(0, 0, 1, 1), width=4, height=4)
        assert 0.0 <= result.score <= 1.0
    extract_choice(reply, OPTIONS)
    extract_choice(reply, [reply, "x", "", "y"])
    pt = parse_point(reply)
    assert pt is None or all(0.0 <= v <= 1.0 for v in pt)
    bx = parse_box(reply, 10, 10)
    assert bx is None or (bx[0] <= bx[2] and bx[1] <= bx[3])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4), st.lists(st.floats(), min_size=4, max_size=4))
def test_box_iou_is_total_and_bounded(a, b):
    assert 0.0 <= box_iou(a, b) <= 1.0


def test_non_string_replies_do_not_raise():
    for reply in (None, 3, 2.5, b"B", ["A"], object()):
        assert score_answer("relative_direction", reply, answer="A", options=OPTIONS).score in (0.0, 1.0)


def test_summarize_bear_aggregates_episodes_steps_skills_and_splits():
    results = [
        {"episode_id": "e1", "split": "test", "episode_success": True,
         "steps": [{"skill": "relative_direction", "correct": True, "score": 1.0},
                   {"skill": "bbox_general", "correct": True, "score": 0.7}]},
        {"episode_id": "e2", "split": "ood", "episode_success": False,
         "steps": [{"skill": "relative_direction", "correct": False, "score": 0.0},
                   {"skill": "bbox_general", "correct": True, "score": 0.5}]},
        "garbage",
    ]
    s = summarize_bear(results)
    assert s["overall"]["n"] == 2
    assert s["overall"]["episode_success_rate"] == pytest.approx(0.5)
    assert s["overall"]["step_accuracy"] == pytest.approx(0.75)
    assert s["by_skill"]["relative_direction"] == {"accuracy": 0.5, "mean_score": 0.5, "n": 2}
    assert s["by_skill"]["bbox_general"]["mean_score"] == pytest.approx(0.6)
    assert s["by_split"]["ood"]["episode_success_rate"] == 0.0
    assert summarize_bear([])["overall"]["n"] == 0


def test_scorer_skill_list_and_generator_skill_table_name_the_same_skills():
    """rewards.bear.SKILLS (what the scorer and the env accept) and episodes.bear.context.BEAR_SKILLS
    (what the generator asks) are written separately; they must list the same skill ids."""
    from embodied_gym.episodes.bear.context import BEAR_SKILLS
    from embodied_gym.rewards.bear import SKILLS

    assert sorted(BEAR_SKILLS) == sorted(SKILLS)
