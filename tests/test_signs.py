"""Signed edges from the probes (ugrn_core.probes.signs): slopes on hand-made probe arrays with known answers, and the signs
read from real cached probes of the bundled model equal those from direct model calls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ugrn_core.probes import signs
from ugrn_core.errors import ParameterError
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import ProbeParams

T = (0.0, 5.0, 10.0, 15.0, 35.0, 40.0, 45.0, 50.0)
V0 = 25.0


def test_vvp_slope_recovers_known_slopes_on_a_hand_made_probe():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))  # true slope per [source, target]
    a[0, 1], a[2, 3] = 0.7, -1.3
    t = np.asarray(T)
    R = a[None] * (t - V0)[:, None, None]  # lines through (v0, 0), as Eq. 8 defines R
    np.testing.assert_allclose(signs.vvp_slope(R, T, V0), a, rtol=1e-12, atol=1e-12)
    # with an offset (no anchor point): least squares still returns the slope
    np.testing.assert_allclose(signs.vvp_slope(R + 3.0, T), a, rtol=1e-12, atol=1e-12)
    # a curve: the least-squares slope over T ∪ {v0} equals numpy's polyfit on the same points
    Rq = 0.01 * (t - V0) ** 2 - 0.2 * (t - V0)
    expect = np.polyfit(np.append(t, V0), np.append(Rq, 0.0), 1)[0]
    assert signs.vvp_slope(Rq, T, V0) == pytest.approx(expect, rel=1e-12)
    assert signs.sign_of(signs.vvp_slope(R, T, V0))[[0, 2], [1, 3]].tolist() == [1, -1]
    with pytest.raises(ParameterError, match="8 target values"):
        signs.vvp_slope(R[:5], T)


def test_gdt_mean_sign_and_accuracy_on_hand_made_values():
    G = np.stack([np.full((3, 3), v) for v in (-1.0, 0.5, 2.0, -0.3)])  # mean 0.3
    np.testing.assert_allclose(signs.gdt_mean(G), np.full((3, 3), 0.3), rtol=1e-12)
    assert signs.sign_of([2.0, -1e-9, 0.0, np.nan, np.inf]).tolist() == [1, -1, 0, 0, 0]
    acc = signs.sign_accuracy(np.array([1, 1, -1, 0, -1]), np.array([1, -1, -1, 1, -1]))
    assert (acc["n"], acc["correct"], acc["n_zero"]) == (4, 3, 1)
    assert acc["accuracy"] == pytest.approx(0.75) and acc["p"] == pytest.approx(0.625)
    r = signs.pearson_r(np.array([[0.0, 0, 5], [1, -2, 5], [2, -4, 5], [3, -5, 5]]), np.array([0, 0]), np.array([1, 2]))
    assert r[0] == pytest.approx(np.corrcoef([0, 1, 2, 3], [0, -2, -4, -5])[0, 1], rel=1e-12) and r[0] < -0.9
    assert r[1] == 0.0  # a constant gene


GENES = ["SPI1", "CEBPA", "GATA2", "RUNX1", "MYB", "MYC", "FLI1", "IKZF1", "CEBPB", "JUN", "FOS", "EGR1"]  # all in the vocabulary


@pytest.fixture(scope="module")
def real_probes(fm):
    from ugrn_core.data.datasets import dataset_from_genes

    ds = dataset_from_genes(GENES, tfs=GENES, species="human", name="signs-test")
    return DatasetProbes(fm, ds, ProbeParams(feature_norm="context-z"))


def test_signs_from_cached_probes_equal_direct_model_calls(fm, real_probes):
    p = real_probes
    genes = p.genes
    pairs = pd.DataFrame([(a, b) for a in genes for b in genes if a != b], columns=["tf", "target"])
    out = signs.edge_signs(p, pairs)
    assert list(out.columns) == ["tf", "target", "VVP_slope", "VVP_sign", "GDT_slope", "GDT_sign"]
    assert set(out["VVP_sign"]) == {-1, 1} and set(out["GDT_sign"]) <= {-1, 0, 1}
    # the normalised features must not be what the sign is read from
    p.normalised_probe("VVP")
    again = signs.edge_signs(p, pairs.iloc[:5])
    np.testing.assert_allclose(again["VVP_slope"], out["VVP_slope"].iloc[:5], rtol=1e-12)

    order = np.argsort(out["VVP_slope"].to_numpy())
    picks = [order[0], order[-1], order[int(0.8 * len(order))]]  # most negative, most positive, a mid-positive one
    params, ids = p.params, p.token_ids
    vvp_scale = float(np.abs(out["VVP_slope"]).median())  # float32 round-off is relative to the typical slope
    base = np.full(len(ids), params.v0, dtype=np.float32)
    M0 = fm.reconstruct(ids, base)
    for k in picks:
        tf, tg = out.loc[k, ["tf", "target"]]
        i, j = p.positions([tf, tg])
        cells = np.repeat(base[None], len(params.target_values), 0)
        cells[:, i] = params.target_values
        R = fm.reconstruct(ids, cells)[:, j] - M0[j]  # Eq. 8 by direct model calls
        slope = np.polyfit(np.append(params.target_values, params.v0), np.append(R, 0.0), 1)[0]
        assert out.loc[k, "VVP_slope"] == pytest.approx(slope, rel=1e-3, abs=1e-3 * vvp_scale)
        assert out.loc[k, "VVP_sign"] == np.sign(slope)
        # Eq. 9 by central finite differences of the reconstruction (independent of the autograd Jacobian)
        h, grads = 0.25, []
        for v in params.base_values:
            x = np.full((2, len(ids)), v, dtype=np.float32)
            x[0, i] += h
            x[1, i] -= h
            M = fm.reconstruct(ids, x)
            grads.append((M[0, j] - M[1, j]) / (2 * h))
        fd = float(np.mean(grads))
        scale = max(abs(fd), float(np.abs(out["GDT_slope"]).median()))
        assert out.loc[k, "GDT_slope"] == pytest.approx(fd, abs=0.05 * scale)
        if abs(fd) > 0.1 * scale:
            assert out.loc[k, "GDT_sign"] == np.sign(fd)
    assert signs.method_signs(p, pairs.iloc[:3], "VVP").tolist() == out["VVP_sign"].iloc[:3].tolist()
    assert signs.method_signs(p, pairs.iloc[:3], "Ens") is None
    with pytest.raises(KeyError, match="NOTAGENE"):
        signs.edge_signs(p, pd.DataFrame({"tf": ["NOTAGENE"], "target": [genes[0]]}))


def test_simulated_interactions_carry_the_true_sign_and_pearson_reads_it():
    pytest.importorskip("sergio_rs")
    from ugrn_core.data.simulate import SimulationConfig, simulate_beeline

    ds = simulate_beeline("STRING/mDC/500", n_genes=40, max_regulators=2,
                          cfg=SimulationConfig(n_cell_states=2, cells_per_state=400, repression_frac=0.5), seed=3)
    inter = ds.expression.uns["interactions"]
    assert set(zip(inter["tf"], inter["target"])) == set(zip(ds.edges["tf"], ds.edges["target"]))
    truth = signs.sign_of(inter["k"].to_numpy())
    assert set(truth) == {-1, 1}
    acc = signs.sign_accuracy(signs.sign_of(signs.dataset_pearson_r(ds, inter)), truth)
    assert acc["n"] == len(inter) and acc["accuracy"] > 0.7, acc  # expression shows the simulator's signs
