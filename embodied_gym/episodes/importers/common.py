"""What every importer reports: :class:`ImportProblem` (a bad source item, naming the file and
field) and :class:`ImportReport` (what was imported and skipped, written as
``OUT/import_report.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ImportProblem(ValueError):
    """A bad source episode: ``file``, ``field`` and ``problem`` say what and where."""

    def __init__(self, file: Path | str, fld: str, problem: str) -> None:
        self.file, self.field, self.problem = str(file), fld, problem
        super().__init__(f"{file}: field '{fld}': {problem}")


@dataclass
class ImportReport:
    """What an import did: ``imported`` episode ids, ``skipped`` ``{"episode", "file", "field",
    "error"}`` records, ``warnings`` and the counts per ``group`` (``category``, ``skill``)."""

    format: str
    source: str
    out: str
    imported: list[str] = field(default_factory=list)
    steps: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    group: str = "category"

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "source": self.source, "out": self.out, "n_imported": len(self.imported),
                "n_skipped": len(self.skipped), "steps": self.steps, f"by_{self.group}": dict(sorted(self.by_category.items())),
                "imported": self.imported, "skipped": self.skipped, "warnings": self.warnings}
