"""InfoSEM-BC (Cui et al. 2025, Eq. 10–13/15): A = Aᵉ ⊙ σ(Aˡ), embedding prior on Aᵉ, training edges on Aˡ."""

from .base import Family, MethodSpec


def _score(ctx, pairs):
    from ..sem.scoring import score_sem

    return score_sem(ctx, pairs, "InfoSEM-BC")


SPEC = MethodSpec(
    name="InfoSEM-BC", family=Family.EXPRESSION_UNSUPERVISED,
    description="InfoSEM-B plus a known-edge prior on the interaction logits (training pairs only); score |A|",
    reference="Cui et al., ICML 2025, Eq. 10–13 and 15", needs_expression=True, needs_labels=True, score=_score,
    order=77, extra={"prior": "scgpt", "sigma_l_grid": (0.1, 0.1 ** 0.5, 1.0), "rank": 128})
