"""DeepSEM / InfoSEM models, the unseen-genes split, the label-free baselines and the within-dataset protocol."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from ugrn_core.methods._baselines import matrix_completion_scores, onehot_lr_scores, soft_impute
from ugrn_core.data.datasets import load_beeline
from ugrn_core.data.pairs import candidate_pairs
from ugrn_core.bench.metrics import evaluate
from ugrn_core.sem.deepsem import SEMConfig, fit_sem, standardise
from ugrn_core.sem.infosem import LabelPrior, make_infosem_prior, prior_mean
from ugrn_core.sem.scoring import SEMOptions
from ugrn_core.bench.splits import seen_genes_split, unseen_genes_split
from ugrn_core.bench.unseen_genes import UnseenGenesResult, run_unseen_genes

DS = "Specific/mHSC-L/500"


@pytest.fixture(scope="module")
def cand(data_dir):
    return candidate_pairs(load_beeline(DS, data_dir))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unseen_split_keeps_sides_apart(cand, seed):
    sp = unseen_genes_split(cand, seed=seed)
    assert not (sp.seen_genes & sp.unseen_genes)
    assert set(sp.test["tf"]) | set(sp.test["target"]) <= sp.unseen_genes
    for part in (sp.train, sp.seen_test):
        assert set(part["tf"]) | set(part["target"]) <= sp.seen_genes
    # TFs with known edges are split 3:1
    tf_pos = set(cand.loc[cand["label"] == 1, "tf"])
    n_unseen = len(tf_pos & sp.unseen_genes)
    assert n_unseen == round(len(tf_pos) / 4)
    # seen × seen pairs are split 3:1 into training and seen test, with no pair in both
    assert abs(len(sp.seen_test) / (len(sp.train) + len(sp.seen_test)) - 0.25) < 0.01
    key = lambda d: set(zip(d["tf"], d["target"]))  # noqa: E731
    assert not (key(sp.train) & key(sp.seen_test)) and not (key(sp.train) & key(sp.test))
    # different seeds give different sides
    assert sp.unseen_genes != unseen_genes_split(cand, seed=seed + 10).unseen_genes


def test_seen_split_shares_genes(cand):
    sp = seen_genes_split(cand, seed=0)
    assert set(sp.test["tf"]) <= set(sp.train["tf"])
    assert len(sp.test) == pytest.approx(0.25 * len(cand), abs=1)


def test_prior_mean_matches_hand_computation():
    H = torch.tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
    w1, w2 = torch.tensor([0.5, -1.0]), torch.tensor([2.0, 1.0])
    M = prior_mean(H, w1, w2)
    # [h_0, h_2] · [w1, w2] = (1*0.5 + 2*-1) + (3*2 + 0.5*1) = -1.5 + 6.5 = 5.0
    assert M[0, 2].item() == pytest.approx(5.0)
    w = torch.cat([w1, w2])
    for i in range(3):
        for k in range(3):
            assert M[i, k].item() == pytest.approx(torch.cat([H[i], H[k]]) @ w)


def test_label_prior_holds_training_edges_only(cand):
    sp = unseen_genes_split(cand, seed=0)
    genes = sorted(set(cand["tf"]) | set(cand["target"]))
    lp = LabelPrior(genes, sp.train, sigma_l=0.1)
    assert lp.pairs == set(zip(sp.train["tf"], sp.train["target"]))
    assert not lp.pairs & set(zip(sp.test["tf"], sp.test["target"]))
    assert lp.n_pos == int(sp.train["label"].sum())
    y = sp.train.set_index(["tf", "target"])["label"]
    # the paper's soft targets: logit(0.95) on a known edge, logit(0.05) on a known non-edge
    labels = y.loc[list(zip(np.array(genes)[lp.rows], np.array(genes)[lp.cols]))].to_numpy()
    expect = np.where(labels == 1, math.log(0.95 / 0.05), math.log(0.05 / 0.95))
    assert (labels == 1).any() and (labels == 0).any()
    np.testing.assert_allclose(lp.target, expect, rtol=1e-6)


def test_standardise_guards_constant_genes():
    X = np.random.default_rng(0).random((30, 4))
    X[:, 1] = 2.0
    X[:, 2] = 0.0
    X[0, 3] = 0.0
    for nz in (True, False):
        Xs, mask = standardise(X, nz)
        assert np.isfinite(Xs).all() and (Xs[:, 1] == 0).all() and (Xs[:, 2] == 0).all()
    assert not standardise(X, True)[1][0, 3]


def _subset(data_dir, n_genes=40, n_cells=200):
    ds = load_beeline("STRING/mHSC-L/500", data_dir)
    X = np.asarray(ds.expression.X)[:n_cells]
    keep = np.argsort(-X.var(0))[:n_genes]
    return X[:, keep], [ds.genes[i] for i in keep]


@pytest.mark.parametrize("variant", ["DeepSEM", "InfoSEM-B", "InfoSEM-BC"])
def test_elbo_terms_finite_and_loss_decreases(data_dir, variant):
    X, genes = _subset(data_dir)
    cfg = SEMConfig.for_ground_truth("STRING", epochs=12, hidden=16, lr=1e-3, alpha=1.0, beta=0.1)
    make = None
    if variant != "DeepSEM":
        H = np.random.default_rng(0).standard_normal((len(genes), 8))
        labels = None
        if variant == "InfoSEM-BC":
            labels = LabelPrior(genes, pd.DataFrame({"tf": genes[:5], "target": genes[5:10], "label": [1, 0, 1, 0, 1]}), 0.3)
        make = make_infosem_prior(H, sigma_w=1.0, labels=labels, rank=4)
    fit = fit_sem(X, cfg, make, seed=0)
    hist = fit.history[0]
    expected = {"recon", "kl", "sparsity"} if variant == "DeepSEM" else {"recon", "kl", "laplace", "w_prior"}
    if variant == "InfoSEM-BC":
        expected |= {"label_prior"}
    assert set(hist[0]) == expected
    assert all(math.isfinite(v) for h in hist for v in h.values())
    total = [sum(h.values()) for h in hist]
    assert np.mean(total[-3:]) < np.mean(total[:3])
    assert np.mean([h["recon"] for h in hist[-3:]]) < np.mean([h["recon"] for h in hist[:3]])
    assert np.isfinite(fit.abs_adjacency).all() and (np.diag(fit.abs_adjacency) == 0).all()


def test_fit_is_fixed_by_its_seed_and_the_adjacency_keeps_its_learning_rate(data_dir):
    """DeepSEM's released code (src/Model.py, src/DeepSEM_cell_type_*_GRN_model.py) draws the networks' weights
    Xavier-normal and decays only the networks' learning rate; A keeps 0.2 × lr for the whole fit. Here: a fit's
    seed alone fixes |A| (the global torch RNG does not leak in), and A moves further from its start with the
    adjacency rate held than with it decayed as the networks' is."""
    X, _ = _subset(data_dir, n_genes=20, n_cells=120)
    cfg = SEMConfig.for_ground_truth("STRING", epochs=9, hidden=8, lr=1e-3)
    torch.manual_seed(1)
    a = fit_sem(X, cfg, seed=3).abs_adjacency
    torch.manual_seed(2)
    b = fit_sem(X, cfg, seed=3).abs_adjacency
    assert np.array_equal(a, b)
    assert not np.array_equal(a, fit_sem(X, cfg, seed=4).abs_adjacency)
    start = 1.0 / (X.shape[1] - 1)
    held = np.abs(fit_sem(X, cfg, seed=3).adjacency - start)[~np.eye(X.shape[1], dtype=bool)].mean()
    decayed = np.abs(fit_sem(X, replace(cfg, adj_gamma=0.5), seed=3).adjacency - start)[~np.eye(X.shape[1], dtype=bool)].mean()
    assert held > 1.5 * decayed
    spec = SEMConfig.for_ground_truth("Specific", "hHEP")
    assert (spec.alpha, spec.beta, spec.epochs, spec.adj_gamma) == (1.0, 0.1, 150, 1.0)  # Hyperparameter.MD


