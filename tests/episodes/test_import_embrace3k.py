"""`egym import embrace3k`: real EmbRACE-3K episodes (tests/fixtures/embrace3k, frames downscaled)
become validated episode specs with recorded frames; bad episodes are reported by file and field
and skipped while the rest import."""

import json
import shutil
from pathlib import Path

import pytest

from embodied_gym.episodes.importers.embrace3k import (
    Embrace3kImportConfig,
    ImportProblem,
    import_embrace3k,
    type_category,
)
from embodied_gym.episodes.spec import SpecError, load_episodes
from embodied_gym.sims.unreal_frame import pose_from_unreal

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "embrace3k"
BASIC = "Basic/x01637_y00244_z0098_i4"
DOOR = "Interaction_Open-Door/x-00092_y-00952_z0126_door0"
PICK = "Interaction_Pick-and-Drop/x00236_y-00747_z000114_pd0"


@pytest.fixture
def src(tmp_path):
    out = tmp_path / "src"
    shutil.copytree(FIXTURE, out, ignore=shutil.ignore_patterns("README.md"))
    return out


def _by_source(episodes):
    return {ep.extra["embrace3k"]["source"]: ep for ep in episodes}


def test_every_field_of_a_real_episode_lands_in_the_spec(src, tmp_path):
    report = import_embrace3k(src, tmp_path / "out")
    assert report.to_dict()["n_imported"] == 3 and not report.skipped
    episodes = _by_source(load_episodes(tmp_path / "out" / "episodes.jsonl"))
    info = json.loads((src / BASIC / "infos.json").read_text())
    thoughts = json.loads((src / BASIC / "gemini.json").read_text())
    ep = episodes[BASIC]
    assert ep.category == "basic" and ep.backend == "unrealcv" and ep.instruction == info["Instruction"]
    assert ep.demonstration.actions == info["Action"]
    assert ep.demonstration.rationales == [t["thinking"] for t in thoughts]
    expected = pose_from_unreal(info["Start_Pose"])
    assert ep.start_pose.to_list() == pytest.approx(expected.to_list(), abs=1e-6)
    got = [v for p in ep.demonstration.poses[:-1] for v in p.to_list()]
    assert got == pytest.approx([v for p in info["Trajectory_Pose"] for v in pose_from_unreal(p).to_list()], abs=1e-6)
    # what a live unrealcv run needs: start pose, target poses, success radius
    assert [s.type for s in ep.subgoals] == ["reach_pose"]
    assert ep.subgoals[0].pose.to_list() == pytest.approx(pose_from_unreal(info["Target_Pose"][0]).to_list(), abs=1e-6)
    assert ep.subgoals[0].radius == 2.0
    # frames are the recorded bytes, not re-encoded
    for i in range(len(ep.demonstration.actions)):
        assert ep.frame_path(i).read_bytes() == (src / BASIC / f"{i:03d}.jpg").read_bytes()


def test_type_codes_interaction_targets_and_the_whole_vocabulary(src, tmp_path):
    import_embrace3k(src, tmp_path / "out", Embrace3kImportConfig(radius=1.5, split="val", map="Map_A"))
    episodes = _by_source(load_episodes(tmp_path / "out" / "episodes.jsonl"))
    door, pick = episodes[DOOR], episodes[PICK]
    assert (door.category, pick.category) == ("open_door", "pick_drop")
    assert door.subgoals[-1].type == "open" and door.subgoals[-1].target_name == "BP_Door_main3_2"
    assert [s.type for s in pick.subgoals] == ["pick", "place"] and pick.subgoals[0].target_name == "PD_ID:7"
    assert {"LookHand", "PickObject", "DropObject"} <= set(pick.demonstration.actions)  # kept, not mapped away
    assert all(ep.split == "val" and ep.scene == {"level": "Map_A"} and ep.subgoals[0].radius == 1.5 for ep in episodes.values())


@pytest.mark.parametrize("code,category", [(0, "basic"), (1, "exploration"), (2, "spatial_semantic"), (3, "multi_stage"),
                                           (4.1, "open_door"), (4.2, "pick_drop"), ("4.2", "pick_drop"), (3.0, "multi_stage")])
def test_type_codes_map_to_categories(code, category):
    assert type_category(code) == category


@pytest.mark.parametrize("code", [4, 5, 4.3, "x", None, True])
def test_unknown_type_codes_are_refused_naming_the_field(code):
    with pytest.raises(ImportProblem, match="field 'Type'"):
        type_category(code)


