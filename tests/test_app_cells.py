"""The app's AnnData flow with ``streamlit.testing.v1.AppTest`` on real files, no mocks: Home reads an uploaded
.h5ad (scanpy's pbmc68k_reduced: X scaled, log values in .raw, cell types in obs["bulk_labels"]), refuses the scaled
X with the core's message naming .raw, takes .raw and a groupby column, says which methods read the cells; the
Network page then shows one network per cell type (the same tables as ``ugrn_core.tl.grn`` run directly) and the
Compare page sets two cell types side by side with their downloads.

|Pearson| is the method here: it reads the cells and needs no model probes, so the flow takes seconds.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import anndata
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ugrn_app import cells as cells_ui
from ugrn_core import api, tl
from ugrn_core.config import resolve_data_dir

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
DATA = resolve_data_dir()
PBMC = DATA / "scrna" / "pbmc68k_reduced" / "10x_pbmc68k_reduced_scanpy.h5ad"
METHOD = "|Pearson|"
GROUP_A, GROUP_B, TINY = "CD14+ Monocyte", "CD19+ B", "CD4+/CD45RA+/CD25- Naive T"  # 129, 95 and 8 cells

pytestmark = pytest.mark.skipif(not PBMC.is_file(), reason=f"{PBMC} not found (shared data)")


@pytest.fixture(autouse=True)
def translator_dir(tmp_path, monkeypatch):
    from ugrn_app import state

    monkeypatch.setattr(state, "TRANSLATOR_DIR", tmp_path / "translators")


def plotly_figure(at: AppTest, key: str):
    from test_app import plotly_figure as from_app

    return from_app(at, key)


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def upload_pbmc(at: AppTest) -> AppTest:
    at.run()
    _no_exception(at)
    at.radio(key="home_ds_mode").set_value(cells_ui.CELLS_MODE).run()
    _no_exception(at)
    at.file_uploader(key="home_cells_file").set_value((PBMC.name, PBMC.read_bytes(), "application/octet-stream"))
    at.run()
    _no_exception(at)
    return at


@pytest.fixture(scope="module")
def direct() -> anndata.AnnData:
    """pbmc68k_reduced with ``tl.grn`` run directly (what the pages must show)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = anndata.read_h5ad(PBMC)
    tl.grn(a, groupby="bulk_labels", method=METHOD, use_raw=True)
    return a


def test_home_refuses_scaled_x_then_takes_raw_and_groupby():
    at = upload_pbmc(AppTest.from_file(str(APP), default_timeout=300))
    # X is scaled: the core's value check refuses it, naming .raw; the previous dataset stays selected
    errors = _texts(at.error)
    assert "negative value" in errors and "use_raw=True" in errors, errors
    assert not at.session_state["dataset_key"].startswith("upload:")
    assert at.radio(key="home_cells_matrix").options == [cells_ui.MATRIX_X, cells_ui.MATRIX_RAW]
    assert "bulk_labels" in at.selectbox(key="home_cells_groupby").options
    assert "n_counts" not in at.selectbox(key="home_cells_groupby").options  # per-cell numbers are not groups
    at.radio(key="home_cells_matrix").set_value(cells_ui.MATRIX_RAW)
    at.selectbox(key="home_cells_groupby").set_value("bulk_labels").run()
    _no_exception(at)
    assert not at.error, _texts(at.error)
    assert at.session_state["dataset_key"].startswith("upload:10x_pbmc68k_reduced_scanpy:")
    ds = at.session_state["uploads"][at.session_state["dataset_key"]]
    assert ds.has_expression and ds.expression.n_obs == 700 and len(ds.genes) == 765
    assert float(ds.expression.X.min()) >= 0.0  # the .raw values, not the scaled X
    # which methods read the cells, from the registry
    md = _texts(at.markdown)
    assert md.count("**Methods that read your cells**") == 1
    reads, not_reads = md.split("**Methods that read your cells**", 1)[1].split("**Methods that do not**", 1)
    not_reads = not_reads.split("\n", 1)[0]
    for m in (METHOD, "GRNBoost2", "Origin-Pert"):
        assert m in reads and m not in not_reads
    for m in ("Emb", "VVP", "GDT", "Ens"):
        assert f" {m}," in not_reads or f" {m}." in not_reads
    assert "Using the cells of" in _texts(at.success)


