"""GDT: Gradient Trajectory features for the translator (UGRN Eq. 9).

At each virtual base value v (every context gene set to v) the Jacobian ∂M_j/∂x_i of the model's reconstruction is
taken; the probe is G[k, source, target] over the base values. A pair's feature is [G[:, i, j] ‖ G[:, j, i]],
float32 (P, 2·|V|). In a background context only the scored genes are Jacobian targets (V·S rows instead of V·N).
"""

from __future__ import annotations

import numpy as np

from .base import Family, MethodSpec, ProbeOption, probe_key

#: GDT's parameter (``ProbeParams`` field base_values; default there) and its flag
OPTIONS = (ProbeOption("base_values", "--base-values", "comma-separated GDT base values (default 8 values over 5..50)",
                       many=True),)


def _compute(probes, progress):
    # Jacobian rows only for the scored genes as targets (all context genes without a background)
    values = probes.params.base_values
    n = len(probes.scored)
    out = np.empty((len(values), n, n), dtype=np.float32)
    for k, v in enumerate(values):
        step = None
        if progress:
            def step(d, t, m, k=k):
                progress(k * t + d, len(values) * t, f"GDT base value {k + 1}/{len(values)}")
        J = probes.fm.jacobian(probes.token_ids, v, targets=probes.scored, progress=step)  # [target, source]
        out[k] = probes.restrict(J, axis=1).T  # → [source, target] over the scored genes
    return out


def _lines(probes, idx, progress):
    # target lines G[:, :, j] for scored genes idx: one Jacobian row per base value each
    values = probes.params.base_values
    out = np.empty((len(values), len(idx), len(probes.scored)), dtype=np.float32)
    for k, v in enumerate(values):
        step = None
        if progress:
            def step(d, t, m, k=k):
                progress(k * t + d, len(values) * t, f"GDT base value {k + 1}/{len(values)}")
        J = probes.fm.jacobian(probes.token_ids, v, targets=probes.scored[idx], progress=step)  # [target, source]
        out[k] = probes.restrict(J, axis=1)
    return out


def _features(probes, pairs, progress):
    return probes.both_directions(SPEC.probe, pairs, progress)


SPEC = MethodSpec(
    name="GDT",
    family=Family.PROBE_TRANSLATOR,
    description="translator on the Gradient Trajectory over 8 virtual base values, both directions",
    reference="UGRN Eq. 9",
    needs_labels=True,
    context_dependent=True,
    probe="GDT",
    probe_options=OPTIONS,
    cache_params=probe_key(OPTIONS),
    probe_rows=lambda n, params: (0, len(params.base_values) * n),
    compute_probe=_compute,
    probe_lines=_lines,
    line_axis="target",
    features=_features,
    jacobian_block=True,
    order=60,
    roles=("summary column",),
    paper_table=True,
    twin=True,
    shuffled_control=True,
    default_trained=True,
)
