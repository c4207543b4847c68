"""Episode spec: round-trips byte-identically and rejects malformed files with messages that name
the file, the episode and the field."""

import json

import pytest

from embodied_gym.episodes import Demonstration, Episode, SpecError, Subgoal, load_episodes, save_episodes
from embodied_gym.sims.base import Pose


def make_episode(i: int = 0) -> Episode:
    return Episode(
        id=f"ep-{i}",
        backend="house",
        scene={"seed": i},
        start_pose=Pose(1.0, 0.0, 2.0, 90.0, 0.0),
        instruction="Go to the red ball.",
        category="basic",
        subgoals=[Subgoal("reach_object", target=7, radius=1.0, description="reach the red ball")],
        max_steps=40,
        demonstration=Demonstration(
            actions=["MoveForward", "Finish"],
            poses=[Pose(1.0, 0.0, 2.0, 90.0), Pose(1.0, 0.0, 1.75, 90.0), Pose(1.0, 0.0, 1.75, 90.0)],
            rationales=["I see the red ball ahead.", "I am next to the red ball."],
        ),
        split="test",
        tags={"scene_family": "house", "domain": "in_domain"},
    )


def test_jsonl_round_trip_is_byte_identical(tmp_path):
    eps = [make_episode(i) for i in range(3)]
    p1 = save_episodes(tmp_path / "a.jsonl", eps)
    loaded = load_episodes(p1)
    p2 = save_episodes(tmp_path / "b.jsonl", loaded)
    assert p1.read_bytes() == p2.read_bytes()
    assert loaded[1].demonstration.poses[1] == Pose(1.0, 0.0, 1.75, 90.0)


def test_json_container_forms(tmp_path):
    ep = make_episode()
    (tmp_path / "one.json").write_text(json.dumps(ep.to_dict()))
    (tmp_path / "list.json").write_text(json.dumps([ep.to_dict()]))
    (tmp_path / "obj.json").write_text(json.dumps({"version": 1, "episodes": [ep.to_dict()]}))
    for name in ("one.json", "list.json", "obj.json"):
        assert load_episodes(tmp_path / name)[0].id == "ep-0"


@pytest.mark.parametrize(
    "mutate, field_name",
    [
        (lambda d: d.pop("instruction"), "instruction"),
        (lambda d: d.update(category="flying"), "category"),
        (lambda d: d["subgoals"][0].update(radius=-1), "subgoals[0].radius"),
        (lambda d: d["subgoals"][0].update(type="teleport"), "subgoals[0].type"),
        (lambda d: d["subgoals"][0].pop("target"), "subgoals[0].target"),
        (lambda d: d.update(start_pose=[1, 2]), "start_pose"),
        (lambda d: d["demonstration"]["actions"].__setitem__(0, "Jump"), "demonstration.actions[0]"),
        (lambda d: d["demonstration"]["poses"].pop(), "demonstration.poses"),
        (lambda d: d.update(max_steps=0), "max_steps"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d.update(tags={"domain": "mars"}), "tags.domain"),
    ],
)
def test_bad_field_names_file_episode_and_field(tmp_path, mutate, field_name):
    good = make_episode(0).to_dict()
    bad = make_episode(1).to_dict()
    mutate(bad)
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(SpecError) as err:
        load_episodes(path)
    msg = str(err.value)
    assert "broken.jsonl" in msg and "ep-1" in msg and f"'{field_name}'" in msg


def test_invalid_json_line_and_duplicates(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(make_episode().to_dict()) + "\n{not json\n")
    with pytest.raises(SpecError, match=r"x.jsonl: line 2: invalid JSON"):
        load_episodes(path)
    path.write_text((json.dumps(make_episode().to_dict()) + "\n") * 2)
    with pytest.raises(SpecError, match="duplicate id"):
        load_episodes(path)


def test_suite_ref_resolves_to_assets(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBODIED_GYM_ASSETS", str(tmp_path))
    save_episodes(tmp_path / "mysuite" / "val.jsonl", [make_episode()])
    assert load_episodes("mysuite:val")[0].id == "ep-0"
    with pytest.raises(FileNotFoundError, match="nosuite"):
        load_episodes("nosuite:val")
    with pytest.raises(FileNotFoundError, match="shipped: mysuite:val$"):  # the message lists what exists
        load_episodes("mysuite:test")
