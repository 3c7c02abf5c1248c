"""Only the probe rows the candidate pairs need (issue 28): Jacobian columns by forward mode, GDT blocks of TF rows and
columns equal to the whole array's entries, their cache entries, and time estimates that track the wall time."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ugrn_core.data import datasets
from ugrn_core.probes import blocks
from ugrn_core.probes.cache import ProbeCache
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import ProbeParams, normalise_probe
from ugrn_core.data.pairs import candidate_pairs

FEW = ProbeParams(base_values=(10.0, 40.0))


def test_jacobian_columns_equal_the_jacobians_columns(fm, fp32_close):
    ids = fm.token_ids(fm.genes[200:248])
    sources = np.array([0, 3, 17, 47, 3])
    J = fm.jacobian(ids, 20.0)  # (48, 48) [target, source]
    C = fm.jacobian_columns(ids, 20.0, sources=sources)  # (5, 48) [source, target]
    assert C.shape == (5, 48) and C.dtype == np.float32
    fp32_close(C, J[:, sources].T, scale=np.abs(J).max())
    assert np.abs(C).max() > 1000 * (1e-6 + 1e-5 * np.abs(J).max())  # far above the tolerance
    cell = np.linspace(0, 50, 48)  # a given cell, not only a virtual base value
    fp32_close(fm.jacobian_columns(ids, cell, sources=[5]), fm.jacobian(ids, cell)[:, [5]].T,
               scale=np.abs(fm.jacobian(ids, cell)).max())


def _probes(fm, tmp_path, params, rows="auto", n=48, n_tfs=4):
    genes = fm.genes[300 : 300 + n]
    ds = datasets.dataset_from_genes(genes, tfs=genes[5 : 5 + n_tfs], name="block-test")
    return DatasetProbes(fm, ds, params, cache=ProbeCache(fm.checkpoint_id, tmp_path / "cache"), rows=rows)


def test_gdt_block_equals_the_whole_arrays_entries(fm, tmp_path, fp32_close):
    params = ProbeParams(base_values=(10.0, 40.0), feature_norm="none")
    part = _probes(fm, tmp_path, params)
    pairs = candidate_pairs(part.dataset, genes=part.genes)
    plan = blocks.plan(part, "GDT")
    assert plan is not None and plan["columns"] == 2 * 4 and plan["backward"] == 2 * 4  # 2·A passes per base value
    got = part.both_directions("GDT", pairs)
    assert part.source["GDT"] == "computed" and not part.is_cached("GDT")  # the whole array was never computed

    whole = _probes(fm, tmp_path / "w", params, rows="full")
    P = whole.probe("GDT")
    want = whole.both_directions("GDT", pairs)
    assert got.shape == want.shape == (len(pairs), 4)
    fp32_close(got, want, scale=np.abs(P).max())
    assert np.abs(want).max() > 1000 * 1e-5 * np.abs(P).max()

    again = _probes(fm, tmp_path, params)  # the block is cached under its own key
    np.testing.assert_array_equal(again.both_directions("GDT", pairs), got)
    assert again.source["GDT"] == "disk"


def test_a_cached_whole_array_serves_every_subset(fm, tmp_path):
    params = ProbeParams(base_values=(10.0, 40.0), feature_norm="none")
    whole = _probes(fm, tmp_path, params, rows="full")
    whole.probe("GDT")  # the whole array in the cache, under its unchanged key
    part = _probes(fm, tmp_path, params)
    assert part.is_cached("GDT") and blocks.plan(part, "GDT") is None
    pairs = candidate_pairs(part.dataset, genes=part.genes).iloc[::7]
    np.testing.assert_array_equal(part.both_directions("GDT", pairs), whole.both_directions("GDT", pairs))
    assert part.source["GDT"] == "disk"


def test_block_normalisation_equals_the_whole_arrays_with_all_rows_as_sample(fm, tmp_path, fp32_close):
    """With every gene in the statistics sample the block's context-z (and context-size) features are exactly the
    whole array's: the only difference in a real block is the sampled statistics."""
    rng = np.random.default_rng(1)
    P = rng.normal(0.01, 0.3, size=(2, 30, 30)).astype(np.float32)  # [k, source, target]
    tfs, rows = np.array([2, 9, 20]), np.arange(30)
    jrows = P.transpose(0, 2, 1)  # Jacobian rows [target, source]
    for mode in ("context-z", "context-size", "none"):
        probes = _probes(fm, tmp_path, ProbeParams(base_values=(10.0, 40.0), feature_norm=mode), n=30)
        blocks_sample = blocks.SAMPLE_ROWS
        try:
            blocks.SAMPLE_ROWS = 30
            fwd, rev = blocks._normalise(probes, "GDT", P[:, tfs], P[:, :, tfs], jrows, rows, 30)
        finally:
            blocks.SAMPLE_ROWS = blocks_sample
        Z = normalise_probe(P * (30 if mode == "context-size" else 1), mode if mode != "context-size" else "none")
        off = ~np.eye(30, dtype=bool)
        fp32_close(np.where(off[tfs], fwd, 0), np.where(off[tfs], Z[:, tfs], 0), scale=np.abs(Z).max())
        fp32_close(np.where(off[:, tfs], rev, 0), np.where(off[:, tfs], Z[:, :, tfs], 0), scale=np.abs(Z).max())


