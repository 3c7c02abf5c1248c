"""GRNBoost2 (Moerman et al. 2019, arboreto): per-target stochastic gradient boosting on the TFs' expression; the
importance of TF i in the model of target j scores the edge i → j. A peer run within each test dataset, no labels.

Implementation: arboreto 0.1.6's own code, without dask, as pySCENIC's dask-free runner
(``pyscenic/cli/arboreto_with_multiprocessing.py``) does it: ``arboreto.core.to_tf_matrix`` builds the regulator
matrix and ``arboreto.core.infer_partial_network("GBM", SGBM_KWARGS, ...)`` fits one target at a time (its
scikit-learn ``GradientBoostingRegressor`` with learning rate 0.01, up to 5000 trees, max_features 0.1, subsample 0.9,
its early-stopping monitor, importances ``feature_importances_ × n_trees``, the target removed from its own
regulators), over a process pool of ``n_workers`` (arboreto's ``grnboost2`` needs a dask cluster: its default local
cluster fails to start here, and with a ``distributed.Client`` it was ~3× slower on 2 cores, see notes/libraries.md).
Identical to ``arboreto.algo.grnboost2`` with the same seed (tests/test_peers.py checks it on real expression). A
target whose expression is constant gets importance 0 for every TF without a fit (arboreto would grow all 5000 trees
to find the same zeros). Results (a TF × gene importance matrix) are cached on disk per expression matrix, TF list,
seed and arboreto's settings.

Requires the optional extra ``peers`` (arboreto 0.1.6 and the dask/distributed it imports); without it, scoring raises
an error naming the install command.
"""

from __future__ import annotations

import contextlib
import sys
import types
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from ._peer_matrix import cached_peer_matrix, expression_fingerprint, peer_scores, sorted_expression
from .base import Family, MethodSpec, ScoringContext
from ..errors import DataError, ParameterError

INSTALL = ("pip install arboreto==0.1.6 'dask[dataframe]==2024.12.1' distributed==2024.12.1 "
           "(or the project's extra: pip install '.[peers]')")


def _arboreto():
    """The module ``arboreto.core``. Raises: ParameterError naming the install command when arboreto is missing."""
    try:
        from arboreto import core
    except ImportError as e:
        raise ParameterError(f"GRNBoost2 runs arboreto's own code and needs the optional packages of the 'peers' "
                             f"extra ({e}): {INSTALL}") from None
    return core


def arboreto_settings() -> tuple[dict, int]:
    """arboreto's GRNBoost2 settings: (``SGBM_KWARGS`` dict, early-stopping window length). Raises as ``_arboreto``."""
    core = _arboreto()
    return dict(core.SGBM_KWARGS), int(core.EARLY_STOP_WINDOW_LENGTH)


_WORKER: dict = {}


@contextlib.contextmanager
def _bare_main():
    """Start spawned workers without re-running the caller's ``__main__``.

    A spawned worker normally re-imports the parent's main script (``multiprocessing.spawn``); inside a Streamlit page
    or a test runner that script is a page or a temporary file, which must not run (or no longer exists) in a worker.
    The workers need only this module's functions, importable by name, so the parent's ``__main__`` is replaced by an
    empty module while the pool starts its processes, and restored afterwards.
    """
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def _init_worker(X_tf: np.ndarray, tf_names: list[str], seed: int) -> None:
    """Pool initialiser: the TF expression matrix, its names and the seed are sent once per worker, not per target."""
    _WORKER["X_tf"], _WORKER["tf_names"], _WORKER["seed"] = X_tf, tf_names, seed


def _one_target(args) -> tuple[int, np.ndarray]:
    """Importances float64 (n_tfs,) of every TF (``_WORKER["tf_names"]`` order) for target column ``j`` named
    ``name``, from ``arboreto.core.infer_partial_network`` (0 for the target itself and for TFs it drops as 0)."""
    y, j, name = args
    core = _arboreto()
    X_tf, tf_names, seed = _WORKER["X_tf"], _WORKER["tf_names"], _WORKER["seed"]
    out = np.zeros(len(tf_names))
    if np.ptp(y) == 0 or tf_names == [name]:
        return j, out
    links = core.infer_partial_network("GBM", core.SGBM_KWARGS, X_tf, tf_names, name, y, include_meta=False,
                                       early_stop_window_length=core.EARLY_STOP_WINDOW_LENGTH, seed=seed)
    pos = {t: k for k, t in enumerate(tf_names)}
    out[[pos[t] for t in links["TF"]]] = links["importance"].to_numpy(dtype=float)
    return j, out


def grnboost2_matrix(X: np.ndarray, genes: list[str], tfs: list[str], seed: int = 0, n_workers: int = 2,
                     progress=None) -> np.ndarray:
    """GRNBoost2 importance matrix float64 (n_tfs, n_genes): entry [i, j] scores TF ``tfs[i]`` → ``genes[j]``; the
    values ``arboreto.algo.grnboost2(X, gene_names=genes, tf_names=tfs, seed=seed)`` gives as its ``importance``
    column (0 where it lists no link).

    Args:
        X: expression float (cells, genes), columns in ``genes`` order (BEELINE's log-normalised values as given).
        tfs: regulators (each must be in ``genes``); arboreto orders the regulator matrix by ``genes``.
        n_workers: processes of the pool (1 = in-process).
    Raises: DataError when a TF is not among the genes; ParameterError when arboreto is not installed.
    """
    core = _arboreto()
    col = {g: k for k, g in enumerate(genes)}
    missing = [t for t in tfs if t not in col]
    if missing:
        raise DataError(f"GRNBoost2: regulators {missing[:5]} are not in the expression matrix")
    X_tf, tf_names = core.to_tf_matrix(np.asarray(X), list(genes), set(tfs))
    X_tf = np.ascontiguousarray(X_tf)
    jobs = [(np.ascontiguousarray(X[:, j]), j, g) for j, g in enumerate(genes)]
    by_name = np.zeros((len(tf_names), X.shape[1]))
    _init_worker(X_tf, tf_names, seed)
    if n_workers > 1:
        import multiprocessing as mp

        with _bare_main(), ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn"),
                                               initializer=_init_worker, initargs=(X_tf, tf_names, seed)) as pool:
            for k, (j, imp) in enumerate(pool.map(_one_target, jobs, chunksize=8)):
                by_name[:, j] = imp
                if progress and k % 50 == 0:
                    progress(k, len(jobs), "GRNBoost2 targets")
    else:
        for k, job in enumerate(jobs):
            j, imp = _one_target(job)
            by_name[:, j] = imp
            if progress and k % 50 == 0:
                progress(k, len(jobs), "GRNBoost2 targets")
    row = {t: k for k, t in enumerate(tf_names)}
    return by_name[[row[t] for t in tfs]]


def _cached_matrix(ds, seed: int, progress=None) -> tuple[np.ndarray, dict, dict]:
    """GRNBoost2 matrix float64 (n_tfs, n_genes) of dataset ``ds`` (disk-cached), TF → row and gene → column."""
    X, col = sorted_expression(ds)
    genes = list(col)
    tfs = sorted(t for t in ds.tfs if t in col)
    sgbm_kwargs, window = arboreto_settings()
    M = cached_peer_matrix(
        "GRNBoost2", (sgbm_kwargs, window, seed, tfs, genes, *expression_fingerprint(X)),
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
    reference="Moerman et al. 2019 (arboreto 0.1.6, its own per-target regression)",
    needs_expression=True,
    score=_score,
    order=810.0,
    roles=("summary column",),
)
