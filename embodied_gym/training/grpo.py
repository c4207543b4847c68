"""Step-wise GRPO from an SFT checkpoint (``egym train grpo --init DIR``).

trl's ``GRPOTrainer`` samples ``grpo.num_generations`` replies per step sample (the conversational
prompt plus its ``images`` column, exactly the SFT/evaluation prompt) and scores each with the
reward functions of :mod:`embodied_gym.rewards.grpo`, weighted by ``grpo.reward_weights``
(``format``, ``action_match``, ``progress`` = the simulator-verified reward, which executes the
action the evaluation parser reads from the reply; a weight of 0 drops that function). The dataset's ``episode`` and ``step`` columns reach the simulator-verified reward
as keyword arguments. The KL coefficient is ``grpo.beta`` (reference: the ``--init`` model; with
LoRA the reference is the adapter switched off). ``grpo.use_vllm`` with ``vllm_mode: colocate``
generates with vLLM on GPU.

``grpo.mode: episode`` runs closed-loop GRPO instead (:mod:`~embodied_gym.training.episode_rl`).

Output ``OUT``: as SFT (merged model, ``adapter/``), ``metrics.json`` with the held-out step
accuracy and ``reward_history`` (mean total reward per logging step, with each function's mean).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..envs.text_actions import parse_action
from ..rewards.grpo import SimulatorProgressReward, action_match_reward, format_reward
from .config import RunConfig
from .model import load_policy, save_policy, trainable_summary
from .run import evaluate_held_out, load_data, trainer_kwargs, write_metrics

REWARDS = {"format": format_reward, "action_match": action_match_reward}


def reward_functions(cfg: RunConfig, width: int, height: int) -> tuple[list[Any], list[float], SimulatorProgressReward | None]:
    """The weighted reward functions of the config (unknown names raise ``ValueError``)."""
    funcs, weights, progress = [], [], None
    for name, weight in cfg.grpo.reward_weights.items():
        if name not in (*REWARDS, "progress"):
            raise ValueError(f"field 'grpo.reward_weights': unknown reward {name!r}; expected format, action_match or progress")
        if not weight:
            continue
        if name == "progress":
            progress = SimulatorProgressReward(width=width, height=height, parse=parse_action)
            funcs.append(progress)
        else:
            funcs.append(REWARDS[name])
        weights.append(float(weight))
    if not funcs:
        raise ValueError("field 'grpo.reward_weights': every weight is 0")
    return funcs, weights, progress


def grpo_args(cfg: RunConfig, out: Path, weights: list[float]):
    from trl import GRPOConfig

    g = cfg.grpo
    return GRPOConfig(
        num_generations=g.num_generations, max_completion_length=g.max_completion_length, temperature=g.temperature,
        beta=g.beta, epsilon=g.epsilon, reward_weights=weights, use_vllm=g.use_vllm, vllm_mode=g.vllm_mode,
        **trainer_kwargs(cfg, out),
    )


def reward_history(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per logging step: ``step``, ``reward`` (mean weighted total) and each function's mean."""
    out = []
    for h in log_history:
        if "reward" in h:
            row = {"step": h["step"], "reward": h["reward"]}
            row.update({k.split("/")[1]: v for k, v in h.items() if k.startswith("rewards/") and k.endswith("/mean")})
            out.append(row)
    return out


def run_grpo(cfg: RunConfig, init: str | Path, out: str | Path) -> dict[str, Any]:
    """Train from ``init`` (an SFT output directory or any model), save to ``out``, evaluate."""
    if cfg.grpo.mode == "episode":
        from .episode_rl import run_episode_grpo

        return run_episode_grpo(cfg, init, out)
    from trl import GRPOTrainer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train, held = load_data(cfg)
    model, processor = load_policy(str(init), cfg.model, cfg.train)
    funcs, weights, progress = reward_functions(cfg, cfg.data.width, cfg.data.height)
    columns = ["prompt", "images", "action", "episode", "step"]
    trainer = GRPOTrainer(model=model, reward_funcs=funcs, args=grpo_args(cfg, out, weights),
                          train_dataset=train.select_columns(columns), processing_class=processor)
    t0 = time.perf_counter()
    try:
        trainer.train()
    finally:
        if progress is not None:
            progress.close()
    train_seconds = time.perf_counter() - t0
    counts = trainable_summary(trainer.model)
    plain = save_policy(trainer.model, processor, out, merged=cfg.train.save_merged)
    metrics = evaluate_held_out(plain, processor, cfg, train, held)
    metrics.update(init=str(init), mode="step", train_samples=len(train), train_seconds=round(train_seconds, 1),
                   reward_history=reward_history(trainer.state.log_history), trainable=counts,
                   progress_reward={**progress.stats} if progress is not None else None)
    return write_metrics(out, "grpo", cfg, metrics)
