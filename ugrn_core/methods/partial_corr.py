"""|Partial corr|: absolute partial correlation of TF and target given all other genes (a peer, no labels).

Partial correlation ρ_ij·rest = −Θ_ij / √(Θ_ii Θ_jj), Θ the precision matrix (inverse covariance) of the genes'
standardised expression across the dataset's cells (Whittaker 1990; the Gaussian graphical model view of
co-expression networks, Schäfer & Strimmer 2005). Θ is inverted from scikit-learn's Ledoit–Wolf shrunk covariance,
so it exists with fewer cells than genes. Unlike |Pearson| it discounts indirect co-expression (a shared regulator,
a chain). Expression is used as given (BEELINE's files are log-normalised). Scores float64 (P,) in [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import Family, MethodSpec, ScoringContext


def partial_correlation(X: np.ndarray) -> np.ndarray:
    """Partial-correlation matrix float64 (genes, genes) of expression ``X`` float (cells, genes); diagonal 1.

    Zero-variance genes get 0 off the diagonal. Covariance: ``sklearn.covariance.LedoitWolf`` on z-scored columns.
    """
    from sklearn.covariance import LedoitWolf

    X = np.asarray(X, dtype=np.float64)
    sd = X.std(0)
    ok = sd > 0
    Z = (X[:, ok] - X[:, ok].mean(0)) / sd[ok]
    theta = np.linalg.inv(LedoitWolf().fit(Z).covariance_)
    d = np.sqrt(np.diag(theta))
    pc = -theta / np.outer(d, d)
    out = np.zeros((X.shape[1], X.shape[1]))
    out[np.ix_(ok, ok)] = pc
    np.fill_diagonal(out, 1.0)
    return out


def _score(ctx: ScoringContext, pairs: pd.DataFrame) -> np.ndarray:
    from .pearson import expression_matrix

    if "partial_corr" not in ctx.cache:
        X, col = expression_matrix(ctx.dataset)
        ctx.cache["partial_corr"] = (partial_correlation(X), col)
    pc, col = ctx.cache["partial_corr"]
    i = pairs["tf"].str.upper().map(col)
    j = pairs["target"].str.upper().map(col)
    if i.isna().any() or j.isna().any():
        raise ValueError(f"{ctx.dataset.name}: some pair genes are not in the expression matrix")
    return np.abs(pc[i.to_numpy(dtype=np.int64), j.to_numpy(dtype=np.int64)])


SPEC = MethodSpec(
    name="|Partial corr|",
    family=Family.EXPRESSION_UNSUPERVISED,
    description="peer: absolute partial correlation of TF and target given all other genes (Ledoit–Wolf precision)",
    reference="Gaussian graphical model; Schäfer & Strimmer 2005",
    needs_expression=True,
    score=_score,
    order=805.0,
)