def test_network_page_shows_one_network_per_cell_type(direct):
    at = upload_pbmc(AppTest.from_file(str(APP), default_timeout=300))
    at.radio(key="home_cells_matrix").set_value(cells_ui.MATRIX_RAW)
    at.selectbox(key="home_cells_groupby").set_value("bulk_labels").run()
    at.switch_page("app_pages/2_Network.py").run()
    _no_exception(at)
    at.selectbox(key="net_cells_method").set_value(METHOD).run()
    _no_exception(at)
    assert not at.get("plotly_chart")  # nothing runs before the button
    at.button(key="net_cells_run").click().run()
    _no_exception(at)
    groups = at.selectbox(key="net_group").options
    assert groups[0] == "all cells" and GROUP_A in groups and len(groups) == 11
    tables = {}
    for g in ("all cells", GROUP_A):
        at.selectbox(key="net_group").set_value(g).run()
        _no_exception(at)
        assert not at.error, _texts(at.error)
        key = at.session_state["cells_runs"][next(iter(at.session_state["cells_runs"]))]
        tables[g] = api.get_network(at.session_state["cells_file"], g, key=key)
        want = api.get_network(direct, g)
        pd.testing.assert_frame_equal(tables[g].reset_index(drop=True), want.reset_index(drop=True))
        shown = [d.value for d in at.dataframe if list(d.value.columns[:3]) == ["source", "target", "weight"]]
        assert shown and len(shown[0]) == 100  # top 100 by default
        assert list(shown[0]["source"][:5]) == list(want["source"][:5])
    # the monocytes' network is not the all-cells one (|Pearson| reads each group's cells)
    top = {g: set(zip(t["source"][:50], t["target"][:50])) for g, t in tables.items()}
    assert len(top["all cells"] & top[GROUP_A]) < 45


def test_compare_page_side_by_side_and_downloads(direct):
    at = upload_pbmc(AppTest.from_file(str(APP), default_timeout=300))
    at.radio(key="home_cells_matrix").set_value(cells_ui.MATRIX_RAW)
    at.selectbox(key="home_cells_groupby").set_value("bulk_labels").run()
    at.switch_page("app_pages/5_Compare.py").run()
    _no_exception(at)
    at.selectbox(key="cmp_method").set_value(METHOD)
    at.selectbox(key="cmp_a").set_value(GROUP_A)
    at.selectbox(key="cmp_b").set_value(GROUP_B).run()
    _no_exception(at)
    at.button(key="cmp_run").click().run()
    _no_exception(at)
    assert not at.error, _texts(at.error)
    charts = [el.proto.id for el in at.get("plotly_chart")]
    assert any("cmp_graph_a" in c for c in charts) and any("cmp_graph_b" in c for c in charts), charts
    for side in "ab":
        for fmt in api.export.FORMATS:
            assert at.download_button(key=f"cmp_dl_{side}_{fmt}") is not None
    # the shared layout: both graphs draw a gene at the same place, within the same axis ranges
    figs = [plotly_figure(at, f"cmp_graph_{side}") for side in "ab"]
    assert figs[0].layout.xaxis.range == figs[1].layout.xaxis.range
    pos = [{(t, round(x, 6), round(y, 6)) for tr in f.data if tr.name in ("TFs", "targets")
            for t, x, y in zip(tr.hovertext, tr.x, tr.y)} for f in figs]
    where = [{t.split(" ")[0]: (x, y) for t, x, y in p} for p in pos]
    common = set(where[0]) & set(where[1])
    assert all(where[0][g] == where[1][g] for g in common)
    if hasattr(api, "compare"):  # ugrn_core.tl.compare: the differential table under the graphs
        diff = [d.value for d in at.dataframe if list(d.value.columns[:2]) == ["source", "target"]
                and "status" in d.value.columns]
        assert diff and len(diff[0]) > 0
        assert set(diff[0]["status"].astype(str)) <= {"gained", "lost", "flipped", "kept"}
    if hasattr(api, "activity"):  # decoupler ulm activities, mean per group: every group a column
        heat = plotly_figure(at, "cmp_activity")
        assert list(heat.data[0].x[:2]) == [GROUP_A, GROUP_B] and len(heat.data[0].x) == 10
    # a group of 8 cells: the min-cells guard leaves it no network, and the page says so
    at.selectbox(key="cmp_b").set_value(TINY).run()
    _no_exception(at)
    assert f"No network for “{TINY}”" in _texts(at.warning)


