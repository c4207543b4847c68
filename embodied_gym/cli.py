"""``egym``: the one command-line entry point of embodied-gym.

Subcommands:

* ``egym demo``      build a house, walk a scripted path, write frames / GIF / top-down map.
* ``egym generate``  (re)generate an official episode suite deterministically.
* ``egym eval``      roll out an agent on an environment and write ``summary.json``.
* ``egym import``    import released real data (EmbRACE-3K episodes, BEAR's benchmark).
* ``egym bench sim|harness``  performance benchmarks (figures go to docs/BENCHMARKS.md).
* ``egym report``    a static HTML site of one or more runs (leaderboards, charts, episode replays).
* ``egym compare``   runs side by side with bootstrap confidence intervals and the in-domain - OOD gap.
* ``egym audit SUITE:SPLIT``  blind baselines against a suite (exit 1 when one beats its limit).
* ``egym data sft``   step-wise reasoning dataset from demonstrated episodes.
* ``egym train sft|grpo``  SFT, then GRPO, of a Qwen2.5-VL policy (docs/TRAINING.md).
* ``egym model tiny`` a tiny random Qwen2.5-VL built offline (tests, CPU runs).

Each subcommand parses its flags here and calls one function of the package; the functions
hold the logic and are importable for scripting.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    result = run_demo(out=Path(args.out), seed=args.seed)
    print(json.dumps(result, indent=2))
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    if args.scenes:  # tasks in given scenes of a backend (e.g. AI2-THOR floor plans)
        from .episodes.scene_tasks import generate_scene_episodes

        scenes = [s.strip() for s in args.scenes.split(",") if s.strip()]
        paths = generate_scene_episodes(args.backend, scenes, Path(args.out), n=args.n or 1, seed=args.seed,
                                        split=args.split or "test", sim_kwargs=_sim_args(args.sim_arg))
        for p in paths:
            print(p)
        return 0
    if not args.suite or not args.split:
        raise SystemExit("egym generate: --suite and --split are required (or --backend and --scenes)")
    from .audit.gate import generate_audited

    paths = generate_audited(args.suite, split=args.split, n=args.n, seed=args.seed, out=Path(args.out),
                             run_audit=not args.no_audit)
    for p in paths:
        print(p)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    """Exit status: 0 when every episode has a result (some may have ended with an environment
    error: warned on stderr); 1 when every episode errored; 3 when episodes are incomplete because
    no reply of the model came back (infrastructure; ``--resume`` asks again); 2 for bad input;
    130 on Ctrl-C (SIGINT), 143 on SIGTERM (the run is resumable; see eval/stopping.py)."""
    from .eval import ConfigError, EvalConfig, run_eval
    from .eval.cliargs import config_from_args, flag_of

    try:
        config = config_from_args(EvalConfig, args)
        summary = run_eval(config)
    except ConfigError as exc:  # a library error names the field; the user typed the flag
        owner = exc.owner

        def name_of(field: str) -> str:
            try:
                return flag_of(EvalConfig, field)
            except KeyError:  # a field of another config (agent settings): named as such
                return f"{owner} field '{field}'"

        raise ValueError(f"{name_of(exc.field)}: {exc.render(name_of)}") from None
    except KeyboardInterrupt as exc:  # eval.stopping.RunInterrupted names the signal
        signum = getattr(exc, "signum", signal.SIGINT)
        how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        print(f"egym eval: {how}; everything so far is kept in {args.out}: continue with the same "
              f"command plus --resume", file=sys.stderr)
        return 128 + signum
    print(json.dumps(summary.get("overall", summary), indent=2))
    if args.videos:  # replays the finished run's episodes (the rollout itself is not slowed down)
        from .reports.video import mp4_missing, write_run_videos

        paths = write_run_videos(config.out)
        print(f"egym eval: {len(paths)} episode video file(s) in {config.out / 'videos'}"
              + (f" (GIF only: {mp4_missing()})" if mp4_missing() else ""), file=sys.stderr)
    run = summary.get("run") or {}
    n_errors, n_incomplete = int(run.get("n_errors") or 0), int(run.get("n_incomplete") or 0)
    if n_errors:  # the run survived them, but a script reading only stdout would not notice
        print(f"egym eval: warning: {n_errors} episode(s) ended with an error and are not in the figures"
              + (f" ({n_incomplete} incomplete: no reply of the model came back)" if n_incomplete else "")
              + f"; see run.errors in {config.out / 'summary.json'} (--resume retries them)", file=sys.stderr)
    if n_incomplete:
        return 3
    if n_errors and not run.get("n_results"):
        print("egym eval: error: every episode ended with an error; no figures", file=sys.stderr)
        return 1
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from .episodes.importers import run_import

    options = {"split": args.split}
    if args.format == "embrace3k":
        options.update(radius=args.radius, domain=args.domain, map=args.map)
    report = run_import(args.format, args.src, args.out, **options)
    print(json.dumps({k: v for k, v in report.items() if k not in ("imported", "warnings")}, indent=2))
    if report.get("n_skipped"):
        print(f"egym import: warning: {report['n_skipped']} item(s) skipped; see {Path(args.out) / 'import_report.json'}",
              file=sys.stderr)
    return 0


def _sim_args(pairs: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` strings -> keyword arguments (values read as JSON when they parse, else text)."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--sim-arg: expected KEY=VALUE (got {pair!r})")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "sim" and args.backend != "house":
        from .sims.bench import bench_backend, format_backend_report

        result = bench_backend(args.backend, _sim_args(args.sim_arg), scene=args.scene, steps=args.steps)
        print(json.dumps(result) if args.json else format_backend_report(result))
    elif args.what == "sim":
        from .sims.bench import bench_sim, format_sim_report

        result = bench_sim(steps=args.steps, seed=args.seed)
        print(json.dumps(result) if args.json else format_sim_report(result))
    elif args.what == "parse":
        from .eval.bench_parse import bench_parse, format_parse_report

        result = bench_parse(seed=args.seed)
        print(json.dumps(result) if args.json else format_parse_report(result))
    else:
        from .eval.bench import bench_harness, format_harness_report

        result = bench_harness(
            episodes=args.episodes, steps=args.steps_per_episode, concurrency=args.concurrency, latency=args.latency,
            env=args.env, env_workers=args.env_workers, env_call_timeout=args.env_call_timeout,
        )
        print(json.dumps(result) if args.json else format_harness_report(result))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .reports.site import ReportConfig, write_report_site

    index = write_report_site(ReportConfig(runs=[Path(r) for r in args.runs], out=Path(args.out),
                                           frames=not args.no_frames, max_episodes=args.max_episodes,
                                           videos=args.videos, page_size=args.page_size))
    print(index)
    if args.screenshot:
        from .reports.browser import screenshot

        print(screenshot(index, args.screenshot))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .reports.compare import compare_runs, format_compare

    print(format_compare(compare_runs(args.runs, by=args.by, seed=args.seed), args.format), end="")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from .audit import AuditConfig, audit_ref, format_report

    config = AuditConfig(checks=args.check or None, render=not args.no_render)
    report = audit_ref(args.ref, fit=args.fit, config=config)
    print(json.dumps(report) if args.json else format_report(report))
    return 0 if report["passed"] else 1


def _cmd_data(args: argparse.Namespace) -> int:
    from .training.dataset import DatasetConfig, build_dataset

    config = DatasetConfig(history=args.history, image_max_side=args.image_max_side, limit=args.limit,
                           categories=args.categories, prompt_file=args.prompt_file)
    ds = build_dataset(args.episodes, Path(args.out), config=config, formats=args.export)
    print(json.dumps({"out": args.out, "rows": len(ds), "episodes": len(set(ds["episode_id"]))}))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .training.config import RunConfig

    config = RunConfig.load(args.config)
    if args.stage == "sft":
        from .training.sft import run_sft

        metrics = run_sft(config, Path(args.out))
    else:
        if not args.init:
            raise ValueError("egym train grpo needs --init DIR (the SFT output directory or a model)")
        if args.mode:
            config.grpo.mode = args.mode
        from .training.grpo import run_grpo

        metrics = run_grpo(config, args.init, Path(args.out))
    keys = ("step_accuracy", "random_accuracy", "majority_accuracy", "train_seconds")
    print(json.dumps({k: metrics.get(k) for k in keys} | {"metrics": str(Path(args.out) / "metrics.json")}))
    return 0


def _cmd_model(args: argparse.Namespace) -> int:
    from .training.tiny import build_tiny_qwen

    print(build_tiny_qwen(Path(args.out), seed=args.seed, hidden=args.hidden, layers=args.layers,
                          max_pixels=args.max_pixels, vocab_size=args.vocab_size))
    return 0


def _add_training_commands(sub) -> None:
    p = sub.add_parser("data", help="build training datasets from demonstrated episodes")
    p.add_argument("kind", choices=["sft"])
    p.add_argument("--episodes", nargs="+", required=True, help="JSONL paths, folders of *.jsonl files or SUITE:SPLIT refs")
    p.add_argument("--out", required=True, help="output directory (datasets.save_to_disk)")
    p.add_argument("--history", type=int, default=None, help="earlier frames per prompt (default: the prompt config's)")
    p.add_argument("--limit", type=int, default=None, help="first N episodes of each category of each source")
    p.add_argument("--categories", nargs="+", default=None, help="keep only these task categories")
    p.add_argument("--image-max-side", type=int, default=512, help="longest image side (as the eval agents)")
    p.add_argument("--prompt-file", default=None, help="prompt config replacing configs/prompts/closed_loop.json")
    p.add_argument("--export", nargs="*", default=[], choices=["parquet", "jsonl"], help="also write these formats")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="fine-tune a VLM policy: sft, then grpo")
    p.add_argument("stage", choices=["sft", "grpo"])
    p.add_argument("--config", required=True, help="configs/train/*.yaml")
    p.add_argument("--out", required=True, help="output directory (model, adapter/, metrics.json)")
    p.add_argument("--init", default=None, help="grpo: the SFT output directory (or a model) to start from")
    p.add_argument("--mode", choices=["step", "episode"], default=None, help="grpo: overrides grpo.mode of the config")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("model", help="build models offline")
    p.add_argument("kind", choices=["tiny"])
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--max-pixels", type=int, default=56 * 56)
    p.add_argument("--vocab-size", type=int, default=600)
    p.set_defaults(func=_cmd_model)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="egym", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="embedded-simulator demo: frames, GIF and top-down map to --out")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("generate", help="generate an episode suite (deterministic: same args, same bytes)")
    p.add_argument("--suite", help="suite name, e.g. house-v2 or bear-lh-v2")
    p.add_argument("--split", help="val, test or ood")
    p.add_argument("--backend", default="house", help="with --scenes: the backend whose scenes to use")
    p.add_argument("--scenes", help="comma-separated scenes of --backend (e.g. FloorPlan1,FloorPlan2): tasks there")
    p.add_argument("--sim-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="with --scenes: a backend constructor argument (repeatable)")
    p.add_argument("--n", type=int, default=None, help="house suites: episodes per category; bear-lh-v1: episodes in "
                   "total (default: the split's official size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--no-audit", action="store_true", help="write the split without running `egym audit` on it "
                   "(default: a split that fails the audit is refused and kept as SPLIT.jsonl.rejected)")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("eval", help="evaluate an agent on an environment")
    from .eval.cliargs import add_dataclass_arguments
    from .eval.config import EvalConfig

    add_dataclass_arguments(p, EvalConfig)  # one flag per field, help from the field's metadata
    p.add_argument("--videos", action="store_true",
                   help="after the run, write OUT/videos/EPISODE.gif and .mp4 with step, action and reasoning "
                        "overlaid (MP4 needs imageio-ffmpeg: the 'video' extra)")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("import", help="import released real data (EmbRACE-3K episodes, BEAR's benchmark)")
    p.add_argument("format", choices=["embrace3k", "bear"], help="the source format")
    p.add_argument("src", help="the released data's folder")
    p.add_argument("--out", required=True, help="output folder (embrace3k: episodes.jsonl + frames/; bear: "
                                                 "bear_items.jsonl + media/; both: import_report.json)")
    p.add_argument("--radius", type=float, default=2.0, help="embrace3k: success radius in metres around target poses")
    p.add_argument("--split", default="test", help="split tag of the imported episodes")
    p.add_argument("--domain", default="in_domain", choices=["in_domain", "ood"])
    p.add_argument("--map", default=None, help="embrace3k: the Unreal map the episodes were recorded in (not in the release)")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("bench", help="performance benchmarks")
    p.add_argument("what", choices=["sim", "harness", "parse"])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--steps", type=int, default=300, help="sim: steps per measurement")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="house", help="sim: the backend to measure (house: against stock MiniWorld)")
    p.add_argument("--sim-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="sim: a backend constructor argument (repeatable), e.g. local_executable_path=PATH")
    p.add_argument("--scene", default=None, help="sim: the scene to load for --backend (default: the backend's)")
    p.add_argument("--episodes", type=int, default=64, help="harness: episodes per run")
    p.add_argument("--steps-per-episode", type=int, default=8, help="harness: steps per episode")
    p.add_argument("--concurrency", type=int, default=32, help="harness: concurrency compared with 1")
    p.add_argument("--latency", type=float, default=0.2, help="harness: server seconds per request")
    p.add_argument("--env", default="light", choices=["light", "closed_loop", "auto"],
                   help="harness: the light stand-in env (default: measures the harness), the real closed-loop "
                        "env (adds house building and rendering on the one env thread), or auto (real when available)")
    p.add_argument("--env-workers", type=int, default=0,
                   help="harness: run the environments at --concurrency in N worker processes (egym eval --env-workers)")
    p.add_argument("--env-call-timeout", type=float, default=None, metavar="SECONDS",
                   help="harness, with --env-workers: seconds a worker may go without answering before it is killed "
                        "as hung and restarted (egym eval --env-call-timeout; default: eval's)")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("report", help="static HTML report of run directories (opens from disk, no network)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="`egym eval --out` directories, shown side by side")
    p.add_argument("--out", required=True, help="output folder (index.html and one page per episode)")
    p.add_argument("--no-frames", action="store_true", help="do not replay episodes for frames and maps (fast)")
    p.add_argument("--max-episodes", type=int, default=None, help="replay at most N episodes per run (default: all)")
    p.add_argument("--videos", action="store_true", help="also write an MP4 video (shown in the page) and an "
                   "animated GIF per episode")
    p.add_argument("--page-size", type=int, default=50, help="episodes per page of the episode lists")
    p.add_argument("--screenshot", default=None, metavar="PNG", help="also save a screenshot of index.html (headless Chromium)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("compare", help="runs side by side with bootstrap CIs and the in-domain - OOD gap")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--by", default="split", choices=["split", "category", "skill", "domain"])
    p.add_argument("--format", default="md", choices=["md", "csv", "json"])
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("audit", help="blind baselines against a suite: exit 0 when all stay within their limits, 1 if not")
    p.add_argument("ref", help="SUITE:SPLIT or a JSONL path, e.g. bear-lh-v2:test")
    p.add_argument("--fit", default=None, help="episodes to fit the learned baselines on (default: another shipped "
                   "split of the suite; none: the target's two halves fitted on each other)")
    p.add_argument("--check", action="append", default=None, help="run only this check (repeatable)")
    p.add_argument("--no-render", action="store_true", help="skip checks that replay frames (visibility)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_audit)

    _add_training_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. Bad input (a ``ValueError``; a file that is missing or cannot be
    written, e.g. an ``--out`` under a regular file; a Gymnasium error such as an unknown ``--env``
    id) prints ``egym CMD: error: ...`` (API keys redacted) and returns 2, without a traceback."""
    from gymnasium.error import Error as GymError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, GymError) as exc:
        import os

        from .agents.redact import Redactor  # a server's error text may echo the key

        redact = Redactor([getattr(args, "api_key", None), os.environ.get("OPENAI_API_KEY")])
        print(f"egym {args.command}: error: {redact(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
