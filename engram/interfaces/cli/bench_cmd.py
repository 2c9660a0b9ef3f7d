"""``engram bench``: LoCoMo and LongMemEval retrieval, episode segmentation, and speed at scale.

Each benchmark writes JSON and Markdown into ``--out`` (default ``bench-results/``) and prints
the Markdown. Benchmark data is read from a path (``--data`` or an environment variable),
never bundled.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from engram.errors import InvalidInput
from engram.eval.ablation import MECHANISMS
from engram.interfaces.cli import make_embedder

DEFAULT_OUT = "bench-results"
DATA_ENV = {"locomo": "ENGRAM_LOCOMO", "longmemeval": "ENGRAM_LONGMEMEVAL"}
DEFAULT_SIZES = "10000,100000"
MILLION = 1_000_000


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``bench`` and its subcommands to the ``engram`` parser."""
    bench = commands.add_parser(
        "bench",
        parents=[common],
        help="run a benchmark",
        description="Measure retrieval quality on public benchmarks, or speed at scale.",
    )
    kinds = bench.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, title in (("locomo", "LoCoMo"), ("longmemeval", "LongMemEval")):
        p = kinds.add_parser(
            name,
            parents=[common],
            help=f"{title} evidence retrieval (recall@k, NDCG@k)",
            description=f"{title} retrieval metrics; no LLM needed.",
        )
        p.add_argument("--data", metavar="PATH", help=f"the {title} file (default: ${DATA_ENV[name]})")
        p.add_argument("--limit", type=int, help="only the first N conversations / questions")
        p.add_argument(
            "--without",
            metavar="NAMES",
            default="",
            help="comma-separated mechanisms to switch off: " + ", ".join(MECHANISMS),
        )
        if name == "locomo":
            p.add_argument(
                "--captions",
                action="store_true",
                help="put shared images' captions into the turn text (for Engram and the baselines alike)",
            )
        if name == "longmemeval":
            p.add_argument(
                "--types",
                metavar="TYPES",
                default="",
                help="comma-separated question types to score, e.g. multi-session,knowledge-update (default: all)",
            )
        _common_bench_options(p)
        p.set_defaults(run=run_dataset)

    p = kinds.add_parser(
        "ablation",
        parents=[common],
        help="LoCoMo and LongMemEval with each mechanism switched off in turn",
        description="Runs the retrieval benchmarks once with the full engine and once per mechanism "
        f"switched off ({', '.join(MECHANISMS)}); writes ablation.json and ablation.md.",
    )
    p.add_argument("--locomo", metavar="PATH", help="the LoCoMo file (default: $ENGRAM_LOCOMO)")
    p.add_argument("--longmemeval", metavar="PATH", help="the LongMemEval file (default: $ENGRAM_LONGMEMEVAL)")
    p.add_argument("--limit", type=int, help="only the first N conversations / questions of each")
    _common_bench_options(p)
    p.set_defaults(run=run_ablation)

    p = kinds.add_parser(
        "sort",
        parents=[common],
        help="sequence order recall on Book-SORT texts, answered by Memory.order",
        description="Derived SORT trials (excerpts of 2,500 and 10,000 words, segments of 20 and 50 "
        "words, four distance bins, both presentation orders) on the Book-SORT source books.",
    )
    p.add_argument("--data", metavar="DIR", help="the booksort-source folder (default: $ENGRAM_BOOKSORT)")
    p.add_argument("--limit", type=int, help="only the first N books")
    _common_bench_options(p)
    p.set_defaults(run=run_sort)
    _register_segmentation(kinds, common)
    p = kinds.add_parser(
        "consolidation",
        parents=[common],
        help="consolidation speed offline, and LLM calls and tokens per event",
        description="Remember every LoCoMo turn, then time Memory.consolidate(): with the offline rule "
        "extractor, and with the LLM extractor against a scripted OpenAI-compatible server on 127.0.0.1.",
    )
    p.add_argument("--data", metavar="PATH", help="the LoCoMo file (default: $ENGRAM_LOCOMO)")
    p.add_argument("--limit", type=int, help="only the first N conversations")
    _common_bench_options(p)
    p.set_defaults(run=run_consolidation)
    p = kinds.add_parser(
        "facts",
        parents=[common],
        help="fact extraction precision / recall on labelled LoCoMo turns",
        description="Score the regex baseline, the rule extractor and (when ENGRAM_LLM_URL / ENGRAM_LLM_MODEL "
        "are set) the LLM extractor on the development and held-out labelled samples.",
    )
    p.add_argument("--data", metavar="PATH", help="the LoCoMo file the samples point into (default: $ENGRAM_LOCOMO)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"results directory (default {DEFAULT_OUT}/)")
    p.set_defaults(run=run_facts)
    p = kinds.add_parser(
        "speed",
        parents=[common],
        help="ingest rate, recall latency and bytes per event",
        description="Synthetic chat events at growing sizes, each figure beside a brute-force "
        "numpy baseline run in the same process.",
    )
    p.add_argument("--sizes", default=DEFAULT_SIZES, help=f"comma-separated store sizes (default {DEFAULT_SIZES})")
    p.add_argument("--million", action="store_true", help="add a 1,000,000-event size (slow)")
    p.add_argument("--queries", type=int, default=200, help="recall queries per size (default 200)")
    p.add_argument(
        "--embed-cache",
        action="store_true",
        help="reuse vectors from a disk cache ($ENGRAM_CACHE/embeddings.sqlite) filled by an earlier run: "
        "ingest then measures storage and indexing rather than the model",
    )
    _common_bench_options(p)
    p.set_defaults(run=run_speed)
    p = kinds.add_parser(
        "paradigms",
        parents=[common],
        help="the classic experiments of memory psychology, against the real engine",
        description="Forgetting curve, spacing effect, serial position, temporal contiguity (lag-CRP), "
        "recognition vs recall under interference and working-memory capacity, with simulated time; "
        "writes paradigms.json, one PNG plot per paradigm and paradigms.md with a verdict for each.",
    )
    p.add_argument("--only", metavar="NAMES", default="", help="comma-separated paradigms to run (default: all six)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"results directory (default {DEFAULT_OUT}/)")
    p.set_defaults(run=run_paradigms)


def _register_segmentation(kinds: Any, common: argparse.ArgumentParser) -> None:
    p = kinds.add_parser(
        "segmentation",
        parents=[common],
        help="episode boundaries found without session markers (precision / recall / F1)",
        description="Stream each LoCoMo conversation (and MSC episodes) with session markers removed and score "
        "the predicted episode starts against the true session starts (±2 events), without and with timestamps.",
    )
    p.add_argument("--data", metavar="PATH", help="the LoCoMo file (default: $ENGRAM_LOCOMO)")
    p.add_argument("--msc", metavar="PATH", help="an MSC dialogue file, e.g. msc_dialogue_session_3_test.jsonl")
    p.add_argument(
        "--msc-limit", type=int, default=100, metavar="N", help="only the first N MSC episodes (default 100)"
    )
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"results directory (default {DEFAULT_OUT}/)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but the table")
    p.set_defaults(run=run_segmentation)


def _common_bench_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"results directory (default {DEFAULT_OUT}/)")
    parser.add_argument("--workdir", metavar="DIR", help="where the stores are built (default: a temporary directory)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def _data_path(args: argparse.Namespace) -> Path:
    env = DATA_ENV[args.benchmark]
    value = args.data or os.environ.get(env)
    if not value:
        raise InvalidInput(f"no {args.benchmark} data: pass --data PATH or set {env}")
    path = Path(value)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    return path


def _locomo_file(args: argparse.Namespace) -> Path:
    """``--data`` or ``$ENGRAM_LOCOMO``, checked to be a file."""
    value = args.data or os.environ.get("ENGRAM_LOCOMO")
    if not value or not Path(value).is_file():
        raise InvalidInput(f"no LoCoMo data at {value!r}: pass --data PATH or set ENGRAM_LOCOMO")
    return Path(value)


def _publish(args: argparse.Namespace, name: str, results: dict[str, Any], text: str) -> int:
    """Write ``<name>.json`` and ``<name>.md`` into ``--out`` and print the Markdown."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2))
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0


def _in_workdir(args: argparse.Namespace, work: Any) -> Any:
    """Call ``work(workdir)`` in ``--workdir`` or in a temporary directory removed afterwards."""
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
        return work(Path(args.workdir))
    with tempfile.TemporaryDirectory(prefix="engram-bench-") as tmp:
        return work(Path(tmp))


def _names(text: str) -> list[str]:
    """The non-empty names of a comma-separated option."""
    return [name.strip() for name in text.split(",") if name.strip()]


def run_dataset(args: argparse.Namespace) -> int:
    path = _data_path(args)
    runner = importlib.import_module(f"engram.eval.{args.benchmark}")
    from engram.eval import report
    from engram.eval.ablation import memory_options

    options = memory_options(_names(args.without))
    subset = {"types": _names(args.types)} if getattr(args, "types", "") else {}
    embedder = make_embedder(args)
    extra = {"captions": True} if getattr(args, "captions", False) else {}
    results = _in_workdir(
        args,
        lambda workdir: runner.run(
            path,
            embedder=embedder,
            workdir=workdir,
            limit=args.limit,
            progress=not args.quiet,
            options=options,
            **subset,
            **extra,
        ),
    )
    if extra:
        results["captions"] = True
    if args.without:
        results["without"] = args.without
    Path(args.out).mkdir(parents=True, exist_ok=True)
    print(report.write(results, Path(args.out)))
    return 0


def run_ablation(args: argparse.Namespace) -> int:
    from engram.eval import ablation
    from engram.perception.embedders import CachedEmbedder

    embedder = CachedEmbedder(make_embedder(args))
    summaries: dict[str, Any] = {}
    for name in ("locomo", "longmemeval"):
        value = getattr(args, name) or os.environ.get(DATA_ENV[name])
        if not value:
            continue
        if not Path(value).is_file():
            raise InvalidInput(f"{value}: no such file")
        runner = importlib.import_module(f"engram.eval.{name}")

        def score(options: dict[str, Any], runner: Any = runner, path: Path = Path(value)) -> dict[str, Any]:
            return _in_workdir(
                args,
                lambda workdir: runner.run(
                    path, embedder=embedder, workdir=workdir, limit=args.limit, progress=False, options=options
                ),
            )

        summaries[name] = ablation.run(score)
    if not summaries:
        raise InvalidInput("no data: pass --locomo PATH and/or --longmemeval PATH (or set $ENGRAM_LOCOMO …)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.json").write_text(json.dumps(summaries, indent=2))
    text = "\n".join(ablation.markdown(name, summary) for name, summary in summaries.items())
    (out / "ablation.md").write_text(text)
    print(text)
    return 0


def run_sort(args: argparse.Namespace) -> int:
    from engram.eval import sort

    value = args.data or os.environ.get("ENGRAM_BOOKSORT")
    if not value or not (Path(value) / "pg_full_text").is_dir():
        raise InvalidInput(
            "no Book-SORT data: pass --data DIR (the folder holding pg_full_text/) or set ENGRAM_BOOKSORT"
        )
    embedder = make_embedder(args)
    results = _in_workdir(
        args,
        lambda workdir: sort.run(
            Path(value), embedder=embedder, workdir=workdir, limit=args.limit, progress=not args.quiet
        ),
    )
    return _publish(args, "sort", results, sort.markdown(results))


def _sizes(args: argparse.Namespace) -> tuple[int, ...]:
    try:
        sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(f"--sizes {args.sizes!r}: expected comma-separated whole numbers") from None
    if args.million:
        sizes.append(MILLION)
    if not sizes or min(sizes) < 1:
        raise InvalidInput("--sizes: give at least one positive size")
    return tuple(sorted(set(sizes)))


def run_speed(args: argparse.Namespace) -> int:
    from engram.eval import speed

    sizes = _sizes(args)
    embedder = make_embedder(args)
    if args.embed_cache:
        from engram.perception.embedders import CachedEmbedder

        embedder = CachedEmbedder(embedder)
    results = _in_workdir(
        args,
        lambda workdir: speed.run(
            sizes, embedder=embedder, workdir=workdir, queries=args.queries, progress=not args.quiet
        ),
    )
    print(speed.write(results, Path(args.out)))
    return 0


def run_segmentation(args: argparse.Namespace) -> int:
    from engram.eval import segmentation
    from engram.perception.embedders import CachedEmbedder

    value = args.data or os.environ.get("ENGRAM_LOCOMO")
    if not value:
        raise InvalidInput("no LoCoMo data: pass --data PATH or set ENGRAM_LOCOMO")
    for path in (value, args.msc):
        if path is not None and not Path(path).is_file():
            raise InvalidInput(f"{path}: no such file")
    if args.msc_limit < 1:
        raise InvalidInput("--msc-limit: give a positive number")
    embedder = CachedEmbedder(make_embedder(args))
    results = segmentation.benchmark(Path(value), args.msc, embedder=embedder, msc_limit=args.msc_limit)
    return _publish(args, "segmentation", results, segmentation.markdown(results))


def run_consolidation(args: argparse.Namespace) -> int:
    from engram.eval import consolidation

    path, embedder = _locomo_file(args), make_embedder(args)
    results = _in_workdir(
        args, lambda workdir: consolidation.run(path, embedder=embedder, workdir=workdir, limit=args.limit)
    )
    return _publish(args, "consolidation", results, consolidation.markdown(results))


def run_facts(args: argparse.Namespace) -> int:
    from engram.eval import facts

    results = facts.benchmark(_locomo_file(args))
    return _publish(args, "facts", results, facts.markdown(results))


def run_paradigms(args: argparse.Namespace) -> int:
    from engram.eval import paradigm_report

    known = list(paradigm_report.TITLES)
    only = _names(args.only)
    unknown = sorted(set(only) - set(known))
    if unknown:
        raise InvalidInput(f"unknown paradigm(s) {unknown}; choose from {', '.join(known)}")
    results = paradigm_report.run(make_embedder(args), only=only or None)
    print(paradigm_report.write(results, Path(args.out)))
    return 0 if results["all_shown"] else 1
