"""Headless tests of every Streamlit page with ``streamlit.testing.v1.AppTest``, against the real bundled model.

No mocks: pages run ``ugrn_core.api`` on the bundled compact scGPT. To stay fast on 2 CPU cores, the pages work on a
small gene set uploaded through the Home page (80 genes of BEELINE STRING/mHSC-L/500 with their known edges and a TF
list), so probes take seconds; they are cached on disk after the first run.

Environment: ``UGRN_TEST_CHECKPOINT`` / ``UGRN_TEST_TRANSLATOR`` override the bundled checkpoint / translator.
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

REPO = Path(__file__).resolve().parents[1]

from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from ugrn_app import figures, state  # noqa: E402
from ugrn_core import api  # noqa: E402

APP = REPO / "app.py"
CHECKPOINT = os.environ.get("UGRN_TEST_CHECKPOINT", "")
TRANSLATOR = os.environ.get("UGRN_TEST_TRANSLATOR", "")
UPLOAD_MODE = "Upload your own genes"
SMALL_NAME = "mHSC-L_subset"
SHOWN = ["source", "target", "weight", "score", "label", "status"]  # the Network page's ranked-edge table


def _assets_ready() -> str | None:
    ckpt = Path(CHECKPOINT or api.DEFAULT_CHECKPOINT)
    tr = Path(TRANSLATOR or api.DEFAULT_TRANSLATOR)
    missing = [str(p) for p in (ckpt / "args.json", ckpt / "best_model.pt", tr / "meta.json") if not p.is_file()]
    return f"bundled model assets not built yet: missing {missing}" if missing else None


pytestmark = pytest.mark.skipif(_assets_ready() is not None, reason=_assets_ready() or "")


# ----------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def small_files() -> dict[str, bytes]:
    """An 80-gene subset of STRING/mHSC-L/500: its 6 best-connected TFs, their targets, other genes as negatives."""
    ds = api.load_beeline("STRING/mHSC-L/500")
    fm = api.load_model(CHECKPOINT or None)
    known = set(api.vocab_mapping(fm, ds).genes)
    e = ds.edges[ds.edges["tf"].isin(known) & ds.edges["target"].isin(known)]
    tfs = [t for t in e["tf"].value_counts().index if t in set(ds.tfs)][:6]
    genes = list(dict.fromkeys(tfs + list(e.loc[e["tf"].isin(tfs), "target"])))[:50]
    genes += [g for g in ds.genes if g in known and g not in genes][: 80 - len(genes)]
    edges = e[e["tf"].isin(tfs) & e["target"].isin(genes)]
    assert len(edges) >= 10
    return {
        "genes": ("\n".join(["gene"] + genes) + "\n").encode(),
        "tfs": ("\n".join(tfs) + "\n").encode(),
        "edges": edges.rename(columns={"tf": "TF"}).to_csv(index=False).encode(),
    }


@pytest.fixture
def media(monkeypatch) -> dict[str, tuple[str | None, bytes]]:
    """Capture what download buttons serve: file id → (file name, bytes)."""
    store: dict[str, tuple[str | None, bytes]] = {}
    orig = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        fid = orig(self, path_or_data, mimetype, kind, filename)
        store[fid] = (filename, path_or_data if isinstance(path_or_data, bytes) else Path(path_or_data).read_bytes())
        return fid

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return store


@pytest.fixture(autouse=True)
def translator_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "TRANSLATOR_DIR", tmp_path / "translators")
    return tmp_path / "translators"


def new_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    if CHECKPOINT:
        at.session_state["ckpt_path"] = CHECKPOINT
    if TRANSLATOR:
        at.session_state["translator_path"] = TRANSLATOR
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def upload(at: AppTest, files: dict[str, tuple[str, bytes]]) -> AppTest:
    """Open Home, switch the dataset source to upload and give ``files`` (widget key suffix → (name, bytes))."""
    at.run()
    assert_clean(at)
    at.radio(key="home_ds_mode").set_value(UPLOAD_MODE).run()
    at.text_input(key="home_upload_name").set_value(SMALL_NAME)
    at.radio(key="home_species").set_value("mouse")
    for key, (name, data) in files.items():
        at.file_uploader(key=f"home_{key}_file").set_value((name, data, "text/plain"))
    at.run()
    assert_clean(at)
    return at


def use_small(at: AppTest, small_files) -> AppTest:
    upload(
        at,
        {
            "gene": ("genes.txt", small_files["genes"]),
            "tf": ("tfs.txt", small_files["tfs"]),
            "edge": ("edges.csv", small_files["edges"]),
        },
    )
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["dataset_key"].startswith(f"upload:{SMALL_NAME}:")
    return at


def _decode_typed_arrays(obj):
    """Plotly ≥ 6 writes numeric arrays as {"dtype", "bdata"(base64), "shape"}; turn them back into lists."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if "shape" in obj:
                arr = arr.reshape([int(n) for n in str(obj["shape"]).split(",")])
            return arr.tolist()
        return {k: _decode_typed_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_typed_arrays(v) for v in obj]
    return obj