def _edit_json(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


BREAKAGES = {
    "missing frame": (lambda d: (d / "003.jpg").unlink(), "003.jpg", "(file)"),
    "extra thought": (lambda d: _edit_json(d / "gemini.json", lambda g: g.append(g[-1])), "", "gemini.json steps"),
    "pose count": (lambda d: _edit_json(d / "infos.json", lambda i: i["Trajectory_Pose"].pop()), "", "Trajectory_Pose"),
    "unknown action": (lambda d: _edit_json(d / "infos.json", lambda i: i["Action"].__setitem__(2, "Fly")), "infos.json", "Action[2]"),
    "unknown type": (lambda d: _edit_json(d / "infos.json", lambda i: i.__setitem__("Type", 7)), "infos.json", "Type"),
    "thought disagrees": (lambda d: _edit_json(d / "gemini.json", lambda g: g[1].__setitem__("action", "TurnLeft")),
                          "gemini.json", "[1].action"),
    "bad pose": (lambda d: _edit_json(d / "infos.json", lambda i: i.__setitem__("Start_Pose", [1, 2])), "infos.json", "Start_Pose"),
    "broken json": (lambda d: (d / "infos.json").write_text("{"), "infos.json", "(file)"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_a_bad_episode_is_reported_by_file_and_field_and_the_rest_import(src, tmp_path, name):
    breaker, file_part, fld = BREAKAGES[name]
    breaker(src / BASIC)
    report = import_embrace3k(src, tmp_path / "out")
    assert len(report.imported) == 2 and len(report.skipped) == 1
    bad = report.skipped[0]
    assert bad["episode"] == BASIC and bad["field"] == fld and file_part in bad["file"]
    assert BASIC.split("/")[1] in bad["error"]
    written = json.loads((tmp_path / "out" / "import_report.json").read_text())
    assert written["n_skipped"] == 1 and written["skipped"][0]["field"] == fld
    assert len(load_episodes(tmp_path / "out" / "episodes.jsonl")) == 2


def test_nothing_importable_is_an_error_naming_the_report(tmp_path):
    (tmp_path / "empty" / "Basic" / "ep").mkdir(parents=True)
    (tmp_path / "empty" / "Basic" / "ep" / "infos.json").write_text("[]")
    with pytest.raises(ValueError, match="import_report.json"):
        import_embrace3k(tmp_path / "empty", tmp_path / "out")


def test_one_type_folder_or_one_episode_folder_can_be_imported_alone(src, tmp_path):
    report = import_embrace3k(src / BASIC, tmp_path / "one")
    assert report.imported == ["embrace3k-Basic-x01637_y00244_z0098_i4"]
    report = import_embrace3k(src / "Basic", tmp_path / "type")
    assert report.imported == ["embrace3k-Basic-x01637_y00244_z0098_i4"]


def test_spec_keeps_recorded_vocabulary_only_for_recorded_episodes(src, tmp_path):
    import_embrace3k(src, tmp_path / "out")
    line = json.loads((tmp_path / "out" / "episodes.jsonl").read_text().splitlines()[2])
    assert "LookHand" in line["demonstration"]["actions"]
    line["demonstration"].pop("frames")  # without frames the episode would have to be executed: refused
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(line) + "\n")
    with pytest.raises(SpecError, match="demonstration.actions"):
        load_episodes(bad)


def test_an_episode_folder_loads_every_jsonl_in_it_and_refuses_duplicate_ids(src, tmp_path):
    import_embrace3k(src, tmp_path / "out")
    assert [e.id for e in load_episodes(tmp_path / "out")] == [e.id for e in load_episodes(tmp_path / "out" / "episodes.jsonl")]
    shutil.copyfile(tmp_path / "out" / "episodes.jsonl", tmp_path / "out" / "more.jsonl")
    with pytest.raises(SpecError, match="duplicate id"):
        load_episodes(tmp_path / "out")
    (tmp_path / "none").mkdir()
    with pytest.raises(FileNotFoundError, match="no \\*.jsonl"):
        load_episodes(tmp_path / "none")


def test_an_imported_episode_goes_live_on_the_unrealcv_backend(src, tmp_path):
    """The spec is what the closed-loop env needs on `unrealcv`: it builds the backend against a
    local UnrealCV server (tests/sims/fakes), resets the level and teleports to the converted start
    pose. The fake's level is not EmbRACE-3K's map, so the start is refused with an error naming
    the episode and field, which is what a server without the episode's map must do."""
    pytest.importorskip("unrealcv")
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sims"))
    try:
        from fakes.unrealcv_server import FakeUnrealCV
    finally:
        sys.path.pop(0)

    from embodied_gym.envs.closed_loop import ClosedLoopEnv

    import_embrace3k(src / BASIC, tmp_path / "out")
    episode = load_episodes(tmp_path / "out")[0]
    assert episode.scene == {"level": None} and episode.backend == "unrealcv"
    server = FakeUnrealCV(width=64, height=48)
    try:
        env = ClosedLoopEnv([episode], backend="unrealcv", address=("127.0.0.1", server.port), timeout=5.0)
        with pytest.raises(ValueError, match=r"x01637_y00244_z0098_i4'.*field 'start_pose'.*not navigable"):
            env.reset()
        env.close()
    finally:
        server.close()
