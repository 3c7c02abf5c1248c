"""The worked example of docs/architecture.md: two methods defined in this file (a translator method reading a new
probe, and a zero-shot method reading the same probe) are registered and reach ``ugrn train`` / ``ugrn predict``,
the benchmark presets and the app's method lists, with no other file changed. Also the layout's promises: no import
cycle, at most 10 import levels, no module over 500 lines, at most 15 modules at the top of ugrn_core, at most 10
method-name literals outside the registry (scripts/arch_metrics.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ugrn_core import api, cli, methods
from ugrn_core.bench.suite import suite_config
from ugrn_core.methods import Family, MethodSpec

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ the example methods (as in docs/architecture.md)
def _cosine_probe(probes, progress):
    """Probe "Cos": cosine similarity of the genes' token embeddings, float32 (1, S, S) over the scored genes."""
    E = probes.embeddings().astype(np.float64)
    E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
    C = (E @ E.T)[None]
    return probes.restrict(probes.restrict(C, axis=1), axis=2).astype(np.float32)


COS_T = MethodSpec(
    name="Cos-T", family=Family.PROBE_TRANSLATOR, description="translator on the embedding-cosine probe (example)",
    reference="docs/architecture.md", needs_labels=True, probe="Cos", compute_probe=_cosine_probe,
    probe_rows=lambda n, params: (0, 0),  # no model call: embeddings only
    features=lambda probes, pairs, progress: probes.both_directions("Cos", pairs, progress),
    order=65, paper_table=True, twin=True, shuffled_control=True,
)


def _cosine_score(ctx, pairs):
    P = ctx.probes.probe("Cos", ctx.progress)
    return P[0, ctx.probes.probe_index(pairs["tf"]), ctx.probes.probe_index(pairs["target"])].astype(np.float64)


COS_ZERO = MethodSpec(
    name="|Cos|", family=Family.ZERO_SHOT_PROBE, description="zero-shot embedding cosine (example)",
    reference="docs/architecture.md", probe="Cos", score=_cosine_score, order=27,
)


@pytest.fixture
def example_methods():
    for spec in (COS_T, COS_ZERO):
        methods.register(spec)
    yield COS_T, COS_ZERO
    for spec in (COS_T, COS_ZERO):
        methods.unregister(spec.name)


def _gene_list(tmp_path, n=40) -> Path:
    ds = api.load_beeline("STRING/mHSC-L/500")
    genes = list(dict.fromkeys(list(ds.edges["tf"][:10]) + list(ds.edges["target"][:60])))[:n]
    path = tmp_path / "genes.txt"
    path.write_text("\n".join(genes) + "\n")
    return path


def test_registered_methods_reach_cli_presets_and_app(example_methods, tmp_path):
    cos_t, cos_zero = example_methods
    # the registry and the probe machinery know them
    assert methods.get("cos-t") is cos_t and methods.probes_of(["Cos-T"]) == ["Cos"]
    assert "Cos" in methods.probe_names()
    # the benchmark presets run the translator method with its twin and shuffled-label controls
    cfg = suite_config("table1")
    assert "Cos-T" in cfg.methods and "Cos-T" in cfg.twin_methods
    assert "|Cos|" not in cfg.methods  # not declared paper_table
    # ugrn train fits its projector; ugrn predict ranks edges with it and with the zero-shot method
    tr_dir, genes = tmp_path / "tr", _gene_list(tmp_path)
    assert cli.main(["train", "--dataset", "STRING/mHSC-L/500", "--methods", "Cos-T", "--epochs", "3",
                     "--out", str(tr_dir)]) == 0
    for method in ("Cos-T", "|Cos|"):
        out = tmp_path / f"{method.strip('|')}.tsv"
        assert cli.main(["predict", "--genes", str(genes), "--method", method, "--translator", str(tr_dir),
                         "--out", str(out)]) == 0
        edges = pd.read_csv(out, sep="\t")
        assert len(edges) > 0 and edges["score"].is_monotonic_decreasing
    # the zero-shot scores are cosine similarities of distinct genes' embeddings: in [-1, 1], not all equal
    edges = pd.read_csv(tmp_path / "Cos.tsv", sep="\t")
    assert edges["score"].between(-1.0 - 1e-6, 1.0 + 1e-6).all() and edges["score"].nunique() > 1
    ds = api.dataset_from_files(genes=str(genes), name="genes")
    # the app's method lists (Train page: trainable; Gene pair page: zero-shot; Benchmark page: every method)
    assert "Cos-T" in [s.name for s in api.methods.all_specs() if s.uses_translator]
    assert "|Cos|" in api.available_methods(ds, None)
    assert {"Cos-T", "|Cos|"} <= set(api.methods.names())


