"""HFAgent on a tiny randomly initialised Qwen2.5-VL built offline (embodied_gym.training.tiny): loading through
AutoModelForImageTextToText/AutoProcessor, batching across concurrent episodes, LoRA adapters,
the cache, and a full runner episode set."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from embodied_gym.agents.base import StepContext  # noqa: E402
from embodied_gym.agents.cache import ResponseCache  # noqa: E402
from embodied_gym.agents.settings import AgentSettings  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from embodied_gym.training.tiny import build_tiny_qwen

    return str(build_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen")))


def settings(**hf):
    return AgentSettings(max_tokens=6, image_max_side=56, hf={"device_map": None, "dtype": "float32",
                                                              "batch_wait_ms": 50, **hf})


def obs(i):
    return {"image": np.full((48, 64, 3), 30 * i, np.uint8), "instruction": f"Go to object {i}.", "step": 0,
            "feedback": ""}


def run_concurrently(agent, n):
    async def go():
        try:
            return await asyncio.gather(*(agent.act(obs(i), StepContext(f"e{i}", "closed_loop")) for i in range(n)))
        finally:
            await agent.aclose()

    return asyncio.run(go())


def test_concurrent_episodes_share_one_generate_batch(tiny_model, tmp_path):
    """Four episodes asking at once are answered by one batched generate; tokens are counted;
    a repeat of the same requests comes from the cache without generating."""
    from embodied_gym.agents.hf_agent import HFAgent

    cache = ResponseCache(tmp_path / "c.sqlite")
    agent = HFAgent(tiny_model, family="closed_loop", settings=settings(), cache=cache)
    assert type(agent.model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    replies = run_concurrently(agent, 4)
    assert agent.stats["batch_sizes"] == [4]
    assert all(isinstance(r.text, str) and r.prompt_tokens > 0 and 0 < r.completion_tokens <= 6 for r in replies)
    again = HFAgent(tiny_model, family="closed_loop", settings=settings(), cache=cache)
    cached = run_concurrently(again, 4)
    assert again.stats["batch_sizes"] == [] and all(c.cached for c in cached)
    assert [c.text for c in cached] == [r.text for r in replies]


def test_batch_size_cap(tiny_model):
    """max_batch_size=2 splits five concurrent requests into batches of at most two."""
    from embodied_gym.agents.hf_agent import HFAgent

    agent = HFAgent(tiny_model, family="closed_loop", settings=settings(max_batch_size=2))
    run_concurrently(agent, 5)
    assert sum(agent.stats["batch_sizes"]) == 5 and max(agent.stats["batch_sizes"]) == 2


def test_lora_adapter_is_loaded(tiny_model, tmp_path):
    """A peft LoRA adapter saved by training is applied on top of the base model (hf:BASE+ADAPTER)."""
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForImageTextToText

    from embodied_gym.agents.factory import make_agent

    base = AutoModelForImageTextToText.from_pretrained(tiny_model, dtype=torch.float32)
    lora = peft.get_peft_model(base, peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    agent = make_agent(f"hf:{tiny_model}+{tmp_path / 'adapter'}", family="closed_loop", settings=settings())
    assert isinstance(agent.model, peft.PeftModel) and agent.name.endswith("adapter")
    saved = {k: v for k, v in lora.state_dict().items() if "lora_B" in k}
    loaded = {k: v for k, v in agent.model.state_dict().items() if "lora_B" in k}
    assert saved and all(torch.equal(saved[k], loaded[k]) for k in saved)
    (reply,) = run_concurrently(agent, 1)
    assert reply.error is None or reply.error == "empty reply"


def test_runner_with_local_model(tiny_model, tmp_path):
    """egym eval with an hf agent at concurrency 3: every episode finishes, steps carry token counts,
    generation was batched across episodes."""
    import toy_env  # noqa: F401

    from embodied_gym.agents.hf_agent import HFAgent
    from embodied_gym.eval import EvalConfig, run_eval

    agent = HFAgent(tiny_model, family="closed_loop", settings=settings(max_batch_size=3, device_map="auto"))
    summary = run_eval(EvalConfig(env_id="EgymToy-v0", episodes=None, agent=agent, out=tmp_path / "run",
                                  concurrency=3, progress=False, env_kwargs={"max_steps": 3}))
    assert summary["overall"]["n"] == 6 and summary["run"]["n_errors"] == 0
    assert summary["run"]["prompt_tokens"] > 0
    assert max(agent.stats["batch_sizes"]) > 1
