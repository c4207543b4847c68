"""What every training stage shares: its data, its held-out check and its ``metrics.json``.

``metrics.json`` (written by both stages): ``stage``; ``step_accuracy`` (held-out, every eval
ref together), ``random_accuracy``, ``majority_accuracy``, ``majority_action``,
``history_accuracy`` (the blind previous-actions predictor of
:func:`~embodied_gym.training.evaluate.history_baseline`); ``held_out``:
the same per eval ref (``house-v2:test`` in domain next to ``house-v2:ood``), each with
``parsed_rate`` and the predicted-action histogram; ``train_samples``; ``train_seconds`` /
``eval_seconds``; ``trainable`` parameter counts; the stage's own history (``loss_history`` for
SFT, ``reward_history`` for GRPO); ``config``: the run config as loaded.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .config import RunConfig
from .dataset import build_dataset, check_disjoint
from .evaluate import baselines, history_baseline, spread, step_accuracy


def trainer_kwargs(cfg: RunConfig, out: Path) -> dict[str, Any]:
    """The ``TrainingArguments`` both stages pass to trl from ``cfg.train`` (no checkpoints,
    no reporting; ``use_cpu`` / ``bf16`` by device; extra columns kept for collators and rewards)."""
    from .model import use_cpu

    t = cfg.train
    cpu = use_cpu(t)
    return dict(
        output_dir=str(out / "trainer"), num_train_epochs=t.epochs, max_steps=t.max_steps,
        learning_rate=t.learning_rate, per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum, warmup_steps=t.warmup, weight_decay=t.weight_decay,
        logging_steps=t.logging_steps, seed=t.seed, data_seed=t.seed, use_cpu=cpu, bf16=t.bf16 and not cpu,
        gradient_checkpointing=t.gradient_checkpointing, deepspeed=t.deepspeed, save_strategy="no", report_to=[],
        remove_unused_columns=False, dataloader_num_workers=0, **t.extra,
    )


def load_data(cfg: RunConfig) -> tuple[Any, dict[str, Any]]:
    """``(train dataset, {label: held-out dataset})`` from prebuilt directories or episode refs;
    raises ``ValueError`` when a held-out scene also appears in training."""
    from datasets import load_from_disk

    d = cfg.data
    if d.train_dataset:
        train = load_from_disk(d.train_dataset)
    else:
        train = build_dataset(d.train, config=d.dataset_config(d.train_limit))
    held: dict[str, Any] = {}
    if d.eval_dataset:
        for path in d.eval_dataset:
            held[str(path)] = load_from_disk(path)
    else:
        for ref in d.eval:
            held[ref] = build_dataset(ref, config=d.dataset_config(d.eval_limit))
    for label, ds in held.items():
        if d.eval_max_steps is not None:
            held[label] = ds.select(spread(len(ds), d.eval_max_steps))
        check_disjoint(train, held[label])
    if len(train) == 0:
        raise ValueError("no training samples: check data.train / data.train_dataset and data.categories")
    return train, held


def evaluate_held_out(model, processor, cfg: RunConfig, train, held: dict[str, Any]) -> dict[str, Any]:
    """The held-out part of ``metrics.json`` (see the module docstring)."""
    t0 = time.perf_counter()
    per: dict[str, Any] = {}
    correct = total = 0
    all_actions: list[str] = []
    train_actions = list(train["action"])
    train_rows = train.select_columns(["episode", "step", "action"])
    history_correct = 0.0
    for label, ds in held.items():
        res = step_accuracy(model, processor, ds, max_new_tokens=cfg.train.eval_max_new_tokens,
                            batch_size=cfg.train.eval_batch_size)
        res.update(baselines(train_actions, list(ds["action"])))
        res.update(history_baseline(train_rows, ds.select_columns(["episode", "step", "action"])))
        res.pop("indices", None)
        per[label] = res
        correct += round(res["step_accuracy"] * res["n"])
        history_correct += res["history_accuracy"] * res["n"]
        total += res["n"]
        all_actions += list(ds["action"])
    out = {"step_accuracy": correct / total if total else 0.0, "n_held_out": total}
    out.update(baselines(train_actions, all_actions))
    out["history_accuracy"] = round(history_correct / total, 4) if total else 0.0
    out["held_out"] = per
    out["eval_seconds"] = round(time.perf_counter() - t0, 1)
    return out


def write_metrics(out: Path, stage: str, cfg: RunConfig, metrics: dict[str, Any]) -> dict[str, Any]:
    data = {"stage": stage, **metrics, "config": asdict(cfg)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return data
