"""Training run configs (``configs/train/*.yaml``): one documented dataclass per stage.

:class:`DataSettings` says where the step samples come from, :class:`ModelSettings` which model
and how it is adapted (LoRA on the language model, or full fine-tuning), :class:`SFTRunConfig` /
:class:`GRPORunConfig` the optimisation. Files are YAML or JSON mappings of these fields
(nested ``data:``, ``model:``); an unknown field raises ``ValueError`` naming the file and field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

from ..envs.prompts import load_config_file
from .dataset import DatasetConfig

#: language-model projections LoRA adapts by default (a regex over module names: the vision
#: tower, whose modules live under ``visual``, never matches)
LM_LORA_TARGETS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


def _from_dict(cls, data: dict[str, Any], where: str):
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
    return cls(**data)


@dataclass
class DataSettings:
    """Training and held-out data. ``train``: episode refs (JSONL paths or ``SUITE:SPLIT``) to
    build step samples from, or ``train_dataset``: a directory written by ``egym data sft``
    (then ``train`` is ignored); the same for ``eval`` / ``eval_dataset`` (held-out: every ref is
    reported separately, e.g. in-domain ``house-v2:test`` next to ``house-v2:ood``).
    ``train_limit`` / ``eval_limit``: first N episodes of each category of each ref; ``eval_max_steps``: at most
    this many held-out step samples per ref (spread evenly over its episodes; ``None`` = all);
    ``categories``, ``history``, ``image_max_side``, ``prompt_file``, ``prompt``, ``width``,
    ``height``, ``generate_per_category``, ``generate_seed`` (refs of splits that are generated
    on demand, e.g. ``house-v2:train``), ``rationale`` (``full``, ``decision``, ``none``: how
    much of the demonstration's reasoning the completion keeps): see :class:`~embodied_gym.training.dataset.DatasetConfig`."""

    train: list[str] = field(default_factory=lambda: ["house-v2:train"])
    eval: list[str] = field(default_factory=lambda: ["house-v2:test", "house-v2:ood"])
    train_dataset: str | None = None
    eval_dataset: list[str] = field(default_factory=list)
    train_limit: int | None = None
    eval_limit: int | None = None
    eval_max_steps: int | None = None
    categories: list[str] | None = None
    history: int | None = None
    image_max_side: int = 512
    prompt_file: str | None = None
    prompt: dict[str, Any] = field(default_factory=dict)
    width: int = 320
    height: int = 240
    generate_per_category: int | None = None
    generate_seed: int = 0
    rationale: str = "full"

    def dataset_config(self, limit: int | None) -> DatasetConfig:
        return DatasetConfig(history=self.history, image_max_side=self.image_max_side, prompt_file=self.prompt_file,
                             prompt=dict(self.prompt), limit=limit, categories=self.categories, width=self.width,
                             height=self.height, generate_per_category=self.generate_per_category,
                             generate_seed=self.generate_seed, rationale=self.rationale)


@dataclass
class ModelSettings:
    """The policy. ``name_or_path``: a Hub id (``Qwen/Qwen2.5-VL-7B-Instruct``) or a directory;
    ``None`` builds the tiny random Qwen2.5-VL (:mod:`~embodied_gym.training.tiny`) with
    ``tiny`` (``hidden``, ``layers``, ``max_pixels``, ``vocab_size``, ``seed``) into
    ``OUT/base``. ``max_pixels`` / ``min_pixels``: caps on the processor's image size (``None``:
    the processor's own). ``full_finetune``: train every language-model weight instead of LoRA;
    ``freeze_vision``: keep the vision tower (and merger) frozen (default). LoRA: ``lora_r``,
    ``lora_alpha``, ``lora_dropout``, ``lora_targets`` (a module-name regex, language model only
    by default). ``dtype``: ``float32`` / ``bfloat16`` / ``auto``; ``attn_implementation``:
    e.g. ``flash_attention_2`` on GPU."""

    name_or_path: str | None = None
    tiny: dict[str, Any] = field(default_factory=dict)
    max_pixels: int | None = None
    min_pixels: int | None = None
    full_finetune: bool = False
    freeze_vision: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = LM_LORA_TARGETS
    dtype: str = "float32"
    attn_implementation: str | None = None


@dataclass
class TrainSettings:
    """Optimisation settings shared by both stages (passed on to trl's ``SFTConfig`` /
    ``GRPOConfig``): ``epochs``, ``max_steps`` (``-1``: from epochs), ``learning_rate``,
    ``batch_size`` (per device; in GRPO it counts completions, a multiple of ``grpo.num_generations``), ``grad_accum``, ``warmup`` (steps, or a fraction < 1 of them), ``weight_decay``,
    ``logging_steps``, ``seed``; ``device``: ``cpu`` or ``auto`` (GPU when present);
    ``bf16`` and ``gradient_checkpointing`` (GPU runs); ``deepspeed``: a DeepSpeed JSON config
    (ZeRO-3 for several GPUs, launched with ``accelerate launch``); ``save_merged``: write the
    LoRA-merged full model to OUT so ``hf:OUT`` loads it directly (the adapter is always kept in
    ``OUT/adapter``); ``eval_max_new_tokens``: generation budget of the held-out check;
    ``eval_batch_size``; ``extra``: further trainer arguments by name."""

    epochs: float = 1.0
    max_steps: int = -1
    learning_rate: float = 1e-4
    batch_size: int = 4
    grad_accum: int = 1
    warmup: float = 0.0
    weight_decay: float = 0.0
    logging_steps: int = 5
    seed: int = 0
    device: str = "auto"
    bf16: bool = False
    gradient_checkpointing: bool = False
    deepspeed: str | None = None
    save_merged: bool = True
    eval_max_new_tokens: int = 128
    eval_batch_size: int = 16
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class GRPOSettings:
    """GRPO specifics. ``mode``: ``step`` (one completion per step sample, rewards from
    :mod:`embodied_gym.rewards.grpo`) or ``episode`` (whole closed-loop episodes, see
    :mod:`~embodied_gym.training.episode_rl`). ``num_generations``: group size;
    ``max_completion_length``; ``temperature``; ``beta``: KL coefficient; ``epsilon``: clip
    range; ``reward_weights``: ``{format, action_match, progress}`` weights (a 0 weight drops
    the reward); ``use_vllm`` / ``vllm_mode`` (``colocate``) for GPU generation;
    ``episode_max_steps``: step cap per closed-loop rollout (episode mode); ``episodes_per_step``:
    start states per update (episode mode); ``episode_reward``: weights of the episode result's
    ``success``, ``subgoal_completion`` and ``spl`` in the episode reward (episode mode)."""

    mode: str = "step"
    num_generations: int = 4
    max_completion_length: int = 128
    temperature: float = 1.0
    beta: float = 0.04
    epsilon: float = 0.2
    reward_weights: dict[str, float] = field(default_factory=lambda: {"format": 0.2, "action_match": 0.4, "progress": 1.0})
    use_vllm: bool = False
    vllm_mode: str = "colocate"
    episode_max_steps: int = 16
    episodes_per_step: int = 1
    episode_reward: dict[str, float] = field(default_factory=lambda: {"success": 1.0, "subgoal_completion": 0.5, "spl": 0.5})


@dataclass
class RunConfig:
    """A whole stage: ``data``, ``model``, ``train`` and (GRPO only) ``grpo``."""

    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    grpo: GRPOSettings = field(default_factory=GRPOSettings)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "train config") -> RunConfig:
        sections = {"data": DataSettings, "model": ModelSettings, "train": TrainSettings, "grpo": GRPOSettings}
        unknown = sorted(set(data) - set(sections))
        if unknown:
            raise ValueError(f"{where}: unknown section(s) {', '.join(unknown)}; expected {', '.join(sections)}")
        built = {}
        for name, klass in sections.items():
            value = data.get(name) or {}
            if not isinstance(value, dict):
                raise ValueError(f"{where}: section {name!r}: expected a mapping, got {type(value).__name__}")
            try:
                built[name] = _from_dict(klass, value, f"{where}: section {name!r}")
            except TypeError as exc:
                raise ValueError(f"{where}: section {name!r}: {exc}") from None
        cfg = cls(**built)
        if cfg.grpo.mode not in ("step", "episode"):
            raise ValueError(f"{where}: field 'grpo.mode': expected 'step' or 'episode', got {cfg.grpo.mode!r}")
        if cfg.train.device not in ("cpu", "auto"):
            raise ValueError(f"{where}: field 'train.device': expected 'cpu' or 'auto', got {cfg.train.device!r}")
        return cfg

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RunConfig:
        return cls.from_dict(load_config_file(path), where=str(path))
