"""Supervised baselines without expression from the InfoSEM paper (Sec. 5, App. C): one-hot logistic regression
and low-rank matrix completion of the partially observed TF × gene label matrix Y.

Both only see training labels; on the unseen-genes split they have nothing to go on for unseen genes (their one-hot
features are all zero, their rows/columns of Y are unobserved), so they fall to the random baseline there: that
is the paper's point (they exploit per-gene degree biases on the seen-genes split).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import DataError, ParameterError


def soft_impute(Y: np.ndarray, observed: np.ndarray, rank: int = 128, shrinkage: float | None = None,
                max_iter: int = 100, tol: float = 1e-5) -> np.ndarray:
    """SoftImpute (Mazumder, Hastie & Tibshirani, JMLR 2010, Alg. 1) with an optional rank cap (fancyimpute-style).

    Iterates Z ← S_λ(P_Ω(Y) + P_Ω⊥(Z)), where S_λ soft-thresholds the singular values by λ and keeps at most
    ``rank`` of them, until the relative change ‖Z_new − Z‖_F² / ‖Z‖_F² < tol.

    Args:
        Y: float (m, n); entries outside ``observed`` are ignored.
        observed: bool (m, n) mask Ω of known entries.
        rank: maximum rank kept, ≥ 1.
        shrinkage: λ ≥ 0; default (as fancyimpute) the largest singular value of the zero-filled matrix / 50.
        max_iter: iteration cap.
        tol: convergence threshold.

    Returns: float64 (m, n) completed matrix (observed entries are *not* forced to Y: it is the low-rank estimate).
    Raises: ValueError for mismatched shapes, rank < 1 or no observed entry.
    """
    Y = np.asarray(Y, dtype=np.float64)
    M = np.asarray(observed, dtype=bool)
    if Y.shape != M.shape or Y.ndim != 2:
        raise DataError(f"Y {Y.shape} and observed {M.shape} must be the same 2-D shape")
    if rank < 1:
        raise ParameterError(f"rank must be ≥ 1, got {rank}")
    if not M.any():
        raise DataError("no observed entry to complete from")
    X0 = np.where(M, Y, 0.0)
    if shrinkage is None:
        shrinkage = np.linalg.norm(X0, 2) / 50.0
    Z = np.zeros_like(X0)
    for _ in range(max_iter):
        U, s, Vt = np.linalg.svd(np.where(M, Y, Z), full_matrices=False)
        s = np.maximum(s[:rank] - shrinkage, 0.0)
        Z_new = (U[:, :rank] * s) @ Vt[:rank]
        denom = max((Z ** 2).sum(), 1e-12)
        change = ((Z_new - Z) ** 2).sum() / denom
        Z = Z_new
        if change < tol:
            break
    return Z


def matrix_completion_scores(train: pd.DataFrame, pairs: pd.DataFrame, rank: int = 128) -> np.ndarray:
    """Score ``pairs`` by SoftImpute of the TF × target label matrix observed at ``train`` (labels 0/1).

    Returns float64 (len(pairs),). TFs/targets absent from training get the completed value of an unobserved
    row/column (0 when nothing links them).
    """
    tfs = pd.Index(pd.unique(pd.concat([train["tf"], pairs["tf"]])))
    tgs = pd.Index(pd.unique(pd.concat([train["target"], pairs["target"]])))
    Y = np.zeros((len(tfs), len(tgs)))
    obs = np.zeros_like(Y, dtype=bool)
    i, k = tfs.get_indexer(train["tf"]), tgs.get_indexer(train["target"])
    Y[i, k] = train["label"].to_numpy(dtype=np.float64)
    obs[i, k] = True
    Z = soft_impute(Y, obs, rank=min(rank, min(Y.shape)))
    return Z[tfs.get_indexer(pairs["tf"]), tgs.get_indexer(pairs["target"])].astype(np.float64)


def onehot_lr_scores(train: pd.DataFrame, pairs: pd.DataFrame, seed: int = 0,
                     Cs=(0.01, 0.1, 1.0, 10.0)) -> np.ndarray:
    """One-hot logistic regression (paper Sec. 5): features = one-hot(TF) ⊕ one-hot(target), L2 penalty chosen by
    3-fold cross-validated AUPRC on the training pairs (sklearn ``LogisticRegressionCV``).

    Returns the predicted logit, float64 (len(pairs),). Raises ValueError when training has one class only.
    """
    from sklearn.linear_model import LogisticRegressionCV

    y = train["label"].to_numpy()
    if len(np.unique(y)) < 2:
        raise DataError("one-hot LR needs positive and negative training pairs")
    tfs = pd.Index(pd.unique(pd.concat([train["tf"], pairs["tf"]])))
    tgs = pd.Index(pd.unique(pd.concat([train["target"], pairs["target"]])))

    def design(df: pd.DataFrame) -> sparse.csr_matrix:
        n = len(df)
        rows = np.repeat(np.arange(n), 2)
        cols = np.stack([tfs.get_indexer(df["tf"]), len(tfs) + tgs.get_indexer(df["target"])], 1).ravel()
        return sparse.csr_matrix((np.ones(2 * n), (rows, cols)), shape=(n, len(tfs) + len(tgs)))

    cv = min(3, int(np.bincount(y.astype(int)).min()))
    model = LogisticRegressionCV(Cs=list(Cs), cv=max(cv, 2), scoring="average_precision", max_iter=1000,
                                 random_state=seed)
    model.fit(design(train), y)
    return model.decision_function(design(pairs)).astype(np.float64)
