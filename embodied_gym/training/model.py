"""Loading the policy for training and saving what a stage produces.

:func:`load_policy` loads a Qwen2.5-VL (or any ``AutoModelForImageTextToText``) and its processor,
caps the processor's pixels, freezes the vision tower and wraps the language model in a peft LoRA
(or leaves it fully trainable). :func:`save_policy` writes a stage's output directory so that
``egym eval --agent hf:OUT`` loads it: the LoRA-merged full model plus the processor at the top
level, the adapter alone in ``OUT/adapter`` (``hf:BASE+OUT/adapter`` loads that instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import ModelSettings, TrainSettings


def resolve_base(settings: ModelSettings, out: Path) -> str:
    """The model to start from: ``name_or_path`` or a tiny random Qwen2.5-VL built in ``OUT/base``."""
    if settings.name_or_path:
        return settings.name_or_path
    from .tiny import build_tiny_qwen

    return str(build_tiny_qwen(out / "base", **settings.tiny))


def use_cpu(train: TrainSettings) -> bool:
    import torch

    return train.device == "cpu" or not torch.cuda.is_available()


def load_processor(path: str, settings: ModelSettings):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(path)
    ip = getattr(processor, "image_processor", None)
    if ip is not None:
        for name in ("max_pixels", "min_pixels"):
            value = getattr(settings, name)
            if value is not None:
                setattr(ip, name, int(value))
                if isinstance(getattr(ip, "size", None), dict):
                    ip.size["longest_edge" if name == "max_pixels" else "shortest_edge"] = int(value)
    processor.tokenizer.padding_side = "left"
    return processor


def load_policy(path: str, settings: ModelSettings, train: TrainSettings, *, lora: bool = True) -> tuple[Any, Any]:
    """``(model, processor)`` ready to train: vision tower frozen when ``freeze_vision``; LoRA on
    the language model unless ``full_finetune`` or ``lora=False``."""
    import torch
    from transformers import AutoModelForImageTextToText

    kwargs: dict[str, Any] = {"dtype": getattr(torch, settings.dtype) if settings.dtype != "auto" else "auto"}
    if settings.attn_implementation:
        kwargs["attn_implementation"] = settings.attn_implementation
    try:
        model = AutoModelForImageTextToText.from_pretrained(path, **kwargs)
        processor = load_processor(path, settings)
    except OSError as exc:
        raise ValueError(f"cannot load model {path!r}: {exc}") from None
    if settings.freeze_vision:
        for name, param in model.named_parameters():
            if ".visual." in f".{name}":
                param.requires_grad_(False)
    if lora and not settings.full_finetune:
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                            target_modules=settings.lora_targets, task_type="CAUSAL_LM")
        model = get_peft_model(model, config)
    if train.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        if hasattr(model, "enable_input_require_grads"):
            model.enable_input_require_grads()
    return model, processor


def trainable_summary(model) -> dict[str, Any]:
    """Counts of trainable parameters and whether any vision-tower parameter is trainable."""
    total = trainable = vision = 0
    for name, p in model.named_parameters():
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
            vision += p.numel() if ".visual." in f".{name}" else 0
    return {"parameters": total, "trainable": trainable, "trainable_vision": vision}


def save_policy(model, processor, out: Path, *, merged: bool = True):
    """Write ``out`` (see the module docstring); returns the plain (merged) model for evaluation."""
    out.mkdir(parents=True, exist_ok=True)
    plain = model
    if hasattr(model, "peft_config"):
        model.save_pretrained(str(out / "adapter"))
        plain = model.merge_and_unload()
    if merged or plain is model:
        plain.save_pretrained(str(out))
        processor.save_pretrained(str(out))
    return plain
