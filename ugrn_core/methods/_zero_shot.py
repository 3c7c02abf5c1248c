"""Shared reading of a probe array as a zero-shot score (|VVP|, |GDT|). Not a method module (leading underscore:
the registry skips it)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from .base import ScoringContext


def abs_probe_scores(ctx: ScoringContext, pairs: pd.DataFrame, probe: str,
                     reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """Zero-shot scores float64 (P,) ≥ 0: ``reduce(|P[:, i, j]|, axis=0)`` over the K rows of probe array ``probe``
    (float32 (K, S, S), [k, source, target]), i = the pair's TF, j = its target (the forward direction only).

    ``reduce`` is ``np.mean`` (|VVP|: mean over the target values) or ``np.sum`` (|GDT|: sum over the base values).
    Genes are indexed into the probe array with ``probes.probe_index`` (their rank among the scored genes), so the
    scores are right in a background context too, where the array covers the scored genes only.
    Raises: KeyError naming a pair gene outside the context.
    """
    V = ctx.probes.pair_values(probe, pairs["tf"], pairs["target"], ctx.progress)
    return reduce(np.abs(V), axis=0).astype(np.float64)
