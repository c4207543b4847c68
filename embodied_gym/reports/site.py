"""``egym report``: a self-contained static HTML site of one or more runs.

Layout under ``out`` (open ``index.html`` from disk; every link is relative, nothing is fetched
from a network, there is no JavaScript)::

    index.html                         runs, overall table, leaderboards and charts per
                                       category / skill / split (runs side by side), the
                                       in-domain minus OOD gap, the first episodes of each run
    <run>/episodes-<k>.html            the run's episodes, ``page_size`` per page, thumbnails
    <run>/ep/<episode>.html            one page per episode (episode_page.py)
    <run>/img/<episode>/NNN.jpg        the frame the model saw at each step; map.png; thumb.jpg;
                                       video.gif, video.mp4 (with ``videos``; MP4
                                       when imageio-ffmpeg is installed)

Figures come from each run's ``summary.json`` (every ``by_*`` group it has, read generically);
the confidence intervals beside them are bootstrap intervals over episodes
(:mod:`~embodied_gym.reports.stats`), shown only where they are intervals of the same figure.
Frames and maps are re-rendered by replaying the logged actions (:mod:`.replay`).
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from .compare import compare_runs
from .episode_page import EpisodeLinks, episode_html
from .html import bar_chart, esc, fmt, legend, page, table
from .replay import EpisodeReplay, EpisodeReplayer
from .runs import Run, episode_success, is_stepwise, load_run, primary_metric, slug
from .stats import grouped

log = logging.getLogger("embodied_gym.reports")
#: order of the leaderboards on the index (other ``by_*`` groups follow, alphabetically)
GROUP_ORDER = ("category", "skill", "split", "domain")
THUMB_WIDTH = 168
#: file marking a run folder of a report (only such folders are replaced by the next report)
MARKER = ".egym-report"


@dataclass
class ReportConfig:
    """What ``egym report`` builds. ``runs``: run directories (shown side by side, in this
    order). ``out``: the site's folder (created; files of an earlier report there are
    replaced). ``frames``: replay episodes for frames, maps and thumbnails (``False``: pages from
    the log only, fast). ``max_episodes``: replay at most this many episodes per run (the rest
    get pages without frames); ``None``: all. ``videos``: also an animated GIF per replayed
    episode. ``page_size``: episodes per list page. ``map_size``: pixels of a map's side."""

    runs: list[Path]
    out: Path
    frames: bool = True
    max_episodes: int | None = None
    videos: bool = False
    page_size: int = 50
    map_size: int = 480

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if not self.runs:
            raise ValueError("report: give at least one run directory")
        if self.page_size < 1:
            raise ValueError(f"--page-size must be >= 1, got {self.page_size}")
        if self.max_episodes is not None and self.max_episodes < 0:
            raise ValueError(f"--max-episodes must be >= 0, got {self.max_episodes}")