def test_app_pages_list_a_registered_method(example_methods):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("app_pages/4_Train.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Cos-T" in at.multiselect(key="train_methods").options
    at.switch_page("app_pages/3_Benchmark.py").run()
    at.radio(key="bench_source").set_value("Run a benchmark").run()
    assert not at.exception, [e.value for e in at.exception]
    assert {"Cos-T", "|Cos|"} <= set(at.multiselect(key="bench_methods").options)


def test_layout_keeps_its_promises():
    spec = importlib.util.spec_from_file_location("arch_metrics", REPO / "scripts" / "arch_metrics.py")
    arch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(arch)
    m = arch.metrics()
    assert m["import_cycles"] == 0, m["cycles"]
    assert m["modules_over_500_lines"] == {}
    assert m["top_level_modules"] <= 15
    assert m["levels"] <= 10, m["longest_chain"]  # function-level imports included
    # method names outside the registry: at most 10 (the README's generated prose asks the registry's roles too)
    assert m["method_literals"] <= 10, m["method_literals_where"]
    # the script runs as a command too
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "arch_metrics.py")], capture_output=True, text=True)
    assert out.returncode == 0 and "import cycles:" in out.stdout


def test_app_imports_only_the_public_api():
    """app.py, app_pages/ and ugrn_app/ reach ugrn_core through its two public faces only: ``ugrn_core.api`` and the
    scanpy-style ``ugrn_core.tl`` (each through its ``__all__``)."""
    import ast

    from ugrn_core import api, tl

    public = {"api": set(api.__all__), "tl": set(tl.__all__)}
    files = [REPO / "app.py", *sorted((REPO / "app_pages").glob("*.py")), *sorted((REPO / "ugrn_app").glob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ugrn_core"):
                assert node.module == "ugrn_core" and {a.name for a in node.names} <= set(public), \
                    (path.name, node.lineno)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("ugrn_core") for a in node.names), (path.name, node.lineno)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in public:
                assert node.attr in public[node.value.id], (path.name, node.lineno, node.attr)


def test_np_sweep_is_core_science():
    """The Benchmark page's N/P sweep comes from ``api.np_sweep``: saved results with the same training and test
    datasets are stacked by N/P ratio (later folders win), others and unreadable folders are skipped."""
    from types import SimpleNamespace

    table = pd.DataFrame({"method": ["Emb", "Emb"], "dataset": ["a", "b"], "AUPRC": [0.5, 0.6]})
    meta = {"train": "STRING/hESC/500", "tests": ["b", "a"], "pair_mode": "balanced", "np_ratio": 1.0}
    saved = {
        "r1": SimpleNamespace(meta=meta, table=table),
        "r5": SimpleNamespace(meta={**meta, "tests": ["a", "b"], "np_ratio": 5.0}, table=table.assign(AUPRC=[0.2, 0.3])),
        "r5b": SimpleNamespace(meta={**meta, "np_ratio": 5.0}, table=table.assign(AUPRC=[0.25, 0.35])),
        "other": SimpleNamespace(meta={**meta, "train": "STRING/mESC/500", "np_ratio": 10.0}, table=table),
    }

    def load(folder):
        if folder == "broken":
            raise OSError("unreadable")
        return saved[folder]

    sweep = api.np_sweep(meta, ["r1", "broken", "r5", "r5b", "other"], load=load)
    assert sorted(sweep["np_ratio"].unique()) == [1.0, 5.0]
    assert sweep[sweep["np_ratio"] == 5.0].set_index("dataset")["AUPRC"].to_dict() == {"a": 0.25, "b": 0.35}
    assert api.np_sweep(meta, ["r1", "other"], load=load) is None  # one ratio only
    assert api.np_sweep({**meta, "pair_mode": "all"}, list(saved), load=load) is None
