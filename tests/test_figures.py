"""Pure figure and table builders of the app (ugrn_app.figures), on hand-made DataFrames: fast, no model."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from ugrn_app import figures
from ugrn_core import export


@pytest.fixture
def edges() -> pd.DataFrame:
    rows = [
        ("GATA1", "KLF1", 0.95, 1),
        ("GATA1", "SPI1", 0.90, 0),
        ("SPI1", "CEBPA", 0.80, 1),
        ("SPI1", "GATA1", 0.60, 0),
        ("TAL1", "KLF1", 0.40, 1),
        ("TAL1", "CEBPA", 0.10, 0),
    ]
    return pd.DataFrame(rows, columns=["tf", "target", "score", "label"])


def test_vvp_and_gdt_figures_hold_both_directions():
    vvp = pd.DataFrame(
        {
            "direction": ["source→target"] * 3 + ["target→source"] * 3,
            "value": [0, 25, 50] * 2,
            "response": [0.1, 0.0, -0.2, 0.0, 0.0, 0.05],
        }
    )
    fig = figures.vvp_figure(vvp, 25.0, "GATA1", "KLF1")
    assert [t.name for t in fig.data] == ["GATA1 → KLF1", "KLF1 → GATA1"]
    assert list(fig.data[0].x) == [0, 25, 50] and list(fig.data[0].y) == [0.1, 0.0, -0.2]
    assert any(s.x0 == 25.0 for s in fig.layout.shapes)  # v0 marked
    gdt = pd.DataFrame(
        {
            "direction": ["source→target"] * 2 + ["target→source"] * 2,
            "base_value": [40, 10, 10, 40],
            "gradient": [0.2, 0.1, 0.0, -0.1],
        }
    )
    fig = figures.gdt_figure(gdt, "GATA1", "KLF1")
    assert len(fig.data) == 2 and list(fig.data[0].x) == [10, 40] and list(fig.data[0].y) == [0.1, 0.2]


def test_filter_edges_order_of_operations(edges):
    assert list(figures.filter_edges(edges, top_k=2)["target"]) == ["KLF1", "SPI1"]
    assert figures.filter_edges(edges, min_score=0.6)["score"].min() == 0.6
    assert set(figures.filter_edges(edges, tfs=["TAL1"])["tf"]) == {"TAL1"}
    # search matches TF or target, case-insensitive; top-k applies after the filters
    got = figures.filter_edges(edges, search="cebp", top_k=1)
    assert list(zip(got["tf"], got["target"])) == [("SPI1", "CEBPA")]
    assert figures.filter_edges(edges, search="nothing").empty


def test_edge_table_export_roundtrip(edges):
    table = figures.edge_table(figures.filter_edges(edges, top_k=4))
    assert list(table.columns) == ["source", "target", "weight", "score", "label", "status"]
    assert list(table.index) == [1, 2, 3, 4] and table.index.name == "rank"
    assert list(table["status"]) == [figures.STATUS_TP, figures.STATUS_FP, figures.STATUS_TP, figures.STATUS_FP]
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        back = pd.read_csv(io.BytesIO(export.edges_bytes(figures.filter_edges(edges, top_k=4), fmt)), sep=sep)
        assert list(back.columns) == figures.EXPORT_COLUMNS
        pd.testing.assert_frame_equal(
            back,
            table.reset_index()[figures.EXPORT_COLUMNS].astype({"label": "int64"}),
            check_exact=False,
            atol=1e-6,
        )


def test_edge_table_without_ground_truth():
    e = pd.DataFrame({"tf": ["A"], "target": ["B"], "score": [0.5], "label": [np.nan]})
    table = figures.edge_table(e)
    assert "label" not in table and list(table["status"]) == [figures.STATUS_NA]
    back = pd.read_csv(io.BytesIO(export.edges_bytes(e, "csv")))
    assert list(back.columns) == ["source", "target", "weight", "score", "rank"]


def test_false_negatives_and_degrees(edges):
    shown = figures.filter_edges(edges, top_k=2)
    fn = figures.false_negatives(edges, shown)
    assert list(zip(fn["source"], fn["target"], fn["rank"])) == [("SPI1", "CEBPA", 3), ("TAL1", "KLF1", 5)]
    deg = figures.node_table(edges, tfs=["GATA1", "SPI1", "TAL1"]).set_index("gene")
    assert deg.loc["GATA1", "out"] == 2 and deg.loc["GATA1", "in"] == 1 and deg.loc["GATA1", "role"] == "TF"
    assert deg.loc["KLF1", "role"] == "target" and deg.loc["KLF1", "degree"] == 2
    # the sort key sits next to the gene name, so a narrow table still shows what it is sorted by
    table = figures.node_table(edges, tfs=["GATA1", "SPI1", "TAL1"])
    assert list(table.columns[:2]) == ["gene", "degree"]
    assert table["degree"].is_monotonic_decreasing


def test_network_figure_styles_and_widths(edges):
    layout = figures.graph_layout(edges)
    assert set(layout["gene"]) == {"GATA1", "KLF1", "SPI1", "CEBPA", "TAL1"}
    fig = figures.network_figure(edges, layout, tfs=["GATA1", "SPI1", "TAL1"])
    line_traces = [t for t in fig.data if t.mode == "lines"]
    assert {t.name for t in line_traces} == {figures.STATUS_TP, figures.STATUS_FP}
    assert len({t.line.width for t in line_traces}) > 1  # width by score
    drawn = sum(sum(v is None for v in t.x) for t in line_traces)
    assert drawn == len(edges)  # one segment (x0, x1, None) per edge
    nodes = {t.name: t for t in fig.data if t.mode and "markers" in t.mode and t.name in ("TFs", "targets")}
    assert nodes["TFs"].marker.symbol == "diamond" and nodes["targets"].marker.symbol == "circle"
    assert set(nodes["TFs"].text) == {"GATA1", "SPI1", "TAL1"}
    assert set(nodes["targets"].text) == {"KLF1", "CEBPA"}  # few nodes: targets are named too
    # genes missing from the layout still get drawn (outer ring); max_edges caps the drawing
    fig2 = figures.network_figure(edges, layout.iloc[:2], tfs=["GATA1"], max_edges=3)
    assert sum(sum(v is None for v in t.x) for t in fig2.data if t.mode == "lines") == 3


def _label_boxes(pos, names, width_px=900.0, height_px=590.0, font_px=9.0):
    xy = np.array(list(pos.values()), dtype=float)
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    scale = min(width_px / span[0], height_px / span[1])
    out = []
    for g in names:
        x, y = (np.asarray(pos[g]) - lo) * scale
        w = 0.6 * font_px * len(g) + 2
        out.append((x - w / 2, y + 5, x + w / 2, y + 5 + 1.3 * font_px))
    return out


def test_labels_do_not_overlap_in_a_dense_cluster_and_prefer_tfs():
    rng = np.random.default_rng(1)
    # a dense cluster of 40 TFs and 200 targets in a small region, plus 20 isolated targets far apart
    pos = {f"TF{i}": tuple(rng.normal(0, 0.02, 2)) for i in range(40)}
    pos |= {f"T{i}": tuple(rng.normal(0, 0.02, 2)) for i in range(200)}
    pos |= {f"LONE{i}": (np.cos(i / 3.2), np.sin(i / 3.2)) for i in range(20)}
    tfs = {g for g in pos if g.startswith("TF")}
    priority = {g: (1e6 if g in tfs else 0) + rng.integers(1, 10) for g in pos}
    chosen = figures.label_genes(pos, list(pos), priority)
    boxes = _label_boxes(pos, sorted(chosen))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), "two labels overlap"
    assert 0 < len(chosen & tfs) < 40  # the cluster cannot hold every name
    assert {f"LONE{i}" for i in range(20)} <= chosen  # isolated targets are named
    in_cluster_targets = {g for g in chosen if g.startswith("T") and not g.startswith("TF")}
    assert len(in_cluster_targets) <= len(chosen & tfs)  # TFs are placed first


def test_graph_layout_scales_to_thousands_of_edges():
    rng = np.random.default_rng(0)
    tfs = [f"TF{i}" for i in range(60)]
    genes = tfs + [f"G{i}" for i in range(500)]
    e = pd.DataFrame({"tf": rng.choice(tfs, 3000), "target": rng.choice(genes, 3000), "score": rng.random(3000)})
    e = e.drop_duplicates(["tf", "target"])
    layout = figures.graph_layout(e)
    assert np.isfinite(layout[["x", "y"]].to_numpy()).all()
    fig = figures.network_figure(e.assign(label=np.nan), layout, tfs)
    assert sum(len(t.x) for t in fig.data if t.mode == "lines") == 3 * len(e)


def test_benchmark_figures_and_paper_comparison():
    table = pd.DataFrame(
        {
            "method": ["VVP", "GDT", "VVP", "GDT"],
            "dataset": ["STRING/mHSC-L/500", "STRING/mHSC-L/500", "Specific/mDC/1000", "Specific/mDC/1000"],
            "AUPRC": [0.6, 0.7, 0.55, 0.65],
            "AUROC": [0.62, 0.71, 0.5, 0.6],
        }
    )
    hm = figures.metric_heatmap(table, "AUPRC", ["VVP", "GDT"])
    assert list(hm.data[0].x) == ["VVP", "GDT"] and list(hm.data[0].y) == ["STRING/mHSC-L/500", "Specific/mDC/1000"]
    assert hm.data[0].z[0][1] == pytest.approx(0.7)
    paper = pd.DataFrame(
        {
            "network": ["STRING", "STRING", "STRING"],
            "dataset": ["mHSC-L"] * 3,
            "backbone": ["scGPT", "scGPT", "scBenchmark"],
            "method": ["VVP", "GDT", "VVP"],
            "AUPRC": [0.8, 0.9, 0.1],
        }
    )
    comp = figures.paper_comparison(table, paper, "AUPRC")
    assert figures.PAPER_LABEL in comp.columns
    got = comp.set_index(["dataset", "method"])[figures.PAPER_LABEL]
    assert got[("STRING/mHSC-L/500", "VVP")] == pytest.approx(0.8)  # scGPT row, not scBenchmark
    assert np.isnan(got[("Specific/mDC/1000", "VVP")])
    bars = figures.comparison_figure(comp)
    assert [t.name for t in bars.data][1] == figures.PAPER_LABEL
    curves = pd.DataFrame({"method": ["VVP"] * 3, "x": [0, 0.5, 1], "y": [0, 0.8, 1], "auc": 0.7})
    assert figures.curve_figure(curves, "roc", "d").data[0].name == "VVP (0.700)"
    assert figures.find_np_column(table) is None
    sweep = pd.concat([table.assign(np_ratio=1), table.assign(np_ratio=5)])
    assert figures.find_np_column(sweep) == "np_ratio"
    fig = figures.np_sweep_figure(sweep, "AUPRC", "np_ratio")
    assert list(fig.data[0].x) == [1, 5]


def test_table_view_shows_missing_values_as_na_everywhere():
    df = pd.DataFrame({"AUPRC": [0.51234, np.nan], "note": [None, "x"], "n": [3, 4], "p": [1.5e-5, np.nan]},
                      index=["Pert", "Ens"])
    html = figures.table_view(df, formats={"p": lambda v: f"{v:.1e}"}).to_html()
    assert "None" not in html and "nan" not in html.lower().replace("n/a", "")
    assert html.count(">n/a<") == 3 and "0.512" in html and "1.5e-05" in html
    assert ">n/a<" in figures.table_view(df.T).to_html()  # transposed (object columns) too
