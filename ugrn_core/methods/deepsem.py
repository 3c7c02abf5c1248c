"""DeepSEM (Shu et al. 2021): β-VAE with a structural-equation layer, fitted on the dataset's expression; score |A|.

Settings: ``sem.deepsem.SEMConfig.for_ground_truth`` (DeepSEM's Hyperparameter.MD per network), run options
``sem.scoring.SEMOptions``.
"""

from .base import Family, MethodSpec


def _score(ctx, pairs):
    from ..sem.scoring import score_deepsem

    return score_deepsem(ctx, pairs, SPEC.name)


SPEC = MethodSpec(
    name="DeepSEM", family=Family.EXPRESSION_UNSUPERVISED,
    description="β-VAE with a structural-equation layer on the expression (unsupervised); edge score |A|",
    reference="Shu et al., Nat. Comput. Sci. 2021; InfoSEM Eq. 4–8", needs_expression=True, score=_score, order=75)
