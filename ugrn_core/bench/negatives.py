"""Test-pair sampling with a chosen kind of negatives: every positive of a dataset plus N/P-ratio negatives.

Three negative modes (recorded in every benchmark result):

- ``uniform``: negatives drawn uniformly from all non-edges TF × gene with TFs from the folder's ``TF.csv`` (the
  UGRN paper's and GENELink's protocol). In Specific / Lofgof networks only a few of the TFs in ``TF.csv`` have any
  positive, so "does this TF regulate anything at all?" separates the classes by itself (the TF-identity shortcut).
- ``tf-positive``: negatives only for TFs with ≥ 1 positive in that network, which closes the TF-identity shortcut.
- ``degree-matched``: negatives that reuse the positives' TFs and targets with the same multiplicities, so every TF
  has as many negatives as positives (its out-degree) and every target appears as often among the negatives as among
  the positives (its in-degree), up to the few collisions that must be redrawn (degree-preserving negative sampling;
  Stock et al. 2025). A score built from node degrees alone then sits near AUROC 0.5.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..data.pairs import candidates_to_sample, sample_pairs

NEGATIVE_MODES = ("uniform", "tf-positive", "degree-matched")

# GRNDataset (data.datasets) appears in annotations only.


def _degree_matched(pos: pd.DataFrame, cand: pd.DataFrame, n_neg: int, rng: np.random.Generator) -> pd.DataFrame:
    """Negatives (tf, target) pairing the positives' TF multiset with a permutation of their target multiset.

    The positive list is repeated ceil(n_neg / P) times. A pairing that is a positive, a self-loop or a repeat is
    redrawn by re-permuting the clashing targets (10 rounds), then by swapping targets with an accepted negative
    (keeps both degree sequences; up to 300 tries each); what is still left keeps its TF and takes a uniform
    non-edge target.
    """
    neg_set = set(zip(cand.loc[cand["label"] == 0, "tf"], cand.loc[cand["label"] == 0, "target"]))
    reps = int(np.ceil(n_neg / len(pos)))
    tfs = np.tile(pos["tf"].to_numpy(dtype=object), reps)[:n_neg]
    targets = np.tile(pos["target"].to_numpy(dtype=object), reps)[:n_neg][rng.permutation(n_neg)]
    chosen: set = set()
    acc_tf, acc_tg = [], []
    pending = list(range(n_neg))
    for _ in range(10):
        retry = []
        for k in pending:
            pair = (tfs[k], targets[k])
            if pair in neg_set and pair not in chosen:
                chosen.add(pair)
                acc_tf.append(pair[0])
                acc_tg.append(pair[1])
            else:
                retry.append(k)
        pending = retry
        if len(pending) < 2:
            break
        idx = np.asarray(pending)
        targets[idx] = targets[idx][rng.permutation(len(idx))]
    left = []
    ok = lambda pr: pr in neg_set and pr not in chosen
    for k in pending:  # swap targets with an accepted negative: (a, t_k) + (tf_k, t_a)
        tf_k, tg_k, done = tfs[k], targets[k], False
        if acc_tf:
            for a in rng.integers(len(acc_tf), size=300):
                p1, p2 = (acc_tf[a], tg_k), (tf_k, acc_tg[a])
                if p1 != p2 and ok(p1) and ok(p2):
                    chosen.discard((acc_tf[a], acc_tg[a]))
                    chosen.update((p1, p2))
                    acc_tg[a] = tg_k
                    acc_tf.append(tf_k)
                    acc_tg.append(p2[1])
                    done = True
                    break
        if not done:
            left.append(tf_k)
    if left:  # keep the TF, take a uniform non-edge target of it
        by_tf: dict = {}
        wanted = set(left)
        # sorted: a set's iteration order changes with PYTHONHASHSEED, which made the draw differ between processes
        for a, b in sorted(pr for pr in neg_set - chosen if pr[0] in wanted):
            by_tf.setdefault(a, []).append(b)
        for tf_k in left:
            options = [b for b in by_tf.get(tf_k, []) if (tf_k, b) not in chosen]
            if options:
                b = options[rng.integers(len(options))]
                chosen.add((tf_k, b))
                acc_tf.append(tf_k)
                acc_tg.append(b)
    return pd.DataFrame({"tf": acc_tf, "target": acc_tg, "label": np.zeros(len(acc_tf), dtype=np.int8)})


def sample_test_pairs(ds: GRNDataset, genes: Sequence[str] | None = None, np_ratio: float = 1.0, seed: int = 0,
                      negatives: str = "uniform") -> pd.DataFrame:
    """All positive edges of ``ds`` plus ``round(np_ratio * n_pos)`` negatives of kind ``negatives``.

    Args:
        ds: the dataset (needs ground truth).
        genes: restrict TFs and targets to these genes (e.g. the vocabulary-mapped ones); default all.
        np_ratio: N/P ratio, negatives per positive (> 0).
        seed: seed of ``numpy.random.default_rng`` (negative draw and row order).
        negatives: one of ``NEGATIVE_MODES`` (see the module docstring).

    Returns:
        DataFrame [tf, target, label int8], rows shuffled, index 0..n-1. When fewer negatives exist than requested,
        all are taken with a warning.

    Raises:
        ValueError: unknown ``negatives`` mode, ``np_ratio`` not positive, or no positive among the candidates.
    """
    if negatives not in NEGATIVE_MODES:
        raise ParameterError(f"negatives must be one of {list(NEGATIVE_MODES)}, got {negatives!r}")
    if negatives != "degree-matched":  # uniform draws among the candidates of the TFs that mode allows
        return sample_pairs(ds, genes, np_ratio, seed, tf_mode="positive" if negatives == "tf-positive" else "file")
    cand, pos_rows, _, n_neg = candidates_to_sample(ds, genes, np_ratio, tf_mode="file")
    rng = np.random.default_rng(seed)
    pos = cand.iloc[pos_rows]
    out = pd.concat([pos, _degree_matched(pos, cand, n_neg, rng)], ignore_index=True)
    out["label"] = out["label"].astype(np.int8)
    return out.iloc[rng.permutation(len(out))].reset_index(drop=True)
