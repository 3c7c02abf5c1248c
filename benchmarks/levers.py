"""Lever table (issue 13, section 2): translator regularisation, per-context feature normalisation and virtual values,
each measured on the paper protocol against the degree prior and the random-init twin.

Protocol = the ``table1`` preset (``ugrn benchmark --preset table1``): train STRING/hESC/500 (all positives + 1:1
uniform negatives, per seed), test every TFs+500 dataset of another cell type with uniform negatives at N/P 1,
training pairs removed; run through the same ``suite.Suite`` code path, restricted to what the levers need: methods
Emb, VVP, GDT, Ens, their random-init twins (``controls.make_twin``), the degree prior and |Pearson|, on the test
datasets with expression (16 of the 19, where |Pearson| is defined; the mHSC-E ones have none). Averages are over
those datasets, per seed; the table gives the mean over seeds (± standard deviation over seeds).

A *setting* changes the probe parameters (``params.ProbeParams``: feature_norm, virtual values) and/or the
projector training (``translator.TrainOptions``). Each setting's cells are cached under ``--out/<setting>/cells`` so
runs resume and settings can be run one at a time (``--settings``); the table is written from every setting that
has all its cells (``--table-only`` just aggregates).

Usage (one command for the whole table; UGRN_CACHE_DIR holds the probes of both checkpoints):
    UGRN_CACHE_DIR=/work/cache/ugrn python -m benchmarks.levers --twin-checkpoint /work/cache/twin_ckpt \\
        --out /work/cache/levers/runs --md benchmarks/results/levers.md
Settings that need new probes ("corpus-values": VVP at virtual values from the pretraining corpus) compute them for
both checkpoints on first use (about 7 min each on 2 CPU cores).

Settings change the paper's projector training (``PAPER_OPTIONS``: no weight decay, dropout or early stopping), not
``translator.DEFAULT_OPTIONS`` (regularised since 2026-12-06): the "paper" row stays the paper's.

Model levers: ``--extra-checkpoint NAME=FOLDER`` (repeatable) adds a setting NAME that runs the default probe
parameters and the paper's training on another checkpoint (e.g. one pretrained with ``ugrn pretrain --exclude-cells`` or
for more steps) against that checkpoint's own random-init twin (made under the cache directory on first use; its
probes are computed like the checkpoint's, about 10 min per model for the six gene sets on 2 CPU cores).
``--no-extra-twin`` skips those twins (their rows are then n/a).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ugrn_core import config, scfm
from ugrn_core.bench import presets
from ugrn_core.bench.controls import load_twin
from ugrn_core.data.datasets import list_datasets, load_beeline
from ugrn_core.probes.params import ProbeParams
from ugrn_core.bench.suite import Suite, SuiteConfig
from ugrn_core.translator import PAPER_OPTIONS, REGULARISED_OPTIONS

METHODS = ("Emb", "VVP", "GDT", "Ens")
NO_EMB = ("VVP", "GDT", "Ens")  # settings that change only VVP/GDT probes: Emb is the paper setting's
RAW = {"feature_norm": "none"}  # the paper's raw features, pinned whatever ProbeParams' default is
REGULARISED = {k: v for k, v in REGULARISED_OPTIONS.to_dict().items() if k != "epochs"}  # wd, dropout, early stop


def corpus_values(n_cells: int = 3000, seed: int = 0) -> dict:
    """Virtual values from the distribution of input values the bundled model saw in pretraining.

    Draws ``n_cells`` training cells the way ``pretrain`` does (``pretrain._sample_batch``: 512 genes per cell, half
    from the expressed genes), pools their input values (bins 0..50, before masking) and returns:
    v0 = their mean (rounded to 0.5; the average input value), target values = 0 and the 1/8 … 7/8 quantiles of
    the non-zero values (the expressed range as the model saw it; a value within 0.5 of v0 is moved by 2.5 away
    from it, since t = v0 gives a zero response). Also the zero fraction, for the record.
    """
    from ugrn_core.scfm.pretrain import PretrainConfig, _sample_batch, load_corpus

    cfg = PretrainConfig()
    rng = np.random.default_rng(seed)
    corpora = load_corpus(n_bins=cfg.n_bins)
    ckpt = scfm.load_checkpoint(config.DEFAULT_CHECKPOINT_DIR, "cpu")
    vals = []
    weights = np.asarray([len(c.X) for c in corpora], dtype=float)
    for k in rng.choice(len(corpora), size=n_cells, p=weights / weights.sum()):
        c = corpora[k]
        _, val, target, _ = _sample_batch(c, rng.integers(0, len(c.X), size=1), ckpt.vocab, cfg, rng)
        vals.append(target[0, 1:])
    v = np.concatenate(vals)
    v0 = float(np.round(v.mean() * 2) / 2)
    q = np.quantile(v[v > 0], np.arange(1, 8) / 8)
    targets = [0.0] + [float(np.round(x)) for x in q]
    targets = [t if abs(t - v0) > 0.5 else t + (2.5 if t >= v0 else -2.5) for t in targets]
    return {"v0": v0, "target_values": targets, "zero_fraction": round(float((v == 0).mean()), 3),
            "mean_nonzero": round(float(v[v > 0].mean()), 2), "n_values": int(len(v)), "n_cells": n_cells}


def settings(out: Path) -> dict[str, dict]:
    """name → {"params": ProbeParams kwargs, "options": TrainOptions changes to the paper's training, "note": what it
    changes, optional "methods" (default ``METHODS``; settings that leave Emb unchanged skip it) and "twin" (default
    True)}."""
    s = {
        "paper": {"params": RAW, "options": {}, "note": "paper: raw features, 50 epochs, no regularisation"},
        "early-stop": {"params": RAW, "options": {"val_fraction": 0.15, "patience": 5},
                       "note": "early stopping on 15 % held-out training pairs (stratified), patience 5"},
        "wd+dropout": {"params": RAW, "options": {"weight_decay": 1e-4, "dropout": 0.2},
                       "note": "weight decay 1e-4, dropout 0.2"},
        "regularised": {"params": RAW, "options": REGULARISED, "note": "early stopping + weight decay + dropout"},
        "context-size": {"params": {"feature_norm": "context-size"}, "options": {}, "methods": NO_EMB,
                         "note": "VVP/GDT probe × N (= 1/N context scaling × N/N_train)"},
        "context-z": {"params": {"feature_norm": "context-z"}, "options": {},
                      "note": "VVP/GDT standardised over all candidate pairs of the context"},
        "context-rank": {"params": {"feature_norm": "context-rank"}, "options": {}, "methods": NO_EMB,
                         "note": "VVP/GDT normal scores of ranks over all candidate pairs of the context"},
        "context-z+reg": {"params": {"feature_norm": "context-z"}, "options": REGULARISED,
                          "note": "context-z + early stopping + weight decay + dropout"},
        "context-rank+reg": {"params": {"feature_norm": "context-rank"}, "options": REGULARISED,
                             "note": "context-rank + early stopping + weight decay + dropout"},
    }
    vfile = out / "corpus_values.json"
    if vfile.is_file():
        cv = json.loads(vfile.read_text())
        s["corpus-values"] = {"params": {**RAW, "v0": cv["v0"], "target_values": tuple(cv["target_values"])}, "options": {},
                              "methods": ("VVP",), "twin": False,
                              "note": f"VVP v0 {cv['v0']:g}, targets {', '.join(f'{t:g}' for t in cv['target_values'])} "
                                      f"(pretraining input values: mean, 0 + non-zero octiles); VVP only, no twin "
                                      f"(CPU budget)"}
    return s


def lever_jobs():
    """The table1 preset's jobs (TFs+500), restricted to test datasets with expression (the ones averaged)."""
    return [(train, [t for t in tests if load_beeline(t).has_expression], r)
            for train, tests, r in presets.jobs("table1", list_datasets(), (500,))]


