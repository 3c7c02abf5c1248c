"""Shared plumbing of the expression-based peers that learn one whole regulator × gene matrix per dataset
(GRNBoost2, RegDiffusion): a disk cache of that matrix and the look-up of TF → target pairs in it.

Cache layout: ``<cache dir>/peers/<method>-<key>.npy`` (the matrix, as ``np.save`` writes it) with a ``.json``
sidecar describing what made it. ``key = cache.cache_key(method, *key_parts)``: each peer passes its settings, seed,
gene (and regulator) lists and ``expression_fingerprint(X)``, so a changed expression matrix or setting misses the
cache. Both files are written atomically (``_io.atomic_write``). Not a method module (leading underscore: the
registry skips it).
"""

from __future__ import annotations

import json
from typing import Callable

import numpy as np
import pandas as pd

from .base import ScoringContext


def sorted_expression(ds) -> tuple[np.ndarray, dict[str, int]]:
    """``pearson.expression_matrix(ds)`` with its gene columns sorted by symbol: dense float64 (cells, genes) and gene
    symbol (upper-case) → column. The same cells × genes in any file order give the same matrix and so the same
    cache key: BEELINE's networks of one cell type share its genes and expression in different orders, and share
    one peer matrix this way (one GRNBoost2 / RegDiffusion run per cell type, not per network).

    Raises: DataError when ``ds`` has no expression."""
    from .pearson import expression_matrix

    X, col = expression_matrix(ds)
    genes = sorted(col)
    return X[:, [col[g] for g in genes]], {g: k for k, g in enumerate(genes)}


def expression_fingerprint(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene column sums and sums of squares of expression ``X`` float (cells, genes), rounded to 4 decimals:
    two float64 (genes,) arrays that enter a peer's cache key in place of the whole matrix."""
    return np.round(X.sum(0), 4), np.round((X ** 2).sum(0), 4)


def cached_peer_matrix(method: str, key_parts: tuple, compute: Callable[[], np.ndarray], sidecar: dict) -> np.ndarray:
    """The matrix ``compute()`` would return for ``method``, read from the peers' disk cache when present.

    Args:
        method: the peer's name; the file name's prefix and the first part of the cache key.
        key_parts: JSON-serialisable parts (dicts, lists, numpy arrays) that determine the matrix.
        compute: ``() -> np.ndarray`` called only on a cache miss; its result is saved.
        sidecar: JSON-serialisable description written beside the matrix (dataset name, sizes, settings).
    Returns: the cached or newly computed matrix (dtype as computed; GRNBoost2/RegDiffusion give float64).
    Computing holds an exclusive lock (``fcntl.flock`` on a lock file beside the entry), so processes that need the
    same matrix compute it once.
    """
    from .._io import lock_file
    from ..probes.cache import cache_key
    from ..config import cache_dir

    key = cache_key(method, *key_parts)
    folder = cache_dir() / "peers"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{method}-{key}.npy"
    if path.is_file():
        return np.load(path)
    with lock_file(folder / f".{method}-{key}.lock"):  # two processes: one computes, the other waits
        if path.is_file():
            return np.load(path)
        M = compute()
        _save(path, M, sidecar)
    return M


def _save(path, M: np.ndarray, sidecar: dict) -> None:
    """Write matrix ``M`` to ``path`` and its JSON ``sidecar`` beside it, each atomically."""
    from .._io import atomic_write

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.save(fh, M)

    def write_sidecar(tmp):
        with open(tmp, "w") as fh:
            fh.write(json.dumps(sidecar))

    atomic_write(path, write)
    atomic_write(path.with_suffix(".json"), write_sidecar)


def matrix_scores(M: np.ndarray, tf_row: dict[str, int], target_col: dict[str, int], pairs: pd.DataFrame) -> np.ndarray:
    """Scores float64 (P,) of ``pairs`` (columns tf, target) read from ``M[tf_row[TF], target_col[target]]``.

    Gene symbols are matched upper-case (the dicts' keys must be upper-case); a pair whose TF or target is not in
    the matrix scores 0.
    """
    i = pairs["tf"].str.upper().map(tf_row)
    j = pairs["target"].str.upper().map(target_col)
    ok = (i.notna() & j.notna()).to_numpy()
    out = np.zeros(len(pairs))
    out[ok] = M[i[ok].to_numpy(dtype=np.int64), j[ok].to_numpy(dtype=np.int64)]
    return out


def peer_scores(ctx: ScoringContext, pairs: pd.DataFrame, memo_key: str,
                load: Callable[[], tuple[np.ndarray, dict[str, int], dict[str, int]]]) -> np.ndarray:
    """Scores float64 (P,) of ``pairs`` in the matrix ``load()`` returns as ``(M, tf_row, target_col)``, loaded
    once per scoring context (memoised in ``ctx.cache[memo_key]``); see ``matrix_scores``."""
    if memo_key not in ctx.cache:
        ctx.cache[memo_key] = load()
    M, tf_row, target_col = ctx.cache[memo_key]
    return matrix_scores(M, tf_row, target_col, pairs)