def test_embedding_prior_moves_the_adjacency_away_from_deepsem(data_dir):
    """Regression guard: with standardised embeddings (zero mean over genes) and no intercept, the gradient on w was
    zero while every a_ik sat above the prior mean, and InfoSEM-B's A came out bit-identical to DeepSEM's at the same
    seed. With the intercept the prior mean reaches A's level, w learns, and A differs."""
    X, genes = _subset(data_dir, n_genes=30, n_cells=150)
    cfg = SEMConfig.for_ground_truth("STRING", epochs=9, hidden=8, lr=1e-3, alpha=1.0, beta=0.1)
    H = np.random.default_rng(0).standard_normal((len(genes), 6))
    made = {}

    def make(P, g):
        made["prior"] = make_infosem_prior(H, sigma_w=1.0)(P, g)
        return made["prior"]

    a = fit_sem(X, cfg, seed=0).adjacency
    b = fit_sem(X, cfg, make, seed=0).adjacency
    prior = made["prior"]
    assert np.abs(a - b).max() > 1e-6
    assert float(prior.w1.detach().abs().max()) > 0 and float(prior.w2.detach().abs().max()) > 0
    below = (prior.effect() < prior.mean()).float().mean().item()
    assert 0.0 < below < 1.0  # the prior mean sits inside A's range, not under all of it