def checkpoint_settings(items, twin: bool = True) -> dict[str, dict]:
    """Settings of ``--extra-checkpoint NAME=FOLDER`` items: the default probe parameters and training options on
    the checkpoint in FOLDER (``"checkpoint"``), with its own twin when ``twin``. Raises SystemExit on a bad item."""
    out = {}
    for item in items or ():
        name, sep, folder = item.partition("=")
        if not sep or not name or not Path(folder).is_dir():
            sys.exit(f"--extra-checkpoint: expected NAME=FOLDER with an existing checkpoint folder, got {item!r}")
        args = json.loads((Path(folder) / "args.json").read_text()) if (Path(folder) / "args.json").is_file() else {}
        summary = Path(folder) / "training_summary.json"
        extra = json.loads(summary.read_text()) if summary.is_file() else {}
        what = ", ".join(f"{k} {args[k]}" for k in ("embsize", "nlayers", "nheads", "d_hid") if k in args)
        steps = extra.get("total_steps") or extra.get("config", {}).get("steps")
        if steps:
            what += f", {steps} steps"
        if extra.get("excluded"):
            what += f", corpus without {','.join(extra['excluded'])}"
        out[name] = {"params": {}, "options": {}, "checkpoint": folder, "twin": twin,
                     "note": f"checkpoint {folder} ({what}); default probes (context-z), the paper's training"}
    return out


