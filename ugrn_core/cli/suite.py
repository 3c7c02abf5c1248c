"""Command-line glue for the benchmark presets and the report (``ugrn benchmark --preset …``, ``ugrn report``).

Thin: parses options, loads the checkpoint and its twin, calls ``runner.run_preset`` / ``report.build_report``.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from ..bench.negatives import NEGATIVE_MODES
from ..bench.presets import PRESETS, TABLE_PRESETS
from ..bench.suite import CONTROL_KINDS
from .options import seed_list


def add_benchmark_options(p) -> None:
    """Options of ``ugrn benchmark`` for presets, seeds, negatives and controls."""
    p.add_argument("--preset", default=None, choices=list(PRESETS) + ["all"],
                   help="run one of the paper's tables (table1 … table6), 'all' six, or the reduced 'ci' preset; "
                        "results go to <out>/<preset>/ and resume from its cells/ cache")
    p.add_argument("--seeds", default=None, help="seeds, comma-separated or ranges (e.g. 0-9; presets default 0,1,2,3,4; within-dataset protocols default --seed)")
    p.add_argument("--negatives", default=None,
                   help=f"comma-separated negative modes among {','.join(NEGATIVE_MODES)} (preset default: "
                        "uniform,tf-positive; plain benchmark: uniform)")
    p.add_argument("--include-train-cell", action="store_true",
                   help="also test datasets of the training cell type (excluded by default, as in the paper's Table 1)")
    p.add_argument("--controls", default=None, help=f"comma-separated subset of {','.join(CONTROL_KINDS)} or 'none'")
    p.add_argument("--peers", default=None, help="comma-separated expression peers (e.g. '|Pearson|,GRNBoost2') or 'none'")
    p.add_argument("--sizes", default="500", help="gene-set sizes for presets (comma-separated: 500,1000)")
    p.add_argument("--cell-order", default="forward", choices=["forward", "reverse"],
                   help="order the preset's cells are computed in; a second process started with the other order on "
                        "the same --out shares the work (cells are locked while computed; with OMP_NUM_THREADS=1 "
                        "each, two processes on two cores finish in about half the time)")
    add_scheduler_option(p, "probes (with --preset also translators and cells) run as tasks")
    p.add_argument("--twin-checkpoint", default=None,
                   help="folder of the random-init twin (written there if absent; default under the cache directory)")


def add_scheduler_option(p, what: str) -> None:
    """``--scheduler``: run work as tasks of a Dask distributed cluster (``bench.engine``)."""
    p.add_argument("--scheduler", default=None, metavar="ADDRESS|local:N",
                   help=f"{what} on a Dask cluster: local:N (N worker processes here, one thread each), a scheduler "
                        "address (tcp://host:8786) or a scheduler file (.json); results go through the same caches, "
                        "so a rerun resumes (docs/cluster.md). Default: serial, in this process")


def open_engine(args, progress):
    """An ``engine.Engine`` for ``--scheduler`` (a context manager; its cluster named on stderr), or a null context
    (yielding None: the serial path) when it is not given."""
    import contextlib

    if not getattr(args, "scheduler", None):
        return contextlib.nullcontext()
    from ..bench.engine import Engine

    engine = Engine(args.scheduler, progress, device=args.device, precision=args.precision)
    print(f"engine: {engine.describe()}", file=sys.stderr, flush=True)
    return engine


def _csv(value, cast=str):
    if value is None:
        return None
    if value.strip().lower() == "none":
        return ()
    return tuple(cast(v.strip()) for v in value.split(",") if v.strip())


def run_presets(args, load_model, progress) -> int:
    """``ugrn benchmark --preset NAME``: run the preset(s) and print where the results are."""
    from .._io import check_writable_output
    from ..bench import controls as ctl
    from ..bench.runner import run_preset

    names = list(TABLE_PRESETS) if args.preset == "all" else [args.preset]
    if args.cell_order == "reverse":
        names = names[::-1]
    out = args.out if args.out != "results/benchmark_default" else "results/bench"
    for name in names:  # each preset writes into <out>/<preset>/ (created when missing); checked before any work
        check_writable_output(Path(out) / name, "into", "results folder")
    if args.twin_checkpoint and not Path(args.twin_checkpoint).exists():  # written there when absent
        check_writable_output(args.twin_checkpoint, "folder", "--twin-checkpoint")
    fm = load_model(args.checkpoint, args.device, args.precision)
    ctrl = _csv(args.controls)
    twin = None if ctrl is not None and "twin" not in ctrl else ctl.load_twin(fm, args.twin_checkpoint)
    command = "ugrn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    from .options import _train_options

    opts = _train_options(args).to_dict()
    train_options = {k: v for k, v in opts.items() if k != "epochs"}
    train_states: dict = {}  # translators fitted once per training source and seed, whichever preset needs them first
    with open_engine(args, progress) as engine:
        for name in names:
            _, folder = run_preset(name, fm, out, twin_fm=twin, data_dir=args.data_dir,
                                   sizes=_csv(args.sizes, int) or (500,), seeds=tuple(seed_list(args.seeds)) or None,
                                   negatives=_csv(args.negatives), controls=ctrl, peers=_csv(args.peers),
                                   command=command, progress=progress,
                                   include_train_cell=args.include_train_cell or None, order=args.cell_order,
                                   train_states=train_states, train_options=train_options, engine=engine)
            print(f"{name}: wrote {Path(folder) / 'results.md'}")
    return 0


def add_report_parser(sub, common) -> None:
    p = sub.add_parser("report", help="gather benchmark preset results into one markdown and one HTML file")
    p.add_argument("--results", default="results/bench", help="folder holding <preset>/results.md (from --preset runs)")
    p.add_argument("--out", default=None, help="output stem (default <results>/report → report.md and report.html)")
    p.add_argument("--checkpoint", default=None, help="checkpoint folder whose pretraining data to list (default bundled)")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from ..config import ASSETS_DIR, resolve_checkpoint_dir
    from .._io import check_writable_output
    from ..bench.report import build_report

    stem = Path(args.out) if args.out else Path(args.results) / "report"
    for suffix in (".md", ".html"):  # both checked before anything is read or written
        check_writable_output(stem.with_suffix(suffix), "file", "--out" if args.out else "report")
    md, html = build_report(args.results, stem.with_suffix(".md"), stem.with_suffix(".html"),
                            checkpoint_dir=resolve_checkpoint_dir(args.checkpoint),
                            paper_csv=ASSETS_DIR / "paper" / "table1_auprc.csv")
    print(f"wrote {md} and {html}")
    return 0
