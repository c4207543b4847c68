"""Supervised fine-tuning on step-wise reasoning samples (``egym train sft``).

trl's ``SFTTrainer`` on the conversational prompt-completion dataset of
:mod:`~embodied_gym.training.dataset`: the loss covers the assistant completion only
(``completion_only_loss``; prompt and image tokens are masked), sequences are never truncated
(``max_length=None``: cutting would split image tokens from their pixels), images are capped by
the processor's ``max_pixels``. The language model gets a LoRA (vision tower frozen) unless
``model.full_finetune``. On GPU: ``train.bf16`` and ``train.gradient_checkpointing``; DeepSpeed
ZeRO-3 through ``train.deepspeed`` under ``accelerate launch``.

Output ``OUT``: the merged model + processor (``hf:OUT``), ``OUT/adapter``, ``OUT/metrics.json``
(:mod:`~embodied_gym.training.run`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .config import RunConfig
from .model import load_policy, resolve_base, save_policy, trainable_summary
from .run import evaluate_held_out, load_data, trainer_kwargs, write_metrics


def sft_args(cfg: RunConfig, out: Path):
    """trl ``SFTConfig`` for this run."""
    from trl import SFTConfig

    return SFTConfig(max_length=None, completion_only_loss=True, **trainer_kwargs(cfg, out))


def run_sft(cfg: RunConfig, out: str | Path) -> dict[str, Any]:
    """Train, save to ``out``, evaluate held-out; returns (and writes) ``metrics.json``."""
    from trl import SFTTrainer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    base = resolve_base(cfg.model, out)
    train, held = load_data(cfg)
    model, processor = load_policy(base, cfg.model, cfg.train)
    trainer = SFTTrainer(model=model, args=sft_args(cfg, out),
                         train_dataset=train.select_columns(["prompt", "completion", "images"]),
                         processing_class=processor)
    t0 = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - t0
    losses = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    counts = trainable_summary(trainer.model)
    plain = save_policy(trainer.model, processor, out, merged=cfg.train.save_merged)
    metrics = evaluate_held_out(plain, processor, cfg, train, held)
    metrics.update(base_model=base, train_samples=len(train), train_seconds=round(train_seconds, 1),
                   loss_history=losses, trainable=counts)
    return write_metrics(out, "sft", cfg, metrics)