def _run_slugs(runs: list[Run]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for r in runs:
        s = slug(r.label)
        seen[s] = seen.get(s, 0) + 1
        out.append(s if seen[s] == 1 else f"{s}-{seen[s]}")
    return out


def _save(image: Any, path: Path, width: int | None = None) -> None:
    pil = Image.fromarray(image)
    if width is not None and pil.width > width:
        pil = pil.resize((width, max(1, round(pil.height * width / pil.width))), Image.BILINEAR)
    pil.save(path, quality=85) if path.suffix == ".jpg" else pil.save(path)


def _group_figures(run: Run, key: str) -> dict[str, tuple[float, Any, Any, Any]]:
    """Group -> (value, ci low, ci high, n) of the run's ``by_<key>`` summary group (primary
    metric), with the bootstrap interval when it is an interval of that same figure."""
    groups = run.summary.get(f"by_{key}")
    boot = grouped(list(run.results().values()), key)
    out: dict[str, tuple[float, Any, Any, Any]] = {}
    if isinstance(groups, dict) and groups:
        for g, metrics in groups.items():
            m = primary_metric(metrics) if isinstance(metrics, dict) else None
            if m is None:
                continue
            v, e = float(metrics[m]), boot.get(str(g))
            same = e is not None and e.value is not None and abs(e.value - v) < 1e-9
            out[str(g)] = (v, e.low if same else None, e.high if same else None, metrics.get("n"))
    elif not run.summary:  # no summary (interrupted run): the figures from the results themselves
        out = {g: (e.value, e.low, e.high, e.n) for g, e in boot.items() if e.value is not None}
    return out


def _keys(runs: list[Run]) -> list[str]:
    found = {k[3:] for r in runs for k, v in r.summary.items() if k.startswith("by_") and isinstance(v, dict)}
    for r in runs:
        if not r.summary:
            found |= {k for k in ("category", "split") if any(k in res for res in r.results().values())}
            if any(is_stepwise(res) for res in r.results().values()):
                found.add("skill")
    return [k for k in GROUP_ORDER if k in found] + sorted(found - set(GROUP_ORDER))


def _cell(fig: tuple[float, Any, Any, Any] | None) -> str:
    if fig is None:
        return "-"
    v, lo, hi, n = fig
    ci = f' <span class="ci">[{fmt(lo, 2)}, {fmt(hi, 2)}]</span>' if lo is not None else ""
    return f"{fmt(v)}{ci}" + (f' <span class="ci">n={esc(n)}</span>' if n is not None else "")


def _index(cfg: ReportConfig, runs: list[Run], slugs: list[str], first_pages: list[str]) -> str:
    labels = [r.label for r in runs]
    body = ["<h1>embodied-gym report</h1>", f'<p class="ci">{len(runs)} run(s); generated '
            f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}. Figures from summary.json; '
            f"[bracketed]: 95% bootstrap intervals over episodes.</p>", "<h2>Runs</h2>"]
    rows = []
    for r, s in zip(runs, slugs, strict=True):
        run = r.summary.get("run") or {}
        rows.append([f'<a href="{esc(s)}/episodes-1.html">{esc(r.label)}</a>', esc(r.env_id), esc(r.agent),
                     esc(r.info.get("episodes", run.get("episodes", ""))), fmt(len(r.results())), fmt(len(r.errors())),
                     fmt(run.get("steps", sum(len(v) for v in r.steps.values()))), fmt(run.get("cost_usd"))])
    body.append(table(["run", "env", "agent", "episodes", "scored", "errors", "steps", "cost $"], rows, numeric_from=4))
    metrics: list[str] = []
    for r in runs:
        for k, v in (r.summary.get("overall") or {}).items():
            if isinstance(v, (int, float)) and k not in metrics:
                metrics.append(k)
    if metrics:
        body.append("<h2>Overall</h2>")
        body.append('<div class="wide">' + table(["run", *metrics], [
            [esc(r.label), *(fmt((r.summary.get("overall") or {}).get(m, "-")) for m in metrics)] for r in runs]) + "</div>")
    for key in _keys(runs):
        figs = [_group_figures(r, key) for r in runs]
        groups = sorted({g for f in figs for g in f}, key=lambda g: ("ood" in g.lower(), g))
        if not groups:
            continue
        names = {primary_metric(m) for r in runs for m in (r.summary.get(f"by_{key}") or {}).values()
                 if isinstance(m, dict)} - {None}
        body.append(f"<h2>By {esc(key)}</h2><p class=\"ci\">{esc(', '.join(sorted(names)) or 'rate')} per {esc(key)}</p>")
        body.append(table([key, *labels], [[esc(g), *(_cell(f.get(g)) for f in figs)] for g in groups]))
        vals = {(g, lab): (f[g][0], f[g][1], f[g][2]) for f, lab in zip(figs, labels, strict=True) for g in f}
        vmax = max([1.0] + [v[0] for v in vals.values() if v[0] is not None])
        shown = [lab for f, lab in zip(figs, labels, strict=True) if f]  # runs with figures in this grouping
        body.append(legend(shown) + bar_chart(groups, shown, vals, f"by {key}", vmax=vmax))
    gaps = compare_runs([r.path for r in runs])["gaps"]
    if gaps:
        body.append("<h2>In-domain minus out-of-domain</h2>")
        body.append(table(["agent", "in-domain", "OOD", "gap", "95% CI", "runs"], [
            [esc(g["agent"]), fmt(g["in_domain"]), fmt(g["ood"]), fmt(g["gap"]),
             f"[{fmt(g['ci95'][0])}, {fmt(g['ci95'][1])}]", fmt(len(g["runs"]))] for g in gaps]))
    body.append("<h2>Episodes</h2>")
    for r, s, first in zip(runs, slugs, first_pages, strict=True):
        links = " ".join(f'<a href="{esc(s)}/ep/{esc(slug(ep))}.html">{esc(ep)}</a>' for ep in r.order)
        body.append(f"<h3>{esc(r.label)} <a href=\"{esc(s)}/episodes-1.html\">(all, with thumbnails)</a></h3>{first}"
                    f"<details><summary>every episode of {esc(r.label)} ({len(r.order)})</summary>"
                    f"<p>{links}</p></details>")
    return page("embodied-gym report", "\n".join(body))


