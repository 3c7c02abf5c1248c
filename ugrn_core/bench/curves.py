"""Per-pair scores kept for ROC / PR curves: one ``scores.npz`` format for a benchmark folder (``BenchmarkResult``,
a preset's folder), and the suite's per-cell score files from which a preset's ``scores.npz`` is gathered.

A suite keeps the scores of one slice only (the configuration's first seed, first negative mode and first N/P ratio;
view "all"), for the methods, peers and the degree prior (not the twin or shuffled-label controls): enough to draw
the curves of every test dataset without storing every seed (``curve_slice``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._io import atomic_write

#: score variants kept for curves (``Suite._rows``' variant column): the methods, the peers and the degree prior
CURVE_VARIANTS = ("real", "peer", "control")


def write_scores_npz(path: str | os.PathLike, scores: dict) -> Path:
    """Write ``scores`` = {(method, dataset): (y_true (P,) in {0, 1}, y_score float (P,))} to ``path`` (compressed
    npz, keys ``"method|dataset|y"`` int8 and ``"method|dataset|s"`` float32), atomically."""
    arrays = {f"{m}|{d}|{k}": v for (m, d), (y, s) in scores.items()
              for k, v in (("y", np.asarray(y).astype(np.int8)), ("s", np.asarray(s).astype(np.float32)))}

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    return atomic_write(path, write)


def read_scores_npz(path: str | os.PathLike) -> dict:
    """Read a file written by ``write_scores_npz``: {(method, dataset): (y_true int8 (P,), y_score float32 (P,))};
    {} when ``path`` does not exist."""
    path = Path(path)
    if not path.is_file():
        return {}
    out = {}
    with np.load(path, allow_pickle=False) as z:
        for key in z.files:
            m, d, k = key.rsplit("|", 2)
            if k == "y":
                out[(m, d)] = (z[key], z[f"{m}|{d}|s"])
    return out


def curve_slice(config) -> tuple[int, str, float]:
    """(seed, negative mode, N/P ratio) of the cells whose per-pair scores a suite with ``config``
    (``suite.SuiteConfig``) keeps: the first of each."""
    return int(config.seeds[0]), str(config.negatives[0]), float(config.np_ratios[0])


def cell_scores_path(cell_csv: Path) -> Path:
    """The per-pair score file beside a cell's rows file ``cell_csv`` (``<cell>.scores.npz``)."""
    return cell_csv.with_name(cell_csv.stem + ".scores.npz")


def write_cell_scores(cell_csv: Path, test: str, labels: np.ndarray, scores: dict) -> None:
    """Keep the per-pair scores of one cell: ``scores`` maps (name, base, variant, family) → float array (P,) or an
    "n/a" reason (skipped), as in ``Suite._rows``; only ``CURVE_VARIANTS`` are kept, labelled with ``test``."""
    keep = {(name, test): (labels, s) for (name, _base, variant, _fam), s in scores.items()
            if variant in CURVE_VARIANTS and not isinstance(s, str)}
    if keep:
        write_scores_npz(cell_scores_path(cell_csv), keep)


def gather(cell_csvs) -> dict:
    """The per-pair scores of the cells whose rows files are ``cell_csvs`` (those without a score file are
    skipped), merged into one {(method, dataset): (y, s)}."""
    out = {}
    for p in cell_csvs:
        out.update(read_scores_npz(cell_scores_path(Path(p))))
    return out
