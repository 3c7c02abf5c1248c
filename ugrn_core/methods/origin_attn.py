"""Origin-Attn: the zero-shot attention score of target j (query) to source i (key) at the mean cell (UGRN Eq. 4).

The Attn probe holds the attention summed over layers (and averaged over heads) in one forward pass of the dataset's
mean cell; it needs expression. Scores float64 (P,) ≥ 0.
"""

from __future__ import annotations

import numpy as np

from .base import Family, MethodSpec


def _compute(probes, progress):
    return probes.fm.attention(probes.token_ids, probes.mean_cell()).T[None]  # [query=target, key=source] → [source, target]


def _score(ctx, pairs):
    A = ctx.probes.probe(SPEC.probe, ctx.progress)
    i, j = ctx.probes.positions(pairs["tf"]), ctx.probes.positions(pairs["target"])
    return A[0, i, j].astype(np.float64)


SPEC = MethodSpec(
    name="Origin-Attn",
    family=Family.ZERO_SHOT_PROBE,
    description="zero-shot: attention of target j to source i at the mean cell, summed over layers",
    reference="UGRN Eq. 4",
    needs_expression=True,
    context_dependent=True,
    probe="Attn",
    probe_rows=lambda n, params: (2, 0),
    compute_probe=_compute,
    score=_score,
    order=20,
    roles=("table1 column", "zero-shot attention"),
    paper_table=True,
    twin=True,
)
