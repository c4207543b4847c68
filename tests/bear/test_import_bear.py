"""`egym import bear`: BEAR's released format (a miniature written by tests/bear/bear_release.py)
becomes BEAR skill items for all 14 skills; bad records are reported by file and field and skipped."""

import json

import pytest
from bear_release import write_release

from embodied_gym.episodes.bear_items import load_bear_items
from embodied_gym.episodes.importers.bear import import_bear
from embodied_gym.rewards.bear_skills import BEAR_SKILLS


def test_all_fourteen_skills_import_with_media_options_and_answers(tmp_path):
    written = write_release(tmp_path / "src")
    report = import_bear(tmp_path / "src", tmp_path / "out")
    assert report.to_dict()["n_imported"] == 28 and not report.skipped
    items = load_bear_items(tmp_path / "out")
    assert {i.skill for i in items} == {s.id for s in BEAR_SKILLS}
    by_source = {i.source: i for i in items}
    for skill in BEAR_SKILLS:
        for rec in written[skill.file]:
            item = by_source[f"{skill.file}#{rec['idx']}"]
            if skill.kind == "choice":
                assert item.answer == rec["gt"] and item.options == {"A": "left", "B": "right", "C": "N/A", "D": "none of the above"}
            else:
                assert item.answer is None and item.path("mask").read_bytes() == (tmp_path / "src" / skill.file).parent.joinpath(rec["mask"]).read_bytes()
            for name in ("image", "video"):
                assert (item.path(name) is not None) == (name in skill.media)
                if item.path(name) is not None:
                    assert item.path(name).is_file()


def _edit(path, fn):
    records = json.loads(path.read_text())
    fn(records)
    path.write_text(json.dumps(records))


@pytest.mark.parametrize("file,breaker,field", [
    ("pointing/general_object_pointing_official.json", lambda r: r[0].pop("mask"), "[0] (idx 0).mask"),
    ("trajectory/gripper_trajectory_official.json", lambda r: r[0].__setitem__("gt", "E"), "[0] (idx 0).gt"),
    ("spatial_reasoning/path_planning_official.json", lambda r: r[1].__setitem__("video", "media/nope.mp4"), "[1] (idx pth1).video"),
    ("task_planning/next_action_prediction_official.json", lambda r: r[0].__setitem__("options", "{'A': "), "[0] (idx 0).options"),
    ("bbox/semantic_part_bbox_official.json", lambda r: r[1].__setitem__("question", ""), "[1] (idx prt1).question"),
])
def test_a_bad_record_is_reported_by_file_and_field_and_the_rest_import(tmp_path, file, breaker, field):
    write_release(tmp_path / "src")
    _edit(tmp_path / "src" / file, breaker)
    report = import_bear(tmp_path / "src", tmp_path / "out")
    assert len(report.imported) == 27 and len(report.skipped) == 1
    assert report.skipped[0]["field"] == field and report.skipped[0]["file"].endswith(file)


def test_an_unknown_annotation_file_is_reported(tmp_path):
    write_release(tmp_path / "src", per_skill=1)
    (tmp_path / "src" / "pointing" / "affordance_pointing_official.json").write_text("[]")
    report = import_bear(tmp_path / "src", tmp_path / "out")
    assert len(report.imported) == 14 and report.skipped[0]["field"] == "(file name)"


def test_cli_imports_bear(tmp_path, capsys):
    from embodied_gym.cli import main

    write_release(tmp_path / "src", per_skill=1)
    assert main(["import", "bear", str(tmp_path / "src"), "--out", str(tmp_path / "out")]) == 0
    assert json.loads(capsys.readouterr().out)["by_skill"]["trajectory_hand"] == 1
