"""Emb: the sum of the two genes' token embeddings as translator features (UGRN Eq. 7).

Reads the checkpoint's gene embedding table only (no forward pass), so it does not depend on the context genes or
the expression: feature E_i + E_j, float32 (P, d_model), symmetric in the pair.
"""

from __future__ import annotations

import numpy as np

from .base import Family, MethodSpec


def _features(probes, pairs, progress):
    E = probes.embeddings()
    i, j = probes.positions(pairs["tf"]), probes.positions(pairs["target"])
    return (E[i] + E[j]).astype(np.float32)


SPEC = MethodSpec(
    name="Emb",
    family=Family.PROBE_TRANSLATOR,
    description="translator on the sum of the two genes' token embeddings",
    reference="UGRN Eq. 7",
    needs_labels=True,
    features=_features,
    order=40,
    roles=("summary column", "embedding translator"),
    paper_table=True,
    twin=True,
    shuffled_control=True,
    default_trained=True,
    comparisons=(("Emb", "Degree prior"), ("Emb", "Emb (twin)")),
)
