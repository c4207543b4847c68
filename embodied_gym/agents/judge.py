"""An LLM fallback judge for BEAR's multiple choice, through an OpenAI-compatible endpoint.

BEAR's answer extraction (:func:`embodied_gym.rewards.bear.extract_choice`) asks a judge only
when its rules read nothing. The judge is a network client, so it lives here, above the
environments: environments take any callable ``(reply, options) -> letter | None``;
:func:`make_judge` turns the JSON forms (a model name, keyword arguments) into one, and the
evaluation harness applies it to ``env_kwargs["judge"]``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..rewards.bear.answers import Judge, words_of


@dataclass
class LLMJudge:
    """Fallback answer extractor through an OpenAI-compatible chat endpoint (``openai`` package).

    ``judge(reply, options)`` returns an option letter or ``None``; network errors, refusals and
    odd outputs all give ``None``. ``client`` may be any object with the OpenAI client's
    ``chat.completions.create`` (tests pass a fake)."""

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    client: Any = None
    timeout: float = 30.0

    def _client(self) -> Any:
        if self.client is None:
            from openai import OpenAI

            self.client = OpenAI(base_url=self.base_url, api_key=self.api_key or "EMPTY", timeout=self.timeout)
        return self.client

    def __call__(self, reply: str, options: Mapping[str, str]) -> str | None:
        try:
            listing = "\n".join(f"{k}. {v}" for k, v in options.items())
            prompt = (
                "You match an answer to the options of a single-choice question. Output only the letter of "
                "the option the answer chooses, or Z if it chooses none of them.\n"
                f"Options:\n{listing}\nAnswer: {reply}\nYour output:"
            )
            resp = self._client().chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": prompt}], temperature=0, max_tokens=4
            )
            content = resp.choices[0].message.content or ""
            words = words_of(content.strip())
            letter = words[0].upper() if words else ""
            return letter if letter in options else None
        except Exception:
            return None


def make_judge(spec: Any) -> Judge | None:
    """A judge from ``spec``: ``None``; a callable (returned as is); a model name (an
    :class:`LLMJudge` on ``$OPENAI_BASE_URL`` / ``$OPENAI_API_KEY``); or a dict of
    :class:`LLMJudge` keyword arguments. Anything else is a ``ValueError`` naming ``judge``."""
    if spec is None or callable(spec):
        return spec
    if isinstance(spec, str):
        return LLMJudge(model=spec, base_url=os.environ.get("OPENAI_BASE_URL"), api_key=os.environ.get("OPENAI_API_KEY"))
    if isinstance(spec, Mapping):
        try:
            return LLMJudge(**dict(spec))
        except TypeError as exc:
            raise ValueError(f"judge: bad LLMJudge keyword arguments {dict(spec)!r}: {exc}") from None
    raise ValueError(f"judge: expected a callable, a model name or LLMJudge keyword arguments, got {spec!r}")