def plotly_figure(at: AppTest, key: str):
    """The plotly figure a page drew with ``st.plotly_chart(..., key=key)`` (AppTest shows it as UnknownElement)."""
    for el in at.get("plotly_chart"):
        if key in el.proto.id:
            return pio.from_json(json.dumps(_decode_typed_arrays(json.loads(el.proto.spec))))
    raise AssertionError(f"no plotly chart with key {key!r}; ids: {[e.proto.id for e in at.get('plotly_chart')]}")


def frame(at: AppTest, columns: list[str], nth: int = 0) -> pd.DataFrame:
    """The ``nth`` st.dataframe whose columns start with ``columns`` (AppTest gives plain dataframes no key)."""
    found = [d.value for d in at.dataframe if [str(c) for c in d.value.columns[: len(columns)]] == columns]
    assert len(found) > nth, f"no dataframe with columns {columns}: {[list(d.value.columns) for d in at.dataframe]}"
    return found[nth]


def download(at: AppTest, media: dict, key: str) -> bytes:
    btn = at.download_button(key=key)
    fid = Path(btn.proto.url).stem
    assert fid in media, f"download {key!r} ({btn.proto.url}) was not served"
    return media[fid][1]


# ----------------------------------------------------------------------------------------------- Home
def test_home_widgets_and_status():
    at = new_app()
    t0 = time.perf_counter()
    at.run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert at.radio(key="home_ckpt_mode").value == (
        "Folder with an official scGPT checkpoint" if CHECKPOINT else "Bundled compact scGPT"
    )
    assert at.radio(key="home_ds_mode").value == "BEELINE benchmark dataset"
    assert at.selectbox(key="home_beeline").value == "STRING/mHSC-L/500"
    assert len(at.selectbox(key="home_beeline").options) >= 40
    assert at.selectbox(key="home_translator").value.startswith("bundled") or TRANSLATOR
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Device"] in ("CPU", "CUDA")
    assert metrics["Vocabulary coverage"].endswith("%") and float(metrics["Vocabulary coverage"][:-1]) > 90
    assert any("Probes cached on disk" in m.value for m in at.markdown)
    if not CHECKPOINT:  # the bundled model says what it cannot do, with the model card's measured section
        assert any("can and cannot do" in w.value and "twin" in w.value for w in at.warning)
        card = (REPO / "assets" / "scgpt_compact" / "MODEL_CARD.md").read_text()
        section = card.split("## What this checkpoint can and cannot do", 1)[1].split("\n## ", 1)[0]
        assert any(m.value.strip() == section.strip() for m in at.markdown)  # the card's measured section, whole
    if not TRANSLATOR:
        assert not any("Context size" in w.value for w in at.warning)  # 554 genes vs the translator's 910: comparable
    # choosing another dataset updates the shared selection
    at.selectbox(key="home_beeline").set_value("STRING/mHSC-GM/500").run()
    assert_clean(at)
    assert at.session_state["dataset_key"] == "STRING/mHSC-GM/500"
    print(f"\nHome first render in AppTest: {time.perf_counter() - t0:.1f} s")


def test_bad_checkpoint_folder_shows_error(tmp_path):
    at = new_app()
    at.run()
    at.radio(key="home_ckpt_mode").set_value("Folder with an official scGPT checkpoint").run()
    at.text_input(key="home_ckpt_folder").set_value(str(tmp_path)).run()
    assert_clean(at)
    assert any("Cannot use" in e.value for e in at.error)
    assert at.session_state["ckpt_path"] == (CHECKPOINT or "")  # still the previous model


