"""Ens: the mean of the VVP and GDT translators' logits, as a probability (UGRN Sec. 3.3).

Its members' projectors are trained whenever Ens is asked for; its score is sigmoid(mean of member logits) in [0, 1].
"""

from __future__ import annotations

import numpy as np

from .base import Family, MethodSpec, sigmoid


def _score(ctx, pairs):
    from . import get

    return sigmoid(np.mean([ctx.logits(get(m), pairs) for m in SPEC.members], axis=0))


SPEC = MethodSpec(
    name="Ens",
    family=Family.PROBE_TRANSLATOR,
    description="mean of the VVP and GDT translators' logits",
    reference="UGRN Sec. 3.3",
    needs_labels=True,
    context_dependent=True,
    members=("VVP", "GDT"),
    score=_score,
    order=70,
    roles=("summary column",),
    paper_table=True,
    twin=True,
    shuffled_control=True,
    default_rank=True,
    comparisons=(("Ens", "Emb"), ("Ens", "Degree prior"), ("Ens", "Ens (twin)"), ("Ens", "Ens (shuffled labels)")),
)
