"""Ranking metrics for predicted TF→target edges: AUROC, AUPRC, AUPRC ratio, EPR and Hit@k%.

Scores rank candidate pairs (higher = more likely a positive edge). Labels are 1 for a positive (ground-truth) edge
and 0 for a negative pair. EPR, the early precision ratio of BEELINE (Pratapa et al. 2020), is the precision among the
top-k pairs with k = number of positives, divided by the positive rate (the precision of a random ranking).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from ..errors import DataError


def _check(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert labels (0/1 → int8) and scores (→ float64); see :func:`evaluate` for the errors."""
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1:
        raise DataError(f"y_true and y_score must be 1-D, got shapes {y.shape} and {s.shape}.")
    if len(y) != len(s):
        raise DataError(f"y_true and y_score differ in length: {len(y)} labels vs {len(s)} scores.")
    if not np.isin(y, (0, 1)).all():
        raise DataError(f"y_true must hold only 0/1 labels; found values {np.unique(y)[:10].tolist()}.")
    if not np.isfinite(s).all():
        raise DataError(f"y_score has {int((~np.isfinite(s)).sum())} NaN or infinite values; scores must be finite.")
    y = y.astype(np.int8)
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        raise DataError(f"Only one class present ({n_pos} positives, {len(y) - n_pos} negatives): ranking metrics "
                         "are undefined; need at least one positive and one negative pair.")
    return y, s


def evaluate(y_true, y_score, top_frac: float = 0.01) -> dict[str, float]:
    """Score a ranking of candidate pairs against their labels.

    Args:
        y_true: 1-D array of 0/1 labels (any int or bool dtype), length n.
        y_score: 1-D array of finite float scores, length n; higher ranks first.
        top_frac: fraction of pairs for Hit@k%, in (0, 1].

    Returns:
        ``{"AUROC", "AUPRC", "AUPRC_ratio", "EPR", "Hit@<100*top_frac>%", "n_pos", "n_neg", "pos_rate"}``:
        AUROC (sklearn ``roc_auc_score``, 0.5 = random) and AUPRC (``average_precision_score``) in [0, 1];
        pos_rate = n_pos / n; AUPRC_ratio = AUPRC / pos_rate and EPR = precision@n_pos / pos_rate (1 = random,
        at most 1 / pos_rate); Hit@k% = fraction positives among the top ceil(top_frac * n) pairs, in [0, 1];
        n_pos, n_neg are ints. Ties in the top-k cut are broken by position (stable sort on -score).

    Raises:
        ValueError: not 1-D, length mismatch, labels other than 0/1, NaN/infinite scores, only one class present
            (metrics undefined), or top_frac outside (0, 1].
    """
    if not 0 < top_frac <= 1:
        raise DataError(f"top_frac must be in (0, 1], got {top_frac!r}.")
    y, s = _check(y_true, y_score)
    n, n_pos = len(y), int(y.sum())
    pos_rate = n_pos / n
    ranked = y[np.argsort(-s, kind="stable")]
    auprc = float(average_precision_score(y, s))
    k_top = max(1, math.ceil(round(top_frac * n, 9)))
    return {
        "AUROC": float(roc_auc_score(y, s)),
        "AUPRC": auprc,
        "AUPRC_ratio": auprc / pos_rate,
        "EPR": float(ranked[:n_pos].mean()) / pos_rate,
        f"Hit@{100 * top_frac:g}%": float(ranked[:k_top].mean()),
        "n_pos": n_pos,
        "n_neg": n - n_pos,
        "pos_rate": pos_rate,
    }


def curves(y_true, y_score, max_points: int | None = None) -> dict[str, np.ndarray]:
    """ROC and precision–recall curves for plotting.

    Returns float64 arrays: ``"fpr"``, ``"tpr"`` (sklearn ``roc_curve``, increasing from 0 to 1) and ``"precision"``,
    ``"recall"`` (sklearn ``precision_recall_curve``; recall decreasing to 0, last precision 1). ``max_points``
    (≥ 2) keeps at most that many points of each curve, evenly spaced along it with both ends kept (for drawing:
    a test set of 13,000 pairs gives curves of about as many points; areas come from ``evaluate``, not from these).
    Same inputs and errors as :func:`evaluate`; ValueError for ``max_points`` < 2.
    """
    if max_points is not None and max_points < 2:
        raise ValueError(f"max_points must be at least 2 (both ends of a curve), got {max_points}")
    y, s = _check(y_true, y_score)
    fpr, tpr, _ = roc_curve(y, s)
    precision, recall, _ = precision_recall_curve(y, s)

    def thin(*arrays):
        n = len(arrays[0])
        if max_points is None or n <= max_points:
            return arrays
        keep = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
        return tuple(a[keep] for a in arrays)

    fpr, tpr = thin(fpr, tpr)
    precision, recall = thin(precision, recall)
    return {"fpr": fpr, "tpr": tpr, "precision": precision, "recall": recall}
