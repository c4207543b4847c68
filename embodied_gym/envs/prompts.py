"""Prompt builders, one per environment family, configured from ``configs/prompts/<family>.json``.

The agents and the training dataset builder share this module (it sits on the envs floor so
training can import it): training prompts are exactly the evaluation prompts.

A builder turns an observation and the episode's :class:`~embodied_gym.envs.context.StepContext`
into chat messages in a neutral form that each model agent converts to its own wire format::

    [{"role": "system", "content": "..."},
     {"role": "user", "content": [{"type": "text", "text": "..."},
                                  {"type": "image", "image": <H x W x 3 uint8 array>}, ...]}]

``closed_loop`` (EmbRACE-style tasks): the action list, the ``<think>...</think><answer>Action
</answer>`` format, the instruction, the last ``history_frames`` frames, the current frame, the
previous actions and the feedback on the last one. ``bear`` (BEAR skill queries): the history
video frames, the current frame, the question (which already carries BEAR's per-skill answer
format, paper Appendix I), the options, and an optional per-skill hint from the config.

With ``include_images=False`` (the blind baseline) no image is sent and the prompt says so.
Config files are JSON or YAML; an unknown field or a template with an unknown placeholder raises
``ValueError`` naming the file and field.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..rewards.bear_skills import bear_skill
from ..sims.base import ACTIONS
from .context import StepContext, observation_image
from .prompt_media import IMAGE_SLOT, INPUT_SETTINGS, VIDEO_SLOT, content_parts

#: placeholders of ``skill_templates`` (BEAR's prompt slots)
SKILL_TEMPLATE_SLOTS = ("description", "question", "options", "video", "image", "blind_note")


def configs_dir() -> Path:
    """``$EMBODIED_GYM_CONFIGS`` or the repository's ``configs/``."""
    env = os.environ.get("EMBODIED_GYM_CONFIGS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "configs"


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON or YAML (``.yaml``/``.yml``) mapping; errors name the file."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"config file {p} not found")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # json.JSONDecodeError, yaml.YAMLError
        raise ValueError(f"{p}: cannot parse: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a mapping at the top level, got {type(data).__name__}")
    return data


@dataclass
class PromptConfig:
    """Prompt settings of one family (fields of ``configs/prompts/<family>.json``).

    ``system``: the system message. ``template``: the user text, a ``str.format`` template whose
    placeholders are listed in the family's :class:`PromptFamily`. ``history_frames``: how many earlier frames to
    send before the current one (closed loop: the runner's memory; bear: the env's history video,
    sampled uniformly down to this many). ``history_actions``: how many previous actions to list.
    ``blind_note``: replaces the images for text-only agents. ``skill_hints``: bear only, extra
    text per skill name (``"default"`` for the rest). ``skill_templates``: bear only, a template
    per skill id (BEAR's own prompts in the ``bear-paper`` profile) used when the observation
    carries a ``description`` (what BEAR's released ``question`` field holds for that skill); its
    placeholders are :data:`SKILL_TEMPLATE_SLOTS`, ``{video}`` / ``{image}`` placing the frames
    (:mod:`~embodied_gym.envs.prompt_media`). ``input_setting``: ``sequential`` (frames as
    separate images) or ``merged`` (tiled into one image), BEAR's two input settings."""

    family: str
    system: str = ""
    template: str = "{instruction}"
    history_frames: int = 0
    history_actions: int = 8
    blind_note: str = "(No image is available to you; decide from the text alone.)"
    skill_hints: dict[str, str] = field(default_factory=dict)
    skill_templates: dict[str, str] = field(default_factory=dict)
    input_setting: str = "sequential"

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "prompt config") -> PromptConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}")
        cfg = cls(**data)
        if cfg.family not in PROMPT_FAMILIES:
            raise ValueError(f"{where}: field 'family': unknown family {cfg.family!r}; expected one of {sorted(PROMPT_FAMILIES)}")
        for name in ("history_frames", "history_actions"):
            value = getattr(cfg, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{where}: field '{name}': expected an integer >= 0, got {value!r}")
        allowed = set(PROMPT_FAMILIES[cfg.family].placeholders)
        for _, name, _, _ in string.Formatter().parse(cfg.template):
            if name is not None and name not in allowed:
                raise ValueError(f"{where}: field 'template': unknown placeholder {{{name}}}; allowed: {sorted(allowed)}")
        if cfg.input_setting not in INPUT_SETTINGS:
            raise ValueError(f"{where}: field 'input_setting': expected one of {INPUT_SETTINGS}, got {cfg.input_setting!r}")
        for skill, tmpl in cfg.skill_templates.items():
            for _, name, _, _ in string.Formatter().parse(str(tmpl)):
                if name is not None and name not in SKILL_TEMPLATE_SLOTS:
                    raise ValueError(f"{where}: field 'skill_templates.{skill}': unknown placeholder {{{name}}}; "
                                     f"allowed: {sorted(SKILL_TEMPLATE_SLOTS)}")
        return cfg

    @classmethod
    def load(cls, family: str, path: str | os.PathLike[str] | None = None) -> PromptConfig:
        """The config for ``family`` from ``path`` or ``configs/prompts/<family>.json``. ``path`` may
        also be a profile name: ``"bear-paper"`` is ``configs/prompts/bear-paper.json``."""
        if family not in PROMPT_FAMILIES:
            raise ValueError(f"no prompt builder for environment family {family!r}; expected one of {sorted(PROMPT_FAMILIES)}")
        p = Path(path) if path is not None else configs_dir() / "prompts" / f"{family}.json"
        if path is not None and not p.exists() and p.suffix == "" and len(p.parts) == 1:
            p = configs_dir() / "prompts" / f"{p.name}.json"
        data = load_config_file(p)
        if data.setdefault("family", family) != family:
            raise ValueError(f"{p}: field 'family': this prompt profile is for {data['family']!r} environments, "
                             f"not {family!r}")
        return cls.from_dict(data, where=str(p))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "\n".join(_text(v) for v in value)
    return str(value)


def _frames(value: Any) -> list[np.ndarray]:
    """A list of H x W x 3 frames from an array (N x H x W x 3) or a list; blank padding frames dropped."""
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim == 4) else []
    return [f for f in items if isinstance(f, np.ndarray) and f.ndim == 3 and f.any()]


