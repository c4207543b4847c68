"""HTML building blocks of the report site: escaping, the page shell with its inline style sheet,
tables, and grouped bar charts as inline SVG.

Pages reference nothing off the machine: no scripts, fonts or style sheets from a network, no
JavaScript at all; images are files next to the pages (relative links) and charts are inline SVG.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

#: run colours in charts and legends (colour-blind friendly, Okabe-Ito)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:12px 20px;
color:#222;background:#fafafa}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
div.wide{overflow-x:auto}table{border-collapse:collapse;margin:8px 0;font-size:.9em;background:#fff}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef2f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ci{color:#777;font-size:.85em}.ok{color:#0a7a2a;font-weight:600}.bad{color:#b3261e;font-weight:600}
.warn{background:#fff4d6;border:1px solid #e0b84a;padding:4px 8px}
.grid{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #ddd;border-radius:4px;padding:6px;width:180px;font-size:.8em}
.card img{width:168px;height:auto;display:block}
.step{display:flex;gap:14px;background:#fff;border:1px solid #ddd;border-radius:4px;padding:8px;margin:10px 0}
.step img{width:320px;height:auto;flex:none}.step .body{flex:1;min-width:0}
.step pre{white-space:pre-wrap;word-break:break-word;background:#f4f4f4;padding:4px;margin:2px 0;font-size:.85em}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:middle}
.pager a,.pager b{margin-right:6px}nav{margin:6px 0}
ul.options{margin:2px 0;padding:0 0 0 .5em;list-style:none}li.truth{color:#0a7a2a;font-weight:600}li.chosen{text-decoration:underline}
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value."""
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, css_extra: str = "") -> str:
    """A complete standalone HTML5 page."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}{css_extra}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def fmt(value: Any, digits: int = 3) -> str:
    """Numbers to ``digits`` decimals, booleans as yes/no, the rest as text (escaped)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.{digits}f}"
    if isinstance(value, (dict, list)):
        return esc(str(value)[:80])
    return esc(value)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    """A table; ``rows`` hold ready HTML cells; columns from ``numeric_from`` are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i >= numeric_from else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def legend(labels: Sequence[str]) -> str:
    items = "".join(f'<span style="background:{PALETTE[i % len(PALETTE)]}"></span>{esc(lab)}' for i, lab in enumerate(labels))
    return f'<div class="legend">{items}</div>'


def bar_chart(groups: Sequence[str], series: Sequence[str], values: dict[tuple[str, str], tuple[float, Any, Any]],
              title: str, vmax: float = 1.0) -> str:
    """Grouped horizontal bars as inline SVG: a row of bars per group, one bar per series (run),
    ``values[(group, series)] = (value, ci_low, ci_high)`` (``None`` bounds: no whisker).
    Values are drawn on ``[0, vmax]``."""
    bar_h, gap, label_w, plot_w = 12, 10, 190, 520
    n = max(1, len(series))
    height = len(groups) * (n * bar_h + gap) + 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + plot_w + 70}" height="{height}" '
             f'aria-label="{esc(title)}" font-size="11" font-family="sans-serif">', f"<title>{esc(title)}</title>"]
    x0, y = label_w, 20
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = x0 + plot_w * t
        parts.append(f'<line x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{height - 14}" stroke="#ddd"/>'
                     f'<text x="{x:.1f}" y="11" text-anchor="middle" fill="#666">{t * vmax:g}</text>')
    for g in groups:
        parts.append(f'<text x="{x0 - 6}" y="{y + n * bar_h / 2 + 4:.1f}" text-anchor="end">{esc(g)[:32]}</text>')
        for i, s in enumerate(series):
            if (g, s) in values:
                v, lo, hi = values[(g, s)]
                w = plot_w * max(0.0, min(1.0, (v or 0.0) / vmax))
                colour = PALETTE[i % len(PALETTE)]
                parts.append(f'<rect x="{x0}" y="{y + i * bar_h}" width="{w:.1f}" height="{bar_h - 2}" fill="{colour}">'
                             f"<title>{esc(s)} / {esc(g)}: {fmt(v)}</title></rect>")
                if lo is not None and hi is not None:
                    a, b = x0 + plot_w * lo / vmax, x0 + plot_w * hi / vmax
                    yy = y + i * bar_h + (bar_h - 2) / 2
                    parts.append(f'<line x1="{a:.1f}" y1="{yy:.1f}" x2="{b:.1f}" y2="{yy:.1f}" stroke="#333"/>')
                parts.append(f'<text x="{x0 + w + 4:.1f}" y="{y + i * bar_h + bar_h - 3}" fill="#333">{fmt(v, 2)}</text>')
        y += n * bar_h + gap
    parts.append("</svg>")
    return "".join(parts)