def _card(run: Run, ep: str, href: str, thumb: str | None) -> str:
    res = run.results().get(ep)
    if res is None:
        mark = '<span class="bad">error</span>' if ep in run.errors() else '<span class="ci">unfinished</span>'
    elif is_stepwise(res):
        st = [s for s in res.get("steps") or [] if isinstance(s, dict)]
        mark = f'<span class="{"ok" if episode_success(res) else "bad"}">{sum(1 for s in st if s.get("correct"))}/{len(st)}</span>'
    else:
        mark = '<span class="ok">success</span>' if episode_success(res) else '<span class="bad">fail</span>'
    img = f'<img src="{esc(thumb)}" alt="" loading="lazy">' if thumb else ""
    return f'<div class="card"><a href="{esc(href)}">{img}{esc(ep)}</a><br>{mark} &middot; {len(run.steps.get(ep, []))} steps</div>'


class _RunWriter:
    """Writes one run's episode pages and list pages under ``out/<slug>``."""

    def __init__(self, cfg: ReportConfig, run: Run, run_slug: str) -> None:
        self.cfg, self.run, self.slug = cfg, run, run_slug
        self.dir = cfg.out / run_slug
        self.thumbs: dict[str, str] = {}

    def write(self) -> str:
        """Write everything; returns the HTML of the first list page's cards (for the index)."""
        run, cfg = self.run, self.cfg
        (self.dir / "ep").mkdir(parents=True, exist_ok=True)
        eps = run.order
        pages = max(1, -(-len(eps) // cfg.page_size))
        page_of = {ep: i // cfg.page_size + 1 for i, ep in enumerate(eps)}
        n_replay = len(eps) if cfg.max_episodes is None else min(cfg.max_episodes, len(eps))
        replayer = None
        if cfg.frames and n_replay and any(run.steps.get(ep) for ep in eps[:n_replay]):
            try:
                replayer = EpisodeReplayer(run, map_size=cfg.map_size)
            except Exception as exc:  # the pages still come, from the log alone
                log.warning("%s: cannot replay episodes: %s", run.path, exc)
                self.replay_setup_error = f"{type(exc).__name__}: {exc}"
        try:
            for i, ep in enumerate(eps):
                self._episode(ep, i, eps, page_of[ep], replayer if i < n_replay else None)
        finally:
            if replayer is not None:
                replayer.close()
        first = ""
        for k in range(1, pages + 1):
            chunk = eps[(k - 1) * cfg.page_size: k * cfg.page_size]
            cards = "".join(_card(run, ep, f"ep/{slug(ep)}.html", self.thumbs.get(ep)) for ep in chunk)
            pager = " ".join(f"<b>{j}</b>" if j == k else f'<a href="episodes-{j}.html">{j}</a>' for j in range(1, pages + 1))
            body = (f'<nav><a href="../index.html">index</a></nav><h1>{esc(run.label)}: episodes</h1>'
                    f'<div class="pager">pages: {pager}</div><div class="grid">{cards}</div>')
            (self.dir / f"episodes-{k}.html").write_text(page(f"{run.label} episodes {k}", body), encoding="utf-8")
            if k == 1:
                first = '<div class="grid">' + "".join(
                    _card(run, ep, f"{self.slug}/ep/{slug(ep)}.html", self.thumbs.get(ep) and f"{self.slug}/{self.thumbs[ep]}")
                    for ep in chunk[:12]) + "</div>"
        return first

    def _episode(self, ep: str, i: int, eps: list[str], page_no: int, replayer: EpisodeReplayer | None) -> None:
        s = slug(ep)
        img_dir = self.dir / "img" / s
        replay: EpisodeReplay | None = None
        error = getattr(self, "replay_setup_error", None) if self.cfg.frames else None
        if replayer is not None and self.run.steps.get(ep):
            try:
                replay = replayer.replay(ep)
            except Exception as exc:  # one broken episode must not stop the report
                log.warning("%s: replay of %s failed: %r", self.run.path, ep, exc)
                error = f"{type(exc).__name__}: {exc}"
        frames: dict[int, str] = {}
        map_link = video_link = mp4_link = None
        if replay is not None:
            if img_dir.exists():
                shutil.rmtree(img_dir)
            img_dir.mkdir(parents=True)
            for v in replay.steps:
                _save(v.frame, img_dir / f"{v.index:03d}.jpg")
                frames[v.index] = f"../img/{s}/{v.index:03d}.jpg"
            if replay.steps:
                _save(replay.steps[0].frame, img_dir / "thumb.jpg", width=THUMB_WIDTH)
                self.thumbs[ep] = f"img/{s}/thumb.jpg"
            if replay.map is not None:
                _save(replay.map, img_dir / "map.png")
                map_link = f"../img/{s}/map.png"
            if self.cfg.videos and replay.steps:
                from .video import mp4_missing, write_gif, write_mp4

                write_gif(replay, img_dir / "video.gif")
                video_link = f"../img/{s}/video.gif"
                if mp4_missing() is None:
                    write_mp4(replay, img_dir / "video.mp4")
                    mp4_link = f"../img/{s}/video.mp4"
        links = EpisodeLinks(
            index="../../index.html", listing=f"../episodes-{page_no}.html",
            prev=f"{slug(eps[i - 1])}.html" if i > 0 else None,
            next=f"{slug(eps[i + 1])}.html" if i + 1 < len(eps) else None,
            map=map_link, video=video_link, image_for=frames.get, mp4=mp4_link)
        html_text = episode_html(self.run, ep, links, replay, error)
        (self.dir / "ep" / f"{s}.html").write_text(html_text, encoding="utf-8")


def write_report_site(cfg: ReportConfig) -> Path:
    """Build the site described in the module docstring; returns the path of ``index.html``.
    Raises ``ValueError`` naming a path that is not a run directory."""
    runs = [load_run(p) for p in cfg.runs]
    cfg.out.mkdir(parents=True, exist_ok=True)
    slugs = _run_slugs(runs)
    firsts = []
    for run, s in zip(runs, slugs, strict=True):
        target = cfg.out / s
        if target.exists():
            if not (target / MARKER).exists():  # never delete what an earlier report did not write
                raise ValueError(f"{target}: exists and was not written by `egym report`; choose another --out")
            shutil.rmtree(target)
        target.mkdir(parents=True)
        (target / MARKER).write_text("written by egym report; replaced by the next report into the same --out\n")
        firsts.append(_RunWriter(cfg, run, s).write())
    index = cfg.out / "index.html"
    index.write_text(_index(cfg, runs, slugs, firsts), encoding="utf-8")
    return index
