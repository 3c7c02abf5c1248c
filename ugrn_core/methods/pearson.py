"""|Pearson|: absolute Pearson correlation of TF and target expression across the dataset's cells (a peer, no labels).

The simplest co-expression baseline of BEELINE (Pratapa et al. 2020); run within each test dataset on its own
expression, log1p-transformed as the files come (BEELINE's expression is already log-normalised).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import Family, MethodSpec, ScoringContext
from ..errors import DataError


def expression_matrix(ds) -> tuple[np.ndarray, dict[str, int]]:
    """Dense float64 (cells, genes) expression of dataset ``ds`` and gene symbol (upper-case) → column.

    Raises: ValueError when ``ds`` has no expression.
    """
    if not ds.has_expression:
        raise DataError(f"dataset {ds.name} has no expression; expression-based peers need it")
    X = ds.expression.X
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    return np.asarray(X, dtype=np.float64), {str(g).upper(): k for k, g in enumerate(ds.expression.var_names)}


def abs_pearson(X: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """|corr(X[:, i_p], X[:, j_p])| for each pair p: float64 (P,) in [0, 1]; 0 where a gene has zero variance."""
    Z = X - X.mean(0)
    sd = np.sqrt((Z ** 2).sum(0))
    Z = np.divide(Z, sd, out=np.zeros_like(Z), where=sd > 0)
    return np.abs(np.einsum("cp,cp->p", Z[:, i], Z[:, j]))


def _score(ctx: ScoringContext, pairs: pd.DataFrame) -> np.ndarray:
    X, col = expression_matrix(ctx.dataset)
    try:
        i = pairs["tf"].str.upper().map(col).to_numpy(dtype=np.int64)
        j = pairs["target"].str.upper().map(col).to_numpy(dtype=np.int64)
    except (ValueError, TypeError):
        raise DataError(f"{ctx.dataset.name}: some pair genes are not in the expression matrix") from None
    return abs_pearson(X, i, j)


SPEC = MethodSpec(
    name="|Pearson|",
    family=Family.EXPRESSION_UNSUPERVISED,
    description="peer: absolute Pearson correlation of TF and target expression within the dataset",
    reference="BEELINE (Pratapa et al. 2020) co-expression baseline",
    needs_expression=True,
    score=_score,
    order=800.0,
    default_peer=True,
    comparisons=(("Ens", "|Pearson|"),),
)
