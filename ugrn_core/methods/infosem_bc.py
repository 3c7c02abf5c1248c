"""InfoSEM-BC (Cui et al. 2025, Eq. 10–13/15): A = Aᵉ ⊙ σ(Aˡ), embedding prior on Aᵉ, training edges on Aˡ.

Settings: prior "scgpt", σ_l grid (0.1, √0.1, 1), rank 128 by default (``sem.scoring.SEMOptions``); σ_w is chosen
as InfoSEM-B chooses it, sharing its fits.
"""

from .base import Family, MethodSpec
from .deepsem import QUICK_OPTIONS
from .infosem_b import SPEC as EMBEDDING_PRIOR


def _score(ctx, pairs):
    from ..sem.scoring import score_infosem_bc

    return score_infosem_bc(ctx, pairs, SPEC.name, prior_fit=EMBEDDING_PRIOR.name)


SPEC = MethodSpec(
    name="InfoSEM-BC", family=Family.EXPRESSION_UNSUPERVISED,
    description="InfoSEM-B plus a known-edge prior on the interaction logits (training pairs only); score |A|",
    reference="Cui et al., ICML 2025, Eq. 10–13 and 15", needs_expression=True, needs_labels=True, score=_score,
    order=77, quick_options=QUICK_OPTIONS)
