"""Network export (ugrn_core.export), shared by ``ugrn predict`` and the app's Network downloads: each format is read
by its real client (decoupler, networkx) or, where the client cannot be installed here, by the exact reading code
of its documented contract (pySCENIC 0.12.1 crashes on numpy 2; BEELINE and CellOracle are not pip packages that
install beside this project's pins).

The network under test is real and needs no model: on BEELINE's STRING/mHSC-L/500 expression (847 cells × 560
genes), three TFs and the eight genes each correlates with most strongly (|Pearson r| as score, r as signed weight),
labelled by the dataset's ground truth.
"""

from __future__ import annotations

import io
import json
from pathlib import PurePath

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from ugrn_core import export


@pytest.fixture
def edges() -> pd.DataFrame:
    return pd.DataFrame({"tf": ["GATA1", "GATA1", "SPI1"], "target": ["KLF1", "SPI1", "CEBPA"],
                         "score": [0.95, 0.5, 0.125], "label": [1.0, np.nan, 0.0]})


@pytest.fixture(scope="module")
def real():
    """(network edges [tf, target, score, label, r], expression float64 (cells, genes), gene → column)."""
    from ugrn_core.data import datasets
    from ugrn_core.methods.pearson import expression_matrix

    ds = datasets.load_beeline("STRING/mHSC-L/500")
    X, col = expression_matrix(ds)
    genes = list(col)
    R = np.corrcoef(X.T)
    truth = set(zip(ds.edges["tf"], ds.edges["target"]))
    rows = []
    for tf in [t for t in ds.tfs if t in col][:3]:
        r = R[col[tf]].copy()
        r[col[tf]] = 0.0
        for j in np.argsort(-np.abs(r))[:8]:
            rows.append((tf, genes[j], abs(r[j]), float((tf, genes[j]) in truth), r[j]))
    e = pd.DataFrame(rows, columns=["tf", "target", "score", "label", "r"])
    return e.sample(frac=1.0, random_state=0).reset_index(drop=True), X, col  # shuffled: the writer must rank


# ----------------------------------------------------------------------------------------------- the table
@pytest.mark.parametrize("fmt, sep", [("tsv", "\t"), ("csv", ",")])
def test_tables_read_back_from_bytes_and_files(edges, tmp_path, fmt, sep):
    from_bytes = pd.read_csv(io.BytesIO(export.edges_bytes(edges, fmt)), sep=sep)
    from_file = pd.read_csv(export.write_edges(edges, tmp_path / f"e.{fmt}"), sep=sep)
    for back in (from_bytes, from_file):
        assert list(back.columns) == export.COLUMNS
        assert list(zip(back["source"], back["target"])) == list(zip(edges["tf"], edges["target"]))
        np.testing.assert_array_equal(back["score"], edges["score"])
        np.testing.assert_array_equal(back["weight"], edges["score"])  # unsigned method: weight = score
        assert list(back["rank"]) == [1, 2, 3]
        assert back["label"].iloc[0] == 1 and np.isnan(back["label"].iloc[1]) and back["label"].iloc[2] == 0


def test_table_ranks_by_score_takes_signs_and_drops_unknown_labels(real):
    e, _, _ = real
    t = export.edge_table(e, weight=e["r"])
    assert list(t.columns) == export.COLUMNS
    assert list(t["rank"]) == list(range(1, len(e) + 1)) and t["score"].is_monotonic_decreasing
    back = t.set_index(["source", "target"])
    for row in e.itertuples():
        assert back.loc[(row.tf, row.target), "weight"] == pytest.approx(row.r, abs=1e-15)
        assert back.loc[(row.tf, row.target), "label"] == row.label
    assert (t["weight"] < 0).any() and (t["weight"] > 0).any()  # real signs, both kinds
    np.testing.assert_allclose(export.edge_table(e, sign=np.sign(e["r"]))["weight"], t["weight"], rtol=1e-12)
    # a gene list without a reference: no label column at all; the input's own weight column is used
    no_ref = export.edge_table(e.drop(columns="label").assign(label=np.nan, weight=e["r"]))
    assert list(no_ref.columns) == export.COLUMNS[:-1]
    np.testing.assert_allclose(no_ref["weight"], t["weight"], rtol=1e-12)
    assert list(export.edge_table(e.iloc[:0]).columns) == export.COLUMNS  # an empty selection keeps its label column