def _uniform(frames: list[np.ndarray], k: int) -> list[np.ndarray]:
    """At most ``k`` frames sampled uniformly, first and last included."""
    if k <= 0:
        return []
    if len(frames) <= k:
        return frames
    if k == 1:
        return [frames[-1]]
    idx = sorted({round(i * (len(frames) - 1) / (k - 1)) for i in range(k)})
    return [frames[i] for i in idx]


def _options_text(options: Any) -> str:
    if options is None:
        return ""
    if isinstance(options, str):
        return options
    if isinstance(options, dict):
        return "\n".join(f"{k}. {v}" for k, v in options.items())
    items = [_text(o) for o in options]
    items = [o for o in items if o]
    if all(len(o) > 2 and o[0] in "ABCDEFGH" and o[1] in ".):" for o in items):
        return "\n".join(items)
    return "\n".join(f"{'ABCDEFGH'[i]}. {o}" for i, o in enumerate(items[:8]))


def _render(template: str, values: dict[str, Any]) -> str:
    """Format ``template`` line by line, dropping template lines whose placeholders all came out
    empty (e.g. the blind note for agents that see images); the values themselves are kept as is."""
    lines = []
    for tline in template.split("\n"):
        line = tline.format(**values)
        if line.strip() or not tline.strip():
            lines.append(line)
    return "\n".join(lines).strip()


#: ``render(config, obs, ctx, blind_note) -> (user text, images)``: one family's prompt
Renderer = Callable[[PromptConfig, dict[str, Any], StepContext, str], tuple[str, list[np.ndarray]]]


@dataclass(frozen=True)
class PromptFamily:
    """How one environment family is prompted: ``render`` builds the user text and images,
    ``placeholders`` are the names its ``template`` may use."""

    render: Renderer
    placeholders: tuple[str, ...]


def render_closed_loop(cfg: PromptConfig, obs: dict[str, Any], ctx: StepContext, blind_note: str) -> tuple[str, list[np.ndarray]]:
    """Closed-loop tasks: instruction, actions, history of actions with feedback, recent frames."""
    n = cfg.history_actions
    past = list(zip(ctx.actions, ctx.parsed_actions, ctx.feedback, strict=True))[-n:] if n else []
    first = len(ctx.actions) - len(past)
    lines = []
    for i, (raw, parsed, fb) in enumerate(past):
        shown = parsed if parsed is not None else f"invalid reply {raw[:40]!r}"
        lines.append(f"{first + i + 1}. {shown}" + (f" ({fb})" if fb else ""))
    feedback = _text(obs.get("feedback")) or (ctx.feedback[-1] if ctx.feedback else "")
    values = {
        "instruction": _text(obs.get("instruction")),
        "actions": ", ".join(ACTIONS),
        "step": int(np.asarray(obs.get("step", ctx.step)).reshape(-1)[0]) if obs.get("step") is not None else ctx.step,
        "history": "\n".join(lines) if lines else "none yet",
        "feedback": feedback or "none (this is the first step)",
        "blind_note": blind_note,
    }
    history = _frames(obs.get("history")) or list(ctx.frames)
    images = history[-cfg.history_frames:] if cfg.history_frames else []
    current = observation_image(obs)
    if current is not None:
        images = [*images, current]
    return _render(cfg.template, values), images


