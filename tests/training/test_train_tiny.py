"""Every training stage end to end on CPU with the tiny random Qwen2.5-VL (few steps each):
`egym train sft` writes a loadable checkpoint and metrics.json with the held-out fields, LoRA
leaves the vision tower untouched, step-wise and closed-loop `egym train grpo` start from it and
record reward histories, and `egym eval --agent hf:DIR` runs the trained checkpoint in the
closed-loop environment and writes summary.json."""

import json

import pytest
import yaml

from embodied_gym.cli import main

pytestmark = pytest.mark.slow

DATA = {"train": ["house-v2:train"], "generate_per_category": 1, "eval": ["house-v2:test", "house-v2:ood"],
        "train_limit": 1, "eval_limit": 1, "eval_max_steps": 3, "categories": ["basic"], "rationale": "decision"}


@pytest.fixture(scope="module", autouse=True)
def episode_cache(tmp_path_factory):
    """house-v2:train is generated on demand: into a scratch cache, not the user's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EMBODIED_GYM_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
TRAIN = {"device": "cpu", "max_steps": 2, "batch_size": 2, "logging_steps": 1, "eval_max_new_tokens": 8}


def write(path, data):
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="module")
def sft_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sft")
    cfg = write(tmp / "sft.yaml", {"data": DATA, "model": {"tiny": {"hidden": 32, "layers": 1}}, "train": TRAIN})
    assert main(["train", "sft", "--config", cfg, "--out", str(tmp / "out")]) == 0
    return tmp / "out"


def test_sft_writes_checkpoint_adapter_and_held_out_metrics(sft_dir):
    m = json.loads((sft_dir / "metrics.json").read_text())
    for key in ("step_accuracy", "random_accuracy", "majority_accuracy", "loss_history"):
        assert key in m
    assert 0.0 <= m["step_accuracy"] <= 1.0 and m["random_accuracy"] == pytest.approx(0.1)
    assert set(m["held_out"]) == {"house-v2:test", "house-v2:ood"}
    assert 0.0 <= m["history_accuracy"] <= 1.0 and "history_accuracy" in m["held_out"]["house-v2:ood"]
    assert m["trainable"]["trainable"] > 0 and m["trainable"]["trainable_vision"] == 0
    assert len(m["loss_history"]) == 2
    assert (sft_dir / "config.json").exists() and (sft_dir / "adapter" / "adapter_config.json").exists()


def test_step_grpo_from_sft_records_reward_history(sft_dir, tmp_path):
    cfg = write(tmp_path / "grpo.yaml", {"data": DATA, "train": {**TRAIN, "max_steps": 1, "batch_size": 2},
                                         "grpo": {"num_generations": 2, "max_completion_length": 8}})
    assert main(["train", "grpo", "--config", cfg, "--init", str(sft_dir), "--out", str(tmp_path / "g")]) == 0
    m = json.loads((tmp_path / "g" / "metrics.json").read_text())
    assert "step_accuracy" in m and m["mode"] == "step"
    assert len(m["reward_history"]) == 1
    row = m["reward_history"][0]
    assert {"reward", "format_reward", "action_match_reward", "progress"} <= set(row)
    assert m["progress_reward"]["calls"] == 2  # batch_size counts completions: 1 prompt x 2 generations, all scored


def test_episode_grpo_runs_closed_loop_groups(sft_dir, tmp_path):
    cfg = write(tmp_path / "ep.yaml", {"data": DATA, "train": {**TRAIN, "max_steps": 1},
                                       "grpo": {"mode": "episode", "num_generations": 2, "max_completion_length": 8,
                                                "episode_max_steps": 2}})
    assert main(["train", "grpo", "--config", cfg, "--init", str(sft_dir), "--out", str(tmp_path / "e")]) == 0
    m = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert m["mode"] == "episode" and len(m["reward_history"]) == 1
    assert m["reward_history"][0]["steps"] == 4  # 2 rollouts capped at 2 steps each


def test_trained_checkpoint_runs_in_egym_eval(sft_dir, tmp_path):
    agent_cfg = write(tmp_path / "agent.yaml", {"max_tokens": 8, "hf": {"device_map": None, "dtype": "float32"}})
    episodes = tmp_path / "one.jsonl"
    from embodied_gym.episodes.spec import load_episodes, save_episodes

    ep = next(e for e in load_episodes("house-v2:test") if e.category == "basic")
    ep.max_steps = 3
    save_episodes(episodes, [ep])
    rc = main(["eval", "--env", "EmbodiedTask-v0", "--episodes", str(episodes), "--agent", f"hf:{sft_dir}",
               "--out", str(tmp_path / "run"), "--config", agent_cfg, "--no-progress"])
    assert rc == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["run"].get("n_errors", 0) == 0 and "overall" in summary
    steps = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    assert sum(1 for s in steps if s.get("type") != "episode") == 3


def test_bad_config_field_is_named(tmp_path):
    cfg = write(tmp_path / "bad.yaml", {"train": {"learning_rat": 1}})
    assert main(["train", "sft", "--config", cfg, "--out", str(tmp_path / "x")]) == 2
