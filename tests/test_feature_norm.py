"""Per-context normalisation of probe features (issue 13): columns standardised within a context, invariant to the
response scale that changes with the context size, applied identically when a translator is trained and used."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from ugrn_core import api, scfm
from ugrn_core.errors import ParameterError
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import FEATURE_NORMS, ProbeParams, normalise_probe
from ugrn_core.data.pairs import candidate_pairs


def _all_pairs(P):
    """Rows of every ordered pair i != j of a (K, N, N) array: (N(N-1), K)."""
    n = P.shape[1]
    off = ~np.eye(n, dtype=bool)
    return np.stack([p[off] for p in P], axis=1)


def test_normalise_probe_modes():
    rng = np.random.default_rng(0)
    n = 40
    P = (rng.standard_t(3, size=(3, n, n)) * np.array([0.01, 1.0, 50.0])[:, None, None] + 7).astype(np.float32)
    np.testing.assert_array_equal(normalise_probe(P, "none"), P)
    np.testing.assert_allclose(normalise_probe(P, "context-size"), P * n, rtol=1e-6)
    for mode in ("context-z", "context-rank"):
        Z = normalise_probe(P, mode)
        F = _all_pairs(Z)
        np.testing.assert_allclose(F.mean(0), 0, atol=1e-4)
        np.testing.assert_allclose(F.std(0), 1, atol=0.05 if mode == "context-rank" else 1e-4)
        assert all(spearmanr(F[:, k], _all_pairs(P)[:, k])[0] > 0.999 for k in range(3))  # order kept
        assert (np.diagonal(Z, axis1=1, axis2=2) == 0).all()
        # a context whose responses are c times larger (e.g. a c times smaller context) gives the same features
        scaled = normalise_probe(P * 13.0, mode)  # float32 rounding may swap a few near-tied ranks
        assert np.abs(scaled - Z).max() < (1e-4 if mode == "context-z" else 0.05)
    with pytest.raises(ParameterError, match="feature_norm"):
        normalise_probe(P, "zscore")
    with pytest.raises(ParameterError, match="feature_norm"):
        ProbeParams(feature_norm="zscore")
    assert ProbeParams.from_dict(ProbeParams(feature_norm="context-rank").to_dict()).feature_norm == "context-rank"
    assert set(FEATURE_NORMS) == {"none", "context-size", "context-z", "context-rank"}
    assert ProbeParams().feature_norm == "context-z"  # the default chosen from the lever table


@pytest.fixture(scope="module")
def tiny(tiny_checkpoint):
    return scfm.load_checkpoint(tiny_checkpoint, device="cpu")


PARAMS = dict(target_values=(0.0, 50.0), base_values=(10.0, 40.0))


def test_context_z_features_of_all_candidate_pairs_are_standardised(tiny):
    ds = api.load_beeline("STRING/mHSC-L/500")
    raw = DatasetProbes(tiny, ds, ProbeParams(**PARAMS, feature_norm="none"))
    norm = DatasetProbes(tiny, ds, ProbeParams(**PARAMS, feature_norm="context-z"))
    g = raw.genes
    pairs = pd.DataFrame([(a, b) for a in g for b in g if a != b], columns=["tf", "target"])
    for m in ("VVP", "GDT"):
        F = norm.pair_features(m, pairs)
        np.testing.assert_allclose(F.mean(0), 0, atol=1e-3)
        np.testing.assert_allclose(F.std(0), 1, atol=1e-3)
        R = raw.pair_features(m, pairs)
        assert not np.allclose(R.std(0), 1)  # the raw features were not standardised already
        # same pair order, each column an increasing affine map of the raw one
        for k in range(F.shape[1]):
            a = np.polyfit(R[:, k], F[:, k], 1)
            assert a[0] > 0 and np.allclose(np.polyval(a, R[:, k]), F[:, k], atol=1e-3)
    np.testing.assert_array_equal(norm.pair_features("Emb", pairs[:20]), raw.pair_features("Emb", pairs[:20]))


def test_translator_applies_its_feature_norm_at_prediction(tiny, tmp_path, fp32_close):
    from ugrn_core.translator import DEFAULT_OPTIONS, TrainOptions

    ds = api.load_beeline("STRING/mHSC-L/500")
    params = ProbeParams(**PARAMS, feature_norm="context-z")
    tr = api.train_translator(tiny, ds, ["VVP", "GDT"], params, epochs=3)
    assert tr.params.feature_norm == "context-z" and tr.options == TrainOptions(**{**DEFAULT_OPTIONS.to_dict(), "epochs": 3})
    loaded = api.load_translator(tr.save(tmp_path / "tr"))
    assert loaded.params == params
    edges = api.predict_edges(tiny, ds, loaded, method="VVP")  # probes built from the translator's params
    probes = DatasetProbes(tiny, ds, params)
    pairs = candidate_pairs(ds, genes=probes.genes)
    expect = tr.predict("VVP", {"VVP": probes.pair_features("VVP", pairs)})
    got = edges.set_index(["tf", "target"])["score"].loc[list(zip(pairs["tf"], pairs["target"]))].to_numpy()
    fp32_close(got, expect)  # probabilities from a separately batched translator call
    # features gathered without the normalisation are refused, not silently scored
    with pytest.raises(ValueError, match="differ"):
        raw = DatasetProbes(tiny, ds, ProbeParams(**PARAMS, feature_norm="none"))
        api.predict_edges(tiny, ds, loaded, method="VVP", probes=raw)
