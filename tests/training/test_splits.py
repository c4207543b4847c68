"""Training splits generated on demand (embodied_gym.training.splits) and the blind
previous-actions baseline of the held-out check (embodied_gym.training.evaluate.history_baseline).

Proves: a ref to an unshipped split (``house-v2:train``) is generated once, cached and reused
(same bytes), shares no house with the shipped ``house-v2:test`` / ``ood``, and shipped refs
pass through untouched; the history baseline predicts from the previous actions only and backs off
to the majority when a history was never seen."""

import json

import pytest

from embodied_gym.episodes.spec import load_episodes
from embodied_gym.training import splits
from embodied_gym.training.dataset import DatasetConfig, scene_key, select_episodes
from embodied_gym.training.evaluate import history_baseline


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBODIED_GYM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "episodes"


def test_unshipped_split_is_generated_once_cached_and_disjoint_from_the_shipped_ones(cache, monkeypatch):
    calls = []
    real = splits.generated_split

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(splits, "generated_split", counting)
    config = DatasetConfig(generate_per_category=1, generate_seed=0, categories=["basic", "pick_drop"])
    first = select_episodes(["house-v2:train"], config)
    files = list(cache.glob("house-v2-train-n1-seed0-*.jsonl"))
    assert len(files) == 1 and len(load_episodes(files[0])) == 6  # every category generated, then filtered
    assert [e.category for e in first] == ["basic", "pick_drop"] and all(e.split == "train" for e in first)
    stamp = files[0].stat().st_mtime_ns
    again = select_episodes(["house-v2:train"], config)
    assert [e.to_dict() for e in again] == [e.to_dict() for e in first]
    assert files[0].stat().st_mtime_ns == stamp  # served from the cache, not rewritten
    held = {scene_key(e) for ref in ("house-v2:test", "house-v2:ood") for e in load_episodes(ref)}
    assert not held & {scene_key(e) for e in load_episodes(files[0])}


def test_shipped_and_path_refs_are_not_generated(cache):
    assert splits.materialize("house-v2:test") == "house-v2:test"
    assert splits.materialize("some/file.jsonl") == "some/file.jsonl"
    assert splits.materialize("nosuchsuite:train") == "nosuchsuite:train"
    assert not cache.exists()
    with pytest.raises(ValueError, match="generate_per_category"):
        splits.generated_split("house-v2", "train", 0)


def _row(actions, step, action):
    return {"episode": json.dumps({"demonstration": {"actions": actions}}), "step": step, "action": action}


def test_history_baseline_predicts_from_previous_actions_and_backs_off():
    seq = ["MoveForward", "TurnLeft", "TurnLeft", "MoveForward", "MoveForward", "MoveForward"]
    train = [_row(seq, i, a) for i, a in enumerate(seq)]
    held = [_row(["TurnLeft", "TurnLeft", "TurnLeft"], 2, "TurnLeft"),  # (TurnLeft, TurnLeft) -> MoveForward: wrong
            _row(["MoveForward", "TurnLeft"], 1, "TurnLeft"),          # first step's (MoveForward,) -> TurnLeft: right
            _row(["Finish", "PickObject"], 1, "MoveForward")]          # (Finish,) never seen -> majority: right
    assert history_baseline(train, held, k=2) == {"history_accuracy": pytest.approx(2 / 3), "history_k": 2}
    # k=0 is the majority baseline: MoveForward everywhere
    assert history_baseline(train, held, k=0)["history_accuracy"] == pytest.approx(1 / 3)
