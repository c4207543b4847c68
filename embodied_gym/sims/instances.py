"""Per-object frame statistics from an instance segmentation, shared by the backends that
receive their segmentation from a remote renderer (``thor``, ``unrealcv``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .base import ObjectInfo


def instance_stats(segmentation: np.ndarray) -> dict[int, tuple[int, tuple[int, int, int, int]]]:
    """``{id: (pixel_count, (x0, y0, x1, y1))}`` for every non-zero id of an ``H x W`` map
    (boxes in pixels, ``x1``/``y1`` exclusive)."""
    ids, counts = np.unique(segmentation, return_counts=True)
    out: dict[int, tuple[int, tuple[int, int, int, int]]] = {}
    for i, n in zip(ids.tolist(), counts.tolist(), strict=True):
        if i == 0:
            continue
        m = segmentation == i
        r = np.flatnonzero(m.any(axis=1))
        c = np.flatnonzero(m.any(axis=0))
        out[int(i)] = (int(n), (int(c[0]), int(r[0]), int(c[-1]) + 1, int(r[-1]) + 1))
    return out


def with_frame(records: dict[int, ObjectInfo], segmentation: np.ndarray) -> dict[int, ObjectInfo]:
    """Copies of ``records`` with ``visible``, ``bbox`` and ``pixel_count`` taken from
    ``segmentation`` (the frame the records belong to)."""
    stats = instance_stats(segmentation)
    out = {}
    for oid, rec in records.items():
        n, box = stats.get(oid, (0, None))
        out[oid] = replace(rec, visible=n > 0, bbox=box, pixel_count=n)
    return out
