"""Exact context statistics shipped with the bundled checkpoint (``ugrn_core.probes.context_stats``, issue 28): the
file covers every TFs+500 set, a sample of it recomputed from the full probes equals it, and pairs scored with it on
the fast path equal the full network's scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ugrn_core import api
from ugrn_core.data.pairs import candidate_pairs
from ugrn_core.methods import score_pairs
from ugrn_core.probes import context_stats
from ugrn_core.probes.cache import ProbeCache
from ugrn_core.probes.pairs import PairProbes

DATASET = "STRING/mHSC-L/500"  # the app's default set: the browser test's Network page caches its full probes
PROBES = ("VVP", "GDT")


@pytest.fixture(scope="module")
def translator():
    return api.load_translator()


def test_the_bundled_checkpoint_ships_statistics_for_every_tfs500_set(fm, translator):
    """A change of probe version, virtual values or checkpoint without regenerating the file fails here."""
    shipped = context_stats.load(fm)
    assert shipped, f"no usable {context_stats.FILENAME} in {fm.path} (regenerate: python scripts/context_stats.py)"
    missing = []
    for name in [n for n in api.list_datasets() if n.endswith("/500")]:
        p = PairProbes(fm, api.load_beeline(name), translator.params)
        missing += [f"{name} {probe}" for probe in PROBES if p.shipped_statistics(probe) is None]
    assert not missing, f"not shipped: {missing}; regenerate with python scripts/context_stats.py"


def test_a_sample_of_the_shipped_statistics_is_recomputed_equal(fm, translator):
    fresh = context_stats.compute(fm, [api.load_beeline(DATASET)], PROBES, translator.params)
    assert len(fresh) == 2
    assert context_stats.differences(context_stats.load(fm), fresh) == []
    # and the comparison can fail: a statistic moved by 1 % of a std is reported
    key = next(iter(fresh))
    moved = {key: dict(fresh[key], mean=[m + 0.01 * s for m, s in zip(fresh[key]["mean"], fresh[key]["std"])])}
    assert len(context_stats.differences(context_stats.load(fm), moved)) == 1


def test_fast_pairs_with_shipped_statistics_equal_the_full_network(fm, translator, tmp_path):
    """Issue 28: pair probabilities within 0.01 of the full computation; with the exact statistics they agree to
    float32 round-off. The fast path's cache is empty, so it reads the pair's lines only."""
    ds = api.load_beeline(DATASET)
    full = api.probes(fm, ds, translator.params)
    fast = PairProbes(fm, ds, translator.params, cache=ProbeCache(fm.checkpoint_id, root=tmp_path))
    assert {p: fast.statistics_kind(p) for p in PROBES} == {"VVP": "shipped", "GDT": "shipped"}
    assert not any(fast.needs_statistics(p) for p in PROBES)
    pairs = candidate_pairs(ds).sample(6, random_state=1)[["tf", "target"]].reset_index(drop=True)
    both = pd.concat([pairs, pairs.rename(columns={"tf": "target", "target": "tf"})], ignore_index=True)
    methods = [m for m in ("VVP", "GDT", "Ens") if m in translator.methods]
    got, want = score_pairs(fast, both, methods, translator), score_pairs(full, both, methods, translator)
    assert not any(fast.is_cached(p) for p in PROBES), "the fast path must not have probed the whole set"
    for m in methods:
        err = np.abs(got[m].to_numpy() - want[m].to_numpy()).max()
        print(f"{m}: max |fast - full| = {err:.2e}")
        assert err <= 1e-4, (m, err)
    # the sampled statistics of the same context (what a gene set without shipped statistics gets) differ
    sampled = PairProbes(fm, ds, translator.params, cache=ProbeCache(fm.checkpoint_id, root=tmp_path / "s"))
    ex = fast.shipped_statistics("VVP")
    approx = sampled.sampled_statistics("VVP")
    assert not np.allclose(ex[1], approx[1], rtol=1e-3)
