"""Generation behind the audit: ``egym generate`` writes a suite only if it passes ``egym audit``.

:func:`generate_audited` generates a split into a scratch folder next to ``out``, runs every
registered check of the suite's family on it (:func:`~.core.audit`, learned baselines fitted on
the split's two halves), and only then moves ``<split>.jsonl`` into ``out`` with the audit's
report beside it (``<split>.audit.json``, with the SHA-256 of the episode file it audited). A split that fails is not written: it is kept as
``<split>.jsonl.rejected`` for inspection and :class:`~.core.AuditFailed` is raised with the report.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from ..episodes.spec import load_episodes
from ..episodes.suites import generate_suite
from .core import AuditConfig, AuditFailed, audit


def generate_audited(suite: str, split: str, n: int | None = None, seed: int = 0, out: str | Path = ".",
                     *, config: AuditConfig | None = None, run_audit: bool = True) -> list[Path]:
    """Generate ``suite``/``split`` (see :func:`~embodied_gym.episodes.suites.generate_suite`)
    and write it to ``out`` only if the audit passes (``run_audit=False`` skips the audit, e.g.
    for training splits). Returns the written episode files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{split}-", dir=out))
    try:
        written = []
        for path in generate_suite(suite, split, n=n, seed=seed, out=scratch):
            final = out / path.name
            if run_audit:
                try:
                    report = audit_file(path, f"{suite}:{split} (generated)", config)
                except AuditFailed as exc:
                    shutil.move(str(path), str(final) + ".rejected")
                    raise AuditFailed(f"{exc} (not written; kept as {final}.rejected)", exc.report) from None
                final.with_suffix(".audit.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
            shutil.move(str(path), str(final))
            written.append(final)
        return written
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def audit_file(path: str | Path, name: str, config: AuditConfig | None = None) -> dict:
    """The audit report of the episode file ``path`` (every registered check of its family,
    learned baselines fitted on its two halves) with ``episodes_sha256``, the SHA-256 of the file
    it audited: what :func:`generate_audited` writes beside a split. :class:`~.core.AuditFailed`
    (with the report) when a check fails."""
    path = Path(path)
    report = audit(load_episodes(path), None, config, name=name)
    if not report["passed"]:
        raise AuditFailed(f"{name} fails the audit: " + "; ".join(report["failures"]), report)
    report["episodes_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return report