@pytest.mark.parametrize(
    "files, expect",
    [
        ({"gene": ("empty.txt", b"")}, "empty"),
        ({"gene": ("genes.csv", b"name,value\nGATA1,1\n")}, "without a 'gene' or 'symbol' column"),
        ({"gene": ("genes.txt", b"NOTAGENE1\nNOTAGENE2\nXYZZY\n")}, "vocabulary"),
        (
            {"gene": ("genes.txt", b"GATA1\nSPI1\nKLF1\n"), "edge": ("edges.csv", b"from,to\nGATA1,SPI1\n")},
            "needs a TF column",
        ),
        (
            {"gene": ("genes.txt", b"GATA1\nSPI1\n"), "edge": ("edges.csv", b"TF,target\nGATA1,NOTINLIST\n")},
            "not in the gene list",
        ),
        ({"expr": ("expr.csv", b"gene,c1,c2\nGATA1,1,abc\nSPI1,2,3\n")}, "non-numeric"),
        ({"expr": ("expr.h5ad", b"this is not an h5ad file")}, "expr.h5ad"),
        ({"gene": ("genes.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")}, "binary"),
        ({"gene": ("genes.txt", b"GATA1\nSP\xe91\n")}, "not UTF-8"),
        ({"expr": ("expr.csv", b"gene,c1,c2\nGATA1,1,inf\nSPI1,2,3\n")}, "infinite value"),
        ({"expr": ("expr.csv", b"gene,c1,c2\nGATA1,1,-4\nSPI1,2,3\n")}, "negative value"),
        ({"gene": ("genes.txt", b"SPI1\nNOTAGENE1\nNOTAGENE2\n")}, "at least two"),
        ({"expr": ("big.csv", b"gene,c1\n" + b"0" * (state.MAX_UPLOAD_BYTES + 10))}, "limit is 50 MB"),
    ],
)
def test_bad_upload_shows_error_not_traceback(files, expect):
    at = upload(new_app(), files)
    errors = " ".join(e.value for e in at.error)
    assert expect in errors, errors
    assert not at.session_state["dataset_key"].startswith("upload:")  # the previous dataset stays selected


