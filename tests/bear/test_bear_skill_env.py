"""BearSkill-v0 and BEAR's released scoring rules, on the BEAR-format miniature
(tests/bear/bear_release.py): what each rule does with a reply is checked against values worked
out by hand on an L-shaped mask, videos are sampled as BEAR samples them, and `egym eval` over
the imported items reports the per-skill table with the paper's codes in Table 1's order."""

import json

import gymnasium as gym
import numpy as np
import pytest
from bear_release import MASK, write_release

import embodied_gym  # noqa: F401
from embodied_gym.cli import main
from embodied_gym.envs.video import uniform_indices
from embodied_gym.episodes.importers.bear import import_bear
from embodied_gym.rewards.bear_protocol import (
    bear_box_mask_iou,
    bear_parse_box,
    bear_parse_point,
    bear_point_hit,
    score_bear,
)
from embodied_gym.rewards.bear_skills import BEAR_SKILLS

H, W = MASK.shape  # 30 x 40


@pytest.fixture(scope="module")
def items_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("bear")
    write_release(root / "src")
    import_bear(root / "src", root / "items")
    return root / "items"


def test_point_rule_first_tuple_digits_only_and_bounds():
    assert bear_parse_point("first (0.25, 0.5) then (0.9, 0.9)") == (0.25, 0.5)
    assert bear_parse_point("(-0.1, 0.5)") is None and bear_parse_point("[0.2, 0.5]") is None
    # mask rows 10-19 x cols 8-13: x = 0.25 -> col 10, y = 0.5 -> row 15
    assert bear_point_hit((0.25, 0.5), MASK)
    assert not bear_point_hit((0.25, 0.2), MASK)  # row 6
    assert not bear_point_hit((1.0, 0.5), MASK)  # px = W: outside, not clamped


def test_box_rule_iou_against_the_masks_pixels():
    mask_pixels = int(MASK.sum())  # 60 + 40 = 100
    assert mask_pixels == 100
    # the mask's bounding box (cols 8-23, rows 10-19: 16 x 10 = 160 px) holds all 100 mask pixels
    box = ((8 + 0.5) / W, (10 + 0.5) / H, (23 + 0.5) / W, (19 + 0.5) / H)
    assert bear_box_mask_iou(box, MASK) == pytest.approx(100 / 160)
    # the upright bar only (cols 8-13, rows 10-19: 60 px, all mask): IoU 60 / 100
    bar = ((8 + 0.5) / W, (10 + 0.5) / H, (13 + 0.5) / W, (19 + 0.5) / H)
    assert bear_box_mask_iou(bar, MASK) == pytest.approx(0.6)
    assert bear_parse_box("no box") == (0.0, 0.0, 0.0, 0.0) and bear_box_mask_iou((0, 0, 0, 0), MASK) == 0.0
    assert bear_box_mask_iou((0.5, 0.5, 0.4, 0.9), MASK) == 0.0  # x2 <= x1
    assert bear_box_mask_iou((-1.0, -1.0, 5.0, 5.0), MASK) == pytest.approx(100 / (W * H))  # clipped to the image


def test_lenient_scoring_reads_the_last_tuple_and_pixel_scales():
    reply = "(0.9, 0.1) no wait [10, 15]"  # pixels of the 40 x 30 mask: col 10, row 15
    assert not score_bear("point", reply, mask=MASK).correct  # BEAR: the first tuple, a miss
    assert score_bear("point", reply, mask=MASK, lenient=True).correct
    assert score_bear("choice", "The answer is B.", answer="B", options={"A": "x", "B": "y"}).correct


def test_videos_are_sampled_uniformly_with_first_and_last(items_dir):
    assert uniform_indices(20, 4) == [0, 6, 12, 19] and uniform_indices(3, 5) == [0, 0, 1, 1, 2]
    env = gym.make("BearSkill-v0", episodes=str(items_dir), skills=["object_localization"], num_frames=4,
                   width=W, height=H)
    obs, _ = env.reset()
    assert obs["history_length"] == 4 and obs["has_image"] == 0
    means = [float(f.mean()) for f in obs["history"]]  # frame i is grey 10 * i + 5 (up to mp4 loss)
    assert means == pytest.approx([5, 65, 125, 195], abs=4)
    assert np.array_equal(obs["image"], obs["history"][3])  # video-only: the current view is the last frame
    env32 = gym.make("BearSkill-v0", episodes=str(items_dir), skills=["path_planning"], num_frames=32, width=W, height=H)
    obs, _ = env32.reset()
    assert obs["history_length"] == 32 and obs["has_image"] == 1 and env32.observation_space.contains(obs)


def test_oracle_scores_one_on_points_and_letters_and_the_mask_bound_on_boxes(items_dir):
    env = gym.make("BearSkill-v0", episodes=str(items_dir), width=W, height=H, num_frames=4)
    for item in env.unwrapped.episodes:
        env.reset(options={"episode_id": item.id})
        _, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
        assert terminated and info["episode_result"]["n_queries"] == 1
        if item.skill.startswith("bbox"):
            assert reward == pytest.approx(100 / 160)  # a box cannot follow an L-shaped mask: BEAR's IoU < 1
        else:
            assert reward == 1.0 and info["correct"], item.id


def test_eval_reports_the_paper_codes_in_table_order(items_dir, tmp_path):
    assert main(["eval", "--env", "BearSkill-v0", "--episodes", str(items_dir), "--agent", "oracle",
                 "--out", str(tmp_path / "run"), "--no-progress", "--env-kwargs", '{"num_frames": 4}']) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    table = summary["by_bear_skill"]
    assert list(table) == [s.label for s in BEAR_SKILLS]
    assert table["Pointing/GEN"]["score"] == 100.0 and table["Planning/PRD"]["metric"] == "success rate"
    assert table["BBox/PRT"]["metric"] == "mean IoU" and table["BBox/PRT"]["score"] == pytest.approx(0.625)
    assert summary["overall"]["n"] == 28
    md = (tmp_path / "run" / "summary.md").read_text()
    assert "Trajectory/HND" in md and "Spatial/LOC" in md