def run_setting(name: str, spec: dict, fm, twin, seeds, out: Path) -> pd.DataFrame:
    """Rows of one setting (``Suite.run`` over the table1 jobs; cells cached under ``out/<name>``). A setting with a
    ``"checkpoint"`` folder runs on that checkpoint and its own twin instead of ``fm`` / ``twin``."""
    methods = tuple(spec.get("methods", METHODS))
    if spec.get("checkpoint"):
        extra = scfm.load_checkpoint(spec["checkpoint"], "cpu")
        # a random-init twin depends only on the architecture, the vocabulary and the twin seed: a checkpoint that
        # shares them with fm (e.g. more or fewer training steps) shares fm's twin and its cached probes
        same = extra.vocab == fm.vocab and all(extra.args.get(k) == fm.args.get(k) for k in scfm.ARCH_KEYS)
        twin = (twin if same and twin is not None else load_twin(extra)) if spec.get("twin", True) else None
        fm = extra
    controls = ("twin", "degree-prior") if spec.get("twin", True) else ("degree-prior",)
    # a setting's options are changes to the paper's training (as when it was the default), whatever
    # translator.DEFAULT_OPTIONS is now: the same cells (and cache keys) as before the default became regularised
    options = {k: v for k, v in {**PAPER_OPTIONS.to_dict(), **spec["options"]}.items() if k != "epochs"}
    cfg = SuiteConfig(methods=methods, peers=("|Pearson|",), controls=controls, seeds=tuple(seeds),
                      negatives=("uniform",), twin_methods=methods, train_options=options)
    suite = Suite(fm, cfg, out / name, twin_fm=twin, params=ProbeParams(**spec["params"]))
    jobs = lever_jobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = suite.run(jobs)
    rows["setting"] = name
    return rows


def cells_on_disk(folder: Path, seeds) -> pd.DataFrame | None:
    """Every row cached under ``folder/cells`` (model rows and peer rows, in the suite's current layout or the older
    one that kept both in one file), restricted to ``seeds``; the last file wins for a repeated (cell, method, view).
    None when there is no cell. Used by ``--table-only``, which aggregates without loading the suite."""
    files = sorted((folder / "cells").glob("*.csv"), key=lambda f: f.stat().st_mtime) if (folder / "cells").is_dir() else []
    if not files:
        return None
    rows = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    rows["note"] = rows["note"].fillna("")
    rows = rows.drop_duplicates(["train", "test", "seed", "negatives", "np_ratio", "method", "view"], keep="last")
    return rows[rows["seed"].isin(list(seeds))].reset_index(drop=True)