def test_bad_tables_are_refused_with_the_reason(edges):
    with pytest.raises(ValueError, match="weight/sign has 2 values for 3 edges"):
        export.edge_table(edges, weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="GATA1 → KLF1 is listed 2 times"):
        export.edge_table(pd.concat([edges, edges.iloc[:1]]))
    with pytest.raises(ValueError, match="no regulator column"):
        export.edge_table(edges.rename(columns={"tf": "regulator"}))
    with pytest.raises(ValueError, match="not both"):
        export.edge_table(edges, weight=[1, 2, 3], sign=[1, 1, 1])


def test_read_network_reads_current_and_legacy_files(real, tmp_path):
    e, _, _ = real
    path = export.write_edges(e, tmp_path / "net.tsv", weight=e["r"])
    pd.testing.assert_frame_equal(export.read_network(path), export.edge_table(e, weight=e["r"]))
    # the columns this module wrote before (TF, target, score, label): weight = score, ranks recomputed
    legacy = export.edge_table(e)[["source", "target", "score", "label"]].rename(columns={"source": "TF"})
    legacy.to_csv(tmp_path / "old.csv", index=False)
    pd.testing.assert_frame_equal(export.read_network(tmp_path / "old.csv"), export.edge_table(e))
    (tmp_path / "bad.csv").write_text("TF,target,score\nA,B,high\n")
    with pytest.raises(ValueError, match=r"bad.csv.*score on data row 1 is 'high'"):
        export.read_network(tmp_path / "bad.csv")
    (tmp_path / "cols.csv").write_text("gene,other\nA,B\n")
    with pytest.raises(ValueError, match=r"cols.csv.*needs columns source \(or TF\), target and score"):
        export.read_network(tmp_path / "cols.csv")


# ----------------------------------------------------------------------------------------------- decoupler
def test_decoupler_ulm_runs_on_the_table_unchanged(real, tmp_path):
    """decoupler 2.x's ULM on the written table (full table and the decoupler layout): each TF's score in a cell is
    the t-value of the slope of that cell's expression on the TF's signed weights (0 off-target) — checked against
    scipy's linear regression."""
    dc = pytest.importorskip("decoupler")
    import anndata
    from scipy import stats

    e, X, col = real
    adata = anndata.AnnData(X, var=pd.DataFrame(index=list(col)), obs=pd.DataFrame(index=[f"c{i}" for i in range(len(X))]))
    full = pd.read_csv(export.write_edges(e, tmp_path / "net.tsv", weight=e["r"]), sep="\t")
    slim = pd.read_csv(export.write_edges(e, tmp_path / "net.txt", "decoupler", weight=e["r"]), sep="\t")
    assert list(slim.columns) == ["source", "target", "weight"]
    scores = []
    for net in (full, slim):
        a = adata.copy()
        dc.mt.ulm(a, net, tmin=5)
        scores.append(a.obsm["score_ulm"])
    pd.testing.assert_frame_equal(scores[0], scores[1])
    assert sorted(scores[0].columns) == sorted(set(e["tf"]))
    for tf in scores[0].columns:
        w = np.zeros(len(col))
        sub = full[full["source"] == tf]
        w[[col[g] for g in sub["target"]]] = sub["weight"]
        for cell in (0, 100):
            fit = stats.linregress(w, X[cell])
            assert scores[0][tf].iloc[cell] == pytest.approx(fit.slope / fit.stderr, rel=1e-6)


# ----------------------------------------------------------------------------------------------- pySCENIC
def _pyscenic_load_adjacencies(fname) -> pd.DataFrame:
    """pySCENIC's reader (src/pyscenic/cli/utils.py ``load_adjacencies`` and ``suffixes_to_separator``, aertslab/pySCENIC
    at 06bafba): the separator from the suffixes ('.csv' → comma, '.tsv' → tab), columns 0, 1 as str and 2 as float64,
    keep_default_na=False."""
    suffixes = PurePath(fname).suffixes
    sep = "," if ".csv" in suffixes else "\t" if ".tsv" in suffixes else None
    return pd.read_csv(fname, sep=sep, dtype={0: str, 1: str, 2: np.float64}, keep_default_na=False)


