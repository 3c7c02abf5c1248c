"""|GDT| zero-shot: a TF→target pair scored by the summed size of the model's gradient, no training.

Reads the GDT probe G[v, i, j] = ∂M(x)_j / ∂x_i at x = v·1 (UGRN Eq. 9, ``gdt.py``) and scores
s_ij = Σ over the base values v of |G[v, i, j]| (float64 (P,), ≥ 0). The forward direction only: i is the TF.
On STRING/mHSC-L/500 this reading of the bundled model ranked all TF × gene pairs at AUROC 0.647 (issue 13).
"""

from __future__ import annotations

import numpy as np

from ._zero_shot import abs_probe_scores
from .base import Family, MethodSpec


def _score(ctx, pairs):
    return abs_probe_scores(ctx, pairs, SPEC.probe, np.sum)


SPEC = MethodSpec(
    name="|GDT|",
    family=Family.ZERO_SHOT_PROBE,
    description="zero-shot: |∂M_j/∂x_i| summed over the GDT base values (no translator)",
    reference="UGRN Eq. 9 read zero-shot (issue 13)",
    context_dependent=True,
    probe="GDT",
    score=_score,
    order=26,
)
