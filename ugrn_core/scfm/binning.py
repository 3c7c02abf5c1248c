"""scGPT's per-cell value binning (the input space of the model: bins 0..n_bins-1, 0 = not expressed)."""

from __future__ import annotations

import numpy as np


def bin_values(x: np.ndarray, n_bins: int = 51) -> np.ndarray:
    """scGPT per-cell value binning: each cell's non-zero values → quantile bins 1..n_bins-1; zeros (and negatives) → 0.

    Rank-based (ties share a bin), so any monotone transform of the input (counts, log1p, FPKM) gives the same bins.

    Args:
        x: float (cells, genes) expression, or (genes,) for one cell.
    Returns: float32 array of the same shape with values in {0, 1, ..., n_bins-1}.
    """
    x = np.asarray(x, dtype=np.float64)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    out = np.zeros(x.shape, dtype=np.float32)
    for i, row in enumerate(x):
        nz = row > 0
        k = int(nz.sum())
        if k == 0:
            continue
        vals = row[nz]
        # rank with ties → max rank (1..k); bin = ceil(rank / k * (n_bins-1))
        order = np.sort(vals)
        rank = np.searchsorted(order, vals, side="right")
        out[i, nz] = np.ceil(rank / k * (n_bins - 1))
    return out[0] if single else out
