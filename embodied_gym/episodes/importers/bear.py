"""BEAR's released benchmark (arXiv 2510.08759; BEAR-data-format.md) -> BEAR skill items.

Reads every ``*_official.json`` under ``SRC`` (``pointing/``, ``bbox/``, ``trajectory/``,
``spatial_reasoning/``, ``task_planning/``); the skill comes from the file name
(:func:`~embodied_gym.rewards.bear_skills.skill_for_file`). Each file is a JSON array of records
with ``idx``, ``question``, ``options`` (a dict, or its ``str`` repr, read with
``ast.literal_eval``; an empty option becomes ``"N/A"`` as in BEAR's prompts), ``gt`` (the letter
for multiple choice; unused for pointing and boxes, which are scored against ``mask``), and media
paths ``image`` / ``mask`` / ``video`` relative to the JSON file's folder.

:func:`import_bear` writes ``OUT/bear_items.jsonl`` (:mod:`embodied_gym.episodes.bear_items`),
copies the media to ``OUT/media/`` under their paths relative to ``SRC`` (unchanged bytes) and
writes ``OUT/import_report.json``. A bad record is reported (file, record, field) and skipped.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path
from typing import Any

from ...rewards.bear_skills import skill_for_file
from ..bear_items import ITEMS_FILE, BearItem, save_bear_items
from .common import ImportProblem, ImportReport

FORMAT = "bear"


def _options(value: Any, file: Path, fld: str) -> dict[str, str]:
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError) as exc:
            raise ImportProblem(file, fld, f"cannot read the options string: {exc}") from None
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise ImportProblem(file, fld, f"expected a dict of letter -> option (or its string form), got {value!r}")
    out = {}
    for k, v in value.items():
        if not isinstance(k, str) or not re.fullmatch(r"[A-Z]", k.strip()):
            raise ImportProblem(file, fld, f"option key {k!r} is not an uppercase letter")
        out[k.strip()] = "N/A" if v is None or str(v).strip() == "" else str(v)
    return dict(sorted(out.items()))


def convert_record(record: Any, file: Path, src: Path, index: int, split: str) -> tuple[BearItem, list[Path]]:
    """One record of an annotation file -> (item with media paths relative to the output, the
    source media files). Raises :class:`ImportProblem` naming the file, record and field."""
    skill = skill_for_file(file.name)
    assert skill is not None
    where = f"[{index}]"
    if not isinstance(record, dict):
        raise ImportProblem(file, where, f"expected an object, got {type(record).__name__}")
    idx = record.get("idx")
    if isinstance(idx, bool) or not isinstance(idx, (int, str)) or str(idx) == "":
        raise ImportProblem(file, f"{where}.idx", f"expected an int or string, got {idx!r}")
    where = f"[{index}] (idx {idx})"
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ImportProblem(file, f"{where}.question", f"expected a non-empty string, got {question!r}")
    options = _options(record.get("options"), file, f"{where}.options")
    answer = None
    if skill.kind == "choice":
        gt = record.get("gt")
        answer = gt.strip() if isinstance(gt, str) else gt
        if len(options) < 2:
            raise ImportProblem(file, f"{where}.options", f"a {skill.id} question needs options, got {record.get('options')!r}")
        if answer not in options:
            raise ImportProblem(file, f"{where}.gt", f"expected one of the option letters {', '.join(options)}, got {gt!r}")
    media: dict[str, str | None] = {}
    files: list[Path] = []
    wanted = {"image": "image" in skill.media, "video": "video" in skill.media, "mask": skill.kind != "choice"}
    for name, required in wanted.items():
        rel = record.get(name)
        if rel in (None, "") and not required:
            media[name] = None
            continue
        if not isinstance(rel, str) or not rel:
            raise ImportProblem(file, f"{where}.{name}", f"a {skill.id} question needs its {name}, got {rel!r}")
        path = (file.parent / rel).resolve()
        if not path.is_file():
            raise ImportProblem(file, f"{where}.{name}", f"file {file.parent / rel} not found")
        try:
            media[name] = "media/" + path.relative_to(src.resolve()).as_posix()
        except ValueError:
            raise ImportProblem(file, f"{where}.{name}", f"{rel!r} points outside the source folder {src}") from None
        files.append(path)
    rel_file = file.relative_to(src).as_posix()
    item_id = f"bear-{skill.id}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', str(idx))}"
    item = BearItem(item_id, skill.id, question.strip(), options, answer, media["image"], media["mask"], media["video"],
                    f"{rel_file}#{idx}", split)
    return item, files


def import_bear(src: str | Path, out: str | Path, split: str = "test") -> ImportReport:
    """Import every annotation file under ``src`` into ``out`` (module docstring). Raises
    ``ValueError`` when nothing could be imported."""
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"BEAR source {src} is not a folder")
    report = ImportReport(FORMAT, source=str(src), out=str(out), group="skill")
    items: list[BearItem] = []
    seen: set[str] = set()
    for file in sorted(src.rglob("*_official.json")):
        skill = skill_for_file(file.name)
        if skill is None:
            report.skipped.append({"episode": file.name, "file": str(file), "field": "(file name)",
                                   "error": f"{file}: no BEAR skill is released under this file name"})
            continue
        try:
            records = json.loads(file.read_text(encoding="utf-8"))
            if not isinstance(records, list):
                raise ImportProblem(file, "(top level)", f"expected a JSON array of records, got {type(records).__name__}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            report.skipped.append({"episode": file.name, "file": str(file), "field": "(file)", "error": f"{file}: invalid JSON: {exc}"})
            continue
        except ImportProblem as exc:
            report.skipped.append({"episode": file.name, "file": exc.file, "field": exc.field, "error": str(exc)})
            continue
        for i, record in enumerate(records):
            try:
                item, files = convert_record(record, file, src, i, split)
                if item.id in seen:
                    raise ImportProblem(file, f"[{i}].idx", f"duplicate idx (id {item.id!r} already imported)")
            except ImportProblem as exc:
                report.skipped.append({"episode": f"{file.name}[{i}]", "file": exc.file, "field": exc.field, "error": str(exc)})
                continue
            for path in files:
                target = out / "media" / path.relative_to(src.resolve())
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
            seen.add(item.id)
            items.append(item)
            report.imported.append(item.id)
            report.steps += 1
            report.by_category[item.skill] = report.by_category.get(item.skill, 0) + 1
    out.mkdir(parents=True, exist_ok=True)
    (out / "import_report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    if not items:
        raise ValueError(f"{src}: no BEAR question could be imported ({len(report.skipped)} skipped; see {out / 'import_report.json'})")
    save_bear_items(out / ITEMS_FILE, items)
    return report