def render_bear(cfg: PromptConfig, obs: dict[str, Any], ctx: StepContext, blind_note: str) -> tuple[str, list[np.ndarray]]:
    """BEAR skill queries: question, options, per-skill hint, the history video and current frame."""
    skill = _text(obs.get("skill"))
    hint = cfg.skill_hints.get(skill, cfg.skill_hints.get("default", ""))
    values = {
        "question": _text(obs.get("question")),
        "options": _options_text(obs.get("options")),
        "skill": skill,
        "skill_hint": hint,
        "blind_note": blind_note,
    }
    history = obs.get("history")
    length = obs.get("history_length")
    if isinstance(history, np.ndarray) and history.ndim == 4 and length is not None:
        history = list(history[: int(np.asarray(length).reshape(-1)[0])])  # cut the black padding
    raw_frames = frames = _frames(history)
    current = observation_image(obs)
    if frames and current is not None and frames[-1].shape == current.shape and np.array_equal(frames[-1], current):
        frames = frames[:-1]  # the history ends with the current view: send it once
    skill_id = bear_skill(skill).id if bear_skill(skill) else skill
    template = cfg.skill_templates.get(skill_id) or cfg.skill_templates.get(skill)
    description = _text(obs.get("description")).strip()
    if template and description:  # BEAR's own prompt, images placed by its slots
        if "{image}" in template:
            video = _uniform(frames, cfg.history_frames) if "{video}" in template else []
        else:  # video-only question: the whole video, the current view being its last frame
            video = _uniform(raw_frames or ([current] if current is not None else []), cfg.history_frames)
            current = None
        slot_values = {**values, "description": description, "video": VIDEO_SLOT,
                       "image": IMAGE_SLOT if current is not None else ""}
        return _render(template, slot_values), [*video, *([current] if current is not None else [])]
    images = _uniform(frames, cfg.history_frames)
    if current is not None:
        images.append(current)
    return _render(cfg.template, values), images


def render_replay(cfg: PromptConfig, obs: dict[str, Any], ctx: StepContext, blind_note: str) -> tuple[str, list[np.ndarray]]:
    """Recorded episodes (``EmbraceReplay-v0``): instruction, the env's action vocabulary, the
    *demonstrated* earlier actions (teacher forcing: the agent's own earlier replies are not shown),
    the recorded history frames and the current frame."""
    done = [a.strip() for a in _text(obs.get("previous_actions")).split(",") if a.strip()]
    n = cfg.history_actions
    shown = done[-n:] if n else []
    first = len(done) - len(shown)
    values = {
        "instruction": _text(obs.get("instruction")),
        "actions": _text(obs.get("actions")) or ", ".join(ACTIONS),
        "step": int(np.asarray(obs.get("step", ctx.step)).reshape(-1)[0]) if obs.get("step") is not None else ctx.step,
        "history": "\n".join(f"{first + i + 1}. {a}" for i, a in enumerate(shown)) or "none yet",
        "blind_note": blind_note,
    }
    history = _frames(obs.get("history"))
    images = history[-cfg.history_frames:] if cfg.history_frames else []
    current = observation_image(obs)
    if current is not None:
        images = [*images, current]
    return _render(cfg.template, values), images


#: family name -> how it is prompted; :func:`embodied_gym.agents.families.register_family` adds to it
PROMPT_FAMILIES: dict[str, PromptFamily] = {
    "closed_loop": PromptFamily(render_closed_loop,
                                ("instruction", "actions", "step", "history", "feedback", "blind_note")),
    "bear": PromptFamily(render_bear, ("question", "options", "skill", "skill_hint", "blind_note")),
    "replay": PromptFamily(render_replay, ("instruction", "actions", "step", "history", "blind_note")),
}


class PromptBuilder:
    """Builds neutral chat messages for one family from a :class:`PromptConfig`."""

    def __init__(self, config: PromptConfig, *, include_images: bool = True) -> None:
        self.config = config
        self.include_images = include_images
        self.prompt_family = PROMPT_FAMILIES[config.family]

    @property
    def family(self) -> str:
        return self.config.family

    def build(self, obs: dict[str, Any], ctx: StepContext) -> list[dict[str, Any]]:
        blind_note = "" if self.include_images else self.config.blind_note
        text, images = self.prompt_family.render(self.config, obs, ctx, blind_note)
        if ctx.perception:
            text = f"{text}\n\n{ctx.perception}"
        current = images[-1] if images and IMAGE_SLOT in text else None
        video = images[:-1] if current is not None else images
        content = content_parts(text, video, current, input_setting=self.config.input_setting,
                                include_images=self.include_images)
        messages: list[dict[str, Any]] = []
        if self.config.system:
            messages.append({"role": "system", "content": self.config.system})
        messages.append({"role": "user", "content": content})
        return messages
