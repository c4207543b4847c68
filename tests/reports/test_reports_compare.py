"""``egym compare``: figures equal hand counts over the per-episode results, intervals are
bootstrap intervals over episodes, the in-domain minus OOD gap is pooled per agent, and the
command's JSON has a row per run with ``success_rate`` / ``step_accuracy`` per split."""

from __future__ import annotations

import json

import pytest
from runfactory import bear, closed_loop, write_run

from embodied_gym.cli import main
from embodied_gym.reports.compare import compare_runs, format_compare


def test_json_has_a_row_per_run_with_success_rate_per_split(tmp_path, capsys):
    a = write_run(tmp_path / "base", closed_loop("a", "test", 6, 10) + closed_loop("a", "ood", 2, 10), agent="base")
    b = write_run(tmp_path / "sft", closed_loop("b", "test", 9, 10) + closed_loop("b", "ood", 3, 10), agent="sft")
    assert main(["compare", str(a), str(b), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in out["rows"]] == [str(a), str(b)]
    base, sft = out["rows"]
    assert base["by_split"]["test"]["success_rate"] == 0.6 and base["by_split"]["ood"]["success_rate"] == 0.2
    assert sft["by_split"]["test"]["success_rate"] == 0.9 and sft["by_split"]["ood"]["success_rate"] == 0.3
    assert base["gap"]["gap"] == pytest.approx(0.4) and sft["gap"]["gap"] == pytest.approx(0.6)
    for row in out["rows"]:
        for e in [row["overall"], *row["by_split"].values()]:
            lo, hi = e["ci95"]
            assert lo <= e["success_rate"] <= hi
    assert sft["vs_first"]["diff"] == pytest.approx(0.2)


def test_bear_step_accuracy_pools_steps_and_skill_groups(tmp_path):
    eps = [[("pointing_general", True), ("relative_direction", False)],
           [("pointing_general", True), ("relative_direction", True), ("path_planning", False)]]
    r = write_run(tmp_path / "b", bear("x", "test", eps), env_id="BearLongHorizon-v0", family="bear")
    out = compare_runs([r], by="skill")
    row = out["rows"][0]
    assert row["metric"] == "step_accuracy"
    assert row["by_split"]["test"]["step_accuracy"] == pytest.approx(3 / 5)
    assert row["by_skill"]["pointing_general"]["step_accuracy"] == 1.0
    assert row["by_skill"]["relative_direction"]["step_accuracy"] == 0.5
    assert row["by_skill"]["path_planning"]["step_accuracy"] == 0.0
    assert row["by_split"]["test"]["n"] == 2  # n counts episodes, the unit of resampling


def test_gap_is_pooled_over_runs_of_one_agent_split_across_directories(tmp_path):
    t = write_run(tmp_path / "m-test", closed_loop("m", "test", 8, 10), agent="m")
    o = write_run(tmp_path / "m-ood", closed_loop("m", "ood", 3, 10), agent="m")
    out = compare_runs([t, o])
    assert out["rows"][0]["gap"] is None and out["rows"][1]["gap"] is None
    (gap,) = out["gaps"]
    assert gap["agent"] == "m" and gap["gap"] == pytest.approx(0.5) and gap["n_in_domain"] == gap["n_ood"] == 10
    lo, hi = gap["ci95"]
    assert lo < 0.5 < hi and lo > 0.0  # 0.8 vs 0.3 on 10 episodes each: a real difference


def test_intervals_are_bootstrap_over_episodes_and_narrow_with_more_episodes(tmp_path):
    small = write_run(tmp_path / "s", closed_loop("s", "test", 5, 10))
    big = write_run(tmp_path / "b", closed_loop("b", "test", 100, 200))
    out = compare_runs([small, big])
    (lo_s, hi_s), (lo_b, hi_b) = (r["overall"]["ci95"] for r in out["rows"])
    # binomial standard errors: sqrt(.25/10) = .158 and sqrt(.25/200) = .035; 95% ~ +-1.96 se
    assert 0.45 < hi_s - lo_s < 0.75
    assert 0.1 < hi_b - lo_b < 0.17
    assert compare_runs([small, big]) == out  # seeded: the same input gives the same intervals


def test_errors_are_counted_not_scored(tmp_path):
    r = write_run(tmp_path / "e", closed_loop("e", "test", 1, 2), errors=3)
    row = compare_runs([r])["rows"][0]
    assert row["n_errors"] == 3 and row["overall"]["n"] == 2 and row["overall"]["success_rate"] == 0.5


def test_markdown_and_csv_show_every_run_group_and_gap(tmp_path):
    a = write_run(tmp_path / "a", closed_loop("a", "test", 3, 4) + closed_loop("a", "ood", 1, 4), agent="A")
    res = compare_runs([a], by="category")
    md = format_compare(res, "md")
    assert "| a | A | success_rate |" in md and "basic" in md and "+0.500" in md
    csv_text = format_compare(res, "csv")
    assert "a,a,A,closed_loop,success_rate,overall,0.5," in csv_text
    assert "in_domain-ood,0.5," in csv_text


def test_bad_input_names_the_path_or_value(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "missing")]) == 2
    assert "missing: not a directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(tmp_path / "empty")]) == 2
    assert "not an `egym eval` run directory" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--by"):
        compare_runs([tmp_path], by="colour")


def test_replay_results_with_step_counts_are_scored_as_step_accuracy(tmp_path):
    """Next-action replay results (``correct`` / ``steps`` counts beside ``step_accuracy``) pool
    correct steps over steps, like BEAR."""
    results = [{"episode_id": "r0", "split": "test", "category": "basic", "steps": 4, "correct": 3, "step_accuracy": 0.75},
               {"episode_id": "r1", "split": "test", "category": "basic", "steps": 6, "correct": 1, "step_accuracy": 1 / 6}]
    row = compare_runs([write_run(tmp_path / "r", results, env_id="EmbraceReplay-v0", family="replay")])["rows"][0]
    assert row["metric"] == "step_accuracy" and row["by_split"]["test"]["step_accuracy"] == 0.4
