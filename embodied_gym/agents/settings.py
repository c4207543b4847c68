"""Settings shared by the model agents (API and local), read from an ``--config`` file.

The file (JSON or YAML; ``configs/agents/example.yaml`` lists every field with its default) is
a mapping of the fields of :class:`AgentSettings`; unknown fields raise ``ValueError`` naming
the file. Prices for cost accounting come from ``configs/prices.json`` (:class:`Pricing`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..envs.prompts import PromptConfig, configs_dir, load_config_file


class ConfigError(ValueError):
    """A bad value of a config field. ``field`` names it; ``owner`` the config (``EvalConfig``,
    ``agent settings``). The message may refer to other fields as ``{name}`` placeholders
    (``refs``): the library writes field names, the CLI (:meth:`render`) writes its flags, so a
    library error never names a command-line flag and a CLI error always does."""

    def __init__(self, field_name: str, message: str, *, owner: str = "EvalConfig", refs: tuple[str, ...] = ()) -> None:
        self.field, self.owner, self.template, self.refs = field_name, owner, message, refs
        self.detail = self.render(lambda name: name)
        super().__init__(f"{owner} field '{field_name}': {self.detail}")

    def render(self, name_of: Any) -> str:
        """The message with each ``{ref}`` written as ``name_of(ref)`` (e.g. its flag)."""
        text = self.template  # plain replacement: values quoted in the message may hold braces
        for ref in self.refs:
            text = text.replace("{" + ref + "}", name_of(ref))
        return text


def _help(default: Any, help: str, *, factory: Any = None) -> Any:
    """A dataclass field with its help text in ``metadata["help"]`` (as trl's configs do)."""
    if factory is not None:
        return field(default_factory=factory, metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class HFOptions:
    """Options of the local transformers agent (``hf:PATH``; the ``hf`` field of the settings)."""

    device_map: str | None = _help("auto", "transformers device_map (None: load on CPU)")
    dtype: str = _help("auto", "auto, bfloat16, float16 or float32")
    max_batch_size: int = _help(8, "requests of concurrent episodes generated in one batch, at most")
    batch_wait_ms: float = _help(10.0, "how long the batcher waits for more requests after the first")
    adapter: str | None = _help(None, "a LoRA adapter directory (or hf:BASE+ADAPTER on the command line)")
    merge_adapter: bool = _help(False, "merge the LoRA weights into the model (faster inference)")
    attn_implementation: str | None = _help(None, "transformers attn_implementation, e.g. sdpa")

    def __post_init__(self) -> None:
        if not isinstance(self.max_batch_size, int) or self.max_batch_size < 1:
            raise ConfigError("hf.max_batch_size", f"must be an integer >= 1, got {self.max_batch_size!r}",
                              owner="agent settings")
        if not self.batch_wait_ms >= 0:
            raise ConfigError("hf.batch_wait_ms", f"must be >= 0, got {self.batch_wait_ms!r}", owner="agent settings")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HFOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError("hf", f"unknown option(s) {', '.join(unknown)}; expected {sorted(known)}",
                              owner="agent settings")
        return cls(**data)


@dataclass
class AgentSettings:
    """How a model agent samples, encodes images, retries and prompts (``--config FILE``: a JSON or
    YAML mapping of these fields; ``--set FIELD=VALUE`` overrides one). Each field's
    ``metadata["help"]`` documents it; ``configs/agents/example.yaml`` lists them with defaults.

    Retries: 429, 5xx, timeouts, connection errors, malformed bodies and empty completions are
    retried ``max_retries`` times, waiting ``Retry-After`` when the server sends one (capped at
    ``max_retry_after``) else ``backoff_base * 2**attempt`` (capped at ``backoff_max``) times a
    random factor in ``[1 - jitter, 1 + jitter]``."""

    temperature: float = _help(0.0, "sampling temperature (0: greedy, reproducible and cacheable)")
    seed: int | None = _help(0, "sampling seed sent to the server (None: omitted)")
    max_tokens: int = _help(512, "reply length limit, sent as token_limit_field")
    token_limit_field: str = _help("max_tokens", "max_tokens, or max_completion_tokens for OpenAI reasoning models")
    top_p: float | None = _help(None, "nucleus sampling (None: omitted)")
    extra_body: dict[str, Any] = _help(None, "extra request fields, e.g. {top_k: 1} for vLLM", factory=dict)
    image_max_side: int = _help(512, "images are resized so their longer side is at most this many pixels")
    image_format: str = _help("jpeg", "jpeg or png (base64 data URLs)")
    jpeg_quality: int = _help(90, "JPEG quality")
    timeout: float = _help(60.0, "total deadline of one HTTP request, seconds")
    max_retries: int = _help(5, "retries of one call (see the class docstring)")
    backoff_base: float = _help(1.0, "seconds before the first retry; doubles per retry")
    backoff_max: float = _help(60.0, "cap on one backoff wait, seconds")
    jitter: float = _help(0.5, "backoff waits are multiplied by a random factor in [1 - jitter, 1 + jitter]")
    max_retry_after: float = _help(120.0, "cap on a server's Retry-After, seconds")
    max_consecutive_failures: int = _help(20, "that many calls in a row failing after their retries stop the run "
                                              "(0: never)")
    first_answer_deadline: float = _help(150.0, "until the endpoint has answered any request, the run stops this many "
                                                "seconds after the first request (a server that never answers)")
    prompt_file: str | None = _help(None, "replaces configs/prompts/<family>.json")
    prompt: dict[str, Any] = _help(None, "overrides single fields of the prompt config, e.g. {history_frames: 0}",
                                   factory=dict)
    prices_file: str | None = _help(None, "replaces configs/prices.json (USD per million tokens per model)")
    hf: HFOptions = _help(None, "options of the local transformers agent (HFOptions)", factory=HFOptions)

    def __post_init__(self) -> None:
        def bad(name: str, message: str) -> ConfigError:
            return ConfigError(name, message, owner="agent settings")

        if isinstance(self.hf, dict):
            self.hf = HFOptions.from_dict(self.hf)
        if self.image_format not in ("jpeg", "png"):
            raise bad("image_format", f"expected 'jpeg' or 'png', got {self.image_format!r}")
        for name in ("image_max_side", "max_tokens"):
            if int(getattr(self, name)) < 1:
                raise bad(name, f"must be >= 1, got {getattr(self, name)!r}")
        if self.token_limit_field not in ("max_tokens", "max_completion_tokens"):
            raise bad("token_limit_field", f"expected 'max_tokens' or 'max_completion_tokens', got {self.token_limit_field!r}")
        if self.max_retries < 0:
            raise bad("max_retries", f"must be >= 0, got {self.max_retries!r}")
        if not self.timeout > 0:
            raise bad("timeout", f"must be > 0, got {self.timeout!r}")
        if not self.first_answer_deadline > 0:
            raise bad("first_answer_deadline", f"must be > 0, got {self.first_answer_deadline!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "agent settings") -> AgentSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in data if k not in known and not k.startswith("_"))
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except ConfigError as exc:  # keeps naming the field, says where the value came from
            raise ConfigError(exc.field, exc.template, owner=f"{where}:", refs=exc.refs) from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None, overrides: list[str] | tuple[str, ...] = ()) -> AgentSettings:
        """Settings from a JSON/YAML file (the defaults when ``path`` is ``None``), then each
        ``"FIELD=VALUE"`` of ``overrides`` (:func:`apply_override`)."""
        data = load_config_file(path) if path is not None else {}
        for item in overrides:
            apply_override(data, item)
        where = str(path) if path is not None else "agent settings"
        return cls.from_dict(data, where=where + (" with overrides" if overrides else ""))

    def prompt_config(self, family: str) -> PromptConfig:
        """The family's prompt config with this file's overrides applied."""
        base = PromptConfig.load(family, self.prompt_file)
        if not self.prompt:
            return base
        data = {f.name: getattr(base, f.name) for f in fields(PromptConfig)}
        data.update(self.prompt)
        return PromptConfig.from_dict(data, where="agent settings field 'prompt'")


def apply_override(data: dict[str, Any], item: str) -> None:
    """Apply ``"FIELD=VALUE"`` to a settings mapping in place: ``VALUE`` is read as JSON (``0.5``,
    ``null``, ``{"top_k": 1}``) or else taken as a string; ``FIELD`` may be dotted for the nested
    mappings (``hf.dtype=float32``, ``prompt.history_frames=0``, ``extra_body.top_k=1``)."""
    name, sep, raw = str(item).partition("=")
    name = name.strip()
    if not sep or not name:
        raise ConfigError("agent_set", f"expected FIELD=VALUE, got {item!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    *parents, leaf = name.split(".")
    target = data
    for part in parents:
        nested = target.get(part)
        if nested is None:
            nested = target[part] = {}
        elif not isinstance(nested, dict):
            raise ConfigError("agent_set", f"{item!r}: field '{part}' is not a mapping")
        target = nested
    target[leaf] = value


class Pricing:
    """USD per million tokens per model, from ``configs/prices.json``; the longest matching prefix wins."""

    def __init__(self, table: dict[str, dict[str, float]]) -> None:
        self.table = {k: v for k, v in table.items() if not k.startswith("_")}
        for name, entry in self.table.items():
            if not isinstance(entry, dict) or not {"input", "output"} <= set(entry):
                raise ValueError(f"prices: model {name!r}: expected {{'input': USD/1M, 'output': USD/1M}}, got {entry!r}")

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Pricing:
        p = Path(path) if path is not None else configs_dir() / "prices.json"
        if not p.exists():
            return cls({})
        try:
            return cls(json.loads(p.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p}: cannot parse: {exc}") from None

    def rate(self, model: str) -> dict[str, float] | None:
        best = None
        for name in self.table:
            if model.startswith(name) and (best is None or len(name) > len(best)):
                best = name
        return self.table[best] if best is not None else None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> tuple[float, bool]:
        """``(usd, known)``: the cost of one call and whether the model has a price."""
        rate = self.rate(model)
        if rate is None:
            return 0.0, False
        return (prompt_tokens * float(rate["input"]) + completion_tokens * float(rate["output"])) / 1e6, True
