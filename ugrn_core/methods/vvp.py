"""VVP: Virtual Value Perturbation features for the translator (UGRN Eq. 8).

Every context gene gets the virtual base value v0; the source gene is set to each target value t in T and the
model's reconstruction of the target gene is recorded relative to the all-v0 cell: R[t, i, j]. A pair's feature is
[R[:, i, j] ‖ R[:, j, i]] (forward ‖ reverse), float32 (P, 2·|T|). In a background context (``DatasetProbes``
with ``background``) only the scored genes are sources (T·S + 1 forward rows instead of T·N + 1).
"""

from __future__ import annotations

from .base import Family, MethodSpec, ProbeOption, probe_key

#: VVP's parameters (``ProbeParams`` fields v0 and target_values; defaults there) and their flags
OPTIONS = (ProbeOption("v0", "--v0", "VVP virtual base value (bin space 0..50; default 25)"),
           ProbeOption("target_values", "--target-values",
                       "comma-separated VVP target values (default 8 values over 0..50)", many=True))


def _compute(probes, progress):
    # rows only for the scored genes as sources (all context genes without a background), responses at scored targets
    p = probes.params
    R = probes.fm.vvp(probes.token_ids, p.v0, p.target_values, sources=probes.scored, progress=progress)
    return probes.restrict(R, axis=2)


def _lines(probes, idx, progress):
    # source lines R[:, i, :] for scored genes idx: T forward rows each (+ the all-v0 reference row)
    p = probes.params
    R = probes.fm.vvp(probes.token_ids, p.v0, p.target_values, sources=probes.scored[idx], progress=progress)
    return probes.restrict(R, axis=2)


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
    probe_options=OPTIONS,
    cache_params=probe_key(OPTIONS),
    probe_rows=lambda n, params: (len(params.target_values) * n + 1, 0),
    compute_probe=_compute,
    probe_lines=_lines,
    line_axis="source",
    features=_features,
    order=50,
    roles=("summary column",),
    paper_table=True,
    twin=True,
    shuffled_control=True,
    default_trained=True,
)