def test_path_fields_outside_allowed_roots_are_refused(tmp_path, monkeypatch):
    """With UGRN_ALLOWED_ROOTS set, a checkpoint or results folder outside it gives an error naming the setting."""
    monkeypatch.setenv("UGRN_ALLOWED_ROOTS", str(tmp_path / "allowed"))
    at = new_app()
    at.run()
    at.radio(key="home_ckpt_mode").set_value("Folder with an official scGPT checkpoint").run()
    at.text_input(key="home_ckpt_folder").set_value(str(api.DEFAULT_CHECKPOINT)).run()  # a real checkpoint, outside
    assert_clean(at)
    assert any("UGRN_ALLOWED_ROOTS" in e.value and "outside" in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["ckpt_path"] == (CHECKPOINT or "")
    at.switch_page("app_pages/3_Benchmark.py").run()
    at.text_input(key="bench_custom").set_value(str(api.DEFAULT_BENCHMARK)).run()
    assert_clean(at)
    assert any("UGRN_ALLOWED_ROOTS" in e.value for e in at.error), [e.value for e in at.error]


def test_expression_upload_becomes_a_dataset(small_files):
    genes = small_files["genes"].decode().split()[1:31]
    rng = np.random.default_rng(0)
    expr = pd.DataFrame(rng.poisson(2.0, (len(genes), 12)), index=genes, columns=[f"cell{i}" for i in range(12)])
    at = upload(new_app(), {"expr": ("expr.csv", expr.to_csv(index_label="gene").encode()),
                            "tf": ("tfs.txt", small_files["tfs"])})
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["dataset_key"].startswith(f"upload:{SMALL_NAME}:")
    assert {m.label: m.value for m in at.metric}["Genes / TFs"] == "30 / 6"
    assert any("**Expression:** yes" in m.value for m in at.markdown)


def test_pasted_genes_become_a_dataset():
    at = new_app()
    at.run()
    at.radio(key="home_ds_mode").set_value(UPLOAD_MODE).run()
    at.text_area(key="home_paste").set_value("GATA1, SPI1 KLF1\nTAL1 CEBPA FLI1 RUNX1 MYB").run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["dataset_key"].startswith("upload:")
    assert {m.label: m.value for m in at.metric}["Known edges"] == "none"
    # 8 genes (fewer in the vocabulary) vs the bundled translator's training context (910 genes): placed in its
    # background context by default (said on Home), so no extrapolation warning
    if not TRANSLATOR:
        assert not any("extrapolated" in w.value for w in at.warning), [w.value for w in at.warning]
        assert any("Background context" in c.value and "STRING/hESC/500" in c.value for c in at.caption)


# ----------------------------------------------------------------------------------------------- Gene pair
def test_gene_pair_plots_both_directions(small_files):
    at = use_small(new_app(), small_files)
    at.switch_page("app_pages/1_Gene_pair.py").run()
    assert_clean(at)
    source, target = at.selectbox(key="pair_source"), at.selectbox(key="pair_target")
    assert len(source.options) == 6 and len(target.options) == 80
    edges = pd.read_csv(io.BytesIO(small_files["edges"]))
    tf, tg = edges.iloc[1]["TF"], edges.iloc[1]["target"]
    source.set_value(tf)
    target.set_value(tg)
    at.run()
    assert_clean(at)
    vvp, gdt = plotly_figure(at, "vvp_chart"), plotly_figure(at, "gdt_chart")
    for fig, xname in ((vvp, "x"), (gdt, "x")):
        lines = [t for t in fig.data if t.mode == "lines+markers"]
        assert len(lines) == 2, [t.name for t in fig.data]  # both directions
        assert {tf, tg} <= set(" ".join(t.name for t in lines).replace("→", " ").split())
        for t in lines:
            assert len(t.x) >= 5 and len(t.x) == len(t.y) and np.isfinite(np.asarray(t.y, float)).all()
    assert any(s.type == "line" and s.x0 == s.x1 for s in vvp.layout.shapes)  # v0 marked
    metrics = {m.label: m.value for m in at.metric}
    probs = {k: float(v) for k, v in metrics.items() if k.startswith("P(regulates)")}
    assert {"P(regulates) · VVP", "P(regulates) · GDT", "P(regulates) · Ens"} <= set(probs)
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    assert metrics["Ground truth"] == "✅ known"
    table = frame(at, ["direction"])
    assert list(table["direction"]) == [f"{tf} → {tg}", f"{tg} → {tf}"]
    # the random-pair shortcut picks a new pair and still draws both plots
    at.button[0].click().run()
    assert_clean(at)
    assert len([t for t in plotly_figure(at, "vvp_chart").data if t.mode == "lines+markers"]) == 2


def test_gene_pair_top_predicted_shortcut(small_files):
    at = use_small(new_app(), small_files)
    at.switch_page("app_pages/1_Gene_pair.py").run()
    at.button[1].click().run()
    assert_clean(at)
    pair = (at.selectbox(key="pair_source").value, at.selectbox(key="pair_target").value)
    at.switch_page("app_pages/2_Network.py").run()
    assert_clean(at)
    table = frame(at, SHOWN)
    top = table[table["source"] != table["target"]].iloc[0]
    assert pair == (top["source"], top["target"])


# ----------------------------------------------------------------------------------------------- Network
def test_network_download_holds_exactly_the_rows_shown(small_files, media, monkeypatch):
    calls = []
    real = api.predict_edges

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(api, "predict_edges", counting)
    state.predicted_edges.clear()  # earlier tests may have filled the in-process cache
    at = use_small(new_app(), small_files)
    at.switch_page("app_pages/2_Network.py").run()
    assert_clean(at)
    assert at.radio(key="net_cut").value == "Top k"
    # every filter widget is on the page under its key, with its starting value
    assert at.slider(key="net_top_k").value == 100
    assert at.multiselect(key="net_tfs").value == [] and len(at.multiselect(key="net_tfs").options) == 6
    assert at.text_input(key="net_search").value == ""
    assert at.selectbox(key="net_method").value == "Ens"
    at.slider(key="net_top_k").set_value(60).run()
    assert_clean(at)

    def check(n_expected=None):
        shown = frame(at, SHOWN)
        if n_expected is not None:
            assert len(shown) == n_expected
        pairs = list(zip(shown["source"], shown["target"]))
        for fmt, sep in (("csv", ","), ("tsv", "\t")):
            got = pd.read_csv(io.BytesIO(download(at, media, f"dl_{fmt}")), sep=sep)
            assert list(got.columns) == ["source", "target", "weight", "score", "rank", "label"]
            assert list(zip(got["source"], got["target"])) == pairs and list(got["rank"]) == list(shown.index)
            np.testing.assert_allclose(got["score"], shown["score"], rtol=1e-5)
            assert list(got["label"]) == list(shown["label"].astype(int))
        # every other format holds the same edges in its own columns (each format's client: tests/test_export.py)
        for fmt, cols in (("decoupler", ["source", "target"]), ("pyscenic", ["TF", "target"]),
                          ("beeline", ["Gene1", "Gene2"])):
            got = pd.read_csv(io.BytesIO(download(at, media, f"dl_{fmt}")), sep="\t")
            assert list(zip(got[cols[0]], got[cols[1]])) == pairs, fmt
        tfdict = json.loads(download(at, media, "dl_celloracle"))
        assert sorted((tf, tg) for tg, tfs in tfdict.items() for tf in tfs) == sorted(pairs)
        g = nx.read_graphml(io.BytesIO(download(at, media, "dl_graphml")))
        cy = nx.cytoscape_graph(json.loads(download(at, media, "dl_cytoscape")))
        assert set(g.edges) == set(cy.edges) == set(pairs)
        return shown

    shown = check(60)
    assert list(shown["score"]) == sorted(shown["score"], reverse=True)
    assert set(shown["status"]) <= {figures.STATUS_TP, figures.STATUS_FP}
    fig = plotly_figure(at, "network_chart")
    assert {t.name for t in fig.data if t.mode == "lines"} <= {figures.STATUS_TP, figures.STATUS_FP}
    assert any(t.name == "TFs" and t.marker.symbol == "diamond" for t in fig.data)
    assert any("False negatives" in s.value for s in at.subheader)

    # TF filter + threshold: the table and downloads follow
    tf = shown.iloc[0]["source"]
    at.multiselect(key="net_tfs").set_value([tf]).run()
    assert set(check()["source"]) == {tf}
    at.radio(key="net_cut").set_value("Score ≥ threshold").run()
    thr = at.slider(key="net_threshold")
    thr.set_value(float(np.round(shown["score"].median(), 3))).run()
    assert_clean(at)
    got = check()
    assert (got["score"] >= at.slider(key="net_threshold").value - 1e-9).all()
    at.text_input(key="net_search").set_value("zzzz_no_gene").run()
    assert_clean(at)
    assert len(frame(at, SHOWN)) == 0
    assert calls == [1], "a rerun must not recompute the network"
    # the 80-gene list is scored among the translator's training genes; switched off, the page warns instead
    if not TRANSLATOR:
        assert at.toggle(key="net_background").value is True
        assert not any("extrapolated" in w.value for w in at.warning)
        at.toggle(key="net_background").set_value(False).run()
        assert_clean(at)
        assert any("Context size" in w.value and "extrapolated" in w.value for w in at.warning)
        assert calls == [1, 1]


# ----------------------------------------------------------------------------------------------- Benchmark
def _write_result(out: Path, np_ratio: float, seed: int) -> Path:
    """A result folder in the layout ``BenchmarkResult.save`` writes (results.csv, meta.json, scores.npz)."""
    rng = np.random.default_rng(seed)
    rows, scores = [], {}
    for d in ("STRING/mHSC-L/500", "Non-Specific/mDC/500"):
        y = np.r_[np.ones(40), np.zeros(int(40 * np_ratio))].astype(np.int8)
        for m, shift in (("Emb", 0.3), ("VVP", 0.5), ("GDT", 0.8), ("Ens", 0.9)):
            s = y * shift + rng.random(len(y))
            scores[(m, d)] = (y, s)
            rows.append(
                {
                    "method": m,
                    "dataset": d,
                    "AUROC": 0.5 + shift / 3,
                    "AUPRC": (0.5 + shift / 2.5) / np_ratio,
                    "AUPRC_ratio": 1 + shift,
                    "EPR": 1 + shift,
                    "Hit@1%": shift,
                    "n_pos": 40,
                    "n_neg": int(40 * np_ratio),
                    "note": "",
                }
            )
    out.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(out / "results.csv", index=False)
    meta = {
        "train": "STRING/hESC/500",
        "tests": ["STRING/mHSC-L/500", "Non-Specific/mDC/500"],
        "pair_mode": "balanced",
        "np_ratio": np_ratio,
        "seed": 0,
        "checkpoint": "x",
    }
    (out / "meta.json").write_text(json.dumps(meta))
    np.savez_compressed(
        out / "scores.npz", **{f"{m}|{d}|{k}": v for (m, d), (y, s) in scores.items() for k, v in (("y", y), ("s", s))}
    )
    assert set(api.load_benchmark(out).scores) == set(scores)
    return out


@pytest.fixture
def saved_benchmark(tmp_path, monkeypatch) -> Path:
    """Two saved results (N/P 1 and 5) of the same protocol under a temporary results/ folder."""
    monkeypatch.setattr(state, "RESULTS_DIR", tmp_path / "results")
    _write_result(tmp_path / "results" / "np5", 5.0, 1)
    default = _write_result(tmp_path / "results" / "benchmark_default", 1.0, 0)
    monkeypatch.setattr(api, "DEFAULT_BENCHMARK", default)  # stands in for the bundled assets/benchmark_default
    _write_result(tmp_path / "tables" / "table2", 1.0, 2)
    monkeypatch.setattr(api, "BUNDLED_TABLES", tmp_path / "tables")  # stands in for assets/benchmark_tables
    return default


def test_benchmark_page_loads_saved_results(saved_benchmark):
    at = new_app()
    at.switch_page("app_pages/3_Benchmark.py").run()
    assert_clean(at)
    assert at.radio(key="bench_source").value == "Load saved results"
    assert at.selectbox(key="bench_pick").value.endswith("benchmark_default")  # the default folder comes first
    options = at.selectbox(key="bench_pick").options
    assert options[1].endswith("table2") and options[2].endswith("np5")  # then the bundled tables, then results/
    assert not at.error, [e.value for e in at.error]
    ours = frame(at, ["STRING/mHSC-L/500", "Non-Specific/mDC/500", "Avg"])  # methods × datasets: fits the width
    assert list(ours.index) == ["Emb", "VVP", "GDT", "Ens"]
    per_method = frame(at, ["AUROC", "AUPRC"])
    assert list(per_method.index) == ["Emb", "VVP", "GDT", "Ens"]
    assert any(figures.PAPER_LABEL in m.value for m in at.markdown)
    paper = next(d.value for d in at.dataframe if "STRING/mHSC-L" in list(d.value.columns))  # our test datasets
    assert list(paper.index)[:7] == ["Origin-Pert", "Origin-Attn", "Pert", "Emb", "VVP", "GDT", "Ens"]
    heat = plotly_figure(at, "bench_heatmap")
    assert list(heat.data[0].x) == ["Emb", "VVP", "GDT", "Ens"]
    compare = plotly_figure(at, "bench_compare")
    assert compare.data[1].name == figures.PAPER_LABEL
    roc, pr = plotly_figure(at, "bench_roc"), plotly_figure(at, "bench_pr")
    assert len([t for t in roc.data if t.name != "random"]) == 4 and len(pr.data) == 4
    sweep = plotly_figure(at, "bench_np_sweep")
    assert [list(t.x) for t in sweep.data][0] == [1.0, 5.0]
    at.selectbox(key="bench_metric").set_value("AUROC").run()
    assert_clean(at)
    at.selectbox(key="bench_curve_ds").set_value("Non-Specific/mDC/500").run()
    assert_clean(at)
    # another folder typed by hand; a wrong one gives a message, not a traceback
    at.text_input(key="bench_custom").set_value(str(saved_benchmark.parent / "np5")).run()
    assert_clean(at)
    assert "N/P 5.0" in " ".join(m.value for m in at.markdown)
    at.text_input(key="bench_custom").set_value(str(saved_benchmark.parent / "missing")).run()
    assert_clean(at)
    assert any("Could not load benchmark results" in e.value for e in at.error)


def test_benchmark_page_shows_controls_of_a_bundled_table_and_its_unseen_gene_view(tmp_path, monkeypatch):
    """A bundled preset folder keeps its rows as rows.csv.gz: the controls section reads it, and the "unseen genes"
    view shows that view's numbers (Ens 0.7 there, 0.6 over all pairs), not the all-pairs ones."""
    monkeypatch.setattr(state, "RESULTS_DIR", tmp_path / "results")
    folder = _write_result(tmp_path / "tables" / "table2", 1.0, 0)
    monkeypatch.setattr(api, "BUNDLED_TABLES", tmp_path / "tables")
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "preset": "table2"}))
    rows = []
    for train in ("STRING/hESC/500", "STRING/mDC/500"):
        for seed in range(3):
            for view, ens in (("all", 0.6), ("unseen genes", 0.7)):
                for method, base, variant, value in (("Emb", "Emb", "real", 0.55), ("Ens", "Ens", "real", ens),
                                                     ("Ens (twin)", "Ens", "twin", 0.5),
                                                     ("Degree prior", "Degree prior", "control", 0.52)):
                    rows.append({"train": train, "test": "STRING/mHSC-L/500", "seed": seed, "negatives": "uniform",
                                 "np_ratio": 1.0, "method": method, "base_method": base, "variant": variant,
                                 "family": "control" if variant != "real" else "translator", "view": view,
                                 "same_cell_type": False, "AUROC": value, "AUPRC": value + 0.001 * seed,
                                 "AUPRC_ratio": 2 * value, "EPR": 1.0, "n_pos": 10, "n_neg": 10, "note": ""})
    pd.DataFrame(rows).to_csv(folder / "rows.csv.gz", index=False)
    at = new_app()
    at.switch_page("app_pages/3_Benchmark.py").run()
    at.selectbox(key="bench_pick").set_value(next(o for o in at.selectbox(key="bench_pick").options
                                                  if o.endswith("table2"))).run()
    assert_clean(at)
    assert at.radio(key="bench_view").options == ["all", "unseen genes"]
    main = frame(at, ["Emb", "Ens"])
    assert main.loc["STRING/hESC/500", "Ens"].startswith("0.601")
    at.radio(key="bench_view").set_value("unseen genes").run()
    assert_clean(at)
    main = frame(at, ["Emb", "Ens"])
    assert main.loc["STRING/hESC/500", "Ens"].startswith("0.701")


