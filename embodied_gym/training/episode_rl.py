"""Closed-loop GRPO (``egym train grpo --mode episode``): the policy acts for whole episodes.

Why a custom rollout: trl 1.16's extension points do not carry per-step images for Qwen2.5-VL.
``rollout_func`` returns one prompt/completion pair per rollout and the trainer recomputes log
probabilities with the *dataset's* images only; ``environment_factory`` is a text tool-calling
loop. A closed-loop episode has a new frame at every step, so this module runs its own rollout
and loss, with GRPO's definitions (no fork of trl):

1. For each of ``grpo.episodes_per_step`` start states (episodes of ``data.train``, in turn), run
   a group of ``grpo.num_generations`` rollouts from the same start in
   :class:`~embodied_gym.envs.closed_loop.ClosedLoopEnv` (the evaluation env, step budget capped
   at ``grpo.episode_max_steps``). At each step the prompt is built exactly as in evaluation
   (:class:`~embodied_gym.envs.prompts.PromptBuilder`, :class:`~embodied_gym.envs.context.StepContext`)
   and a reply is sampled at ``grpo.temperature``.
2. The episode's result is its reward: ``episode_reward`` weights over ``success``,
   ``subgoal_completion`` (progress) and ``spl`` of
   :func:`~embodied_gym.rewards.metrics.make_episode_result`'s record.
3. Group-relative advantage ``A = (R - mean_group) / (std_group + 1e-4)``; every step's sampled
   tokens get their rollout's ``A`` (credit to every step). Loss per step: ``-A * mean token
   log-prob`` (the clipped GRPO surrogate with one update per rollout batch, where the ratio is 1)
   plus ``beta`` times the k3 KL estimate to the reference (the ``--init`` model: LoRA switched
   off), averaged over the steps of the batch; one AdamW step per group batch.

``metrics.json`` holds ``reward_history`` (per update: mean episode reward, success rate, steps)
and the same held-out step accuracy as step mode.
"""

from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path
from typing import Any

from ..envs.context import StepContext
from ..envs.prompts import PromptBuilder
from .config import RunConfig
from .dataset import chat_messages, select_episodes
from .model import load_policy, save_policy, trainable_summary, use_cpu
from .run import evaluate_held_out, load_data, write_metrics


def episode_reward(result: dict[str, Any], weights: dict[str, float]) -> float:
    """Weighted sum of the episode result's ``success``, ``subgoal_completion`` and ``spl``."""
    known = ("success", "subgoal_completion", "spl")
    unknown = sorted(set(weights) - set(known))
    if unknown:
        raise ValueError(f"field 'grpo.episode_reward': unknown term(s) {unknown}; expected {list(known)}")
    return sum(float(w) * float(result.get(k) or 0.0) for k, w in weights.items())


class Policy:
    """Samples replies for chat prompts and scores sampled tokens (log-probs with gradients)."""

    def __init__(self, model, processor, temperature: float, max_new_tokens: int) -> None:
        self.model, self.processor = model, processor
        self.temperature, self.max_new_tokens = temperature, max_new_tokens

    def sample(self, conv: list[dict], images: list[Any]) -> tuple[dict[str, Any], Any, str]:
        import torch

        text = self.processor.apply_chat_template(conv, add_generation_prompt=True, tokenize=False)
        inputs = self.processor(text=[text], images=images or None, return_tensors="pt")
        self.model.eval()
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=True,
                                      temperature=self.temperature, top_p=1.0)
        new = out[0, inputs["input_ids"].shape[1]:].clone()
        return dict(inputs), new, self.processor.decode(new, skip_special_tokens=True).strip()

    def token_logprobs(self, inputs: dict[str, Any], completion) -> Any:
        """Log-probabilities of ``completion``'s tokens after the prompt ``inputs`` (differentiable)."""
        import torch

        n = completion.shape[0]
        full = dict(inputs)
        length = inputs["input_ids"].shape[1]
        for key, value in inputs.items():
            if torch.is_tensor(value) and value.dim() == 2 and value.shape == (1, length):
                fill = completion.view(1, -1) if key == "input_ids" else (
                    torch.ones(1, n, dtype=value.dtype) if key == "attention_mask" else torch.zeros(1, n, dtype=value.dtype))
                full[key] = torch.cat([value, fill], dim=1)
        logits = self.model(**full).logits[0, length - 1:-1].float()
        return torch.log_softmax(logits, dim=-1).gather(1, completion.view(-1, 1)).squeeze(1)


