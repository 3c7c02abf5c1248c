"""TF→target pairs: all candidates of a dataset, positives plus N/P-sampled negatives, and stratified splits.

*Positives* are a dataset's ground-truth edges, *negatives* the other TF→target candidate pairs (tf != target), and
the *N/P ratio* is the number of sampled negatives per positive.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..errors import DataError, ParameterError

TF_MODES = ("file", "positive")

# GRNDataset (data.datasets) appears in annotations only.


def candidate_pairs(ds: GRNDataset, genes: Sequence[str] | None = None, tf_mode: str = "file") -> pd.DataFrame:
    """All candidate TF→target pairs (tf != target) of a dataset, labelled with its positive edges.

    Args:
        ds: the dataset.
        genes: restrict TFs and targets to these genes (e.g. ``VocabMapping.genes``); default ``ds.genes``.
            Genes not in ``ds.genes`` are ignored (matched upper-case).
        tf_mode: ``"file"``: TFs = ``ds.tfs``; ``"positive"``: only TFs with ≥1 positive edge inside ``genes``
            (BEELINE-style evaluation).

    Returns:
        DataFrame with columns ``tf``, ``target`` (str) and ``label`` (int8: 1 positive, 0 negative), ordered by TF
        (``ds.tfs`` order) then target (``ds.genes`` order). Positive edges with an end outside ``genes``, whose TF
        is not in ``ds.tfs`` (none in the BEELINE files), or that are self-loops, are dropped.

    Raises:
        ValueError: unknown ``tf_mode`` (names the allowed ones) or no TF/target left after restriction.
    """
    if tf_mode not in TF_MODES:
        raise ParameterError(f"tf_mode must be one of {list(TF_MODES)}, got {tf_mode!r}.")
    keep = set(ds.genes) if genes is None else set(ds.genes) & {str(g).upper() for g in genes}
    targets = np.array([g for g in ds.genes if g in keep], dtype=object)
    tfs = [t for t in ds.tfs if t in keep]
    edges = ds.edges[ds.edges["tf"].isin(tfs) & ds.edges["target"].isin(keep)]
    if tf_mode == "positive":
        with_positive = set(edges["tf"])
        tfs = [t for t in tfs if t in with_positive]
    if not tfs or len(targets) == 0:
        raise DataError(f"Dataset {ds.name!r}: no {'TF with a positive edge' if tf_mode == 'positive' else 'TF'} "
                        f"among the {len(keep)} usable genes, so no TF→target pair can be formed; expected at least "
                        "one known TF (give a TF list) and one other gene.")
    pairs = pd.DataFrame({"tf": np.repeat(np.array(tfs, dtype=object), len(targets)),
                          "target": np.tile(targets, len(tfs))})
    pairs = pairs[pairs["tf"] != pairs["target"]].reset_index(drop=True)
    if pairs.empty:
        raise DataError(f"Dataset {ds.name!r}: the only usable gene is the TF {tfs[0]}, so no TF→target pair can be "
                        "formed (self-loops are excluded); expected at least two usable genes.")
    is_pos = pd.MultiIndex.from_frame(pairs).isin(pd.MultiIndex.from_frame(edges[["tf", "target"]]))
    pairs["label"] = is_pos.astype(np.int8)
    return pairs


def sample_pairs(ds: GRNDataset, genes: Sequence[str] | None = None, np_ratio: float = 1.0, seed: int = 0,
                 tf_mode: str = "file") -> pd.DataFrame:
    """All positive edges plus ``round(np_ratio * n_pos)`` negatives drawn without replacement from the candidates.

    Args:
        ds, genes, tf_mode: as in :func:`candidate_pairs`.
        np_ratio: N/P ratio, negatives per positive, > 0.
        seed: seed of ``numpy.random.default_rng`` for drawing negatives and shuffling rows.

    Returns:
        DataFrame with columns ``tf``, ``target``, ``label`` (int8), rows shuffled (deterministic for a seed),
        index 0..n-1. When fewer negatives exist than requested, all are taken and a warning is issued.

    Raises:
        ValueError: ``np_ratio`` not a positive finite number; no positive edge among the candidates.
    """
    cand, pos, neg, n_neg = candidates_to_sample(ds, genes, np_ratio, tf_mode)
    rng = np.random.default_rng(seed)
    rows = np.concatenate([pos, rng.choice(neg, size=n_neg, replace=False)])
    return cand.iloc[rng.permutation(rows)].reset_index(drop=True)


def candidates_to_sample(ds: GRNDataset, genes: Sequence[str] | None = None, np_ratio: float = 1.0,
                         tf_mode: str = "file") -> tuple[pd.DataFrame, np.ndarray, np.ndarray, int]:
    """What an N/P-ratio sample draws from: the candidates (:func:`candidate_pairs`), the row numbers (int64) of
    their positives and of their negatives, and how many negatives to draw, ``round(np_ratio * n_pos)`` capped at
    the negatives that exist (with a warning). Shared by :func:`sample_pairs` and ``negatives.sample_test_pairs``.

    Raises:
        ValueError: ``np_ratio`` not a positive finite number; no positive edge among the candidates.
    """
    if not (np.isfinite(np_ratio) and np_ratio > 0):
        raise ParameterError(f"np_ratio (N/P ratio) must be a positive number, got {np_ratio!r}.")
    cand = candidate_pairs(ds, genes, tf_mode)
    pos = np.flatnonzero(cand["label"].to_numpy() == 1)
    neg = np.flatnonzero(cand["label"].to_numpy() == 0)
    if len(pos) == 0:
        raise DataError(f"Dataset {ds.name!r} has no positive edges among its candidate pairs; cannot sample "
                        "pairs (expected a dataset with known edges between its TFs and genes).")
    n_neg = int(round(np_ratio * len(pos)))
    if n_neg > len(neg):
        warnings.warn(f"Dataset {ds.name!r}: N/P ratio {np_ratio} asks for {n_neg} negatives but only {len(neg)} "
                      "exist; using all of them.", stacklevel=3)
        n_neg = len(neg)
    return cand, pos, neg, n_neg


def split_pairs(pairs: pd.DataFrame, test_size: float = 0.2, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split labelled pairs into (train, test), stratified by ``label`` (sklearn ``train_test_split``).

    The original row index is kept so rows can be traced back to ``pairs``.

    Raises:
        ValueError: no ``label`` column; or from scikit-learn, e.g. a class with fewer than 2 members.
    """
    if "label" not in pairs.columns:
        raise DataError(f"pairs need a 'label' column to stratify; found {list(pairs.columns)}.")
    train, test = train_test_split(pairs, test_size=test_size, random_state=seed, stratify=pairs["label"])
    return train, test
