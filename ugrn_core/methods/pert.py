"""Pert: zero-out perturbation responses at the dataset's mean cell as translator features (UGRN Eq. 6).

The probe P[0, i, j] = M(x̄)_j − M(x̄^{i←0})_j is the change of target j's reconstruction when source i is set to 0
in the mean cell x̄ (bin space); it needs the dataset's expression. A pair's feature is [P[0, i, j] ‖ P[0, j, i]],
float32 (P, 2). The same probe array feeds Origin-Pert.
"""

from __future__ import annotations

import numpy as np

from .base import Family, MethodSpec


def _compute(probes, progress):
    n = len(probes.token_ids)
    return probes.fm.perturb(probes.token_ids, probes.mean_cell(), np.arange(n), [0.0], progress=progress)


def _features(probes, pairs, progress):
    return probes.both_directions(SPEC.probe, pairs, progress)


SPEC = MethodSpec(
    name="Pert",
    family=Family.PROBE_TRANSLATOR,
    description="translator on the zero-out response of the mean cell, both directions",
    reference="UGRN Eq. 6",
    needs_expression=True,
    needs_labels=True,
    context_dependent=True,
    probe="Pert",
    probe_rows=lambda n, params: (n + 1, 0),
    compute_probe=_compute,
    features=_features,
    order=30,
    paper_table=True,
)
