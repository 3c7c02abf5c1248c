"""Degree prior: a control that scores a TF→target pair by how connected its genes are in the *training* labels.

score(i → j) = out-degree of TF i + in-degree of target j among the training positives, genes matched by upper-case
symbol across datasets (mouse symbols upper-cased match their human orthologs in most cases; a gene absent from the
training positives counts 0). No model, no expression: if this reaches the level of a method, that method's margin
over chance may come from node degree rather than from pair-specific regulatory knowledge.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import Family, MethodSpec, ScoringContext
from ..errors import DataError


def degree_prior_scores(train_pairs: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """float64 (P,): training-positive out-degree of each pair's TF + in-degree of its target (symbols upper-cased).

    Args:
        train_pairs: DataFrame [tf, target, label]; only rows with label 1 count.
        pairs: DataFrame [tf, target] to score.
    Raises: ValueError when ``train_pairs`` lacks the tf / target / label columns.
    """
    missing = {"tf", "target", "label"} - set(train_pairs.columns)
    if missing:
        raise DataError(f"degree prior: training pairs lack columns {sorted(missing)}")
    pos = train_pairs[train_pairs["label"] == 1]
    out_deg = pos["tf"].astype(str).str.upper().value_counts()
    in_deg = pos["target"].astype(str).str.upper().value_counts()
    tf = pairs["tf"].astype(str).str.upper().map(out_deg).fillna(0).to_numpy(dtype=np.float64)
    tg = pairs["target"].astype(str).str.upper().map(in_deg).fillna(0).to_numpy(dtype=np.float64)
    return tf + tg


def _score(ctx: ScoringContext, pairs: pd.DataFrame) -> np.ndarray:
    if ctx.train_pairs is None:
        raise DataError("the degree prior needs labelled training pairs (ScoringContext.train_pairs)")
    return degree_prior_scores(ctx.train_pairs, pairs)


SPEC = MethodSpec(
    name="Degree prior",
    family=Family.CONTROL,
    description="control: training-label TF out-degree + target in-degree, genes matched by symbol; no model",
    reference="control (issue 8); cf. degree bias in GRN benchmarks, Stock et al. 2025",
    needs_labels=True,
    score=_score,
    order=900.0,
    roles=("summary column",),
    control_kind="degree-prior",
)
