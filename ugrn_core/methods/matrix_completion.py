"""Low-rank matrix completion (InfoSEM Sec. 5, App. C: rank 128) of the TF × target training label matrix."""

from .base import Family, MethodSpec
from ..errors import DataError


def _score(ctx, pairs):
    from ._baselines import matrix_completion_scores

    if ctx.train_pairs is None:
        raise DataError("matrix completion needs labelled training pairs (ctx.train_pairs)")
    return matrix_completion_scores(ctx.train_pairs, pairs, rank=128)


SPEC = MethodSpec(
    name="MatComp", family=Family.SUPERVISED_BASELINE,
    description="SoftImpute (rank ≤ 128) of the partially observed TF × target label matrix",
    reference="Mazumder et al. 2010; Cui et al., ICML 2025, App. C", needs_labels=True, score=_score, order=86)
