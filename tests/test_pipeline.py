"""End to end on real BEELINE data with the bundled model: probes → features → translator → benchmark → edges.

A reduced virtual-value grid (2 target values, 2 base values) keeps this within CI time; the full 8 + 8 grid
runs in ``benchmarks/`` and ``make benchmark``.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ugrn_core import api, cli, methods
from ugrn_core.probes import background
from ugrn_core.bench.benchmark import default_methods, resolve_datasets, run_benchmark
from ugrn_core.data.datasets import load_beeline
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import ProbeParams
from ugrn_core.data.pairs import candidate_pairs, sample_pairs, split_pairs
from ugrn_core.translator import DEFAULT_OPTIONS, fit_projector

PARAMS = ProbeParams(v0=25.0, target_values=(0.0, 50.0), base_values=(10.0, 40.0), feature_norm="none")  # raw
# features: these tests check them against the probe arrays and their 1/N scale (tests/test_feature_norm.py covers
# the normalised ones)
TRAIN = "STRING/mHSC-L/500"
TESTS = ["Non-Specific/mHSC-L/500", "STRING/mHSC-GM/500", "STRING/mHSC-E/500"]


@pytest.fixture(scope="module")
def probes(fm):
    return DatasetProbes(fm, load_beeline(TRAIN), PARAMS)


@pytest.fixture(scope="module")
def result(fm):
    return run_benchmark(fm, TRAIN, TESTS, params=PARAMS, seed=0, include_train_cell=True)  # tests overlap removal


def test_pair_features_shapes_and_directions(probes):
    pairs = sample_pairs(probes.dataset, genes=probes.genes, seed=0).head(50)
    vvp = probes.pair_features("VVP", pairs)
    gdt = probes.pair_features("GDT", pairs)
    emb = probes.pair_features("Emb", pairs)
    pert = probes.pair_features("Pert", pairs)
    assert vvp.shape == (50, 4) and gdt.shape == (50, 4) and pert.shape == (50, 2) and emb.shape == (50, probes.fm.d_model)
    R = probes.probe("VVP")
    i, j = probes.positions(pairs["tf"]), probes.positions(pairs["target"])
    np.testing.assert_array_equal(vvp[:, :2], R[:, i, j].T)  # forward: source TF moved, target responds
    np.testing.assert_array_equal(vvp[:, 2:], R[:, j, i].T)  # reverse: target moved, TF responds
    swapped = pairs.rename(columns={"tf": "target", "target": "tf"})
    np.testing.assert_array_equal(probes.pair_features("VVP", swapped), np.hstack([vvp[:, 2:], vvp[:, :2]]))
    np.testing.assert_array_equal(probes.pair_features("Emb", swapped), emb)  # Eq. 7 is symmetric
    assert np.abs(gdt).max() > 0 and np.isfinite(gdt).all()


def test_gdt_probe_is_the_transposed_jacobian(probes, fp32_close):
    G = probes.probe("GDT")
    ids = probes.token_ids
    J = probes.fm.jacobian(ids, PARAMS.base_values[1], targets=np.array([3, 17]))  # rows = targets
    fp32_close(G[1][:, [3, 17]].T, J)  # other batches of Jacobian rows: round-off of the largest entry


def test_within_dataset_translator_beats_chance(probes):
    """Known answer: on held-out pairs of the same network, gene-identity features rank hub-TF edges first."""
    pairs = sample_pairs(probes.dataset, genes=probes.genes, seed=0)
    train, test = split_pairs(pairs, test_size=0.3, seed=0)
    proj = fit_projector(probes.pair_features("Emb", train), train["label"].to_numpy(), seed=0)
    auc = roc_auc_score(test["label"], proj.logits(probes.pair_features("Emb", test)))
    assert auc > 0.7
    # shuffling the labels destroys the signal: features and labels are aligned, not memorised
    shuffled = fit_projector(probes.pair_features("Emb", train), np.random.default_rng(0).permutation(train["label"].to_numpy()), seed=0)
    assert roc_auc_score(test["label"], shuffled.logits(probes.pair_features("Emb", test))) < auc - 0.1


def test_benchmark_table(result):
    t = result.table
    assert set(t["dataset"]) == set(TESTS) and list(dict.fromkeys(t["method"])) == default_methods()
    no_expr = t[t["dataset"] == "STRING/mHSC-E/500"]
    for row in no_expr.itertuples():
        if methods.get(row.method).needs_expression:
            assert np.isnan(row.AUROC) and row.note == "n/a: no expression"
        else:
            assert 0 <= row.AUROC <= 1
    ok = t[t["note"] == ""]
    assert ok[["AUROC", "AUPRC"]].apply(lambda c: c.between(0, 1)).all().all()
    np.testing.assert_allclose(ok["AUPRC_ratio"], ok["AUPRC"] / (ok["n_pos"] / (ok["n_pos"] + ok["n_neg"])), rtol=1e-9)
    assert "n/a" in result.to_markdown()


def test_no_pair_shared_between_train_and_test(result, fm):
    train_ds = load_beeline(TRAIN)
    tp = DatasetProbes(fm, train_ds, PARAMS)
    train_pairs = sample_pairs(train_ds, genes=tp.genes, seed=0)
    tok = dict(zip(tp.mapping.genes, tp.mapping.tokens))
    seen = set(zip(train_pairs["tf"].map(tok), train_pairs["target"].map(tok)))
    removed = result.meta["test_pairs_removed_as_seen_in_training"]
    assert result.meta["train_options"] == {**DEFAULT_OPTIONS.to_dict(), "epochs": 50}  # recorded, the default's
    assert removed["Non-Specific/mHSC-L/500"] > 0  # same gene set as the training network: overlaps exist
    for name in TESTS:
        ds = load_beeline(name)
        p = DatasetProbes(fm, ds, PARAMS)
        pairs = sample_pairs(ds, genes=p.genes, seed=0)
        t = dict(zip(p.mapping.genes, p.mapping.tokens))
        keys = list(zip(pairs["tf"].map(t), pairs["target"].map(t)))
        n_seen = sum(k in seen for k in keys)
        assert n_seen == removed[name]
        row = result.table[(result.table["dataset"] == name) & (result.table["method"] == "VVP")].iloc[0]
        assert row.n_pos + row.n_neg == len(pairs) - n_seen
    assert TRAIN not in resolve_datasets("*/mHSC-L/500", exclude=(TRAIN,))


def test_gene_sets_probed_once_across_networks(result, fm, monkeypatch):
    cache = DatasetProbes(fm, load_beeline(TRAIN), PARAMS).cache
    ours = [f for f in cache.dir.glob("VVP-*.json") if json.loads(f.read_text())["params"] == PARAMS.to_dict()]
    assert len(ours) == 3  # mHSC-L (shared by STRING and Non-Specific), mHSC-GM, mHSC-E
    mapped = {len(DatasetProbes(fm, load_beeline(f"STRING/{c}/500"), PARAMS).genes) for c in ("mHSC-L", "mHSC-GM", "mHSC-E")}
    assert len(mapped) == 3 and {json.loads(f.read_text())["n_genes"] for f in ours} == mapped
    assert not list(cache.dir.glob("*.tmp"))
    # reuse, not recomputation: with the model calls disabled, a fresh object for the other mHSC-L network (same
    # gene set) still gets every probe, from the files the benchmark wrote, which stay untouched
    stamps = {f: f.stat().st_mtime_ns for f in cache.dir.glob("*.npy")}

    def no_model(*a, **k):
        raise AssertionError("probe recomputed although it is cached")

    monkeypatch.setattr(DatasetProbes, "_compute", no_model)
    other = DatasetProbes(fm, load_beeline("Non-Specific/mHSC-L/500"), PARAMS)
    for probe in ("VVP", "GDT", "Pert", "Attn"):
        other.probe(probe)
        assert other.source[probe] == "disk"
    assert {f: f.stat().st_mtime_ns for f in cache.dir.glob("*.npy")} == stamps


def test_ens_is_the_mean_of_its_members_logits(result):
    """UGRN Sec. 3.3: P_Ens = sigmoid((logit(P_VVP) + logit(P_GDT)) / 2) on the same test pairs (compared as
    probabilities: logits of saturated probabilities near 1 lose precision)."""
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    for name in TESTS:
        (y, ens), (_, vvp), (_, gdt) = (result.scores[(m, name)] for m in ("Ens", "VVP", "GDT"))
        mean = (logit(vvp) + logit(gdt)) / 2
        np.testing.assert_allclose(ens, 1 / (1 + np.exp(-mean)), rtol=0, atol=1e-9)
        assert not np.allclose(ens, vvp) and not np.allclose(ens, gdt)


def test_result_roundtrip(result, tmp_path):
    loaded = api.load_benchmark(result.save(tmp_path / "bench"))
    pd.testing.assert_frame_equal(loaded.table, result.table, check_dtype=False)
    assert set(loaded.scores) == set(result.scores) and len(result.scores) > 10
    for key, (y0, s0) in result.scores.items():
        y, s = loaded.scores[key]
        np.testing.assert_array_equal(y, y0)
        np.testing.assert_allclose(s, s0, rtol=1e-6, atol=1e-7)  # scores are stored as float32
        assert s.var() > 0
    assert loaded.meta == json.loads(json.dumps(result.meta, default=str))
    assert (tmp_path / "bench" / "results.md").read_text().startswith("# UGRN benchmark")


def test_predict_edges_from_gene_list_and_cli(result, fm, tmp_path):
    translator_dir = result.translator.save(tmp_path / "translator")
    genes = load_beeline(TRAIN).genes
    (tmp_path / "genes.txt").write_text("\n".join(genes) + "\n")
    ds = api.dataset_from_genes(genes, species="mouse", name="genes")
    assert not ds.has_ground_truth and not ds.has_expression
    edges = api.predict_edges(fm, ds, api.load_translator(translator_dir), method="Ens")
    n_tf = len(set(ds.tfs) & set(api.probes(fm, ds, PARAMS).genes))
    n_genes = len(api.probes(fm, ds, PARAMS).genes)
    assert len(edges) == n_tf * (n_genes - 1)
    assert list(edges.columns) == ["tf", "target", "score", "label"] and edges["label"].isna().all()
    assert edges["score"].is_monotonic_decreasing and edges["score"].between(0, 1).all()

    out = tmp_path / "edges.tsv"
    rc = cli.main(["predict", "--genes", str(tmp_path / "genes.txt"), "--species", "mouse", "--translator",
                   str(translator_dir), "--method", "vvp", "--top", "100", "--out", str(out)])  # names in any case
    assert rc == 0
    written = pd.read_csv(out, sep="\t")
    assert list(written.columns) == ["source", "target", "weight", "score", "rank"] and len(written) == 100  # no reference
    assert written["score"].is_monotonic_decreasing
    rc = cli.main(["predict", "--genes", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "x.tsv")])
    assert rc == 2 and not (tmp_path / "x.tsv").exists()


def test_small_context_features_scale_up_and_predictions_warn(result, fm, fp32_close):
    full_ds = load_beeline(TRAIN)
    full = DatasetProbes(fm, full_ds, PARAMS)
    tfs = [g for g in full_ds.tfs if g in set(full.genes)][:4]
    small_genes = tfs + [g for g in full.genes if g not in tfs][:8]
    ds = api.dataset_from_genes(small_genes, species="mouse", name="small")
    small = DatasetProbes(fm, ds, PARAMS)
    assert len(small.tokens) == 12
    pairs = candidate_pairs(ds, genes=small.genes)
    # the same pairs: VVP responses in a 12-gene context are several times those in the 554-gene one (≈ 1/N)
    ratio = np.abs(small.pair_features("VVP", pairs)).mean() / np.abs(full.pair_features("VVP", pairs)).mean()
    assert ratio > 3
    assert result.translator.n_context == len(full.tokens) and result.translator.context_genes == tuple(full.tokens)
    with pytest.warns(UserWarning, match="extrapolated"):  # the list alone: the translator extrapolates
        api.predict_edges(fm, ds, result.translator, method="VVP", background="none")
    assert api.context_warning(fm, full_ds, result.translator) is None
    # default: a short list is probed among the translator's training genes (here the list's own dataset, so the
    # context is the full one and the features are the full context's), with no warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        edges = api.predict_edges(fm, ds, result.translator, method="VVP")
    assert not [w for w in caught if "extrapolated" in str(w.message)]
    in_bg = DatasetProbes(fm, ds, PARAMS, background=background.from_translator(result.translator))
    assert in_bg.tokens == full.tokens and len(in_bg.scored) == 12
    # raw features, rows batched differently: VVP responses are differences of reconstructions (≈ 40, their round-off
    # sets the tolerance), GDT the Jacobian's entries
    vvp_scale = np.abs(fm.reconstruct(full.token_ids, np.full(len(full.tokens), PARAMS.v0))).max()
    fp32_close(in_bg.pair_features("VVP", pairs), full.pair_features("VVP", pairs), scale=vvp_scale, rtol=1e-4)
    fp32_close(in_bg.pair_features("GDT", pairs), full.pair_features("GDT", pairs), scale=np.abs(full.probe("GDT")).max(),
               rtol=1e-4)
    assert len(edges) == len(pairs) and api.context_warning(fm, ds, result.translator) is None


def test_translator_refuses_other_probe_parameters(result, fm):
    ds = load_beeline("STRING/mHSC-GM/500")
    with pytest.raises(ValueError, match="differ"):
        api.predict_edges(fm, ds, result.translator, probes=DatasetProbes(fm, ds, ProbeParams()))
