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
        return self.template.format(**{r: name_of(r) for r in self.refs}) if self.refs else self.template


@dataclass
class AgentSettings:
    """How a model agent samples, encodes images, retries and prompts.

    Sampling: ``temperature`` (0 by default: greedy, cacheable), ``seed`` (sent to the server;
    ``None`` to omit), ``max_tokens`` (sent as ``token_limit_field``: ``max_tokens``, or
    ``max_completion_tokens`` for OpenAI's reasoning models), ``top_p`` (``None`` to omit),
    ``extra_body`` (extra request
    fields, e.g. vLLM's ``top_k``). Images: resized so the longer side is at most
    ``image_max_side`` pixels, sent as ``image_format`` (``jpeg`` at ``jpeg_quality`` or ``png``)
    base64 data URLs. Transport: ``timeout`` seconds per request; ``max_retries`` retries on 429,
    5xx, timeouts, connection errors and malformed bodies, waiting ``Retry-After`` when the server
    sends one (capped at ``max_retry_after``) else ``backoff_base * 2**attempt`` (capped at
    ``backoff_max``) times a random factor in ``[1 - jitter, 1 + jitter]``.
    ``timeout`` is the total deadline of one HTTP request. ``max_consecutive_failures``: that many
    calls in a row failing (after their retries) stop the run (the endpoint is down or rejects
    every request); ``0`` never stops. ``first_answer_deadline``: until the endpoint has answered
    any request, a run stops once this many seconds passed since the first request (a server that
    accepts connections and never answers). Prompts:
    ``prompt_file`` replaces ``configs/prompts/<family>.json``; ``prompt`` overrides single fields
    of it. ``prices_file`` replaces ``configs/prices.json``. ``hf``: options of the local agent
    (see :class:`embodied_gym.agents.hf_agent.HFOptions`)."""

    temperature: float = 0.0
    seed: int | None = 0
    max_tokens: int = 512
    token_limit_field: str = "max_tokens"
    top_p: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    image_max_side: int = 512
    image_format: str = "jpeg"
    jpeg_quality: int = 90
    timeout: float = 60.0
    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    jitter: float = 0.5
    max_retry_after: float = 120.0
    max_consecutive_failures: int = 20
    first_answer_deadline: float = 150.0
    prompt_file: str | None = None
    prompt: dict[str, Any] = field(default_factory=dict)
    prices_file: str | None = None
    hf: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.image_format not in ("jpeg", "png"):
            raise ValueError(f"agent settings: field 'image_format': expected 'jpeg' or 'png', got {self.image_format!r}")
        for name in ("image_max_side", "max_tokens"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"agent settings: field '{name}': must be >= 1, got {getattr(self, name)!r}")
        if self.token_limit_field not in ("max_tokens", "max_completion_tokens"):
            raise ValueError(f"agent settings: field 'token_limit_field': expected 'max_tokens' or "
                             f"'max_completion_tokens', got {self.token_limit_field!r}")
        if self.max_retries < 0 or self.timeout <= 0:
            raise ValueError("agent settings: 'max_retries' must be >= 0 and 'timeout' > 0")
        if not self.first_answer_deadline > 0:
            raise ValueError(f"agent settings: field 'first_answer_deadline': must be > 0, got {self.first_answer_deadline!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "agent settings") -> AgentSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in data if k not in known and not k.startswith("_"))
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None) -> AgentSettings:
        """Settings from a JSON/YAML file, or the defaults when ``path`` is ``None``."""
        if path is None:
            return cls()
        return cls.from_dict(load_config_file(path), where=str(path))

    def prompt_config(self, family: str) -> PromptConfig:
        """The family's prompt config with this file's overrides applied."""
        base = PromptConfig.load(family, self.prompt_file)
        if not self.prompt:
            return base
        data = {f.name: getattr(base, f.name) for f in fields(PromptConfig)}
        data.update(self.prompt)
        return PromptConfig.from_dict(data, where="agent settings field 'prompt'")


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