@pytest.mark.parametrize("name", ["adjacencies.tsv", "adjacencies.csv"])
def test_pyscenic_adjacencies_meet_modules_from_adjacencies(real, tmp_path, name):
    """What ``pyscenic.utils.modules_from_adjacencies`` reads (src/pyscenic/utils.py at 06bafba): columns TF, target,
    importance (COLUMN_NAME_TF/TARGET/WEIGHT); every TF and target in the expression matrix (its assertion before
    add_correlation); modules = importance above its 75th/90th percentile per TF, and ``nlargest(n, 'importance')``
    per TF; add_correlation's rho = Pearson r of the TF and target columns (its regulation sign = rho beyond
    ±0.03)."""
    e, X, col = real
    adj = _pyscenic_load_adjacencies(export.write_edges(e, tmp_path / name, "pyscenic"))
    assert list(adj.columns) == ["TF", "target", "importance"] and adj["importance"].dtype == np.float64
    assert not adj.isna().any().any() and (adj["importance"] >= 0).all()
    assert set(adj["TF"]) | set(adj["target"]) <= set(col)
    table = export.edge_table(e)
    for tf, grp in adj.groupby("TF"):
        top3 = grp.nlargest(3, "importance")["target"].tolist()
        assert top3 == table[table["source"] == tf].head(3)["target"].tolist()
    thr = adj["importance"].quantile(0.9)
    assert set(zip(adj.loc[adj["importance"] > thr, "TF"], adj.loc[adj["importance"] > thr, "target"])) == \
        set(zip(table.loc[table["score"] > thr, "source"], table.loc[table["score"] > thr, "target"]))
    rho = np.array([np.corrcoef(X[:, col[a]], X[:, col[b]])[0, 1] for a, b in zip(adj["TF"], adj["target"])])
    np.testing.assert_allclose(adj["importance"], np.abs(rho), rtol=1e-9)  # this network's score is |r|
    if name.endswith(".tsv"):  # the bytes the app serves are the tab-separated file
        assert export.edges_bytes(e, "pyscenic") == (tmp_path / name).read_bytes()


# ----------------------------------------------------------------------------------------------- BEELINE
def test_beeline_ranked_edges_as_bleval_reads_them(real, tmp_path):
    """BEELINE's BLEval (Murali-group/Beeline BLEval/computeDGAUC.py, computeEarlyPrec.py) reads
    ``rankedEdges.csv`` with ``pd.read_csv(..., sep='\\t', header=0, index_col=None)``, looks up each pair's first row
    and scores it by ``np.abs(EdgeWeight)``; early precision keeps the rows with |EdgeWeight| ≥ the k-th row's."""
    e, _, _ = real
    path = export.write_edges(e, tmp_path / "rankedEdges.csv", "beeline", weight=e["r"])
    pred = pd.read_csv(path, sep="\t", header=0, index_col=None)
    assert list(pred.columns) == ["Gene1", "Gene2", "EdgeWeight"] and len(pred) == len(e)
    assert not pred.duplicated(["Gene1", "Gene2"]).any()
    w = pred["EdgeWeight"].abs()
    assert w.is_monotonic_decreasing  # row order = rank
    table = export.edge_table(e)
    np.testing.assert_allclose(w, table["score"], rtol=1e-12)
    k = int(e["label"].sum())
    top = pred[w >= w.iloc[k - 1]]
    assert set(zip(top["Gene1"], top["Gene2"])) == set(zip(table["source"][:k], table["target"][:k]))


