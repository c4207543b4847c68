"""On-disk response cache (SQLite), so a re-run never pays twice for the same request.

Keys are :func:`request_key`: the SHA-256 of the canonical JSON of the *whole* request (model,
messages with their images as sent, sampling parameters) plus a namespace (the agent kind), so a
change to any of them is a miss. Values are the reply text and the token usage of the original
call. Every :meth:`ResponseCache.put` commits at once (WAL journal): an answer that reached the
cache survives a ``SIGKILL`` of the process a moment later, which is what makes ``--resume``
never re-send an answered request.

One cache object is used from one thread (the runner's event loop); several processes may share
a file (SQLite locking, ``busy_timeout``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any


def canonical_json(value: Any) -> str:
    """Sorted-key, compact JSON: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_key(namespace: str, request: dict[str, Any]) -> str:
    """The cache key of a request body (``model``, ``messages`` and parameters)."""
    return hashlib.sha256((namespace + "\n" + canonical_json(request)).encode("utf-8")).hexdigest()


class ResponseCache:
    """``get(key) -> dict | None`` and ``put(key, text=..., prompt_tokens=..., ...)`` over SQLite."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, text TEXT, "
                "prompt_tokens INTEGER, completion_tokens INTEGER, created REAL)"
            )
            self._db.commit()
        except sqlite3.DatabaseError as exc:  # not an SQLite file, or a table of another shape
            self._db.close()
            raise ValueError(f"{self.path}: not a usable response cache ({exc}); pass another --cache file") from None
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT text, prompt_tokens, completion_tokens, model FROM responses WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return {"text": row[0], "prompt_tokens": row[1], "completion_tokens": row[2], "model": row[3]}

    def put(self, key: str, *, text: str, model: str = "", prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
            (key, model, text, int(prompt_tokens), int(completion_tokens), time.time()),
        )
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._db.close()
