"""One benchmark preset end to end: the seeded suite of runs (``suite.Suite``) over the preset's jobs
(``presets.jobs``), then its folder of rows, tables and report (``report.write_preset``). ``ugrn benchmark --preset``
and ``make benchmark-all`` call ``run_preset``."""

from __future__ import annotations

import time
from pathlib import Path

from ..data.datasets import list_datasets
from .presets import PRESETS, jobs
from .curves import curve_slice, write_scores_npz
from .report import write_preset
from .suite import Suite, environment, suite_config


def run_preset(name: str, fm, out, twin_fm=None, data_dir=None, sizes=(500,), seeds=None, negatives=None,
               controls=None, peers=None, methods=None, command: str = "", progress=None, include_train_cell=None,
               twin_methods=None, order: str = "forward", train_states: dict | None = None,
               train_options: dict | None = None, engine=None):
    """Run preset ``name`` (cells cached under ``out/cells``, shared by every preset written under ``out``, so an
    interrupted run resumes and a cell two tables share is computed once) and write its folder ``out/<name>``
    (``report.write_preset``). Returns (rows DataFrame, folder Path).

    ``train_states``: a dict shared by the presets of one process (``Suite``), so translators are fitted once.
    ``twin_fm`` None skips the twin rows. ``order``: "forward" or "reverse" (``Suite.run``: a second process on the
    same ``out`` with the other order shares the work). ``train_options``: projector training options other than
    epochs (``SuiteConfig.train_options``; None = ``translator.DEFAULT_OPTIONS``). ``engine``: an ``engine.Engine``
    (a Dask cluster) that first writes the missing cells as tasks (probes, translators, cells); the serial pass then
    only reads them. Other arguments override the preset's ``SuiteConfig`` (``suite_config``).
    """
    t0 = time.perf_counter()
    cfg = suite_config(name, seeds, negatives, controls, peers, methods, twin_methods)
    if include_train_cell is not None:
        cfg.include_train_cell = bool(include_train_cell) or PRESETS[name].include_train_cell
    if train_options is not None:
        cfg.train_options = dict(train_options)
    folder = Path(out) / name
    suite = Suite(fm, cfg, folder, twin_fm=twin_fm, data_dir=data_dir, progress=progress,
                  cells_dir=Path(out) / "cells", train_states=train_states)
    js = jobs(name, list_datasets(data_dir), sizes, cfg.include_train_cell)
    if engine is not None:
        engine.run_suite(suite, js)
    rows = suite.run(js, order=order)
    meta = {"preset": name, "title": PRESETS[name].title, "command": command,
            "train": js[0][0] if len({t for t, _, _ in js}) == 1 else f"{len(js)} training datasets",
            "pair_mode": "balanced", "np_ratio": list(cfg.np_ratios), "seed": list(cfg.seeds),
            "negatives": list(cfg.negatives), "jobs": [[t, list(s)] for t, s, _ in js],
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.__dict__.items()},
            "params": suite.params.to_dict(), "checkpoint": fm.path.name if fm.path else None,
            "checkpoint_id": fm.checkpoint_id, "twin_checkpoint_id": twin_fm.checkpoint_id if twin_fm else None,
            "training_pairs": "all positives + 1:1 uniform negatives of the training dataset, per seed",
            "wall_s": round(time.perf_counter() - t0, 1), "versions": environment()}
    scores = suite.curve_scores(js)
    if scores:  # ROC / PR curves of one slice (BenchmarkResult's scores.npz format)
        seed, negatives, np_ratio = curve_slice(cfg)
        meta["curves"] = {"seed": seed, "negatives": negatives, "np_ratio": np_ratio, "view": "all"}
        write_scores_npz(folder / "scores.npz", scores)
    write_preset(rows, name, folder, meta)
    return rows, folder