def test_benchmark_run_form_widgets():
    at = new_app()
    at.switch_page("app_pages/3_Benchmark.py").run()
    at.radio(key="bench_source").set_value("Run a benchmark").run()
    assert_clean(at)
    # the page's defaults: train mHSC-GM, test mHSC-L, the methods that need no expression; nothing run yet
    assert at.selectbox(key="bench_train").value == "STRING/mHSC-GM/500"
    assert at.multiselect(key="bench_tests").value == ["STRING/mHSC-L/500"]
    assert set(at.multiselect(key="bench_methods").value) == {"Emb", "VVP", "GDT", "Ens", "|VVP|", "|GDT|"}
    run = at.button(key="bench_run")
    assert run.label == "▶ Run benchmark" and not run.disabled and run.value is False
    assert not at.error and "bench_result" not in at.session_state
    assert any("Probes" in c.value for c in at.caption)
    # an invalid request is refused with a message, not a traceback
    at.multiselect(key="bench_tests").set_value([])
    at.button(key="bench_run").click().run()
    assert_clean(at)
    assert any("at least one test dataset" in e.value for e in at.error)
    # probing estimated (a short calibration) at over a minute on CPU: the run waits for an explicit confirmation
    assert "about" in at.checkbox(key="bench_confirm").label
    at.multiselect(key="bench_tests").set_value(["STRING/mDC/500"])
    at.button(key="bench_run").click().run()
    assert_clean(at)
    assert any("confirmation" in w.value for w in at.warning) and "bench_result" not in at.session_state


