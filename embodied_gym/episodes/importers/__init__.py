"""Importers of released real-data benchmarks into embodied-gym's formats.

* :mod:`.embrace3k`: EmbRACE-3K episodes -> episode specs with recorded frames
  (``egym import embrace3k SRC --out DIR``).
* :mod:`.bear`: BEAR's released benchmark -> BEAR skill items (``egym import bear SRC --out DIR``).

:func:`run_import` dispatches on the format name (the ``egym import`` subcommand).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FORMATS = ("embrace3k", "bear")


def run_import(fmt: str, src: str | Path, out: str | Path, **options: Any) -> dict[str, Any]:
    """Import ``src`` (format ``fmt``) into ``out``; returns the import report as a dict.
    ``options`` are the format's config fields (unknown ones raise ``ValueError``)."""
    if fmt == "embrace3k":
        from .embrace3k import Embrace3kImportConfig, import_embrace3k

        return import_embrace3k(src, out, Embrace3kImportConfig(**options)).to_dict()
    if fmt == "bear":
        from .bear import import_bear

        unknown = sorted(set(options) - {"split"})
        if unknown:
            raise ValueError(f"egym import bear: option(s) {', '.join(unknown)} apply to embrace3k only")
        return import_bear(src, out, **options).to_dict()
    raise ValueError(f"unknown import format {fmt!r}; expected one of {', '.join(FORMATS)}")
