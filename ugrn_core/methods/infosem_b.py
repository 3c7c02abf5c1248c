"""InfoSEM-B (Cui et al. 2025, Eq. 9/14): DeepSEM with a gene-embedding Laplace prior on A; score |A|."""

from .base import Family, MethodSpec


def _score(ctx, pairs):
    from ..sem.scoring import score_sem

    return score_sem(ctx, pairs, "InfoSEM-B")


SPEC = MethodSpec(
    name="InfoSEM-B", family=Family.EXPRESSION_UNSUPERVISED,
    description="DeepSEM with a gene-embedding prior on the adjacency (σ_w chosen on training labels when given)",
    reference="Cui et al., ICML 2025, Eq. 9 and 14", needs_expression=True, score=_score, order=76,
    extra={"prior": "scgpt", "sigma_w_grid": (0.1, 1.0, 10.0, 100.0)})
