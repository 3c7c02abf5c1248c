"""The benchmark protocol of issue 8: test sets, negative modes, degree prior, twin, statistics, peers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ugrn_core.bench import controls
from ugrn_core import scfm
from ugrn_core.data.datasets import list_datasets, load_beeline, parse_dataset_name
from ugrn_core.methods.degree_prior import degree_prior_scores
from ugrn_core.methods.pearson import abs_pearson
from ugrn_core.bench.negatives import sample_test_pairs
from ugrn_core.bench.stats import paired_wilcoxon, seed_summary, table_with_averages
from ugrn_core.bench.presets import select_test_datasets as suite_test_datasets


def test_default_test_set_excludes_training_cell_type(data_dir):
    names = list_datasets(data_dir)
    for train in ("STRING/hESC/500", "Specific/mDC/1000", "Lofgof/mESC/500"):
        cell = parse_dataset_name(train)[1]
        tests = suite_test_datasets(train, names)
        assert tests and all(parse_dataset_name(d)[1] != cell for d in tests)
        with_cell = suite_test_datasets(train, names, include_train_cell=True)
        assert train not in with_cell and any(parse_dataset_name(d)[1] == cell for d in with_cell)
    # the paper's Table 1: 19 test datasets of size 500 when training on STRING hESC
    t1 = suite_test_datasets("STRING/hESC/500", [n for n in names if n.endswith("/500")])
    assert len(t1) == 19


@pytest.mark.parametrize("name", ["Specific/mESC/500", "STRING/mDC/500"])
def test_negative_modes_keep_their_promise(data_dir, name):
    ds = load_beeline(name, data_dir)
    pos_tfs = set(ds.edges["tf"]) & set(ds.tfs)
    uni = sample_test_pairs(ds, np_ratio=1, seed=0, negatives="uniform")
    tfp = sample_test_pairs(ds, np_ratio=1, seed=0, negatives="tf-positive")
    for p in (uni, tfp):
        assert p["label"].sum() == (p["label"] == 0).sum() > 0
        assert not p.duplicated(["tf", "target"]).any() and (p["tf"] != p["target"]).all()
    # tf-positive: every negative's TF has a positive in this network
    assert set(tfp.loc[tfp["label"] == 0, "tf"]) <= pos_tfs
    if name.startswith("Specific"):  # the TF-identity shortcut exists under uniform negatives
        assert not set(uni.loc[uni["label"] == 0, "tf"]) <= pos_tfs
    # labels are right: negatives are not edges
    edges = set(zip(ds.edges["tf"], ds.edges["target"]))
    for p in (uni, tfp):
        assert all((a, b) not in edges for a, b in p.loc[p["label"] == 0, ["tf", "target"]].itertuples(index=False))


def test_degree_matched_negatives_match_degrees(data_dir):
    ds = load_beeline("STRING/mDC/500", data_dir)
    p = sample_test_pairs(ds, np_ratio=1, seed=3, negatives="degree-matched")
    pos, neg = p[p["label"] == 1], p[p["label"] == 0]
    assert len(neg) == len(pos) and not neg.duplicated(["tf", "target"]).any()
    edges = set(zip(ds.edges["tf"], ds.edges["target"]))
    assert all((a, b) not in edges for a, b in neg[["tf", "target"]].itertuples(index=False))
    for col in ("tf", "target"):
        dp, dn = pos[col].value_counts(), neg[col].value_counts().reindex(pos[col].value_counts().index, fill_value=0)
        assert np.abs(dp - dn).sum() <= 0.05 * len(pos)  # degrees preserved up to a few redrawn collisions
    # a degree-only score is near chance on degree-matched negatives, far above it on uniform ones
    from sklearn.metrics import roc_auc_score

    def degree_auc(pairs):
        d = degree_prior_scores(pairs, pairs)
        return roc_auc_score(pairs["label"], d)

    assert abs(degree_auc(p) - 0.5) < 0.1
    assert degree_auc(sample_test_pairs(ds, np_ratio=1, seed=3, negatives="uniform")) > 0.75


def test_degree_matched_negatives_do_not_depend_on_the_process(data_dir):
    """The same seed draws the same degree-matched negatives in two processes with different string hashing
    (PYTHONHASHSEED), so a benchmark run is reproducible."""
    import os
    import subprocess
    import sys

    code = ("import hashlib, warnings; warnings.simplefilter('ignore');"
            "from ugrn_core.data.datasets import load_beeline; from ugrn_core.bench.negatives import sample_test_pairs;"
            f"p = sample_test_pairs(load_beeline('Lofgof/mESC/500', {str(data_dir)!r}), np_ratio=1.0, seed=0,"
            " negatives='degree-matched');"
            "print(len(p), hashlib.sha256(p.to_csv().encode()).hexdigest())")
    out = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": h}).stdout for h in ("1", "2")]
    assert out[0] == out[1] and int(out[0].split()[0]) > 0, out


def test_degree_prior_hand_computed():
    train = pd.DataFrame({"tf": ["A", "A", "B", "A", "C"], "target": ["X", "Y", "X", "Z", "X"], "label": [1, 1, 1, 0, 0]})
    test = pd.DataFrame({"tf": ["a", "B", "C", "Q"], "target": ["x", "Y", "Z", "X"]})
    # out-degree among positives: A 2, B 1; in-degree: X 2, Y 1 (negatives do not count; symbols upper-cased)
    np.testing.assert_array_equal(degree_prior_scores(train, test), [4.0, 2.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="label"):
        degree_prior_scores(train.drop(columns="label"), test)


def test_twin_is_untrained_with_same_architecture_and_vocabulary(tiny_model, tmp_path):
    model, vocab, args = tiny_model
    src = scfm.save_checkpoint(model, vocab, args, tmp_path / "ckpt")
    twin_a = controls.make_twin(src, tmp_path / "twin_a", seed=7)
    twin_b = controls.make_twin(src, tmp_path / "twin_b", seed=7)
    real, ta, tb = (scfm.load_checkpoint(p, "cpu") for p in (src, twin_a, twin_b))
    assert ta.vocab == real.vocab and ta.d_model == real.d_model and ta.n_layers == real.n_layers
    sr, sa, sb = real.model.state_dict(), ta.model.state_dict(), tb.model.state_dict()
    assert sr.keys() == sa.keys() and all(sr[k].shape == sa[k].shape for k in sr)
    differ = [k for k in sr if sr[k].dtype.is_floating_point and sr[k].numel() > 1 and not torch.equal(sr[k], sa[k])]
    assert "encoder.embedding.weight" in differ and len(differ) >= len([k for k in sr if "weight" in k]) // 2
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # deterministic for a seed
    assert ta.checkpoint_id != real.checkpoint_id


def test_shuffled_labels_and_unseen_mask():
    pairs = pd.DataFrame({"tf": list("AABBC"), "target": list("XYZXY"), "label": [1, 1, 0, 0, 1]})
    sh = controls.shuffle_labels(pairs, seed=1)
    assert sh["label"].sum() == 3 and (sh[["tf", "target"]] == pairs[["tf", "target"]]).all().all()
    assert any((controls.shuffle_labels(pairs, s)["label"] != pairs["label"]).any() for s in range(5))
    mask = controls.unseen_gene_mask(["A", "Q", "Q"], ["R", "X", "R"], {"A", "X"})
    np.testing.assert_array_equal(mask, [False, False, True])


def test_paired_wilcoxon_known_case():
    a = pd.Series(np.arange(10, dtype=float) + 1.0, index=list("abcdefghij"))
    b = pd.Series(np.zeros(10), index=list("abcdefghij"))
    r = paired_wilcoxon(a, b)
    # all 10 differences positive: W = 0 (sum of negative ranks), exact two-sided p = 2 / 2**10
    assert r["n"] == 10 and r["wins"] == 10 and r["statistic"] == 0.0
    assert r["p"] == pytest.approx(2 / 2 ** 10)
    # NaN pairs are dropped; a symmetric difference pattern is not significant
    c = pd.Series([1, -1, 2, -2, 3, -3, np.nan], dtype=float)
    r2 = paired_wilcoxon(c, pd.Series(np.zeros(7)))
    assert r2["n"] == 6 and r2["p"] == pytest.approx(1.0)


def test_averages_only_over_common_datasets():
    rows = pd.DataFrame({"dataset": ["d1", "d1", "d2", "d2", "d1", "d2"] * 2,
                         "method": ["M", "N", "M", "N", "P", "P"] * 2,
                         "seed": [0] * 6 + [1] * 6,
                         "AUPRC": [0.6, 0.5, 0.8, 0.7, 0.9, np.nan, 0.6, 0.5, 0.8, 0.7, 0.9, np.nan]})
    t = table_with_averages(seed_summary(rows))
    assert t.loc["Avg (1 common datasets)", "M"] == "0.600" and t.loc["Avg (1 common datasets)", "P"] == "0.900"
    assert t.loc["Avg over own datasets (n)", "M"] == "0.700 (n=2)" and t.loc["d2", "P"] == "n/a"
    assert t.loc["d1", "M"] == "0.600 ± 0.000"


def test_abs_pearson_in_blocks_is_bit_identical_to_one_block():
    rng = np.random.default_rng(3)
    X = rng.gamma(0.5, 1.0, size=(97, 40))
    X[:, 7] = 2.0  # zero variance: scores 0
    i, j = rng.integers(0, 40, 5000), rng.integers(0, 40, 5000)
    whole = abs_pearson(X, i, j, block_bytes=2 * 8 * 97 * 5000)  # one block
    for block in (1, 2 * 8 * 97, 2 * 8 * 97 * 333):  # 1 pair, 1 pair, 333 pairs per block
        assert np.array_equal(abs_pearson(X, i, j, block_bytes=block), whole)
    Z = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0) * np.sqrt(97), 1.0)
    assert np.allclose(whole, np.abs((Z[:, i] * Z[:, j]).sum(0)), rtol=0, atol=1e-12)
    assert (whole[(i == 7) | (j == 7)] == 0).all()


def test_abs_pearson_recovers_planted_correlation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    X[:, 1] = 0.9 * X[:, 0] + 0.3 * rng.normal(size=300)
    X[:, 3] = -0.8 * X[:, 2] + 0.4 * rng.normal(size=300)
    s = abs_pearson(X, np.array([0, 2, 0, 4]), np.array([1, 3, 5, 5]))
    assert s[0] > 0.9 and s[1] > 0.85 and s[2] < 0.2 and s[3] < 0.2
    np.testing.assert_allclose(s[0], abs(np.corrcoef(X[:, 0], X[:, 1])[0, 1]))


def test_plain_benchmark_pivot_averages_over_common_datasets():
    from ugrn_core.bench.benchmark import BenchmarkResult

    t = pd.DataFrame({"method": ["Origin-Pert", "Emb", "Origin-Pert", "Emb", "Pert", "Pert"],
                      "dataset": ["a", "a", "b", "b", "a", "b"], "AUPRC": [0.6, 0.7, np.nan, 0.9, np.nan, np.nan]})
    p = BenchmarkResult(t).pivot("AUPRC")
    assert p.loc["Avg", "Emb"] == pytest.approx(0.7) and p.loc["Avg", "Origin-Pert"] == pytest.approx(0.6)
    assert p.loc["Avg (own datasets)", "Emb"] == pytest.approx(0.8)


def test_grouped_table_rows_average_the_same_test_datasets_for_every_method():
    """Table 2-style rows (one per training source): each row averages, for every method, only the test datasets
    where all of that row's methods are defined; a method defined nowhere in the row (Pert without training
    expression) does not shrink it. Hand-computed case."""
    from ugrn_core.bench.tables import main_table

    def row(train, test, method, value, seed=0):
        return {"train": train, "test": test, "seed": seed, "negatives": "uniform", "np_ratio": 1.0, "method": method,
                "view": "all", "AUPRC": value, "variant": "real", "base_method": method}

    tests = ["STRING/mDC/500", "STRING/mESC/500", "STRING/mHSC-E/500"]  # mHSC-E: no expression
    rows = []
    for train in ("STRING/hESC/500", "STRING/hHEP/500"):
        for k, t in enumerate(tests):
            rows.append(row(train, t, "Ens", 0.5 + 0.1 * k))  # 0.5, 0.6, 0.7
            rows.append(row(train, t, "|Pearson|", np.nan if t.endswith("mHSC-E/500") else 0.4 + 0.1 * k))
            rows.append(row(train, t, "Pert", np.nan if train.startswith("STRING/hESC") or k == 2 else 0.3))
    table, notes = main_table(pd.DataFrame(rows), "table2", "AUPRC")
    # both rows average mDC and mESC only: Ens (0.5 + 0.6) / 2, |Pearson| (0.4 + 0.5) / 2
    assert table.loc["STRING/hESC/500", "Ens"].startswith("0.550") and table.loc["STRING/hHEP/500", "Ens"].startswith("0.550")
    assert table.loc["STRING/hESC/500", "|Pearson|"].startswith("0.450")
    assert table.loc["STRING/hHEP/500", "Pert"].startswith("0.300") and table.loc["STRING/hESC/500", "Pert"] == "n/a"
    assert notes and "2–2 of 3–3 per row" in notes[0]
