"""ugrn_core.tl.grn (networks per cell group, written into the AnnData), the AnnData readers and the one value check,
on scanpy's pbmc68k_reduced (X scaled, .raw log-normalised, 10 cell types) and on synthetic sparse counts."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import warnings

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from ugrn_core import api, cli, tl
from ugrn_core.data.anndata_io import read_cells, scan_matrix, selected_columns
from ugrn_core.errors import DataError, ParameterError

PBMC68K = "scrna/pbmc68k_reduced/10x_pbmc68k_reduced_scanpy.h5ad"
FIX = r"use_raw=True \(CLI --use-raw\)"


@pytest.fixture(scope="module")
def pbmc68k_path(data_dir):
    path = data_dir / PBMC68K
    if not path.is_file():
        pytest.skip(f"{path} not in the data directory")
    return path


@pytest.fixture()
def pbmc68k(pbmc68k_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # anndata moves old neighbors graphs to .obsp
        return anndata.read_h5ad(pbmc68k_path)


def _counts(n_cells=2000, n_genes=20000, density=0.01, seed=0, symbols=None):
    """Synthetic raw counts (CSR, float32) with three groups and gene 0..k symbols (TFs first when given)."""
    rng = np.random.default_rng(seed)
    X = sp.random(n_cells, n_genes, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.integers(1, 20, k)).astype(np.float32)
    names = list(symbols or []) + [f"GENE{i}" for i in range(n_genes - len(symbols or []))]
    obs = pd.DataFrame({"type": pd.Categorical(rng.choice(["a", "b", "c"], n_cells))},
                       index=[f"cell{i}" for i in range(n_cells)])
    return anndata.AnnData(X=X, obs=obs, var=pd.DataFrame(index=names))


# ------------------------------------------------------------------------------------------------ |Pearson| per group
def test_pearson_per_cell_type_written_into_adata_and_h5ad(pbmc68k, tmp_path):
    t0 = time.perf_counter()
    assert tl.grn(pbmc68k, groupby="bulk_labels", method="|Pearson|", use_raw=True) is None
    seconds = time.perf_counter() - t0
    assert seconds <= 10, f"10 groups of pbmc68k_reduced with |Pearson| took {seconds:.1f} s (goal ≤ 10 s)"
    res = pbmc68k.uns["ugrn"]
    summary = res["summary"]
    groups = list(pbmc68k.obs["bulk_labels"].cat.categories)
    assert summary["group"].tolist() == [tl.ALL_CELLS] + groups
    assert (summary["expression_dependent"] == "yes").all() and not res["params"]["shared_network"]
    assert res["params"]["matrix"] == ".raw.X" and res["params"]["normalised"].startswith("no")
    assert res["checkpoint"] == ""  # |Pearson| reads no model
    # the 8-cell group cannot have genes in ≥ 10 of its cells: no network, and the summary says why
    naive = summary.set_index("group").loc["CD4+/CD45RA+/CD25- Naive T"]
    assert naive["n_edges"] == 0 and "8 cells" in naive["note"]
    assert sum(n > 0 for n in summary["n_edges"]) == 10  # all cells + 9 cell types

    # a group's table: standard columns, every TF × kept gene, ranked, scored on that group's cells only
    mono = tl.get_network(pbmc68k, "CD14+ Monocyte")
    assert list(mono.columns) == tl.EDGE_COLUMNS
    row = summary.set_index("group").loc["CD14+ Monocyte"]
    assert len(mono) == row["n_tfs"] * (row["n_genes"] - 1) == row["n_edges"]
    assert mono["rank"].tolist() == list(range(1, len(mono) + 1)) and mono["score"].is_monotonic_decreasing
    assert np.allclose(mono["weight"].abs(), mono["score"]) and (mono["weight"] < 0).any()  # signed: Pearson r
    assert "Pearson r" in res["params"]["weight"]
    cells = (pbmc68k.obs["bulk_labels"] == "CD14+ Monocyte").to_numpy()
    raw = pbmc68k.raw.to_adata()
    for _, e in mono.iloc[[0, 100, len(mono) - 1]].iterrows():
        x = raw[cells, e["source"]].X.toarray().ravel()
        y = raw[cells, e["target"]].X.toarray().ravel()
        r = np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else 0.0
        assert e["score"] == pytest.approx(abs(r), rel=1e-5, abs=1e-6)
        assert e["weight"] == pytest.approx(r, rel=1e-5, abs=1e-6)
    # the all-cells network differs from the monocytes' (their cells only)
    assert not tl.get_network(pbmc68k, tl.ALL_CELLS).head(20).equals(mono.head(20))

    path = tmp_path / "pbmc_grn.h5ad"
    pbmc68k.write_h5ad(path)
    back = anndata.read_h5ad(path)
    for key, table in res["networks"].items():
        pd.testing.assert_frame_equal(back.uns["ugrn"]["networks"][key].reset_index(drop=True),
                                      table.reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(back.uns["ugrn"]["summary"].reset_index(drop=True),
                                  summary.reset_index(drop=True), check_dtype=False)
    assert back.uns["ugrn"]["params"]["method"] == "|Pearson|"
    assert list(back.uns["ugrn"]["dropped_genes"]["CD14+ Monocyte"]) == list(res["dropped_genes"]["CD14+ Monocyte"])


def test_copy_and_inplace_as_scanpy(pbmc68k):
    genes = list(pbmc68k.raw.var_names[:60])
    out = tl.grn(pbmc68k, genes=genes, method="|Pearson|", use_raw=True, copy=True)
    assert "ugrn" in out.uns and "ugrn" not in pbmc68k.uns
    res = tl.grn(pbmc68k, genes=genes, method="|Pearson|", use_raw=True, inplace=False, key_added="x")
    assert "x" not in pbmc68k.uns and set(res) >= {"networks", "summary", "params", "checkpoint"}
    pd.testing.assert_frame_equal(res["networks"][tl.ALL_CELLS], out.uns["ugrn"]["networks"][tl.ALL_CELLS])


# ------------------------------------------------------------------------------------------------ the one value check
def test_scaled_x_fails_the_same_everywhere_naming_raw(pbmc68k, pbmc68k_path, tmp_path):
    expected = r"negative value -?[0-9.]+ for gene '[^']+', cell '[^']+'.*scaled X.*" + FIX
    with pytest.raises(DataError, match=expected):
        tl.grn(pbmc68k, groupby="bulk_labels", method="|Pearson|")
    genes = list(pbmc68k.var_names[:30])
    with pytest.raises(DataError, match=expected):  # accepted silently before
        api.dataset_from_genes(genes, expression=pbmc68k)
    with pytest.raises(DataError, match=expected):  # a TypeError before
        api.dataset_from_files(expression=pbmc68k)
    with pytest.raises(DataError, match=expected):  # the reader of `ugrn predict --expression` and the app's Home
        api.read_expression(pbmc68k_path, pbmc68k_path.name)
    code = cli.main(["grn", "--h5ad", str(pbmc68k_path), "--groupby", "bulk_labels", "--method", "|Pearson|",
                     "--out", str(tmp_path / "out")])
    assert code == 2 and not (tmp_path / "out").exists()
    # and the fix works everywhere
    ds = api.dataset_from_files(expression=pbmc68k, use_raw=True)
    assert ds.expression.X.min() >= 0 and len(ds.genes) == pbmc68k.raw.n_vars
    assert api.read_expression(pbmc68k_path, pbmc68k_path.name, use_raw=True).X.min() >= 0
    with pytest.raises(ParameterError, match=r"layer 'counts' not found.*\.raw"):
        tl.grn(pbmc68k, layer="counts", method="|Pearson|")
    with pytest.raises(ParameterError, match="choose one"):
        tl.grn(pbmc68k, layer="counts", use_raw=True, method="|Pearson|")


def test_cli_grn_writes_one_tsv_per_group_and_refuses_scaled_x(pbmc68k_path, tmp_path, capsys):
    out = tmp_path / "grn"
    base = ["grn", "--h5ad", str(pbmc68k_path), "--groupby", "bulk_labels", "--method", "|pearson|", "--out", str(out)]
    assert cli.main(base) == 2
    err = capsys.readouterr().err
    assert "negative value" in err and "--use-raw" in err and "--layer" not in err.split("--use-raw")[0][-5:]
    assert not out.exists()  # nothing written
    assert cli.main(base + ["--use-raw"]) == 0
    summary = pd.read_csv(out / "summary.tsv", sep="\t", keep_default_na=False)
    assert {"group", "n_cells", "n_genes", "n_edges", "method", "expression_dependent", "file"} <= set(summary.columns)
    assert len(summary) == 11 and (summary["method"] == "|Pearson|").all()
    files = [f for f in summary["file"] if f]
    assert len(files) == 10 and sorted(p.name for p in out.glob("*.tsv")) == sorted(files + ["summary.tsv"])
    mono = pd.read_csv(out / "CD14+_Monocyte.tsv", sep="\t")
    assert list(mono.columns) == tl.EDGE_COLUMNS and len(mono) == int(
        summary.set_index("group").loc["CD14+ Monocyte", "n_edges"])
    (tmp_path / "afile").write_text("x")
    assert cli.main(base[:-1] + [str(tmp_path / "afile"), "--use-raw"]) == 2  # --out checked before work
    assert "existing file" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ the min_cells guard
def test_min_cells_guard_keeps_single_cell_genes_off_the_top(pbmc68k):
    mono = pbmc68k[(pbmc68k.obs["bulk_labels"] == "CD14+ Monocyte").to_numpy()].copy()
    raw = mono.raw.to_adata()
    n_expr = pd.Series(np.asarray((raw.X > 0).sum(0)).ravel(), index=raw.var_names.str.upper())
    genes = list(raw.var_names)
    off = tl.grn(mono, genes=genes, method="|Pearson|", use_raw=True, min_cells=1, inplace=False)
    top = off["networks"][tl.ALL_CELLS].iloc[0]
    # without the guard, the top pair is two genes seen in one or two cells, correlated 1.0 (the finding)
    assert top["score"] == pytest.approx(1.0, abs=1e-6)
    assert n_expr[top["source"]] <= 2 and n_expr[top["target"]] <= 2
    on = tl.grn(mono, genes=genes, method="|Pearson|", use_raw=True, min_cells=10, inplace=False)
    net = on["networks"][tl.ALL_CELLS]
    assert n_expr[net["source"]].min() >= 10 and n_expr[net["target"]].min() >= 10
    assert net["score"].iloc[0] < 0.95
    dropped = set(on["dropped_genes"][tl.ALL_CELLS])
    assert dropped == set(n_expr[n_expr < 10].index) & {g.upper() for g in genes}
    assert on["summary"]["min_cells"].iloc[0] == 10 and on["summary"]["n_dropped"].iloc[0] == len(dropped)


# ------------------------------------------------------------------------------------------------ sparse stays sparse
def test_sparse_and_backed_never_densified(tmp_path, monkeypatch):
    adata = _counts(symbols=["GATA1", "SPI1", "CEBPA", "FOS", "JUN", "MYC", "STAT1", "IRF1", "KLF4", "NFKB1"])
    genes = list(adata.var_names[:60])
    widest = []
    real = sp._compressed._cs_matrix.toarray

    def guarded(self, *a, **k):
        widest.append(self.shape[1])
        if self.shape[1] > len(genes):
            raise AssertionError(f"toarray() on a {self.shape} matrix: densifies more than the {len(genes)} genes")
        return real(self, *a, **k)

    monkeypatch.setattr(sp._compressed._cs_matrix, "toarray", guarded)
    res = tl.grn(adata, genes=genes, groupby="type", method="|Pearson|", inplace=False)
    assert widest and max(widest) == len(genes)
    assert sp.issparse(adata.X)  # the input is left as it was
    assert "normalize_total" in res["params"]["normalised"]
    assert all(n > 0 for n in res["summary"]["n_edges"])

    # backed: the same networks, X read from disk in row chunks
    path = tmp_path / "counts.h5ad"
    adata.write_h5ad(path)
    backed = read_cells(path, backed=True)
    res_b = tl.grn(backed, genes=genes, groupby="type", method="|Pearson|", inplace=False)
    for key, table in res["networks"].items():
        pd.testing.assert_frame_equal(res_b["networks"][key], table)
    monkeypatch.setattr(sp._compressed._cs_matrix, "toarray", real)

    # highly variable genes from the whole matrix: a sparse copy; peak memory far below one dense copy (160 MB)
    tracemalloc.start()
    tl.grn(adata, groupby="type", method="|Pearson|", n_top_genes=200, inplace=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.25 * adata.n_obs * adata.n_vars * 4, f"peak {peak / 2**20:.0f} MiB"


def test_normalisation_equals_scanpy():
    import scanpy as sc

    adata = _counts(n_cells=300, n_genes=500, density=0.05, seed=1)
    cols = np.array([3, 10, 400, 7])
    scan = scan_matrix(adata.X, "x", adata.var_names, adata.obs_names)
    assert scan.integer
    ours = selected_columns(adata.X, cols, scan, normalise=True).toarray()
    ref = adata.copy()
    sc.pp.normalize_total(ref)
    sc.pp.log1p(ref)
    np.testing.assert_allclose(ours, ref.X[:, cols].toarray(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------------ readers
def test_loom_and_10x_folder_read_like_h5ad(tmp_path):
    pytest.importorskip("loompy")
    adata = _counts(n_cells=50, n_genes=80, density=0.2, seed=2)
    adata.write_loom(tmp_path / "cells.loom")
    loom = read_cells(tmp_path / "cells.loom")
    assert loom.obs_names.tolist() == adata.obs_names.tolist() and loom.var_names.tolist() == adata.var_names.tolist()
    np.testing.assert_array_equal(loom.X.toarray(), adata.X.toarray())

    folder = tmp_path / "filtered_feature_bc_matrix"
    folder.mkdir()
    with gzip.open(folder / "matrix.mtx.gz", "wb") as fh:
        scipy.io.mmwrite(fh, sp.csc_matrix(adata.X.T.astype(np.int64)))
    with gzip.open(folder / "barcodes.tsv.gz", "wt") as fh:
        fh.write("\n".join(adata.obs_names) + "\n")
    with gzip.open(folder / "features.tsv.gz", "wt") as fh:
        fh.write("\n".join(f"ENSG{i:011d}\t{g}\tGene Expression" for i, g in enumerate(adata.var_names)) + "\n")
    tenx = read_cells(folder)
    assert tenx.var_names.tolist() == adata.var_names.tolist() and sp.issparse(tenx.X)
    np.testing.assert_array_equal(tenx.X.toarray(), adata.X.toarray())
    with pytest.raises(DataError, match="not a 10x folder"):
        read_cells(tmp_path)
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(DataError, match=r"unsupported format; expected \.h5ad, \.loom"):
        read_cells(tmp_path / "x.xlsx")


# ------------------------------------------------------------------------------------------------ model methods
def test_expression_free_method_gives_one_shared_network_computed_once(pbmc68k, monkeypatch):
    raw_genes = set(pbmc68k.raw.var_names)
    genes = [g for g in ["SPI1", "CEBPB", "IRF8", "KLF4", "FOS", "JUN", "LYZ", "CD14", "FCGR3A", "MS4A1", "CD79A",
                         "CD3E", "NKG7", "GNLY", "S100A8", "S100A9", "HLA-DRA", "CST3", "TYROBP", "FCER1G"]
             if g in raw_genes]
    from ugrn_core import predict

    calls = []
    real = predict.predict_edges

    def counting(*a, **k):
        calls.append(k.get("method"))
        return real(*a, **k)

    monkeypatch.setattr(predict, "predict_edges", counting)  # tl calls it there (tl sits below api)
    res = tl.grn(pbmc68k, genes=genes, groupby="bulk_labels", method="Ens", use_raw=True, min_cells=3,
                 background="none", inplace=False)
    assert calls == ["Ens"]  # one network, probes computed once for all 10 groups
    assert list(res["networks"]) == [tl.ALL_CELLS] and res["params"]["shared_network"]
    s = res["summary"]
    assert len(s) == 11 and (s["network"] == tl.ALL_CELLS).all() and (s["expression_dependent"] == "no").all()
    assert s["note"].iloc[1:].str.contains("reads no expression").all()
    assert len(res["checkpoint"]) == 16 and res["params"]["translator"]
    assert (res["networks"][tl.ALL_CELLS]["weight"] == res["networks"][tl.ALL_CELLS]["score"]).all()  # Ens: no sign
    assert tl.get_network(anndata.AnnData(uns={"ugrn": res}), "CD19+ B") is res["networks"][tl.ALL_CELLS]

    # an expression-dependent model method probes each group's own mean cell
    calls.clear()
    two = pbmc68k[pbmc68k.obs["bulk_labels"].isin(["CD14+ Monocyte", "CD19+ B"]).to_numpy()].copy()
    two.obs["bulk_labels"] = two.obs["bulk_labels"].cat.remove_unused_categories()
    res = tl.grn(two, genes=genes, groupby="bulk_labels", method="Origin-Pert", use_raw=True, min_cells=3,
                 inplace=False)
    assert calls == ["Origin-Pert"] * 3 and not res["params"]["shared_network"]
    a, b = res["networks"]["CD14+ Monocyte"], res["networks"]["CD19+ B"]
    m = a.merge(b, on=["source", "target"])
    assert len(m) > 10 and not np.allclose(m["score_x"], m["score_y"])