def test_soft_impute_completes_low_rank_matrix():
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((30, 2)) @ rng.standard_normal((2, 40))
    obs = rng.random(Y.shape) < 0.6
    Z = soft_impute(Y, obs, rank=5, tol=1e-9, max_iter=500)  # default shrinkage: largest singular value / 50
    err = np.linalg.norm((Z - Y)[~obs]) / np.linalg.norm(Y[~obs])
    assert err < 0.1
    # a rank-1 fit of a rank-2 matrix cannot complete it
    Z1 = soft_impute(Y, obs, rank=1, tol=1e-9, max_iter=500)
    assert np.linalg.norm((Z1 - Y)[~obs]) / np.linalg.norm(Y[~obs]) > 2 * err


def test_label_only_baselines_learn_degree_bias_not_unseen_genes(cand):
    seen = seen_genes_split(cand, seed=0)
    y = seen.test["label"].to_numpy()
    for scorer in (onehot_lr_scores, matrix_completion_scores):
        assert evaluate(y, scorer(seen.train, seen.test))["AUPRC"] > 1.5 * y.mean()
    unseen = unseen_genes_split(cand, seed=0)
    # nothing is known about unseen genes: one-hot LR gives every unseen pair the same score
    assert np.ptp(onehot_lr_scores(unseen.train, unseen.test)) < 1e-9


def test_protocol_runs_registry_methods_and_round_trips(data_dir, tmp_path):
    opts = SEMOptions(config_overrides={"epochs": 2, "hidden": 8}, prior="random", sigma_w_grid=(1.0,),
                      sigma_l_grid=(0.3,), rank=8, disk_cache=False)
    methods = ["DeepSEM", "InfoSEM-B", "InfoSEM-BC", "One-hot LR", "MatComp", "Random"]
    res = run_unseen_genes([DS], methods, seeds=(0, 1), sem_options=opts, data_dir=data_dir, label="test")
    t = res.table
    assert set(t["method"]) == set(methods) and set(t["seed"]) == {0, 1}
    assert set(t["test_set"]) == {"unseen", "seen"} and (t["note"] == "").all() and set(t["candidates"]) == {"known"}
    # known-gene candidates (paper Sec. 4.2) leave out genes with no known edge, so positives are denser than among
    # all TF.csv TF × gene pairs
    all_pairs = candidate_pairs(load_beeline(DS, data_dir))
    unseen = t[(t["test_set"] == "unseen") & (t["method"] == "Random")]
    assert (unseen["pos_rate"] > 1.5 * all_pairs["label"].mean()).all()
    assert t[["AUPRC", "Hit@1%", "AUROC"]].notna().all().all()
    s = res.summary()
    row = s[(s["method"] == "Random") & (s["test_set"] == "unseen")].iloc[0]
    assert row["n_seeds"] == 2 and np.isfinite(row["AUPRC se"]) and abs(row["AUPRC"] - row["pos_rate"]) < 0.1
    back = UnseenGenesResult.load(res.save(tmp_path / "r"))
    pd.testing.assert_frame_equal(back.summary(), s, check_dtype=False)
    assert "InfoSEM-BC" in back.pivot("AUPRC").index
    # the Benchmark page's section reads the same result
    from ugrn_app import within

    ours = within.ours_table(back, "AUPRC", "Specific", "unseen")
    assert list(ours.columns) == ["mHSC-L"] and set(ours.index) == set(methods)
    assert within.is_within_result(tmp_path / "r")


def test_paper_table_has_both_ground_truths():
    from ugrn_core import api

    t = api.paper_infosem_table()
    assert set(t["ground_truth"]) == {"Specific", "Non-Specific"}
    assert set(t["dataset"]) == {"hESC", "hHEP", "mDC", "mESC"}
    assert {"DeepSEM", "InfoSEM-B", "InfoSEM-BC", "Random"} <= set(t["method"])
    # the paper's random baseline sits at the positive rate: far lower for non-specific ChIP than cell-type-specific
    r = t[t["method"] == "Random"].groupby("ground_truth")["AUPRC"].mean()
    assert r["Non-Specific"] < 0.05 < 0.2 < r["Specific"]


