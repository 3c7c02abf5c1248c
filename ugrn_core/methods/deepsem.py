"""DeepSEM (Shu et al. 2021): β-VAE with a structural-equation layer, fitted on the dataset's expression; score |A|.

Settings: ``sem.deepsem.SEMConfig.for_ground_truth`` (DeepSEM's Hyperparameter.MD per network), run options
``sem.scoring.SEMOptions``.
"""

from .base import Family, MethodSpec

#: Settings of quick fits (the app's Network page), shared by the SEM methods (InfoSEM-B/BC fit the same VAE): the
#: published presets take ~5–10 min per fit on 2 CPU cores, these 1–3 min; one σ_w and one σ_l instead of the grids.
QUICK_OPTIONS = (("epochs", 40), ("hidden", 32), ("sigma_w", (10.0,)), ("sigma_l", (0.1 ** 0.5,)))


def _score(ctx, pairs):
    from ..sem.scoring import score_deepsem

    return score_deepsem(ctx, pairs, SPEC.name)


SPEC = MethodSpec(
    name="DeepSEM", family=Family.EXPRESSION_UNSUPERVISED,
    description="β-VAE with a structural-equation layer on the expression (unsupervised); edge score |A|",
    reference="Shu et al., Nat. Comput. Sci. 2021; InfoSEM Eq. 4–8", needs_expression=True, score=_score, order=75,
    quick_options=QUICK_OPTIONS)
