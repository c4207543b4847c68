"""SFT rows from imported real EmbRACE-3K episodes (tests/fixtures/embrace3k): the same columns as
simulator rows so both mix in one dataset; the prompt of a real row is exactly what
EmbraceReplay-v0's evaluation shows the agent at that step; the target is the recorded thinking
and action."""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import embodied_gym  # noqa: F401
from embodied_gym.envs.context import StepContext
from embodied_gym.envs.prompts import PromptBuilder, PromptConfig
from embodied_gym.episodes.importers.embrace3k import import_embrace3k
from embodied_gym.episodes.spec import load_episodes
from embodied_gym.training.dataset import (
    DatasetConfig,
    build_rows,
    chat_messages,
    select_episodes,
    to_dataset,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "embrace3k"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("sft-real")
    import_embrace3k(FIXTURE, out)
    return out


def test_real_rows_carry_the_recorded_thinking_and_the_evaluation_prompt(imported):
    episode = next(e for e in load_episodes(imported) if e.category == "pick_drop")
    rows = build_rows([episode], DatasetConfig())
    demo = episode.demonstration
    assert len(rows) == len(demo.actions)
    k = demo.actions.index("LookHand")
    assert rows[k]["completion"][0]["content"][0]["text"] == f"<think>{demo.rationales[k]}</think><answer>LookHand</answer>"
    # the evaluation's view of step k: EmbraceReplay-v0 stepped with the demonstration, the replay prompt
    env = gym.make("EmbraceReplay-v0", episodes=[episode])
    obs, _ = env.reset()
    for a in demo.actions[:k]:
        obs, *_ = env.step(a)
    ctx = StepContext(episode.id, "replay", step=k)
    conv, images = chat_messages(PromptBuilder(PromptConfig.load("replay")).build(obs, ctx), 512)
    assert rows[k]["prompt"] == conv
    assert len(rows[k]["images"]) == len(images) == 3
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(rows[k]["images"], images, strict=True))


def test_real_and_simulated_rows_mix_in_one_dataset(imported):
    config = DatasetConfig(categories=["basic"], limit=1)
    episodes = select_episodes([str(imported), "house-v1:val"], config)
    assert [e.recorded for e in episodes] == [True, False]
    rows = build_rows(episodes, config)
    real = [r for r in rows if r["episode_id"].startswith("embrace3k-")]
    sim = [r for r in rows if not r["episode_id"].startswith("embrace3k-")]
    assert real and sim and set(real[0]) == set(sim[0])
    ds = to_dataset(rows)
    assert len(ds) == len(rows) and set(ds["category"]) == {"basic"}
    text = lambda r: r["prompt"][-1]["content"][-1]["text"]  # noqa: E731
    assert "LookHand" in text(real[0]) and "LookHand" not in text(sim[0])  # each with its evaluation's vocabulary