def rollout(env, episode, policy: Policy, builder: PromptBuilder, image_max_side: int) -> tuple[list[tuple], dict]:
    """One episode with the sampling policy: ``([(inputs, completion_ids), ...], episode_result)``."""
    obs, _ = env.reset(options={"episode_id": episode.id})
    ctx = StepContext(episode_id=episode.id, family="closed_loop")
    steps: list[tuple] = []
    while True:
        conv, images = chat_messages(builder.build(obs, ctx), image_max_side)
        inputs, ids, text = policy.sample(conv, images)
        before = obs
        obs, _, terminated, truncated, info = env.step(text)
        steps.append((inputs, ids))
        ctx.record(before, text, info.get("action"), str(info.get("feedback", "")))
        if terminated or truncated:
            return steps, info["episode_result"]


def run_episode_grpo(cfg: RunConfig, init: str | Path, out: str | Path) -> dict[str, Any]:
    """Closed-loop GRPO from ``init``; writes ``out`` like step mode (see the module docstring)."""
    import torch

    from ..envs.closed_loop import ClosedLoopEnv
    from ..envs.wrappers import TextAction

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    g, t, d = cfg.grpo, cfg.train, cfg.data
    if not use_cpu(t) and t.deepspeed:
        raise ValueError("grpo.mode 'episode' runs on one device; drop train.deepspeed")
    torch.manual_seed(t.seed)
    random.seed(t.seed)
    train, held = load_data(cfg)
    starts = select_episodes(d.train, d.dataset_config(d.train_limit))
    starts = [dataclasses.replace(e, max_steps=min(e.max_steps, g.episode_max_steps)) for e in starts]
    model, processor = load_policy(str(init), cfg.model, t)
    policy = Policy(model, processor, g.temperature, g.max_completion_length)
    builder = PromptBuilder(d.dataset_config(None).prompt_config())
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)
    weights = g.episode_reward
    env = TextAction(ClosedLoopEnv(starts, width=d.width, height=d.height))
    updates = t.max_steps if t.max_steps > 0 else max(1, round(t.epochs * len(starts) / g.episodes_per_step))
    history: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        for update in range(updates):
            batch: list[tuple[Any, Any, float]] = []
            rewards_all, successes, n_steps = [], [], 0
            for k in range(g.episodes_per_step):
                ep = starts[(update * g.episodes_per_step + k) % len(starts)]
                group = [rollout(env, ep, policy, builder, d.image_max_side) for _ in range(g.num_generations)]
                rewards = torch.tensor([episode_reward(res, weights) for _, res in group])
                adv = (rewards - rewards.mean()) / (rewards.std(unbiased=False) + 1e-4)
                for (steps, res), a in zip(group, adv.tolist(), strict=True):
                    batch += [(inputs, ids, a) for inputs, ids in steps if ids.numel()]
                    successes.append(float(bool(res.get("success"))))
                    n_steps += len(steps)
                rewards_all += rewards.tolist()
            model.train()
            optimizer.zero_grad()
            loss_total = 0.0
            for inputs, ids, a in batch:
                logp = policy.token_logprobs(inputs, ids)
                loss = -a * logp.mean()
                if g.beta and hasattr(model, "disable_adapter"):
                    with torch.no_grad(), model.disable_adapter():
                        ref = policy.token_logprobs(inputs, ids)
                    diff = ref - logp
                    loss = loss + g.beta * (torch.exp(diff) - diff - 1).mean()
                (loss / max(1, len(batch))).backward()
                loss_total += float(loss.detach()) / max(1, len(batch))
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            history.append({"step": update + 1, "reward": sum(rewards_all) / len(rewards_all),
                            "success_rate": sum(successes) / len(successes), "steps": n_steps, "loss": loss_total})
    finally:
        env.close()
    train_seconds = time.perf_counter() - t0
    counts = trainable_summary(model)
    plain = save_policy(model, processor, out, merged=t.save_merged)
    metrics = evaluate_held_out(plain, processor, cfg, train, held)
    metrics.update(init=str(init), mode="episode", start_episodes=len(starts), updates=updates,
                   train_seconds=round(train_seconds, 1), reward_history=history, trainable=counts)
    return write_metrics(out, "grpo", cfg, metrics)
