"""VVP: Virtual Value Perturbation features for the translator (UGRN Eq. 8).

Every context gene gets the virtual base value v0; the source gene is set to each target value t in T and the
model's reconstruction of the target gene is recorded relative to the all-v0 cell: R[t, i, j]. A pair's feature is
[R[:, i, j] ‖ R[:, j, i]] (forward ‖ reverse), float32 (P, 2·|T|).
"""

from __future__ import annotations

from .base import Family, MethodSpec


def _compute(probes, progress):
    p = probes.params
    return probes.fm.vvp(probes.token_ids, p.v0, p.target_values, progress=progress)


def _features(probes, pairs, progress):
    return probes.both_directions(SPEC.probe, pairs, progress)


SPEC = MethodSpec(
    name="VVP",
    family=Family.PROBE_TRANSLATOR,
    description="translator on Virtual Value Perturbation responses (base value v0, 8 target values), both directions",
    reference="UGRN Eq. 8",
    needs_labels=True,
    context_dependent=True,
    probe="VVP",
    cache_params=lambda params: {"v0": params.v0, "target_values": params.target_values},
    compute_probe=_compute,
    features=_features,
    order=50,
)
