"""Corpus grid (issue 26): corpus (old BEELINE / broad) × pretraining cells (with / without the BEELINE test cell
types) × method (Emb, VVP, GDT, Ens, Origin-Pert) on Tables 1 and 2, each beside its random-init twin and the
degree prior, 5 seeds.

Models (one pretraining command each, ``MODELS``; same width, steps and seed, so only the corpus differs):

- ``beeline-all``: original corpus (BEELINE expression, pbmc68k_reduced, HSMM), every cell;
- ``beeline-noB``: original corpus without hHEP, mDC, mESC, mHSC-GM, mHSC-L (the five test cell types with
  expression; hESC and mHSC-E have none here);
- ``broad-all``: the broadened corpus (``docs/corpus.md``), every cell;
- ``broad-noB``: broadened corpus without those five, the files sharing their cells or study, and the 49-TF legacy
  hESC matrix (``--exclude-cells hHEP,mDC,mESC,mHSC-GM,mHSC-L,hESC``): a model that never saw any test cell type.

Each model lives in ``<models-dir>/<name>-d<width>`` (or where ``--model NAME=FOLDER`` says); its twin
(``controls.make_twin``: same architecture and vocabulary, untrained) in ``<out>/<name>/twin``. A missing model is reported with its pretraining command (run it
yourself under the torch lock, or pass ``--pretrain-missing``).

Protocol: the ``table1`` / ``table2`` presets' jobs at TFs+500 (``presets.jobs``): Table 1 trains STRING/hESC/500
and tests the datasets of the other cell types; Table 2 trains every TFs+500 dataset in turn and tests the other
cell types'. Uniform negatives at N/P 1 (``--negatives``), the paper's projector training
(``translator.PAPER_OPTIONS``, as ``benchmarks/levers.py``, whose corpus-excluded row is the issue's "+0.005 over
the twin" baseline; ``--preset-training`` for the presets' regularised ``translator.DEFAULT_OPTIONS``). Each number: mean
AUPRC over the test datasets **with expression** (Origin-Pert needs it; the same datasets for every method), for
Table 2 first per training source, then over sources; then mean ± sd over seeds. Differences are per seed.

Resumable: every (model, table, method) is its own ``bench.suite.Suite`` whose cells are cached under
``<out>/<model>/cells`` (one CSV per cell, written atomically); probes go to the shared probe cache
(``UGRN_CACHE_DIR``), so an interrupted run, or one with more methods, tables or test datasets, computes only
what is missing. ``--tests`` / ``--trains`` (globs) restrict the datasets for a quick first look; the table says
how many test datasets and seeds each number rests on.

Usage (one thread each under the shared lock; the whole grid is hours of CPU):
    UGRN_CACHE_DIR=/work/cache/ugrn flock /work/torch.lock env OMP_NUM_THREADS=1 \\
        python -m benchmarks.corpus_grid --models broad-noB --tables table1 --methods Emb,VVP
    python -m benchmarks.corpus_grid --table-only      # aggregate what is on disk into --md
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

TEST_CELLS = ("hHEP", "mDC", "mESC", "mHSC-GM", "mHSC-L")  # the BEELINE test cell types with expression
MODELS = {
    "beeline-all": {"corpus": "beeline", "exclude": (), "test_cells_seen": "yes"},
    "beeline-noB": {"corpus": "beeline", "exclude": TEST_CELLS, "test_cells_seen": "no"},
    "broad-all": {"corpus": "broad", "exclude": (), "test_cells_seen": "yes"},
    "broad-noB": {"corpus": "broad", "exclude": TEST_CELLS + ("hESC",), "test_cells_seen": "no"},
}
METHODS = ("Emb", "VVP", "GDT", "Ens", "Origin-Pert")
TABLES = ("table1", "table2")
ARCHIVE = Path(__file__).resolve().parent / "results" / "corpus_grid_rows.csv.gz"
ROW_KEY = ["model", "table", "grid_method", "training", "train", "test", "seed", "negatives", "method", "view"]


def archive_rows(rows: pd.DataFrame, path: Path, digits: int = 4) -> Path:
    """Merge ``rows`` into the gzipped archive at ``path`` (rows of the same cell replaced), metrics rounded to
    ``digits`` decimals (the tables show 3); written atomically with deterministic bytes."""
    import fcntl
    import tempfile

    from ugrn_core.bench.report import write_compact_rows

    # two grid runs (one per model, one per core) may finish together: read-merge-write under one lock
    with open(Path(tempfile.gettempdir()) / "ugrn_corpus_grid_archive.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            rows = pd.concat([pd.read_csv(path), rows], ignore_index=True)
        rows = rows.drop_duplicates(ROW_KEY, keep="last").sort_values(ROW_KEY, kind="stable")
        return write_compact_rows(rows, path, digits)


def pretrain_command(name: str, folder: Path, width: int, steps: int) -> list[str]:
    """The ``ugrn pretrain`` command line that builds grid model ``name`` into ``folder``."""
    spec = MODELS[name]
    cmd = [sys.executable, "-m", "ugrn_core", "pretrain", "--out", str(folder), "--steps", str(steps),
           "--embsize", str(width), "--d-hid", str(2 * width)]
    if spec["corpus"] != "beeline":
        cmd += ["--corpus", spec["corpus"]]
    if spec["exclude"]:
        cmd += ["--exclude-cells", ",".join(spec["exclude"])]
    return cmd


def model_folders(args) -> dict[str, Path]:
    """name → checkpoint folder of the models asked for (``--models``; ``--model NAME=FOLDER`` overrides)."""
    names = [n.strip() for n in args.models.split(",") if n.strip()] if args.models != "all" else list(MODELS)
    extra = dict(item.split("=", 1) for item in args.model)
    unknown = [n for n in names if n not in MODELS and n not in extra]
    if unknown:
        sys.exit(f"--models: unknown {unknown}; expected some of {list(MODELS)} or --model NAME=FOLDER")
    out = {n: Path(args.models_dir) / f"{n}-d{args.width}" for n in names}
    out.update({n: Path(f) for n, f in extra.items()})
    return out


def _match(names, patterns) -> list[str]:
    if not patterns:
        return list(names)
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    return [n for n in names if any(fnmatch.fnmatch(n, p) for p in pats)]


def grid_jobs(table: str, trains: str | None, tests: str | None) -> list[tuple]:
    """The preset's TFs+500 jobs, restricted to test datasets with expression and to the ``--trains`` /
    ``--tests`` globs; jobs left without tests are dropped."""
    from ugrn_core.bench import presets
    from ugrn_core.data.datasets import list_datasets, load_beeline

    out = []
    for train, tsts, r in presets.jobs(table, list_datasets(), (500,)):
        if not _match([train], trains):
            continue
        keep = [t for t in _match(tsts, tests) if load_beeline(t).has_expression]
        if keep:
            out.append((train, keep, r))
    return out


def run_one(fm, twin, method: str, table: str, jobs, args, cells: Path) -> pd.DataFrame:
    """Rows of one (model, table, method): a Suite with that method, its twin and the degree prior."""
    from ugrn_core.bench.suite import Suite, SuiteConfig
    from ugrn_core.translator import PAPER_OPTIONS

    options = None  # the presets' DEFAULT_OPTIONS
    if not args.preset_training:
        options = {k: v for k, v in PAPER_OPTIONS.to_dict().items() if k != "epochs"}
    cfg = SuiteConfig(methods=(method,), peers=(), controls=("twin", "degree-prior"), seeds=tuple(args.seeds),
                      negatives=tuple(args.negatives.split(",")), twin_methods=(method,), train_options=options)
    suite = Suite(fm, cfg, cells.parent, twin_fm=twin, cells_dir=cells)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return suite.run(jobs)


def summarise(rows: pd.DataFrame, metric: str = "AUPRC") -> pd.DataFrame:
    """One line per (model, table, method): mean ± sd over seeds of the per-seed average (Table 2: over training
    sources of the average over their test datasets) for the method, its twin and the degree prior."""
    r = rows[(rows["view"] == "all") & (rows["negatives"] == "uniform")]
    out = []
    for (model, table, method), g in r.groupby(["model", "table", "grid_method"], sort=False):
        per = (g.groupby(["seed", "method", "train"])[metric].mean()  # over test datasets
               .groupby(["seed", "method"]).mean().unstack("method"))  # over training sources
        cols = {"m": method, "twin": f"{method} (twin)", "prior": "Degree prior"}
        if not all(c in per for c in cols.values()):
            continue
        d = {k: per[c] for k, c in cols.items()}
        line = {"model": model, "table": table, "method": method, "seeds": len(per),
                "trains": g["train"].nunique(), "tests": g["test"].nunique()}
        for k, v in (("AUPRC", d["m"]), ("twin", d["twin"]), ("degree prior", d["prior"]),
                     ("− twin", d["m"] - d["twin"]), ("− degree prior", d["m"] - d["prior"])):
            line[k] = (float(v.mean()), float(v.std()) if len(v) > 1 else float("nan"))
        out.append(line)
    return pd.DataFrame(out)


def markdown(summary: pd.DataFrame, meta: dict) -> str:
    def fmt(x, sign=""):
        m, s = x
        return f"{m:{sign}.3f}" + ("" if np.isnan(s) else f" ± {s:.3f}")

    lines = ["# Corpus grid (issue 26)", "",
             "Generated by `benchmarks/corpus_grid.py` (protocol in its docstring). AUPRC, mean over the test "
             "datasets with expression (Table 2: per training source, then over sources), mean ± sd over seeds; "
             "twin = same architecture and vocabulary, random-init, never trained; degree prior = training-label "
             "TF out-degree + target in-degree. Uniform negatives, N/P 1; projector training: "
             f"{meta['training']}.", "",
             f"Command: `{meta['command']}`", ""]
    if summary.empty:
        return "\n".join(lines + ["No (model, table, method) has its method, twin and degree-prior rows yet.", ""])
    lines += ["| model | corpus | test cells seen | table | method | AUPRC | twin | − twin | degree prior | − degree "
              "prior | seeds | train × test datasets |", "|" + "---|" * 12]
    for _, r in summary.iterrows():
        spec = MODELS.get(r["model"], {})
        lines.append(f"| {r['model']} | {spec.get('corpus', '?')} | {spec.get('test_cells_seen', '?')} | {r['table']} | "
                     f"{r['method']} | {fmt(r['AUPRC'])} | {fmt(r['twin'])} | {fmt(r['− twin'], '+')} | "
                     f"{fmt(r['degree prior'])} | {fmt(r['− degree prior'], '+')} | {r['seeds']} | "
                     f"{r['trains']} × {r['tests']} |")
    lines += ["", "Models: " + "; ".join(f"{n}: {f}" for n, f in meta["folders"].items()), ""]
    lines += wide(summary)
    if meta.get("timings"):
        lines += ["Wall times of this run (s; cells already on disk are read, not recomputed): "
                  + ", ".join(f"{k} {v}" for k, v in meta["timings"].items()), ""]
    return "\n".join(lines)


def wide(summary: pd.DataFrame) -> list[str]:
    """The corpus × test-cells table of issue 26, one per table: a line per method, a column per model (ordered as
    ``MODELS``), each cell "AUPRC / − twin / − degree prior" (means over seeds); markdown lines, none for one model."""
    names = [m for m in MODELS if m in set(summary["model"])] + sorted(set(summary["model"]) - set(MODELS))
    if len(names) < 2:
        return []
    out = []
    for table, t in summary.groupby("table", sort=True):
        head = [f"{n} ({MODELS[n]['corpus']} corpus, test cells seen: {MODELS[n]['test_cells_seen']})"
                if n in MODELS else n for n in names]
        out += [f"{table}: AUPRC / − twin / − degree prior (means over seeds)", "",
                "| method | " + " | ".join(head) + " |", "|" + "---|" * (len(names) + 1)]
        for method in [m for m in METHODS if m in set(t["method"])]:
            cells = []
            for n in names:
                r = t[(t["model"] == n) & (t["method"] == method)]
                cells.append("not run" if r.empty else " / ".join(
                    f"{round(r.iloc[0][k][0], 3) + 0.0:{f}}"  # + 0.0: no "-0.000"
                    for k, f in (("AUPRC", ".3f"), ("− twin", "+.3f"), ("− degree prior", "+.3f"))))
            out.append(f"| {method} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="all", help=f"comma-separated of {list(MODELS)} (or names of --model), or 'all'")
    ap.add_argument("--model", action="append", default=[], metavar="NAME=FOLDER", help="a model folder (repeatable)")
    ap.add_argument("--models-dir", default="/work/models")
    ap.add_argument("--width", type=int, default=64, help="d_model of the grid models (d_hid = 2 × width)")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--pretrain-missing", action="store_true", help="run the pretraining command of missing models")
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--negatives", default="uniform")
    ap.add_argument("--trains", default=None, help="globs of training datasets to keep (Table 2), e.g. 'STRING/*'")
    ap.add_argument("--tests", default=None, help="globs of test datasets to keep, e.g. 'STRING/*,Specific/mDC/500'")
    ap.add_argument("--preset-training", action="store_true",
                    help="the presets' regularised projector training instead of the paper's")
    ap.add_argument("--out", default="/work/cache/corpus_grid", help="per-model cell caches")
    ap.add_argument("--md", default="benchmarks/results/corpus_grid.md")
    ap.add_argument("--archive", default=str(ARCHIVE),
                    help="gzipped rows kept in the repository (every run's rows merged in; read by --table-only), "
                         "so a table outlives the cell caches; '' for none")
    ap.add_argument("--table-only", action="store_true", help="only aggregate the cells on disk")
    args = ap.parse_args(argv)
    folders = model_folders(args)
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    out = Path(args.out)
    training = "preset" if args.preset_training else "paper"
    timings, frames, ids = {}, [], {}
    if not args.table_only:
        from ugrn_core import scfm
        from ugrn_core.bench.controls import load_twin

        for name, folder in folders.items():
            if not (folder / "best_model.pt").is_file():
                cmd = pretrain_command(name, folder, args.width, args.steps) if name in MODELS else None
                if cmd and args.pretrain_missing:
                    t = time.perf_counter()
                    subprocess.run(cmd, check=True)
                    timings[f"pretrain {name}"] = round(time.perf_counter() - t, 1)
                else:
                    print(f"{name}: no checkpoint at {folder}; build it with: {' '.join(cmd or ['(no command)'])}",
                          flush=True)
                    continue
            fm = scfm.load_checkpoint(folder, "cpu")
            twin = load_twin(fm, out / name / "twin")
            ids[name] = f"checkpoint {fm.checkpoint_id}, twin {twin.checkpoint_id}"
            for table in tables:
                jobs = grid_jobs(table, args.trains, args.tests)
                for method in methods:
                    t = time.perf_counter()
                    rows = run_one(fm, twin, method, table, jobs, args, out / name / "cells")
                    frames.append(rows.assign(model=name, table=table, grid_method=method, training=training,
                                              checkpoint_id=fm.checkpoint_id))
                    timings[f"{name}/{table}/{method}"] = round(time.perf_counter() - t, 1)
                    print(f"{name} {table} {method}: {timings[f'{name}/{table}/{method}']} s", flush=True)
                    (out / name).mkdir(parents=True, exist_ok=True)
                    pd.concat(frames, ignore_index=True).to_csv(out / "rows_last_run.csv", index=False)
    if args.table_only or not frames:
        files = ([Path(args.archive)] if args.archive and Path(args.archive).is_file() else [])
        files += sorted(out.glob("rows*.csv"))
        if not files:
            sys.exit(f"nothing on disk under {out} (nor in --archive {args.archive!r})")
        frames = [pd.read_csv(f) for f in files]
    rows = pd.concat(frames, ignore_index=True)
    rows = rows.drop_duplicates(ROW_KEY, keep="last")
    if not args.table_only:  # keep every run's rows: the table is built from all of them
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        rows.to_csv(out / f"rows_{stamp}.csv", index=False)
        (out / "rows_last_run.csv").unlink(missing_ok=True)
        if args.archive:
            archive_rows(rows, Path(args.archive))
    rows = rows[rows["seed"].isin(args.seeds) & rows["model"].isin(list(folders)) & (rows["training"] == training)]
    rows = rows[rows["table"].isin(tables) & rows["grid_method"].isin(methods)]
    # the datasets asked for (--trains / --tests), so every method of a line rests on the same test datasets
    rows = rows[rows["train"].isin(_match(rows["train"].unique(), args.trains))
                & rows["test"].isin(_match(rows["test"].unique(), args.tests))]
    summary = summarise(rows)
    if "checkpoint_id" in rows:  # which pretraining run each model's rows come from (the folders are not kept)
        for name, g in rows.groupby("model"):
            found = sorted(set(g["checkpoint_id"].dropna()))
            if found and name not in ids:
                ids[name] = "checkpoint " + ", ".join(found)
    argv_txt = " ".join(a for a in (argv if argv is not None else sys.argv[1:]) if a != "--table-only")
    meta = {"command": f"UGRN_CACHE_DIR=/work/cache/ugrn OMP_NUM_THREADS=1 python -m benchmarks.corpus_grid {argv_txt}",
            "folders": {k: str(v) + (f" ({ids[k]})" if k in ids else "") for k, v in folders.items()},
            "timings": timings,
            "training": "the presets' (regularised)" if args.preset_training else "the paper's (PAPER_OPTIONS)"}
    md = markdown(summary, meta)
    Path(args.md).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(args.md).with_suffix(".md.tmp")
    tmp.write_text(md)
    tmp.replace(args.md)
    if timings:
        (out / "timings.json").write_text(json.dumps(timings, indent=2))
    print(md)


if __name__ == "__main__":
    main()