def summarise(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per setting: mean over seeds of the per-seed average of ``metric`` over test datasets with expression."""
    with_expr = {d for d in rows["test"].unique() if load_beeline(d).has_expression}
    r = rows[(rows["view"] == "all") & rows["test"].isin(with_expr)]
    per_seed = r.groupby(["setting", "method", "seed"])[metric].mean().unstack("method")
    cols = {m: m for m in METHODS} | {f"{m} (twin)": f"{m} twin" for m in METHODS} | {"Degree prior": "Degree prior",
                                                                                       "|Pearson|": "|Pearson|"}
    per_seed = per_seed.reindex(columns=list(cols)).rename(columns=cols)  # methods a setting skipped: NaN
    for m in METHODS:
        per_seed[f"{m} − twin"] = per_seed[m] - per_seed[f"{m} twin"]
    per_seed["Ens − degree prior"] = per_seed["Ens"] - per_seed["Degree prior"]
    per_seed["max(VVP,GDT) − Emb"] = per_seed[["VVP", "GDT"]].max(axis=1) - per_seed["Emb"]
    if "paper" in per_seed.index.get_level_values("setting"):  # Emb where a setting did not change it
        emb = per_seed.xs("paper", level="setting")["Emb"]
        skipped = per_seed["Emb"].isna()
        filled = emb.reindex(per_seed.index.get_level_values("seed")).to_numpy()
        per_seed["max(VVP,GDT) − Emb"] = per_seed[["VVP", "GDT"]].max(axis=1) - np.where(skipped, filled, per_seed["Emb"])
    if "paper" in per_seed.index.get_level_values("setting"):  # paired over seeds: same training and test pairs
        base = per_seed.xs("paper", level="setting")
        for m in ("VVP", "GDT", "Ens"):
            per_seed[f"{m} − paper"] = per_seed[m] - base[m].reindex(per_seed.index.get_level_values("seed")).to_numpy()
    mean = per_seed.groupby("setting").mean()
    sd = per_seed.groupby("setting").std()
    n = per_seed.groupby("setting").size()
    return mean, sd, n, len(with_expr)


def markdown(rows: pd.DataFrame, notes: dict, meta: dict) -> str:
    order = [s for s in notes if s in set(rows["setting"])]
    parts = ["# Lever table (issue 13, section 2)", "",
             "Paper protocol (table1 preset): train STRING/hESC/500, test the TFs+500 datasets of the other cell types "
             "(training cell type excluded), uniform negatives at N/P 1, training pairs removed. Each number: average "
             "over the test datasets with expression, then mean over seeds (± sd over seeds). Twin = the same "
             "architecture, random-init, never trained (controls.make_twin); degree prior = training-label TF "
             "out-degree + target in-degree (no model).", "",
             f"Command: `{meta['command']}`", "",
             f"Seeds {meta['seeds']}; checkpoint {meta['checkpoint']} ({meta['checkpoint_id']}), twin "
             f"{meta['twin_checkpoint_id']}; " + ("aggregated from cells computed by earlier runs of this command "
             "(about 3–4 min per setting on 2 CPU cores with cached probes)." if meta.get("table_only") else
             f"wall time {meta['wall_s']} s (cells already on disk are read, not recomputed)."), ""]
    for metric in ("AUPRC", "AUROC"):
        mean, sd, n, n_ds = summarise(rows, metric)
        mean, sd = mean.loc[order], sd.loc[order]
        parts += [f"## {metric} (mean over {n_ds} test datasets with expression)", ""]
        main = ["Emb", "VVP", "GDT", "Ens", "Emb twin", "VVP twin", "GDT twin", "Ens twin", "Degree prior", "|Pearson|"]
        fmt = lambda v, e, sign="": "n/a" if pd.isna(v) else f"{v:{sign}.3f} ± {e:.3f}"  # noqa: E731
        tab = pd.DataFrame({c: [fmt(mean.loc[s, c], sd.loc[s, c]) for s in order] for c in main}, index=order)
        tab.insert(0, "seeds", [int(n.loc[s]) for s in order])
        parts += [tab.to_markdown(), ""]
        diffs = ["Emb − twin", "VVP − twin", "GDT − twin", "Ens − twin", "Ens − degree prior", "max(VVP,GDT) − Emb"]
        diffs += [c for c in ("VVP − paper", "GDT − paper", "Ens − paper") if c in mean]
        tab = pd.DataFrame({c: [fmt(mean.loc[s, c], sd.loc[s, c], "+") for s in order] for c in diffs}, index=order)
        parts += [f"Differences ({metric}; per seed, then mean ± sd over seeds; \"− paper\" is paired with the paper "
                  "setting at the same seed):", "", tab.to_markdown(), ""]
    parts += ["n/a: not run in that setting (Emb is unchanged by feature normalisation and virtual values: see the "
              "paper row; \"max(VVP,GDT) − Emb\" then uses the paper setting's Emb at the same seed).", "",
              "## Settings", ""] + [f"- **{s}**: {notes[s]}" for s in order] + [""]
    if meta.get("corpus_values"):
        parts += ["Pretraining input values (corpus-values setting): " + json.dumps(meta["corpus_values"]), ""]
    parts += ["Goal (issue 13): Ens AUPRC ≥ degree prior + 0.05 and ≥ Ens twin + 0.05, and VVP or GDT ≥ Emb.", ""]
    return "\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=str(config.DEFAULT_CHECKPOINT_DIR))
    ap.add_argument("--twin-checkpoint", default=None, help="twin folder (default: made with controls.load_twin)")
    ap.add_argument("--out", default="results/levers", help="folder for per-setting cells")
    ap.add_argument("--md", default="benchmarks/results/levers.md")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--settings", default="all", help="comma-separated setting names, or 'all'")
    ap.add_argument("--table-only", action="store_true", help="only aggregate settings whose cells are all on disk")
    ap.add_argument("--extra-checkpoint", action="append", default=[], metavar="NAME=FOLDER",
                    help="add a model-lever setting NAME run on the checkpoint in FOLDER (repeatable)")
    ap.add_argument("--no-extra-twin", action="store_true", help="skip the twins of --extra-checkpoint settings")
    ap.add_argument("--derive-values", action="store_true",
                    help="compute the corpus-values setting's virtual values (writes <out>/corpus_values.json)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.derive_values or (not (out / "corpus_values.json").is_file() and not args.table_only):
        cv = corpus_values()
        (out / "corpus_values.json").write_text(json.dumps(cv, indent=2))
        print("corpus values", cv, flush=True)
        if args.derive_values:
            return
    fm = scfm.load_checkpoint(args.checkpoint, "cpu")
    twin = scfm.load_checkpoint(args.twin_checkpoint, "cpu") if args.twin_checkpoint else load_twin(fm)
    all_settings = settings(out) | checkpoint_settings(args.extra_checkpoint, twin=not args.no_extra_twin)
    names = list(all_settings) if args.settings == "all" else args.settings.split(",")
    unknown = [n for n in names if n not in all_settings]
    if unknown:
        sys.exit(f"unknown settings {unknown}; expected some of {list(all_settings)}")
    frames = []
    for name in names:
        t = time.perf_counter()
        if args.table_only:
            rows = cells_on_disk(out / name, args.seeds)
            need = len(lever_jobs()[0][1]) * len(args.seeds)
            have = 0 if rows is None else len(rows.groupby(["test", "seed"]))
            if have < need:
                print(f"{name}: {have}/{need} cells on disk, left out", flush=True)
                continue
            frames.append(rows.assign(setting=name))
            continue
        frames.append(run_setting(name, all_settings[name], fm, twin, args.seeds, out))
        print(f"{name}: {round(time.perf_counter() - t, 1)} s", flush=True)
    rows = pd.concat(frames, ignore_index=True)
    rows.to_csv(out / "rows.csv", index=False)
    argv = [a for a in sys.argv[1:] if a != "--table-only"]  # the command that computes the cells too
    cmd = "UGRN_CACHE_DIR=/work/cache/ugrn python -m benchmarks.levers " + " ".join(argv)
    cv_file = out / "corpus_values.json"
    meta = {"command": cmd, "seeds": args.seeds, "checkpoint": Path(args.checkpoint).name,
            "checkpoint_id": fm.checkpoint_id, "twin_checkpoint_id": twin.checkpoint_id,
            "wall_s": round(time.perf_counter() - t0, 1), "table_only": args.table_only,
            "corpus_values": json.loads(cv_file.read_text()) if cv_file.is_file() else None}
    md = markdown(rows, {k: v["note"] for k, v in all_settings.items()}, meta)
    Path(args.md).parent.mkdir(parents=True, exist_ok=True)
    Path(args.md).write_text(md)
    print(md)


if __name__ == "__main__":
    main()
