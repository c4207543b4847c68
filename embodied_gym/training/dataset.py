"""Step-wise reasoning datasets from demonstrated episodes (``egym data sft``).

One row per demonstration step, in trl's conversational prompt-completion format:

* ``prompt``: the chat messages the evaluated agent sees at that step, built by the agents' own
  :class:`~embodied_gym.envs.prompts.PromptBuilder` from the environment's observation and a
  :class:`~embodied_gym.envs.context.StepContext` replayed exactly as the evaluation runner
  records it (previous actions, their feedback, earlier frames). Image entries are placeholders
  (``{"type": "image"}``) filled from ``images`` in order, as trl's collators expect;
* ``images``: the frames of the prompt (``history`` earlier frames, then the current one), as PIL
  images capped at ``image_max_side`` like :class:`~embodied_gym.agents.hf_agent.HFAgent` does;
* ``completion``: ``<think>{rationale}</think><answer>{Action}</answer>`` as one assistant turn;
* reward columns: ``episode_id``, ``step``, ``category``, ``split``, ``domain``, ``action`` (the
  demonstrated action), ``scene_key`` (hash of the scene), and ``episode`` (the episode spec as
  JSON): with ``step`` it rebuilds the simulator state of the step (scene, start pose, the
  demonstrated actions before it) for the simulator-verified reward.

Frames come from an *episode source* (:data:`EpisodeSource`): a callable that turns one
:class:`~embodied_gym.episodes.spec.Episode` into its :class:`DemoStep` s. :func:`replay_source`
renders them by replaying the demonstration in :class:`~embodied_gym.envs.closed_loop.ClosedLoopEnv`
(the evaluation environment, so observations and feedback are the evaluation's);
:func:`recorded_source` serves episodes that come with recorded frames (an importer of real
data: ``frames(episode) -> list of H x W x 3 arrays``, one per demonstrated step). Without an
explicit source, :func:`build_rows` serves episodes imported with recorded frames
(``episode.recorded``, e.g. ``egym import embrace3k``) through ``EmbraceReplay-v0``
(:func:`~embodied_gym.training.recorded.replay_env_source`) and prompts them with the ``replay``
family's builder, as ``egym eval --env EmbraceReplay-v0`` does; simulated ones are replayed in
the closed-loop env. Both give the same columns, so one dataset mixes them.

Deterministic: same episodes and settings give the same rows in the same order.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..envs.context import StepContext
from ..envs.images import to_pil
from ..envs.prompts import PromptBuilder, PromptConfig
from ..episodes.spec import Episode, load_episodes


@dataclass
class DemoStep:
    """One demonstrated step as the policy saw it: the environment observation before the action
    (``image``, ``instruction``, ``step``, ``feedback``), the action taken, its rationale and the
    feedback the environment gave after it."""

    obs: dict[str, Any]
    action: str
    rationale: str
    feedback_after: str


EpisodeSource = Callable[[Episode], Iterable[DemoStep]]
"""Turns one demonstrated episode into its steps (see the module docstring)."""


def completion_text(rationale: str, action: str) -> str:
    """The training target: ``<think>{rationale}</think><answer>{action}</answer>``."""
    return f"<think>{rationale.strip()}</think><answer>{action}</answer>"


RATIONALE_MODES = ("full", "decision", "none")


def rationale_view(rationale: str, mode: str = "full") -> str:
    """The part of a demonstration rationale a dataset trains on: ``full``; ``decision``: its last
    sentence only (the oracle's rationales end with the decision and its reason, e.g. "To search
    for the cup, I will turn left and scan the area."; the sentences before it describe the
    frame); ``none``: no reasoning (``<think></think>``). ``ValueError`` for another mode."""
    if mode == "full":
        return rationale
    if mode == "decision":
        return re.split(r"(?<=[.!?])\s+", rationale.strip())[-1] if rationale.strip() else ""
    if mode == "none":
        return ""
    raise ValueError(f"rationale: expected one of {', '.join(RATIONALE_MODES)}, got {mode!r}")


def scene_key(episode: Episode) -> str:
    """A short stable hash of the episode's backend and scene (equal scenes, equal keys)."""
    text = json.dumps([episode.backend, episode.scene], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def demonstration_steps(episode: Episode) -> tuple[list[str], list[str]]:
    """The demonstrated actions and their rationales (``""`` where missing); ``ValueError`` when
    the episode has no demonstration."""
    demo = episode.demonstration
    if demo is None or not demo.actions:
        raise ValueError(f"episode {episode.id!r}: field 'demonstration': needed for a training dataset, but missing or empty")
    rationales = list(demo.rationales) + [""] * (len(demo.actions) - len(demo.rationales))
    return list(demo.actions), rationales


def replay_source(width: int = 320, height: int = 240, **sim_kwargs: Any) -> EpisodeSource:
    """An episode source that replays each demonstration in the closed-loop evaluation env.

    Raises ``ValueError`` naming the episode when a demonstrated action fails to replay (the
    demonstration does not match the scene)."""

    def steps(episode: Episode) -> Iterator[DemoStep]:
        from ..envs.closed_loop import ClosedLoopEnv

        actions, rationales = demonstration_steps(episode)
        env = ClosedLoopEnv([episode], backend=episode.backend, width=width, height=height, **sim_kwargs)
        try:
            obs, _ = env.reset(options={"episode_id": episode.id})
            for i, (action, why) in enumerate(zip(actions, rationales, strict=True)):
                nxt, _, terminated, truncated, info = env.step(action)
                if info["invalid_action"]:
                    raise ValueError(f"episode {episode.id!r}: demonstration action {i} {action!r} is invalid here: {info['feedback']}")
                yield DemoStep(obs, action, why, info["feedback"])
                if (terminated or truncated) and i < len(actions) - 1:
                    raise ValueError(f"episode {episode.id!r}: the demonstration ends after step {i} of {len(actions)}")
                obs = nxt
        finally:
            env.close()

    return steps


def recorded_source(frames: Callable[[Episode], Sequence[np.ndarray]]) -> EpisodeSource:
    """An episode source for episodes with recorded frames (no simulator): ``frames(episode)``
    returns one ``H x W x 3`` frame per demonstrated action (the view before it). Feedback is
    ``"<Action> succeeded"`` after each step (recorded demonstrations carry no failures)."""

    def steps(episode: Episode) -> Iterator[DemoStep]:
        actions, rationales = demonstration_steps(episode)
        images = list(frames(episode))
        if len(images) < len(actions):
            raise ValueError(f"episode {episode.id!r}: {len(images)} recorded frames for {len(actions)} actions")
        feedback = ""
        for i, (action, why) in enumerate(zip(actions, rationales, strict=True)):
            obs = {"image": np.asarray(images[i], np.uint8), "instruction": episode.instruction, "step": i, "feedback": feedback}
            feedback = f"{action} succeeded"
            yield DemoStep(obs, action, why, feedback)

    return steps


@dataclass
class DatasetConfig:
    """How step samples are rendered. ``history``: earlier frames per prompt (``None``: the
    prompt config's ``history_frames``); ``image_max_side``: longest image side (the eval agents'
    ``image_max_side``, 512 by default); ``prompt_file`` / ``prompt``: as in the agent settings
    (a file replacing ``configs/prompts/closed_loop.json``, single-field overrides) so training
    prompts equal the evaluation prompts of the same settings; ``limit``: first N episodes per
    category of each source (sources list categories in blocks; this keeps the mix balanced);
    ``categories``: keep only these; ``width`` / ``height``: rendered frame size;
    ``generate_per_category`` / ``generate_seed``: a ``SUITE:SPLIT`` ref whose file is not
    shipped (``house-v2:train``) is generated with this many episodes per category (``None``: the
    split's official size) and this seed, and cached (:mod:`~embodied_gym.training.splits`);
    ``rationale``: how much of each demonstration rationale the completion keeps (``full``,
    ``decision`` = its last sentence, ``none``: see :func:`rationale_view`)."""

    history: int | None = None
    image_max_side: int = 512
    prompt_file: str | None = None
    prompt: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    categories: list[str] | None = None
    width: int = 320
    height: int = 240
    generate_per_category: int | None = None
    generate_seed: int = 0
    rationale: str = "full"

    def prompt_config(self, family: str = "closed_loop") -> PromptConfig:
        """The prompt config of ``family`` (``prompt_file`` replaces the closed-loop one only)."""
        cfg = PromptConfig.load(family, self.prompt_file if family == "closed_loop" else None)
        data = {**cfg.__dict__, **self.prompt}
        if self.history is not None:
            data["history_frames"] = int(self.history)
        return PromptConfig.from_dict(data, where="dataset prompt settings")


def chat_messages(messages: list[dict[str, Any]], image_max_side: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """Neutral messages (:class:`PromptBuilder` output) -> (chat messages with ``{"type": "image"}``
    placeholders, PIL images in order): the conversation :class:`HFAgent` hands to the processor."""
    conv, images = [], []
    for m in messages:
        content = m["content"] if isinstance(m["content"], list) else [{"type": "text", "text": m["content"]}]
        parts = []
        for part in content:
            if part["type"] == "image":
                images.append(to_pil(part["image"], image_max_side))
                parts.append({"type": "image"})
            else:
                parts.append({"type": "text", "text": part["text"]})
        conv.append({"role": m["role"], "content": parts})
    return conv, images


def episode_rows(episode: Episode, source: EpisodeSource, builder: PromptBuilder, image_max_side: int,
                 rationale: str = "full") -> Iterator[dict[str, Any]]:
    """The dataset rows of one episode (see the module docstring for the columns; ``rationale``:
    :func:`rationale_view`'s mode)."""
    ctx = StepContext(episode_id=episode.id, family=builder.family)
    spec = json.dumps(episode.to_dict(), sort_keys=True, separators=(",", ":"))
    key = scene_key(episode)
    for i, st in enumerate(source(episode)):
        conv, images = chat_messages(builder.build(st.obs, ctx), image_max_side)
        target = completion_text(rationale_view(st.rationale, rationale), st.action)
        yield {
            "prompt": conv, "images": images,
            "completion": [{"role": "assistant", "content": [{"type": "text", "text": target}]}],
            "episode_id": episode.id, "step": i, "category": episode.category, "split": episode.split,
            "domain": episode.domain, "action": st.action, "scene_key": key, "episode": spec,
        }
        ctx.record(st.obs, target, st.action, st.feedback_after)


def build_rows(episodes: Sequence[Episode], config: DatasetConfig, source: EpisodeSource | None = None) -> list[dict[str, Any]]:
    """Rows of every episode in order. ``source`` defaults to :func:`replay_source` for simulated
    episodes and to ``EmbraceReplay-v0``'s recorded frames for recorded ones (module docstring)."""
    rationale_view("", config.rationale)  # an unknown mode fails before any rendering
    sim_source = source or replay_source(config.width, config.height)
    builders: dict[str, PromptBuilder] = {}
    rows: list[dict[str, Any]] = []
    for ep in episodes:
        family = "replay" if ep.recorded else "closed_loop"
        if family not in builders:
            builders[family] = PromptBuilder(config.prompt_config(family))
        ep_source = sim_source
        if ep.recorded and source is None:
            from .recorded import replay_env_source

            ep_source = replay_env_source(history=builders[family].config.history_frames)
        rows.extend(episode_rows(ep, ep_source, builders[family], config.image_max_side, config.rationale))
    return rows


def select_episodes(refs: str | Sequence[str], config: DatasetConfig) -> list[Episode]:
    """Episodes of each ref (a JSONL path or ``SUITE:SPLIT``, generated on demand when not shipped
    and ``generate_per_category`` is set), category-filtered, the first ``limit`` of each category
    (file order kept)."""
    from .splits import materialize

    out: list[Episode] = []
    for ref in [refs] if isinstance(refs, str) else refs:
        eps = load_episodes(materialize(ref, config.generate_per_category, config.generate_seed))
        if config.categories:
            eps = [e for e in eps if e.category in set(config.categories)]
        if config.limit is not None:
            seen: dict[str, int] = {}
            kept = []
            for e in eps:
                seen[e.category] = seen.get(e.category, 0) + 1
                if seen[e.category] <= config.limit:
                    kept.append(e)
            eps = kept
        out.extend(eps)
    return out


def to_dataset(rows: list[dict[str, Any]]):
    """A Hugging Face ``datasets.Dataset`` of ``rows`` with the images embedded."""
    from datasets import Dataset, Features, Image, List, Value

    text_part = {"type": Value("string"), "text": Value("string")}
    message = {"role": Value("string"), "content": List(text_part)}
    features = Features({
        "prompt": List(message), "images": List(Image()), "completion": List(message),
        "episode_id": Value("string"), "step": Value("int32"), "category": Value("string"), "split": Value("string"),
        "domain": Value("string"), "action": Value("string"), "scene_key": Value("string"), "episode": Value("string"),
    })
    return Dataset.from_list([{**r, "images": [_png(im) for im in r["images"]]} for r in rows], features=features)


def _png(image) -> dict[str, Any]:
    """A PIL image as the ``datasets`` Image payload: lossless PNG at a fast compression level
    (the library's default encoding is several times slower for the same pixels)."""
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return {"bytes": buf.getvalue(), "path": None}


def check_disjoint(train, held_out) -> None:
    """Raise ``ValueError`` when a scene of ``held_out`` also appears in ``train`` (datasets or rows)."""
    shared = set(train["scene_key"]) & set(held_out["scene_key"])
    if shared:
        raise ValueError(f"{len(shared)} scene(s) appear in both the training and the held-out data "
                         f"(e.g. scene_key {sorted(shared)[0]}); splits must not share houses")


def build_dataset(refs: str | Sequence[str], out: str | Path | None = None, *, config: DatasetConfig | None = None,
                  formats: Sequence[str] = (), source: EpisodeSource | None = None):
    """Build the dataset of ``refs``; with ``out`` save it (``save_to_disk``) plus any of
    ``formats`` (``parquet``, ``jsonl``) there. Returns the ``datasets.Dataset``."""
    config = config or DatasetConfig()
    ds = to_dataset(build_rows(select_episodes(refs, config), config, source))
    if out is not None:
        out = Path(out)
        ds.save_to_disk(str(out))
        for fmt in formats:
            if fmt == "parquet":
                ds.to_parquet(str(out / "data.parquet"))
            elif fmt == "jsonl":
                ds.remove_columns(["images"]).to_json(str(out / "data.jsonl"), lines=True)
            else:
                raise ValueError(f"--export: unknown format {fmt!r}; expected parquet or jsonl")
    return ds
