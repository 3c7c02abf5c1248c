"""The benchmark's one scoring path, shared by its protocols (``benchmark``: one cross-dataset run; ``suite``: the
seeded presets; ``unseen_genes``: the within-dataset protocols): why a method cannot score a dataset ("n/a: …",
``na_reason``), the registry's one runner for the others (``score_methods`` → ``methods.score_pairs``, which builds
the ``ScoringContext``), and a row's metric values (``metric_values``: ``metrics.evaluate``, or NaN with the reason).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import methods as registry
from .metrics import evaluate

NO_EXPRESSION = "n/a: no expression"
NO_MODEL = "n/a: needs the foundation model"


def na_reason(spec, dataset, *, probes: bool = True, translator=None, check_translator: bool = False,
              trained_on: str = "the training dataset") -> str:
    """Why method ``spec`` cannot score ``dataset`` here ("" when it can), as the result rows note it.

    ``probes``: whether foundation-model probes are available (False: methods reading features, members or a probe
    cannot run); ``check_translator``: the translator (``translator``, trained on ``trained_on``) must have the
    method's projector (none is fitted on a dataset without the expression it needs).
    """
    if spec.na_reason(dataset):
        return NO_EXPRESSION
    if not probes and (spec.features is not None or spec.members or spec.probe):
        return NO_MODEL
    if check_translator and spec.uses_translator and (translator is None or spec.name not in translator.methods):
        return f"n/a: not trainable on {trained_on} (no expression)"
    return ""


def score_methods(probes, pairs: pd.DataFrame, methods, translator=None, *, trained_on: str = "the training dataset",
                  **context) -> dict[str, np.ndarray | str]:
    """method → float64 (P,) scores of ``pairs`` (``methods.score_pairs`` with ``context``: progress, train_dataset,
    train_pairs, seed), or the "n/a: …" reason (``na_reason``) of a method that cannot score ``probes.dataset``."""
    why = {m: r for m in methods if (r := na_reason(registry.get(m), probes.dataset, translator=translator,
                                                    check_translator=True, trained_on=trained_on))}
    run = [m for m in methods if m not in why]
    scored = registry.score_pairs(probes, pairs, run, translator, **context) if run else {}
    return {m: why[m] if m in why else scored[m].to_numpy(dtype=np.float64) for m in methods}


def metric_values(y: np.ndarray, scores, metrics, note: str = "", one_class: str | None = None) -> tuple[dict, str]:
    """({metric: value}, note) of one result row: ``metrics.evaluate`` of ``scores`` against 0/1 labels ``y`` for
    the ``metrics`` named, or NaN for each with the note saying why: ``note`` (a method's n/a reason), or
    ``one_class`` when ``y`` is empty or has one class only (None: not checked)."""
    if not note and one_class is not None and (len(y) == 0 or y.min() == y.max()):
        note = one_class
    if note:
        return {k: np.nan for k in metrics}, note
    res = evaluate(y, scores)
    return {k: res[k] for k in metrics}, ""