# ----------------------------------------------------------------------------------------------- CellOracle
def test_celloracle_tf_dict_as_import_tf_data_uses_it(real, tmp_path):
    """CellOracle (morris-lab/CellOracle celloracle/trajectory/oracle_core.py ``import_TF_data(TFdict=...)`` and
    oracle_utility.py ``_decompose_TFdict`` at 7948870): "Key is target gene, Value is a list of regulatory gene of
    this target"; the GRN fit takes ``TFdict[target_gene]`` as the regressors of each target."""
    e, _, _ = real
    tfdict = json.loads(export.write_edges(e, tmp_path / "base_grn.json", "celloracle").read_text())
    assert all(isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
               for k, v in tfdict.items())
    targets, regulators = list(tfdict), sorted(set(np.concatenate([list(v) for v in tfdict.values()])))
    assert set(targets) == set(e["target"]) and regulators == sorted(set(e["tf"]))
    for tg, tfs in tfdict.items():
        sub = e[e["target"] == tg].sort_values("score", ascending=False)
        assert tfs == sub["tf"].tolist()  # best first
    assert json.loads(export.edges_bytes(e, "celloracle")) == tfdict


# ----------------------------------------------------------------------------------------------- networkx
def test_graphml_keeps_weights_scores_ranks_known_labels_and_tf_flags(edges, tmp_path):
    for g in (nx.read_graphml(io.BytesIO(export.edges_bytes(edges, "graphml", sign=[-1, 1, 1]))),
              nx.read_graphml(export.write_edges(edges, tmp_path / "e.graphml", sign=[-1, 1, 1]))):
        assert g.number_of_edges() == 3 and g.edges["GATA1", "KLF1"]["score"] == pytest.approx(0.95)
        assert g.edges["GATA1", "KLF1"]["weight"] == pytest.approx(-0.95) and g.edges["GATA1", "KLF1"]["rank"] == 1
        assert g.edges["GATA1", "KLF1"]["label"] == 1 and "label" not in g.edges["GATA1", "SPI1"]  # unknown: none
        assert g.nodes["SPI1"]["is_tf"] and not g.nodes["KLF1"]["is_tf"]


@pytest.mark.parametrize("name, fmt", [("e.cyjs", None), ("e.json", None), ("e.txt", "cytoscape")])
def test_cytoscape_json_reads_back_with_networkx(real, tmp_path, name, fmt):
    e, _, _ = real
    g = nx.cytoscape_graph(json.loads(export.write_edges(e, tmp_path / name, fmt, weight=e["r"]).read_text()))
    ref = export.edges_to_graph(e, weight=e["r"])
    assert g.is_directed() and set(g.edges) == set(ref.edges) and g.number_of_nodes() == ref.number_of_nodes()
    for u, v, d in ref.edges(data=True):
        for key in ("weight", "score", "rank", "label"):
            assert g.edges[u, v][key] == pytest.approx(d[key], rel=1e-12)
    assert {n for n, d in g.nodes(data=True) if d["is_tf"]} == set(e["tf"])


# ----------------------------------------------------------------------------------------------- formats, names
def test_format_from_suffix_or_option(tmp_path):
    assert [export.edge_format(tmp_path / f"x.{s}") for s in ("TSV", "csv", "graphml", "cyjs", "json")] == \
        ["tsv", "csv", "graphml", "cytoscape", "cytoscape"]
    assert export.edge_format(tmp_path / "rankedEdges.csv", "BEELINE") == "beeline"
    assert export.edge_format(tmp_path / "x.anything", "celloracle") == "celloracle"
    assert set(export.FORMAT_INFO) == set(export.FORMATS)


def test_unknown_format_is_refused_before_writing(edges, tmp_path):
    with pytest.raises(ValueError, match=r"\.tsv, \.csv, \.graphml or \.cyjs/\.json"):
        export.write_edges(edges, tmp_path / "e.xlsx")
    with pytest.raises(ValueError, match="expected one of tsv, csv, decoupler, pyscenic, beeline, celloracle, graphml"):
        export.edges_bytes(edges, "xlsx")
    with pytest.raises(ValueError, match="expected one of"):
        export.write_edges(edges, tmp_path / "e.tsv", "loom")
    with pytest.raises(ValueError, match="listed 2 times"):
        export.write_edges(pd.concat([edges, edges]), tmp_path / "e.tsv")
    assert not list(tmp_path.iterdir())
