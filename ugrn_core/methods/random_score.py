"""Random scores: the reference every ranking metric is compared to (AUPRC ≈ positive rate, Hit@1% ≈ positive rate)."""

import numpy as np

from .base import Family, MethodSpec


def _score(ctx, pairs):
    return np.random.default_rng(ctx.seed).random(len(pairs))


SPEC = MethodSpec(
    name="Random", family=Family.CONTROL, description="uniform random scores (seeded)",
    reference="InfoSEM Table 2 'Random'", score=_score, order=99)
