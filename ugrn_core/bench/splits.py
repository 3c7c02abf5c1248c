"""Train/test splits of a ground-truth network for supervised GRN inference (InfoSEM paper Sec. 4, Fig. 2).

- ``unseen_genes_split`` — *interactions between unseen genes*: TFs and target genes are each divided seen:unseen
  3:1; the unseen test set is every candidate pair of an unseen TF and an unseen target; the seen × seen pairs are
  divided 3:1 (stratified by label) into training pairs and a seen test set; seen × unseen pairs are used nowhere.
- ``seen_genes_split`` — the classic *unseen interactions between seen genes*: all candidate pairs divided 3:1
  (stratified by label) into training and test.

Gene sides: a TF is also a candidate target, so every gene gets one side. TFs are split first (TFs with at least
one positive edge and the rest separately, so known-edge TFs are split 3:1 exactly as in the paper), then the genes
that are not TFs (genes that are targets of a known edge and the rest separately). No gene is on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..errors import DataError


@dataclass
class PairSplit:
    """A split of labelled candidate pairs (DataFrames [tf, target, label]).

    Attributes:
        kind: "unseen-genes" or "seen-genes".
        train: training pairs (the only labels a method may read).
        test: the main test set (unseen × unseen pairs, or the held-out pairs of the seen-genes split).
        seen_test: unseen-genes split only: held-out seen × seen pairs; None otherwise.
        seen_genes, unseen_genes: the gene sides (empty for the seen-genes split).
        seed: the split seed.
    """

    kind: str
    train: pd.DataFrame
    test: pd.DataFrame
    seen_test: pd.DataFrame | None
    seen_genes: frozenset
    unseen_genes: frozenset
    seed: int


def _split_genes(genes: list[str], frac_unseen: float, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    genes = list(genes)
    if not genes:
        return [], []
    perm = rng.permutation(len(genes))
    n_unseen = int(round(frac_unseen * len(genes)))
    if len(genes) >= 2:
        n_unseen = min(max(n_unseen, 1), len(genes) - 1)
    unseen = [genes[i] for i in sorted(perm[:n_unseen])]
    seen = [genes[i] for i in sorted(perm[n_unseen:])]
    return seen, unseen


def _stratified(pairs: pd.DataFrame, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    y = pairs["label"]
    strat = y if y.value_counts().min() >= 2 else None
    tr, te = train_test_split(pairs, test_size=test_size, random_state=seed, stratify=strat)
    return tr.reset_index(drop=True), te.reset_index(drop=True)


def unseen_genes_split(pairs: pd.DataFrame, seed: int = 0, frac_unseen: float = 0.25, test_size: float = 0.25) -> PairSplit:
    """Interactions-between-unseen-genes split of candidate pairs (see the module docstring).

    Args:
        pairs: DataFrame [tf, target, label] with every candidate TF × gene pair (``data.candidate_pairs``).
        seed: seed of the gene and pair draws.
        frac_unseen: fraction of TFs and of targets put on the unseen side (paper: 1/4).
        test_size: fraction of seen × seen pairs held out as the seen test set (paper: 1/4).

    Raises:
        ValueError: missing columns, fewer than 2 TFs, or an empty or one-class unseen test set (say which).
    """
    missing = {"tf", "target", "label"} - set(pairs.columns)
    if missing:
        raise DataError(f"pairs lack columns {sorted(missing)}; expected tf, target, label")
    rng = np.random.default_rng(seed)
    tfs = list(dict.fromkeys(pairs["tf"]))
    if len(tfs) < 2:
        raise DataError(f"an unseen-genes split needs at least 2 TFs, got {len(tfs)}")
    pos = pairs[pairs["label"] == 1]
    tf_pos = set(pos["tf"])
    s1, u1 = _split_genes([t for t in tfs if t in tf_pos], frac_unseen, rng)
    s2, u2 = _split_genes([t for t in tfs if t not in tf_pos], frac_unseen, rng)
    tf_set = set(tfs)
    others = [g for g in dict.fromkeys(pairs["target"]) if g not in tf_set]
    tg_pos = set(pos["target"])
    s3, u3 = _split_genes([g for g in others if g in tg_pos], frac_unseen, rng)
    s4, u4 = _split_genes([g for g in others if g not in tg_pos], frac_unseen, rng)
    seen, unseen = frozenset(s1 + s2 + s3 + s4), frozenset(u1 + u2 + u3 + u4)
    tf_seen, tg_seen = pairs["tf"].isin(seen), pairs["target"].isin(seen)
    tf_unseen, tg_unseen = pairs["tf"].isin(unseen), pairs["target"].isin(unseen)
    test = pairs[tf_unseen & tg_unseen].reset_index(drop=True)
    if len(test) == 0 or test["label"].nunique() < 2:
        raise DataError(f"seed {seed}: the unseen × unseen test set has {len(test)} pairs and "
                         f"{int(test['label'].sum()) if len(test) else 0} positives; need both classes")
    train, seen_test = _stratified(pairs[tf_seen & tg_seen], test_size, seed)
    return PairSplit("unseen-genes", train, test, seen_test, seen, unseen, seed)


def seen_genes_split(pairs: pd.DataFrame, seed: int = 0, test_size: float = 0.25) -> PairSplit:
    """Classic split: candidate pairs divided into training and test (stratified by label), genes shared."""
    missing = {"tf", "target", "label"} - set(pairs.columns)
    if missing:
        raise DataError(f"pairs lack columns {sorted(missing)}; expected tf, target, label")
    train, test = _stratified(pairs, test_size, seed)
    return PairSplit("seen-genes", train, test, None, frozenset(), frozenset(), seed)


SPLITS = {"unseen-genes": unseen_genes_split, "seen-genes": seen_genes_split}
