"""Secrets out of everything written or printed: :class:`Redactor`.

A server's 400/401 error text may echo the API key (whole, or shortened like ``sk-pro****abcd``);
that text goes into logs, ``steps.jsonl`` and error messages. :class:`Redactor` replaces, in any
string, each secret and any part of one (every run of :data:`MIN_MATCH` or more of its
characters, once the text holds a run of ``2 * MIN_MATCH - 1``: the cheap test that keeps
redaction at tens of microseconds per log line), and anything shaped like an API key
(``sk-...``, ``Bearer ...``) with ``[REDACTED]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_MATCH = 8  # also the shortest secret considered (shorter "keys" are placeholders, e.g. EMPTY)
MASK = "[REDACTED]"
_KEY_SHAPED = re.compile(r"(?:\bsk-[A-Za-z0-9_\-*]{6,}|(?<=Bearer )[A-Za-z0-9_\-.~+/*]{6,})")


class Redactor:
    """``redactor(text) -> text`` with the secrets masked (see the module docstring)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_MATCH}, key=len, reverse=True)
        pieces: set[str] = set()
        self._windows: list[str] = []
        for s in self.secrets:
            pieces.add(s)
            n = min(MIN_MATCH, len(s))
            pieces.update(s[i: i + n] for i in range(len(s) - n + 1))
            # aligned windows: any run of 2 * n - 1 characters of the secret contains one of them
            self._windows += [s[i: i + n] for i in range(0, len(s) - n + 1, n)] + [s[-n:]]
        # one alternation, longest first: the whole secret, else any MIN_MATCH-character piece of
        # it, extended greedily over following characters of the secret's alphabet
        alts = "|".join(re.escape(p) for p in sorted(pieces, key=len, reverse=True))
        self._pattern = re.compile(rf"(?:{alts})[A-Za-z0-9_\-]*") if alts else None

    def __call__(self, text: str) -> str:
        if not isinstance(text, str) or not text:
            return text
        # fast substring tests first (a log line almost never holds a secret): the regex runs only
        # when one of the secret's windows, "sk-" or "Bearer " occurs
        if self._pattern is not None and any(w in text for w in self._windows):
            text = self._pattern.sub(MASK, text)
        if "sk-" in text or "Bearer " in text:
            text = _KEY_SHAPED.sub(MASK, text)
        return text
