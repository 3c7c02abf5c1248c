"""|VVP| zero-shot: a TF→target pair scored by the size of the target's virtual-value response, no training.

Reads the VVP probe R[t, i, j] = M(v0·1^{i←t})_j − M(v0·1)_j (UGRN Eq. 8, ``vvp.py``) and scores
s_ij = mean over the target values t of |R[t, i, j]| (float64 (P,), ≥ 0). The forward direction only: i is the TF.
A zero-shot reading of the probe the VVP translator is trained on (as Origin-Pert reads Eq. 3), for settings where
no labelled network exists, and to tell whether the probe or the translator loses regulation.
"""

from __future__ import annotations

import numpy as np

from ._zero_shot import abs_probe_scores
from .base import Family, MethodSpec


def _score(ctx, pairs):
    return abs_probe_scores(ctx, pairs, SPEC.probe, np.mean)


SPEC = MethodSpec(
    name="|VVP|",
    family=Family.ZERO_SHOT_PROBE,
    description="zero-shot: mean |VVP response| of the target over the target values (no translator)",
    reference="UGRN Eq. 8 read zero-shot (issue 13)",
    context_dependent=True,
    probe="VVP",
    score=_score,
    order=25,
)