def test_home_says_how_many_ensembl_ids_it_mapped(tmp_path):
    """Genes given as Ensembl IDs: Home shows the core's "mapped N of M Ensembl IDs to symbols" on every rerun."""
    from ugrn_core.data.gene_ids import load_ensembl_map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = anndata.read_h5ad(PBMC)
    by_symbol = {}
    for gid, sym in load_ensembl_map().items():
        if gid.startswith("ENSG") and gid[4:].isdigit():  # plain IDs (the table also holds "ID1;ID2" keys)
            by_symbol.setdefault(sym, gid)
    names = [str(g) for g in a.raw.var_names]
    ids = [g for g in names if g in by_symbol][:100]
    assert len(ids) == 100
    renamed = [by_symbol[g] if g in ids else g for g in names]
    renamed[names.index(next(g for g in names if g not in ids))] = "ENSG00000999999"  # no such gene
    cells = anndata.AnnData(X=a.raw.X.copy(), obs=a.obs[["bulk_labels"]].copy(),
                            var=pd.DataFrame(index=pd.Index(renamed)))
    path = tmp_path / "pbmc_ensembl.h5ad"
    cells.write_h5ad(path)
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.radio(key="home_ds_mode").set_value(cells_ui.CELLS_MODE).run()
    at.file_uploader(key="home_cells_file").set_value((path.name, path.read_bytes(), "application/octet-stream"))
    at.run()
    _no_exception(at)
    assert not at.error, _texts(at.error)
    msg = "mapped 100 of 101 Ensembl IDs to symbols; unmapped: ENSG00000999999"
    assert msg in _texts(at.warning)
    ds = at.session_state["uploads"][at.session_state["dataset_key"]]
    assert {g.upper() for g in ids} <= set(ds.genes) and "ENSG00000999999" in ds.genes
    at.run()  # shown again on the next rerun (the dataset is not rebuilt)
    assert msg in _texts(at.warning)


PBMC4K = DATA / "scrna" / "soupx_pbmc4k_human" / "PBMC_sc_toc.h5ad"


@pytest.mark.skipif(not PBMC4K.is_file(), reason=f"{PBMC4K} not found (shared data)")
def test_raw_counts_with_more_genes_than_the_context():
    """10x PBMC 4k (2,170 cells × 33,694 genes, raw counts, obs["cell_type"]): more genes than the model's context,
    so Home says the networks use tl.grn's highly variable genes; the Network page builds one per cell type."""
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.radio(key="home_ds_mode").set_value(cells_ui.CELLS_MODE).run()
    at.file_uploader(key="home_cells_file").set_value((PBMC4K.name, PBMC4K.read_bytes(), "application/octet-stream"))
    at.run()
    _no_exception(at)
    assert at.radio(key="home_cells_matrix").options == [cells_ui.MATRIX_X]  # no .raw, no layers
    at.selectbox(key="home_cells_groupby").set_value("cell_type").run()
    _no_exception(at)
    assert not at.error, _texts(at.error)
    assert "33,694 genes are more than the model's context" in _texts(at.info)
    at.switch_page("app_pages/2_Network.py").run()
    at.selectbox(key="net_cells_method").set_value(METHOD).run()
    at.button(key="net_cells_run").click().run()
    _no_exception(at)
    assert not at.error, _texts(at.error)
    groups = at.selectbox(key="net_group").options
    assert groups[0] == "all cells" and len(groups) == 1 + at.session_state["cells_file"].obs["cell_type"].nunique()
    key = next(iter(at.session_state["cells_runs"].values()))
    res = at.session_state["cells_file"].uns[key]
    assert res["params"]["normalised"].startswith("sc.pp.normalize_total")  # raw counts normalised by the core
    assert 2 <= res["params"]["n_genes"] <= 500
