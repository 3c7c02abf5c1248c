"""Downstream of tl.grn on real cells: TF activity per cell (decoupler ULM, checked against an ordinary least-squares
fit), hub genes (networkx, on graphs whose centralities are known), the differential view of two cell types against
random halves, and the same through ``ugrn grn`` / ``ugrn predict``."""

from __future__ import annotations

import json
import warnings

import anndata
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ugrn_core import api, cli, tl
from ugrn_core.errors import DataError, ParameterError

PBMC68K = "scrna/pbmc68k_reduced/10x_pbmc68k_reduced_scanpy.h5ad"
PBMC4K = "scrna/soupx_pbmc4k_human/PBMC_sc_toc.h5ad"
MONO, B = "CD14+ Monocyte", "CD19+ B"


def _read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # anndata moves old neighbors graphs to .obsp
        return anndata.read_h5ad(path)


@pytest.fixture(scope="module")
def pbmc68k_path(data_dir):
    path = data_dir / PBMC68K
    if not path.is_file():
        pytest.skip(f"{path} not in the data directory")
    return path


@pytest.fixture(scope="module")
def pbmc_grn(pbmc68k_path):
    """pbmc68k_reduced with |Pearson| networks per cell type on its 150 most variable genes (.raw)."""
    adata = _read(pbmc68k_path)
    tl.grn(adata, groupby="bulk_labels", method="|Pearson|", use_raw=True, n_top_genes=150)
    return adata


# ---------------------------------------------------------------------------------------------------------- activity
def test_activity_is_decouplers_ulm_written_into_obsm(pbmc_grn):
    adata = pbmc_grn.copy()
    assert tl.activity(adata, use_raw=True) is None
    score, padj = adata.obsm["score_ulm"], adata.obsm["padj_ulm"]
    info = adata.uns["ugrn_activity"]
    net = tl.regulons(tl.get_network(adata), 50)
    assert isinstance(score, pd.DataFrame) and score.shape == (adata.n_obs, info["n_tfs"]) == padj.shape
    assert info["n_tfs"] >= 3 and set(score.columns) <= set(net["source"])
    assert list(score.index) == list(adata.obs_names)
    assert np.isfinite(score.to_numpy()).all() and ((padj.to_numpy() >= 0) & (padj.to_numpy() <= 1)).all()
    assert info["group"] == tl.ALL_CELLS and info["matrix"] == ".raw.X" and list(info["obsm"]) == ["score_ulm",
                                                                                                     "padj_ulm"]

    # ULM = the t-value of the slope of y (one cell's .raw values over all genes) on x (the TF's target weights, 0
    # elsewhere), by ordinary least squares
    Xr = adata.raw.X.toarray() if hasattr(adata.raw.X, "toarray") else np.asarray(adata.raw.X)
    genes = pd.Index(adata.raw.var_names.str.upper())
    for tf in score.columns[:3]:
        sub = net[net["source"] == tf]
        x = np.zeros(len(genes))
        x[genes.get_indexer(sub["target"])] = sub["weight"].to_numpy()
        for cell in (0, 123, 699):
            fit = stats.linregress(x, Xr[cell])
            t = fit.slope / fit.stderr
            assert score.iloc[cell][tf] == pytest.approx(t, rel=1e-4, abs=1e-6 * max(1.0, abs(t)))

    # another group's network, as a copy; the original keeps its activity
    before = adata.obsm["score_ulm"].copy()
    other = tl.activity(adata, group=MONO, use_raw=True, copy=True)
    assert other.uns["ugrn_activity"]["group"] == MONO and other.obsm["score_ulm"].shape[0] == adata.n_obs
    pd.testing.assert_frame_equal(adata.obsm["score_ulm"], before)
    assert not other.obsm["score_ulm"].equals(before)


def test_activity_errors_name_what_is_wrong(pbmc_grn):
    adata = pbmc_grn.copy()
    with pytest.raises(ParameterError, match="not a decoupler method; expected one of .*ulm"):
        tl.activity(adata, method="ulmm")
    with pytest.raises(KeyError, match="no network for group 'nope'; groups with one"):
        tl.activity(adata, group="nope")
    with pytest.raises(KeyError, match="run ugrn_core.tl.grn"):
        tl.activity(anndata.AnnData(np.ones((3, 3))))
    with pytest.raises(ParameterError, match="use_raw=True and layer= both given"):
        tl.activity(adata, use_raw=True, layer="counts")
    with pytest.raises(DataError, match="no TF of the network has ≥ 500 targets"):
        tl.activity(adata, use_raw=True, tmin=500)