# ----------------------------------------------------------------------------------------------- Train
def test_train_translator_and_select_it(small_files, translator_dir):
    at = use_small(new_app(), small_files)
    at.switch_page("app_pages/4_Train.py").run()
    assert_clean(at)
    label = state.dataset_label(at.session_state["dataset_key"])
    # defaults to a labelled dataset other than the predicted one; training on the predicted one is warned about
    assert at.selectbox(key="train_ds").value != label
    assert not any("also the dataset" in w.value for w in at.warning)
    at.selectbox(key="train_ds").set_value(label)
    at.multiselect(key="train_methods").set_value(["VVP", "GDT", "Ens"])
    at.number_input(key="train_epochs").set_value(5)
    at.text_input(key="train_name").set_value("my_small")
    at.button(key="FormSubmitter:train_form-▶ Train").click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert (translator_dir / "my_small" / "meta.json").is_file()
    assert at.session_state["translator_path"] == str(translator_dir / "my_small")
    assert any("now the selected translator" in s.value for s in at.success)
    assert any("also the dataset the Gene pair and Network pages predict on" in w.value for w in at.warning)
    # the new translator drives the other pages
    at.switch_page("app_pages/2_Network.py").run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert "trained on " + SMALL_NAME in " ".join(c.value for c in at.caption)
