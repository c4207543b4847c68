"""Secrets out of everything written or printed: :class:`Redactor`.

A server's 400/401 error text may echo the API key (whole, or shortened like ``sk-pro****abcd``);
that text goes into logs, ``steps.jsonl`` and error messages. :class:`Redactor` replaces, in any
string, each secret, every run of :data:`MIN_MATCH` or more consecutive characters of a secret,
and anything shaped like an API key (``sk-...``, ``Bearer ...``) with ``[REDACTED]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_MATCH = 8
MASK = "[REDACTED]"
_KEY_SHAPED = re.compile(r"(?:\bsk-[A-Za-z0-9_\-*]{6,}|(?<=Bearer )[A-Za-z0-9_\-.~+/*]{6,})")


class Redactor:
    """``redactor(text) -> text`` with the secrets masked (see the module docstring)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        pieces: set[str] = set()
        for s in self.secrets:
            pieces.add(s)
            n = min(MIN_MATCH, len(s))
            pieces.update(s[i: i + n] for i in range(len(s) - n + 1))
        # one alternation, longest first: the whole secret, else any MIN_MATCH-character piece of
        # it, extended greedily over following characters of the secret's alphabet
        alts = "|".join(re.escape(p) for p in sorted(pieces, key=len, reverse=True))
        self._pattern = re.compile(rf"(?:{alts})[A-Za-z0-9_\-]*") if alts else None

    def __call__(self, text: str) -> str:
        if not isinstance(text, str) or not text:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return _KEY_SHAPED.sub(MASK, text)