def test_activity_matches_mixed_case_symbols_and_a_given_table():
    """A mouse-style matrix (``Gata1``) and a network in upper case: targets are matched case-insensitively."""
    rng = np.random.default_rng(0)
    genes = ["Gata1"] + [f"Tgt{i}" for i in range(30)]
    X = rng.gamma(2.0, 1.0, (40, len(genes)))
    adata = anndata.AnnData(X=X, var=pd.DataFrame(index=genes))
    net = pd.DataFrame({"source": "GATA1", "target": [g.upper() for g in genes[1:]],
                        "weight": np.linspace(1, -1, 30), "score": np.linspace(1, 0.1, 30)})
    tl.activity(adata, network=net, n_targets=None)
    assert adata.obsm["score_ulm"].shape == (40, 1) and list(adata.obsm["score_ulm"].columns) == ["GATA1"]
    assert adata.uns["ugrn_activity"]["n_edges"] == 30


# -------------------------------------------------------------------------------------------------------------- hubs
def test_hubs_of_a_star_with_a_tail():
    """HUB → T1..T5 and T1 → X: out-degrees 5 and 1, in-degree 1 for every target, T1 the only gene between two
    others (betweenness 1 / ((n−1)(n−2)) = 1/30 with n = 7), PageRank equal over T2..T5 and summing to 1."""
    edges = pd.DataFrame({"source": ["HUB"] * 5 + ["T1"], "target": ["T1", "T2", "T3", "T4", "T5", "X"],
                          "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]})
    h = tl.hubs(edges).set_index("gene")
    assert list(h.columns) == ["out_degree", "in_degree", "pagerank", "betweenness", "is_tf"]
    assert h.index[0] == "HUB" and h.loc["HUB", "out_degree"] == 5 and h.loc["HUB", "in_degree"] == 0
    assert (h.loc[["T1", "T2", "T3", "T4", "T5", "X"], "in_degree"] == 1).all()
    assert h.loc["T1", "out_degree"] == 1 and h.loc["T1", "betweenness"] == pytest.approx(1 / 30)
    assert (h.drop(index="T1")["betweenness"] == 0).all()
    assert h["pagerank"].sum() == pytest.approx(1.0) and np.ptp(h.loc[["T2", "T3", "T4", "T5"], "pagerank"]) < 1e-12
    assert h.loc["X", "pagerank"] > h.loc["T2", "pagerank"]  # X collects T1's rank too
    assert set(h.index[h["is_tf"]]) == {"HUB", "T1"}
    # top keeps the best rows: the 3 best are HUB → T1, T2, T3
    h3 = tl.hubs(edges, top=3).set_index("gene")
    assert h3.loc["HUB", "out_degree"] == 3 and len(h3) == 4 and h3.loc["T1", "is_tf"]
    with pytest.raises(ParameterError, match="top=0"):
        tl.hubs(edges, top=0)


def test_hubs_of_a_predicted_network(pbmc_grn):
    net = tl.get_network(pbmc_grn, MONO)
    h = tl.hubs(net, top=200)
    assert h["out_degree"].sum() == h["in_degree"].sum() == 200
    assert h["out_degree"].is_monotonic_decreasing and h.loc[h["out_degree"] > 0, "is_tf"].all()
    assert set(h["gene"]) == set(net.head(200)["source"]) | set(net.head(200)["target"])


# ----------------------------------------------------------------------------------------------------------- compare
def test_compare_a_group_with_itself_changes_nothing(pbmc_grn):
    table, s = tl.compare(pbmc_grn, MONO, MONO, n_null=2, seed=0)
    assert (table["status"] == "kept").all() and (table["delta_q"] == 0).all()
    assert s["n_gained"] == s["n_lost"] == s["n_flipped"] == 0 and s["spearman"] == pytest.approx(1.0)
    assert s["n_beyond_null"] == 0 and (table["p_null"] == 1.0).all()
    # two halves of 129 monocytes disagree: the null is not trivial
    assert len(s["null_spearman"]) == 2 and s["null_spearman_mean"] < 0.99 and s["null_n_lost_mean"] > 0
    assert s["halves_spearman"] == []  # one group: no between-group halves


def test_compare_two_cell_types_against_random_halves(pbmc_grn):
    table, s = tl.compare(pbmc_grn, MONO, B, n_null=2, seed=0)
    k = s["top"]
    assert k == max(tl.get_network(pbmc_grn, g)[["source", "target"]].stack().nunique() for g in (MONO, B))
    assert list(table.columns) == ["source", "target", "rank_a", "rank_b", "weight_a", "weight_b", "q_a", "q_b",
                                   "delta_q", "status", "p_null", "beyond_null"]
    counts = table["status"].value_counts()
    assert counts["lost"] == counts["gained"] == s["n_lost"] == s["n_gained"] > 0  # both sets have k edges
    assert counts["kept"] + counts.get("flipped", 0) + counts["lost"] == k
    flipped = table[table["status"] == "flipped"]
    assert (np.sign(flipped["weight_a"]) != np.sign(flipped["weight_b"])).all()
    lost = table[table["status"] == "lost"]
    assert (lost["rank_a"] <= k).all() and ((lost["rank_b"] > k) | lost["rank_b"].isna()).all()
    assert ((table["p_null"] > 0) & (table["p_null"] <= 1)).all()
    assert (table["beyond_null"] == (table["p_null"] < 0.05)).all()
    assert table["delta_q"].abs().is_monotonic_decreasing
    # monocytes and B cells differ more than two halves of one of them
    assert s["spearman"] < s["null_spearman_mean"] and s["topk_overlap"] < s["null_topk_overlap_mean"]
    assert s["halves_spearman_mean"] < s["null_spearman_mean"] and len(s["halves_spearman"]) == 4
    assert len(s["null_spearman"]) == 4 and s["n_beyond_null"] > 0 and not s["identical_by_construction"]
    again, s2 = tl.compare(pbmc_grn, MONO, B, n_null=2, seed=0)
    pd.testing.assert_frame_equal(table, again)  # seeded
    with pytest.raises(KeyError, match="no network for group"):
        tl.compare(pbmc_grn, MONO, "nope")


def test_compare_expression_free_method_says_identical(pbmc68k_path):
    adata = _read(pbmc68k_path)
    genes = ["SPI1", "CEBPB", "IRF8", "KLF4", "FOS", "JUN", "LYZ", "CD14", "FCGR3A", "MS4A1", "CD79A", "CD3E", "NKG7",
             "GNLY", "S100A8", "S100A9", "HLA-DRA", "CST3", "TYROBP", "FCER1G"]
    genes = [g for g in genes if g in set(adata.raw.var_names)]
    tl.grn(adata, genes=genes, groupby="bulk_labels", method="Ens", use_raw=True, min_cells=3, background="none")
    table, s = tl.compare(adata, MONO, B)
    assert s["identical_by_construction"] and "same network by construction" in s["note"]
    assert (table["status"] == "kept").all() and (table["delta_q"] == 0).all() and s["n_beyond_null"] == 0


def test_api_exposes_the_network_readers():
    """``api`` re-exports the tools that read networks; grn and compare run methods and stay in ``tl`` (beside api)."""
    for name in ("get_network", "activity", "hubs"):
        assert name in api.__all__ and getattr(api, name) is getattr(tl, name)


# --------------------------------------------------------------------------------------------------------------- CLI
def test_cli_grn_writes_h5ad_and_comparison(pbmc68k_path, tmp_path, capsys):
    out = tmp_path / "nets"
    rc = cli.main(["grn", "--h5ad", str(pbmc68k_path), "--groupby", "bulk_labels", "--use-raw", "--method",
                   "|Pearson|", "--n-top-genes", "100", "--out", str(out), "--write-h5ad",
                   "--compare", f"{MONO},{B}", "--n-null", "1"])
    assert rc == 0
    err = capsys.readouterr().err
    assert f"{MONO} vs {B}: gained" in err and "compare_CD14+_Monocyte__CD19+_B.tsv" in err
    back = _read(out / "cells.h5ad")
    assert set(back.uns["ugrn"]["networks"]) >= {tl.ALL_CELLS, MONO, B}
    pd.testing.assert_frame_equal(tl.get_network(back, MONO),
                                  pd.read_csv(out / "CD14+_Monocyte.tsv", sep="\t"), check_dtype=False)
    table = pd.read_csv(out / "compare_CD14+_Monocyte__CD19+_B.tsv", sep="\t")
    info = json.loads((out / "compare_CD14+_Monocyte__CD19+_B.json").read_text())
    assert set(table["status"]) <= {"gained", "lost", "flipped", "kept"} and info["top"] == 100 or info["top"] > 0
    assert info["n_gained"] == (table["status"] == "gained").sum() and len(info["null_spearman"]) == 2

    # a separate path; a group pair that does not exist fails before anything is written
    rc = cli.main(["grn", "--h5ad", str(pbmc68k_path), "--groupby", "bulk_labels", "--use-raw", "--method",
                   "|Pearson|", "--n-top-genes", "50", "--out", str(tmp_path / "n2"), "--write-h5ad",
                   str(tmp_path / "a.h5ad")])
    assert rc == 0 and (tmp_path / "a.h5ad").is_file() and not (tmp_path / "n2" / "cells.h5ad").exists()
    rc = cli.main(["grn", "--h5ad", str(pbmc68k_path), "--groupby", "bulk_labels", "--use-raw", "--method",
                   "|Pearson|", "--n-top-genes", "50", "--out", str(tmp_path / "n3"), "--compare", "Mono,B"])
    assert rc != 0 and "--compare 'Mono,B': expected two groups of --groupby" in capsys.readouterr().err
    assert not (tmp_path / "n3").exists()
    rc = cli.main(["grn", "--h5ad", str(pbmc68k_path), "--groupby", "bulk_labels", "--use-raw", "--out",
                   str(tmp_path / "n4"), "--write-h5ad", str(tmp_path)])
    assert rc != 0 and "is an existing folder; expected a file name" in capsys.readouterr().err


def test_cli_predict_reads_raw_of_an_h5ad(pbmc68k_path, tmp_path, capsys):
    out = tmp_path / "edges.tsv"
    rc = cli.main(["predict", "--expression", str(pbmc68k_path), "--method", "|Pearson|", "--out", str(out)])
    assert rc != 0 and "use_raw=True (CLI --use-raw)" in capsys.readouterr().err and not out.exists()
    rc = cli.main(["predict", "--expression", str(pbmc68k_path), "--use-raw", "--method", "|Pearson|", "--top", "50",
                   "--out", str(out)])
    assert rc == 0 and len(pd.read_csv(out, sep="\t")) == 50
    genes = tmp_path / "g.txt"
    genes.write_text("SPI1\nLYZ\n")
    rc = cli.main(["predict", "--genes", str(genes), "--use-raw", "--out", str(out)])
    assert rc != 0 and "--use-raw chooses the matrix of an AnnData: it needs --expression FILE.h5ad" in \
        capsys.readouterr().err
    rc = cli.main(["predict", "--expression", str(pbmc68k_path), "--layer", "counts", "--method", "|Pearson|",
                   "--out", str(out)])
    assert rc != 0 and "layer 'counts' not found" in capsys.readouterr().err


def test_pbmc4k_raw_counts_activity_and_compare(data_dir):
    """The 10x PBMC 4k run (2,170 cells × 33,694 genes, raw UMI counts, sparse): networks per cell type on 300 HVGs,
    TF activity on a log layer made as scanpy makes it, and B cells against NK cells."""
    import scanpy as sc

    path = data_dir / PBMC4K
    if not path.is_file():
        pytest.skip(f"{path} not in the data directory")
    adata = _read(path)
    tl.grn(adata, groupby="cell_type", method="|Pearson|", n_top_genes=300)
    assert "sc.pp.normalize_total" in adata.uns["ugrn"]["params"]["normalised"]
    adata.layers["log"] = sc.pp.log1p(sc.pp.normalize_total(adata, inplace=False)["X"])
    tl.activity(adata, layer="log")
    score = adata.obsm["score_ulm"]
    assert score.shape == (adata.n_obs, adata.uns["ugrn_activity"]["n_tfs"]) and score.shape[1] >= 3
    assert np.isfinite(score.to_numpy()).all()
    table, s = tl.compare(adata, "B", "NK", n_null=2)
    assert s["n_cells_a"] == 296 and s["n_cells_b"] == 209 and len(s["null_spearman"]) == 4
    # at equal cell counts, a B half and an NK half share fewer top edges than two halves of one type
    assert s["halves_topk_overlap_mean"] < s["null_topk_overlap_mean"] and len(s["halves_topk_overlap"]) == 4
    assert s["n_gained"] > 0 and s["n_lost"] > 0
    assert set(table["status"]) <= {"gained", "lost", "flipped", "kept"}
