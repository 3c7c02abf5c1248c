"""One-hot logistic regression (InfoSEM Sec. 5): one-hot TF ⊕ one-hot target, L2 chosen by CV on training pairs."""

from .base import Family, MethodSpec
from ..errors import DataError


def _score(ctx, pairs):
    from ._baselines import onehot_lr_scores

    if ctx.train_pairs is None:
        raise DataError("one-hot LR needs labelled training pairs (ctx.train_pairs)")
    return onehot_lr_scores(ctx.train_pairs, pairs, seed=ctx.seed)


SPEC = MethodSpec(
    name="One-hot LR", family=Family.SUPERVISED_BASELINE,
    description="logistic regression on one-hot gene IDs (learns per-gene degree bias only)",
    reference="Cui et al., ICML 2025, Sec. 5 and App. C", needs_labels=True, score=_score, order=85)
