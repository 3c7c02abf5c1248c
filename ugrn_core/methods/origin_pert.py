"""Origin-Pert: the zero-shot in-silico knockout score |M(x̄)_j − M(x̄^{i←0})_j| (UGRN Eq. 3).

Reads the Pert probe (``pert.py``) at the dataset's mean cell; no training. Scores float64 (P,) ≥ 0.
"""

from __future__ import annotations

import numpy as np

from .base import Family, MethodSpec


def _score(ctx, pairs):
    P = ctx.probes.probe(SPEC.probe, ctx.progress)
    i, j = ctx.probes.positions(pairs["tf"]), ctx.probes.positions(pairs["target"])
    return np.abs(P[0, i, j]).astype(np.float64)


SPEC = MethodSpec(
    name="Origin-Pert",
    family=Family.ZERO_SHOT_PROBE,
    description="zero-shot in-silico knockout: |M(x̄)_j − M(x̄^{i←0})_j| at the dataset's mean cell",
    reference="UGRN Eq. 3",
    needs_expression=True,
    context_dependent=True,
    probe="Pert",
    score=_score,
    order=10,
    roles=("summary column", "zero-shot knockout"),
    paper_table=True,
    twin=True,
)
