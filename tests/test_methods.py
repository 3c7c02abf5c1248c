"""The method registry: discovery, case-insensitive look-up, and every spec's flags matching what the method does.

Behaviour is checked on a real 20-gene subset of BEELINE STRING/mHSC-L/500 (with and without its expression) under the
bundled model, so probes take seconds.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ugrn_core import methods
from ugrn_core.bench.benchmark import default_methods
from ugrn_core.data.datasets import dataset_from_genes, load_beeline
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.data.pairs import candidate_pairs, sample_pairs
from ugrn_core.methods import score_pairs
from ugrn_core.translator import Translator, projectors_needed

METHODS_DIR = Path(methods.__file__).parent


def test_registry_discovers_one_spec_per_module():
    modules = [m.name for m in pkgutil.iter_modules([str(METHODS_DIR)]) if not m.name.startswith("_") and m.name != "base"]
    assert len(methods.all_specs()) == len(modules)
    assert {"Origin-Pert", "Origin-Attn", "Pert", "Emb", "VVP", "GDT", "Ens"} <= set(methods.names())
    orders = [s.order for s in methods.all_specs()]
    assert orders == sorted(orders)  # display order


_THREADED_DISCOVERY = """
import sys, threading
from ugrn_core import methods
n = 8
barrier, out = threading.Barrier(n), [None] * n
def worker(k):
    barrier.wait()
    try:
        out[k] = [s.name for s in methods.all_specs()]
    except Exception as e:  # what a Streamlit session would show in its error box
        out[k] = f"{type(e).__name__}: {e}"
threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
bad = [o for o in out if not isinstance(o, list) or o != out[0]]
print(len(out[0]) if isinstance(out[0], list) else 0, bad)
sys.exit(1 if bad else 0)
"""


def test_registry_discovery_is_thread_safe_in_a_fresh_process():
    """8 threads call all_specs() at once in a fresh interpreter (as concurrent first Streamlit sessions do): every one
    gets the same, complete registry. Repeated 5 times, each in a new process, as discovery runs once per process."""
    n_modules = len([m for m in pkgutil.iter_modules([str(METHODS_DIR)]) if not m.name.startswith("_") and m.name != "base"])
    root = str(METHODS_DIR.parents[1])
    for run in range(5):
        r = subprocess.run([sys.executable, "-c", _THREADED_DISCOVERY], capture_output=True, text=True, timeout=120,
                           cwd=root, env={**__import__("os").environ, "PYTHONPATH": root})
        assert r.returncode == 0, f"run {run}: threads saw a failed or partial registry: {r.stdout[-2000:]}{r.stderr[-2000:]}"
        assert r.stdout.split()[0] == str(n_modules), r.stdout


def test_lookup_is_case_insensitive_and_unknown_names_are_listed():
    assert methods.get("vvp") is methods.get("VVP") is methods.get(" Vvp ")
    assert methods.get("origin-pert").name == "Origin-Pert"
    assert methods.canonical("vvp, gdt,ENS") == ["VVP", "GDT", "Ens"]
    assert methods.canonical(["emb"]) == ["Emb"]
    with pytest.raises(ValueError, match=r"unknown method 'Foo'; known: .*VVP"):
        methods.get("Foo")
    with pytest.raises(ValueError, match="unknown probe"):
        methods.probe_owner("nope")


@pytest.mark.parametrize("spec", methods.all_specs(), ids=lambda s: s.name)
def test_spec_is_self_consistent(spec):
    assert spec.name and spec.description and spec.reference and isinstance(spec.family, methods.Family)
    assert (spec.features is not None) == spec.trainable
    assert spec.trainable or spec.score is not None  # every method can score pairs
    for m in spec.members:
        assert methods.get(m).trainable, f"{spec.name}: member {m} has no projector"
    if spec.compute_probe is not None:
        assert spec.probe and methods.probe_owner(spec.probe) is spec
    elif spec.probe:
        assert methods.probe_owner(spec.probe).needs_expression == spec.needs_expression
    if spec.uses_translator:
        assert spec.needs_labels


def test_probes_of_follow_members():
    assert methods.probes_of(["Ens"]) == ["VVP", "GDT"]
    assert methods.probes_of(["emb"]) == []
    assert set(methods.probes_of(["Origin-Pert", "Pert"])) == {"Pert"}


# ------------------------------------------------------------------------------------- behaviour on real data
@pytest.fixture(scope="module")
def small(fm):
    """20 mapped genes of STRING/mHSC-L/500 (4 hub TFs + targets + others) with expression and known edges, the same
    genes without expression, and a 12-gene subset (a smaller context) with expression."""
    full = load_beeline("STRING/mHSC-L/500")
    known = set(DatasetProbes(fm, full).genes)
    e = full.edges[full.edges["tf"].isin(known) & full.edges["target"].isin(known)]
    tfs = [t for t in e["tf"].value_counts().index if t in set(full.tfs)][:4]
    genes = list(dict.fromkeys(tfs + list(e.loc[e["tf"].isin(tfs), "target"])))[:14]
    genes += [g for g in full.genes if g in known and g not in genes][: 20 - len(genes)]
    edges = e[e["tf"].isin(tfs) & e["target"].isin(genes)]
    make = lambda gs, expr, name: dataset_from_genes(gs, tfs=tfs, species="mouse", name=name,  # noqa: E731
                                                     edges=edges[edges["target"].isin(gs)],
                                                     expression=full.expression if expr else None)
    with_expr, no_expr, smaller = make(genes, True, "with"), make(genes, False, "without"), make(genes[:12], True, "small")
    probes = DatasetProbes(fm, with_expr)
    train = sample_pairs(with_expr, genes=probes.genes, seed=0)
    translator = Translator.fit(probes, train, [m for m in default_methods() if methods.get(m).uses_translator],
                                epochs=3, seed=0)
    pairs = candidate_pairs(smaller, genes=DatasetProbes(fm, smaller).genes)
    return {"with": with_expr, "without": no_expr, "smaller": smaller, "translator": translator, "pairs": pairs}


def _scores(fm, ds, pairs, names, translator):
    return score_pairs(DatasetProbes(fm, ds), pairs, names, translator)


def test_flags_match_behaviour(fm, small):
    """needs_expression ⇔ n/a without expression; needs_labels=False ⇔ scores without a translator;
    context_dependent ⇔ the same pairs score differently in a smaller context."""
    names, tr, pairs = default_methods(), small["translator"], small["pairs"]
    with_expr = _scores(fm, small["with"], pairs, names, tr)
    without = _scores(fm, small["without"], pairs, names, tr)
    smaller = _scores(fm, small["smaller"], pairs, names, tr)
    for name in names:
        spec = methods.get(name)
        assert np.isfinite(with_expr[name]).all(), name
        if spec.needs_expression:
            assert without[name].isna().all(), name
            with pytest.raises(ValueError, match="needs expression"):
                spec.run(methods.ScoringContext(small["without"], DatasetProbes(fm, small["without"]), tr), pairs)
        else:  # probes of virtual cells do not read the expression: same scores
            np.testing.assert_allclose(without[name], with_expr[name], rtol=1e-6, err_msg=name)
        moved = np.abs(smaller[name].to_numpy() - with_expr[name].to_numpy()).max()
        assert (moved > 1e-6) == spec.context_dependent, (name, moved)
        if not spec.needs_labels:
            assert np.isfinite(_scores(fm, small["with"], pairs, [name], None)[name]).all()
        if spec.uses_translator:
            with pytest.raises(ValueError, match="needs a trained translator"):
                _scores(fm, small["with"], pairs, [name], None)
    assert set(tr.projectors) == set(projectors_needed(names))


def test_bundled_translator_refuses_another_checkpoint(fm, tiny_model, tmp_path, small):
    from ugrn_core import api, scfm

    model, vocab, args = tiny_model
    other = scfm.load_checkpoint(scfm.save_checkpoint(model, vocab, args, tmp_path / "tiny_ckpt"), device="cpu")
    tr = api.load_translator()
    assert tr.checkpoint == "scgpt_compact" and tr.checkpoint_id == fm.checkpoint_id
    with pytest.raises(ValueError, match=r"trained with checkpoint scgpt_compact .* this model is tiny_ckpt .* ugrn train "
                                         r"--checkpoint .*tiny_ckpt --dataset STRING/hESC/500"):
        api.predict_edges(other, small["without"], tr, method="VVP")


def test_readme_methods_table_is_generated_from_the_registry():
    readme = (METHODS_DIR.parents[1] / "README.md").read_text()
    start, end = "<!-- methods-table:start -->\n", "<!-- methods-table:end -->"
    assert start in readme and end in readme
    shown = readme.split(start, 1)[1].split(end, 1)[0]
    assert shown == methods.markdown_table(), "README methods table is stale: paste `python -m ugrn_core.methods` into it"


def test_cli_predict_from_an_expression_file_runs_expression_methods(fm, small, tmp_path):
    """``ugrn predict --expression`` assembles the dataset as the app's upload does (api.dataset_from_files), so a
    method that needs expression (given in any case) runs on it; known edges label the output."""
    import pandas as pd

    from ugrn_core import cli

    ds = small["with"]
    X = ds.expression.X
    pd.DataFrame(np.asarray(X).T, index=ds.genes, columns=[f"c{i}" for i in range(X.shape[0])]).to_csv(
        tmp_path / "expr.csv", index_label="gene")
    ds.edges.rename(columns={"tf": "TF"}).to_csv(tmp_path / "edges.csv", index=False)
    (tmp_path / "tfs.txt").write_text("\n".join(ds.tfs) + "\n")
    out = tmp_path / "edges.tsv"
    rc = cli.main(["predict", "--expression", str(tmp_path / "expr.csv"), "--edges", str(tmp_path / "edges.csv"),
                   "--tfs", str(tmp_path / "tfs.txt"), "--species", "mouse", "--method", "origin-pert", "--out", str(out)])
    assert rc == 0
    got = pd.read_csv(out, sep="\t")
    n_genes = len(DatasetProbes(fm, ds).genes)
    assert len(got) == len(ds.tfs) * (n_genes - 1) and got["score"].is_monotonic_decreasing
    assert 0 < got["label"].sum() <= len(ds.edges) and (got["score"] >= 0).all()
    # the same call without expression: a clear error naming the method, not a crash
    (tmp_path / "genes.txt").write_text("\n".join(ds.genes) + "\n")
    assert cli.main(["predict", "--genes", str(tmp_path / "genes.txt"), "--species", "mouse", "--method", "Origin-Pert",
                     "--out", str(tmp_path / "x.tsv")]) == 2
    assert not (tmp_path / "x.tsv").exists()


def test_pair_probe_cost_names_what_the_first_pair_computes(fm, small):
    """The Gene pair page's one-off notice: before the first pair of a gene set, the probes its methods need are
    listed with a positive estimate; after one pair is scored they are cached and the cost is zero."""
    from ugrn_core import api

    base, tr = small["smaller"], small["translator"]
    # a gene set no other test probed: the 10 first genes of the 12-gene subset
    genes = list(base.genes)[:10]
    e = base.edges[base.edges["tf"].isin(genes) & base.edges["target"].isin(genes)]
    ds = dataset_from_genes(genes, tfs=[t for t in base.tfs if t in genes], species="mouse", name="ten", edges=e)
    want = [m for m in ("VVP", "GDT", "Ens") if m in tr.methods]  # the default method and its members
    todo, est = api.pair_probe_cost(fm, ds, tr, want, background="none")
    assert todo == ["VVP", "GDT"]
    assert 0 < est < 600
    pair = candidate_pairs(ds).head(1)[["tf", "target"]]
    api.predict_pairs(fm, ds, tr, pair, methods=want, background="none")
    assert api.pair_probe_cost(fm, ds, tr, want, background="none") == ([], 0.0)
