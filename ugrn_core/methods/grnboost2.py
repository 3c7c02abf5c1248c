"""GRNBoost2 (Moerman et al. 2019, arboreto): per-target stochastic gradient boosting on the TFs' expression; the
importance of TF i in the model of target j scores the edge i → j. A peer run within each test dataset, no labels.

Implementation: arboreto 0.1.6's per-target regression without dask (a process pool of ``n_workers``; arboreto's own
local dask cluster fails to start here and is ~3× slower on 2 cores, see notes/libraries.md): scikit-learn's
``GradientBoostingRegressor`` with arboreto's ``SGBM_KWARGS`` (learning rate 0.01, up to 5000 trees, max_features 0.1,
subsample 0.9), arboreto's early-stopping monitor (stop when the mean out-of-bag improvement over the last 25 rounds
is negative), importances = ``feature_importances_ × n_trees``, the target itself removed from its regulators.
Results (a TF × gene importance matrix) are cached on disk per expression matrix, TF list and seed.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from ._peer_matrix import cached_peer_matrix, expression_fingerprint, peer_scores, sorted_expression
from .base import Family, MethodSpec, ScoringContext
from ..errors import DataError

SGBM_KWARGS = {"learning_rate": 0.01, "n_estimators": 5000, "max_features": 0.1, "subsample": 0.9}
EARLY_STOP_WINDOW = 25


class _EarlyStop:
    """arboreto's EarlyStopMonitor: stop when the mean OOB improvement over the last ``window`` rounds is < 0."""

    def __init__(self, window: int = EARLY_STOP_WINDOW):
        self.window = window

    def __call__(self, i, regressor, _locals):
        if i < self.window - 1:
            return False
        return float(np.mean(regressor.oob_improvement_[i - self.window + 1:i + 1])) < 0


_WORKER: dict = {}


def _init_worker(X_tf: np.ndarray, seed: int) -> None:
    """Pool initialiser: the TF expression matrix and seed are sent once per worker, not once per target."""
    _WORKER["X_tf"], _WORKER["seed"] = X_tf, seed


def _one_target(args) -> tuple[int, np.ndarray]:
    """Importances float64 (n_tfs,) of every TF for target column ``j`` (0 for the target itself)."""
    from sklearn.ensemble import GradientBoostingRegressor

    y, j, self_idx = args
    X_tf, seed = _WORKER["X_tf"], _WORKER["seed"]
    keep = np.ones(X_tf.shape[1], dtype=bool)
    if self_idx >= 0:
        keep[self_idx] = False
    out = np.zeros(X_tf.shape[1])
    if np.ptp(y) == 0 or keep.sum() == 0:
        return j, out
    reg = GradientBoostingRegressor(random_state=seed, **SGBM_KWARGS)
    reg.fit(X_tf[:, keep], y, monitor=_EarlyStop())
    out[keep] = reg.feature_importances_ * len(reg.estimators_)
    return j, out


def grnboost2_matrix(X: np.ndarray, genes: list[str], tfs: list[str], seed: int = 0, n_workers: int = 2,
                     progress=None) -> np.ndarray:
    """GRNBoost2 importance matrix float64 (n_tfs, n_genes): entry [i, j] scores TF ``tfs[i]`` → ``genes[j]``.

    Args:
        X: expression float (cells, genes), columns in ``genes`` order (BEELINE's log-normalised values as given).
        tfs: regulators (each must be in ``genes``).
        n_workers: processes of the pool (1 = in-process).
    Raises: ValueError when a TF is not among the genes.
    """
    col = {g: k for k, g in enumerate(genes)}
    missing = [t for t in tfs if t not in col]
    if missing:
        raise DataError(f"GRNBoost2: regulators {missing[:5]} are not in the expression matrix")
    tf_idx = np.array([col[t] for t in tfs], dtype=np.int64)
    X_tf = np.ascontiguousarray(X[:, tf_idx])
    tf_pos = {int(c): k for k, c in enumerate(tf_idx)}
    jobs = [(np.ascontiguousarray(X[:, j]), j, tf_pos.get(j, -1)) for j in range(X.shape[1])]
    out = np.zeros((len(tfs), X.shape[1]))
    _init_worker(X_tf, seed)
    if n_workers > 1:
        import multiprocessing as mp

        with ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                                 initargs=(X_tf, seed)) as pool:
            for k, (j, imp) in enumerate(pool.map(_one_target, jobs, chunksize=8)):
                out[:, j] = imp
                if progress and k % 50 == 0:
                    progress(k, len(jobs), "GRNBoost2 targets")
    else:
        for k, job in enumerate(jobs):
            j, imp = _one_target(job)
            out[:, j] = imp
            if progress and k % 50 == 0:
                progress(k, len(jobs), "GRNBoost2 targets")
    return out


def _cached_matrix(ds, seed: int, progress=None) -> tuple[np.ndarray, dict, dict]:
    """GRNBoost2 matrix float64 (n_tfs, n_genes) of dataset ``ds`` (disk-cached), TF → row and gene → column."""
    X, col = sorted_expression(ds)
    genes = list(col)
    tfs = sorted(t for t in ds.tfs if t in col)
    M = cached_peer_matrix(
        "GRNBoost2", (SGBM_KWARGS, EARLY_STOP_WINDOW, seed, tfs, genes, *expression_fingerprint(X)),
        lambda: grnboost2_matrix(X, genes, tfs, seed=seed, progress=progress),
        {"dataset": ds.name, "n_cells": int(X.shape[0]), "n_genes": len(genes), "n_tfs": len(tfs), "seed": seed})
    return M, {t: k for k, t in enumerate(tfs)}, col


def _score(ctx: ScoringContext, pairs: pd.DataFrame) -> np.ndarray:
    # seed fixed: a deterministic peer
    return peer_scores(ctx, pairs, "grnboost2", lambda: _cached_matrix(ctx.dataset, 0, ctx.progress))


SPEC = MethodSpec(
    name="GRNBoost2",
    family=Family.EXPRESSION_UNSUPERVISED,
    description="peer: GRNBoost2 per-target gradient-boosting importances on the dataset's expression",
    reference="Moerman et al. 2019 (arboreto 0.1.6 SGBM settings)",
    needs_expression=True,
    score=_score,
    order=810.0,
)