def test_sampled_statistics_block_is_close_and_cheaper(fm, tmp_path):
    """Default context-z: TF rows ∪ a fixed sample of rows, fewer passes than the whole Jacobian; features close to
    the whole array's (the sampled mean/std differ slightly), and TF→gene pairs ranked alike."""
    params = ProbeParams(base_values=(10.0, 40.0))
    blocks_sample = blocks.SAMPLE_ROWS
    try:
        blocks.SAMPLE_ROWS = 24
        part = _probes(fm, tmp_path, params, n=96, n_tfs=6)
        plan = blocks.plan(part, "GDT")
        assert plan is not None and plan["backward"] + plan["columns"] < 2 * 96
        pairs = candidate_pairs(part.dataset, genes=part.genes)
        got = part.both_directions("GDT", pairs)
    finally:
        blocks.SAMPLE_ROWS = blocks_sample
    want = _probes(fm, tmp_path / "w", params, rows="full", n=96, n_tfs=6).both_directions("GDT", pairs)
    for c in range(got.shape[1]):  # per feature column (one slice, one direction): an affine map of the same entries
        slope, _ = np.polyfit(want[:, c], got[:, c], 1)
        assert np.corrcoef(got[:, c], want[:, c])[0, 1] > 0.99999 and 0.5 < slope < 2.0, (c, slope)
    assert np.abs(got - want).max() < 0.5 * np.abs(want).max()


@pytest.mark.parametrize("kind", ["forward", "backward", "columns"])
def test_estimates_track_wall_time(fm, kind):
    """``ScFM.estimate_seconds`` before a run vs the run's wall time (generous bounds: the machine is shared)."""
    ids = fm.token_ids(fm.genes[400:528])
    rows = 48
    est = fm.estimate_seconds(rows if kind == "forward" else 0, rows if kind == "backward" else 0, 128,
                              rows if kind == "columns" else 0)
    t = time.perf_counter()
    if kind == "forward":
        fm.vvp(ids, 25.0, [10.0, 40.0], sources=np.arange(rows // 2))
    elif kind == "backward":
        fm.jacobian(ids, 20.0, targets=np.arange(rows))
    else:
        fm.jacobian_columns(ids, 20.0, sources=np.arange(rows))
    wall = time.perf_counter() - t
    assert est > 0 and 0.33 < est / wall < 3.0, (est, wall)


def test_block_is_byte_identical_at_one_and_two_threads(fm):
    """Column batches (one at a time) and row batches (side by side) on 1 and 2 threads give the same bytes
    (tests/test_determinism.py's rule for every probe)."""
    import torch

    from ugrn_core.scfm.jacobian_block import jacobian_block

    ids = fm.token_ids(fm.genes[500:580])
    before = torch.get_num_threads()
    out = {}
    try:
        for t in (1, 2):
            torch.set_num_threads(t)
            out[t] = jacobian_block(fm, ids, 25.0, np.arange(0, 80, 3), np.arange(1, 80, 4))
    finally:
        torch.set_num_threads(before)
    for a, b in zip(out[1], out[2]):
        assert a.tobytes() == b.tobytes()
