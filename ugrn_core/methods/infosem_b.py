"""InfoSEM-B (Cui et al. 2025, Eq. 9/14): DeepSEM with a gene-embedding Laplace prior on A; score |A|.

Settings: prior "scgpt" and σ_w grid (0.1, 1, 10, 100) by default (``sem.scoring.SEMOptions``).
"""

from .base import Family, MethodSpec
from .deepsem import QUICK_OPTIONS


def _score(ctx, pairs):
    from ..sem.scoring import score_infosem_b

    return score_infosem_b(ctx, pairs, SPEC.name)


SPEC = MethodSpec(
    name="InfoSEM-B", family=Family.EXPRESSION_UNSUPERVISED,
    description="DeepSEM with a gene-embedding prior on the adjacency (σ_w chosen on training labels when given)",
    reference="Cui et al., ICML 2025, Eq. 9 and 14", needs_expression=True, score=_score, order=76,
    default_expression=True, quick_options=QUICK_OPTIONS)