def test_translator_path_trains_on_seen_pairs_only_and_scores_every_unseen_pair(fm, data_dir, monkeypatch):
    """The UGRN translator in the within-dataset protocol (``unseen_genes._translator_scores``): Emb's projector is
    fitted on seen × seen training pairs only, and scores exactly the unseen × unseen test pairs."""
    from ugrn_core import methods as registry
    from ugrn_core.bench import splits as splits_mod
    from ugrn_core.translator import Translator
    from ugrn_core.bench.unseen_genes import _translator_scores

    made, fitted = [], []
    real_split, real_fit = splits_mod.SPLITS["unseen-genes"], Translator.fit.__func__

    def recording_split(pairs, seed=0, **kw):
        made.append(real_split(pairs, seed=seed, **kw))
        return made[-1]

    def recording_fit(cls, probes, pairs, *a, **kw):
        fitted.append(pairs.copy())
        return real_fit(cls, probes, pairs, *a, **kw)

    monkeypatch.setitem(splits_mod.SPLITS, "unseen-genes", recording_split)
    monkeypatch.setattr(Translator, "fit", classmethod(recording_fit))
    res = run_unseen_genes([DS], ["Emb"], seeds=(0,), fm=fm, data_dir=data_dir)
    assert len(made) == 1 and len(fitted) == 1
    sp, train_fit = made[0], fitted[0]
    key = lambda d: set(zip(d["tf"], d["target"]))  # noqa: E731
    # no unseen gene, and no test pair, reaches the translator's training features
    assert not (set(train_fit["tf"]) | set(train_fit["target"])) & sp.unseen_genes
    assert key(train_fit) <= key(sp.train) and not key(train_fit) & (key(sp.test) | key(sp.seen_test))
    assert len(train_fit) > 0.9 * len(sp.train)  # only pairs with a gene outside the vocabulary are left out
    row = res.table[(res.table["test_set"] == "unseen")].iloc[0]
    assert row["note"] == "" and row["n_pos"] + row["n_neg"] == len(sp.test) and np.isfinite(row["AUPRC"])

    # the scorer itself: one finite score per unseen test pair, varying across pairs (a projector that learned
    # from gene embeddings, unlike one-hot LR, which ties every unseen pair)
    from ugrn_core.probes.features import DatasetProbes
    from ugrn_core.probes.params import ProbeParams
    from ugrn_core.methods.base import ScoringContext

    ds = load_beeline(DS, data_dir)
    ctx = ScoringContext(dataset=ds, probes=DatasetProbes(fm, ds, ProbeParams()), train_dataset=ds,
                         train_pairs=sp.train, seed=0, cache={})
    scores = _translator_scores(registry.get("Emb"), ctx, sp.train, sp.test)
    assert scores.shape == (len(sp.test),) and np.isfinite(scores).all() and np.ptp(scores) > 0


def test_paired_differences_pair_seeds_and_name_missing_methods():
    """``UnseenGenesResult.paired`` subtracts per seed before averaging: a method that is the reference + 0.1 on
    every seed differs by exactly 0.1 with s.e. 0 however much the seeds vary, while unpaired s.e. would not be 0."""
    rng = np.random.default_rng(0)
    rows = []
    for ds in ("Specific/a/500", "Specific/b/500"):
        for seed in range(5):
            base = rng.uniform(0.2, 0.8)
            for method, value in (("ref", base), ("plus", base + 0.1)):
                rows.append({"method": method, "dataset": ds, "seed": seed, "test_set": "unseen", "note": "",
                             "AUPRC": value})
    rows.append({"method": "plus", "dataset": "Specific/a/500", "seed": 9, "test_set": "unseen", "note": "",
                 "AUPRC": 0.0})  # a seed the reference lacks is left out, not paired with nothing
    res = UnseenGenesResult(pd.DataFrame(rows), {"split": "unseen-genes"})
    d = res.paired("plus", "ref")
    assert list(d.index) == ["Specific/a/500", "Specific/b/500"] and list(d["n_seeds"]) == [5, 5]
    np.testing.assert_allclose(d["mean"], 0.1, atol=1e-12)
    np.testing.assert_allclose(d["se"], 0.0, atol=1e-12)
    with pytest.raises(ValueError, match=r"no 'unseen' rows for \['DeepSEM'\]"):
        res.paired("DeepSEM", "ref")
