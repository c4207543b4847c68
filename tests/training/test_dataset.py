"""The step-wise SFT dataset (embodied_gym.training.dataset): rows of a demonstrated house-v1
episode carry exactly the prompt the evaluation runner gives an agent at that step (checked against
a real `run_eval` of an agent that replays the demonstration), images line up with the image
tokens, only the assistant completion carries loss in trl's collator, splits stay disjoint,
and episodes with recorded frames plug in without a simulator."""


import numpy as np
import pytest

from embodied_gym.agents.base import Agent, AgentReply
from embodied_gym.agents.hf_agent import HFAgent
from embodied_gym.agents.settings import AgentSettings
from embodied_gym.episodes.spec import load_episodes
from embodied_gym.eval.config import EvalConfig
from embodied_gym.eval.scheduler import run_eval
from embodied_gym.training.dataset import (
    DatasetConfig,
    build_dataset,
    build_rows,
    check_disjoint,
    completion_text,
    recorded_source,
    to_dataset,
)


@pytest.fixture(scope="module")
def episode():
    return next(e for e in load_episodes("house-v1:val") if e.category == "basic")


@pytest.fixture(scope="module")
def rows(episode):
    return build_rows([episode], DatasetConfig())


class DemoAgent(Agent):
    """Replays the demonstration and keeps the messages the agents' prompt builder made."""

    name = "demo-replay"

    def __init__(self, actions):
        self.actions, self.seen = actions, []
        self.builder = HFAgent.__new__(HFAgent)
        self.builder.settings = AgentSettings()
        from embodied_gym.envs.prompts import PromptBuilder

        self.prompts = PromptBuilder(AgentSettings().prompt_config("closed_loop"))

    async def act(self, obs, ctx):
        conv, images, _, _ = HFAgent._conversation(self.builder, self.prompts.build(obs, ctx))
        self.seen.append((conv, [np.asarray(im) for im in images]))
        return AgentReply(f"<think>replay</think><answer>{self.actions[ctx.step]}</answer>")


def test_rows_are_the_evaluation_prompts_of_each_step(episode, rows, tmp_path):
    agent = DemoAgent(episode.demonstration.actions)
    summary = run_eval(EvalConfig(env_id="EmbodiedTask-v0", episodes=[episode], agent=agent, out=tmp_path / "run",
                                  progress=False))
    assert summary["overall"]["success_rate"] == 1.0
    assert len(agent.seen) == len(rows) == len(episode.demonstration.actions)
    for i, (row, (conv, images)) in enumerate(zip(rows, agent.seen, strict=True)):
        assert row["prompt"] == conv, f"step {i}: the training prompt differs from the evaluation prompt"
        assert len(row["images"]) == len(images)
        for a, b in zip(row["images"], images, strict=True):
            assert np.array_equal(np.asarray(a), b), f"step {i}: an image differs"


def test_row_columns_completion_and_history(episode, rows):
    demo = episode.demonstration
    assert [r["action"] for r in rows] == demo.actions
    assert [r["step"] for r in rows] == list(range(len(rows)))
    assert rows[0]["completion"][0]["content"][0]["text"] == completion_text(demo.rationales[0], demo.actions[0])
    assert [len(r["images"]) for r in rows[:4]] == [1, 2, 3, 3]  # current frame plus up to 2 history frames
    assert {r["split"] for r in rows} == {"val"} and {r["category"] for r in rows} == {"basic"}
    assert len({r["scene_key"] for r in rows}) == 1


def test_history_option_changes_the_frames_per_prompt(episode):
    rows = build_rows([episode], DatasetConfig(history=0))
    assert {len(r["images"]) for r in rows} == {1}


def test_dataset_round_trip_and_exports(episode, tmp_path):
    from datasets import load_from_disk

    ds = build_dataset("house-v1:val", tmp_path / "ds",
                       config=DatasetConfig(limit=1, categories=["basic"]), formats=["parquet", "jsonl"])
    again = load_from_disk(str(tmp_path / "ds"))
    assert again["prompt"] == ds["prompt"] and again["action"] == ds["action"]
    assert (tmp_path / "ds" / "data.parquet").exists() and (tmp_path / "ds" / "data.jsonl").exists()
    with pytest.raises(ValueError, match="both the training and the held-out"):
        check_disjoint(ds, again)


def test_only_assistant_tokens_carry_loss_and_images_match_image_tokens(rows, tmp_path):
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    from embodied_gym.training.config import ModelSettings
    from embodied_gym.training.model import load_processor
    from embodied_gym.training.tiny import build_tiny_qwen

    processor = load_processor(str(build_tiny_qwen(tmp_path / "tiny")), ModelSettings())
    ds = to_dataset(rows[:3]).select_columns(["prompt", "completion", "images"])
    collator = DataCollatorForVisionLanguageModeling(processor, completion_only_loss=True)
    batch = collator([ds[i] for i in range(3)])
    tok = processor.tokenizer
    pad_image = tok.convert_tokens_to_ids("<|image_pad|>")
    merge = processor.image_processor.merge_size ** 2
    grids = batch["image_grid_thw"].prod(dim=1) // merge
    start = 0
    for i, row in enumerate(rows[:3]):
        n_images = len(row["images"])
        assert int((batch["input_ids"][i] == pad_image).sum()) == int(grids[start:start + n_images].sum())
        start += n_images
        labels = batch["labels"][i]
        labeled = tok.decode(labels[labels != -100])
        target = row["completion"][0]["content"][0]["text"]
        assert labeled.startswith(target) and labeled[len(target):].strip() in ("<|im_end|>", "")
    assert start == len(batch["image_grid_thw"])


def test_recorded_frames_source_needs_no_simulator(episode):
    n = len(episode.demonstration.actions)
    frames = [np.full((48, 64, 3), i, np.uint8) for i in range(1, n + 1)]
    rows = build_rows([episode], DatasetConfig(history=1), source=recorded_source(lambda ep: frames))
    assert len(rows) == n
    assert np.array_equal(np.asarray(rows[2]["images"][-1]), frames[2])
    assert "Feedback on your last action: " + episode.demonstration.actions[1] + " succeeded" in rows[2]["prompt"][1]["content"][-1]["text"]
    with pytest.raises(ValueError, match="recorded frames"):
        build_rows([episode], DatasetConfig(), source=recorded_source(lambda ep: frames[:2]))


def test_rationale_modes_keep_the_decision_sentence_or_nothing(episode, rows):
    """`rationale: decision` keeps the last sentence of each demonstration rationale (the oracle's
    decision and its reason), `none` an empty think; the prompts and actions stay the same."""
    short = build_rows([episode], DatasetConfig(rationale="decision"))
    empty = build_rows([episode], DatasetConfig(rationale="none"))
    for full, dec, no in zip(rows, short, empty, strict=True):
        text = full["completion"][0]["content"][0]["text"]
        kept = dec["completion"][0]["content"][0]["text"]
        assert kept.startswith("<think>") and kept.endswith(f"</think><answer>{full['action']}</answer>")
        sentence = kept[len("<think>"):kept.index("</think>")]
        assert sentence and text.endswith(sentence + f"</think><answer>{full['action']}</answer>") and ". " not in sentence
        assert no["completion"][0]["content"][0]["text"] == f"<think></think><answer>{full['action']}</answer>"
        assert dec["prompt"] == full["prompt"] == no["prompt"]
    with pytest.raises(ValueError, match="rationale"):
        build_rows([episode], DatasetConfig(rationale="short"))
