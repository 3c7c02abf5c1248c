"""The broadened pretraining corpus on real data: value types detected as documented, one log scale, Ensembl IDs
mapped, binning identical to scGPT's, the balanced sampler, the vocabulary holding the BEELINE TF lists, and the
Ensembl → symbol mapping of gene lists."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ugrn_core.scfm import corpus as C
from ugrn_core.errors import DataError, ParameterError
from ugrn_core.data.gene_ids import ensembl_to_symbols, is_ensembl_id
from ugrn_core.scfm import bin_values

SRC = {s.key: s for s in C.SOURCES}
CLASSIC_TFS = ("GATA1", "TAL1", "KLF1", "GFI1", "SPI1", "CEBPA", "RUNX1", "FLI1", "MYB", "IKZF1")


def test_counts_source_is_detected_and_normalised_per_cell():
    adata, rec = C.read_source(SRC["ES/MEF"])  # Islam 2011, raw counts, 40 cells
    assert rec["detected"] == "counts" and rec["normalisation"].startswith("normalize_total")
    assert (rec["cells"], rec["genes"]) == (40, 14897)
    totals = np.asarray(np.expm1(adata.X.toarray().astype(np.float64)).sum(axis=1)).ravel()
    np.testing.assert_allclose(totals, 1e4, rtol=1e-4)  # ln(1 + CP10k): every cell sums to 10,000 again
    assert set(adata.obs["cell_type"]) == {"ESC", "MEF"}


@pytest.mark.filterwarnings("ignore:.*(encoding metadata|old version of AnnData)")
@pytest.mark.filterwarnings("ignore:Moving element:FutureWarning")
def test_scaled_values_fall_back_to_raw():
    """scanpy's own pbmc68k_reduced file has z-scored X; its .raw is the log1p data the plain file stores."""
    import anndata as ad

    scaled = replace(SRC["pbmc68k_reduced"], key="pbmc scanpy",
                     path="scrna/pbmc68k_reduced/10x_pbmc68k_reduced_scanpy.h5ad")
    adata, rec = C.read_source(scaled)
    assert rec["values"].endswith("(scaled X; .raw used)") and rec["detected"] == "log"
    plain = ad.read_h5ad(C.resolve_data_dir() / SRC["pbmc68k_reduced"].path)
    X = plain.X.toarray() if hasattr(plain.X, "toarray") else np.asarray(plain.X)
    np.testing.assert_allclose(adata.X.toarray(), X, rtol=1e-6, atol=1e-6)
    assert adata.X.min() >= 0


def test_fpkm_source_and_mismatched_documentation():
    _, rec = C.read_source(SRC["lung"])  # Treutlein 2014 FPKM, up to 2.4e9
    assert rec["detected"] == "linear" and rec["normalisation"] == "log1p"
    with pytest.raises(DataError, match="ES/MEF.*look 'counts'.*log2"):
        C.read_source(replace(SRC["ES/MEF"], values="log2(x+1)"))


def test_ensembl_ids_of_a_source_map_to_symbols():
    adata, rec = C.read_source(SRC["cellbench dropseq"])  # var_names are Ensembl IDs
    assert rec["ensembl_ids"] == "14094 of 15127"  # GENCODE v44 names 14,094; the others are unnamed there
    names = list(adata.var_names)
    assert names[2] == "USP30"  # ENSG00000135093
    # the file's own symbol column names 76 of the 1,033 others; 957 stay IDs (measured genes without a name)
    assert sum(map(is_ensembl_id, names)) == 957


def test_bin_sparse_equals_scgpt_binning():
    adata, _ = C.read_source(SRC["fetal cortex"])
    np.testing.assert_array_equal(C.bin_sparse(adata.X, 51), bin_values(adata.X.toarray(), 51).astype(np.uint8))


def test_exclusion_drops_files_sharing_test_cells():
    keys = {s.key for s in C.chosen_sources(["mDC"])}
    assert "mDC" not in keys and "BMDC LPS" not in keys and "mESC" in keys
    five = {s.key for s in C.chosen_sources(["hHEP", "mDC", "mESC", "mHSC-GM", "mHSC-L"])}
    assert not five & {"hHEP", "mDC", "mESC", "mHSC-GM", "mHSC-L", "BMDC LPS", "legacy mES-PE"}
    assert "legacy hESC" in five and "legacy hESC" not in {s.key for s in C.chosen_sources(["hESC"])}
    with pytest.raises(ParameterError, match="unknown pretraining source.*'mHSC-X'"):
        C.chosen_sources(["mHSC-X"])


def test_sampler_balances_sources_and_cell_types():
    corpora = C.load_broad_corpus(exclude=[k for k in C.SOURCE_KEYS if k not in ("pbmc4k", "ES/MEF")] + ["hESC"])
    assert [c.name for c in corpora] == ["pbmc4k", "ES/MEF"]
    train = [np.arange(len(c.X)) for c in corpora]
    w, cell_p = C.balanced_weights(corpora, train, seq_len=512)
    np.testing.assert_allclose(w[0] / w[1], np.sqrt(2170 / 40), rtol=1e-12)  # not 2170/40 as by cells
    shares = C.sampling_shares(corpora, train)
    pbmc = shares[shares.source == "pbmc4k"]
    np.testing.assert_allclose(pbmc.share_sampled, w[0] / 6, rtol=1e-12)  # six cell types, equal
    # drawn batches follow it: cell-type frequencies within pbmc4k within 4 sigma of 1/6
    rng = np.random.default_rng(0)
    draws = rng.choice(train[0], 60000, p=cell_p[0])
    _, freq = np.unique(corpora[0].cell_types[draws], return_counts=True)
    sigma = np.sqrt(60000 * (1 / 6) * (5 / 6))
    assert np.all(np.abs(freq - 10000) < 4 * sigma), freq
    # T_CD4 is 643 of 2170 cells but no more often drawn than the 209 NK cells
    by_type = pbmc.set_index("cell_type")["share_sampled"]
    assert abs(by_type["T_CD4"] - by_type["NK"]) < 1e-12


def test_broad_vocabulary_holds_every_tf_list_gene(tmp_path, capsys):
    """A 1-step pretraining on one small source: the vocabulary still holds the BEELINE TF lists and the ten classic
    TFs; gene_counts.tsv flags the ones never measured, and barely_seen names them."""
    from ugrn_core.scfm.pretrain import PretrainConfig, pretrain
    from ugrn_core.scfm import load_checkpoint

    cfg = PretrainConfig(embsize=8, nheads=2, d_hid=8, nlayers=1, steps=1, warmup=1, batch_size=2, seq_len=32,
                         save_every=0)
    exclude = [k for k in C.SOURCE_KEYS if k != "ES/MEF"] + ["hESC"]
    summary = pretrain(tmp_path / "m", cfg=cfg, device="cpu", progress=False, corpus="broad", exclude=exclude)
    vocab = json.loads((tmp_path / "m" / "vocab.json").read_text())
    tfs = C.tf_list_tokens()
    assert len(tfs) > 1500 and set(tfs) <= set(vocab) and set(CLASSIC_TFS) <= set(vocab)
    assert summary["corpus"] == "broad" and "--corpus broad" in summary["command"]
    fm = load_checkpoint(tmp_path / "m", device="cpu")
    seen = C.barely_seen(fm, ["GATA1", "ACTB", "POU5F1"], min_cells=5)
    # ES/MEF (40 mouse cells): Actb and Pou5f1 expressed, Gata1 not measured at all
    assert list(seen["gene"]) == ["GATA1"] and int(seen["cells_nonzero"].iloc[0]) == 0
    counts = pd.read_csv(tmp_path / "m" / "gene_counts.tsv", sep="\t", index_col="token")
    assert set(counts.index) == set(vocab) - {"<pad>", "<cls>", "<eoc>"}
    assert summary["tokens_never_expressed"] == int((counts["cells_nonzero"] == 0).sum()) > 1000
    assert counts.loc["ACTB", "cells_nonzero"] > 30 and counts.loc["ACTB", "sources"] == 1
    # `ugrn predict --genes` names them on stderr
    from ugrn_core.cli.commands import _note_barely_seen
    from ugrn_core.data.datasets import dataset_from_genes

    _note_barely_seen(fm, dataset_from_genes(["GATA1", "ACTB", "POU5F1"]), None, min_cells=5)
    err = capsys.readouterr().err
    assert "1 gene barely seen in pretraining (cells with a non-zero value < 5; their scores rest on little data): " \
           "GATA1 (0)" in err


def test_ensembl_to_symbols_messages():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = ensembl_to_symbols(["ENSG00000102145", "ENSG00000162367.15", "TAL1", "ENSMUSG00000031162"])
    assert m.symbols == ["GATA1", "TAL1", "TAL1", "ENSMUSG00000031162"]
    assert (m.n_ids, m.n_mapped) == (3, 2)
    assert m.message.startswith("mapped 2 of 3 Ensembl IDs to symbols") and "mouse" in m.message
    assert [str(x.message) for x in w] == [m.message]
    plain = ensembl_to_symbols(["GATA1", "TAL1"])
    assert plain.symbols == ["GATA1", "TAL1"] and plain.message == ""


def test_gene_list_with_ensembl_ids_becomes_symbols():
    from ugrn_core.data.datasets import dataset_from_genes

    with pytest.warns(UserWarning, match="mapped 3 of 3 Ensembl IDs to symbols"):
        ds = dataset_from_genes(["ENSG00000102145", "ENSG00000162367", "ENSG00000105610", "SPI1"])
    assert ds.genes == ["GATA1", "TAL1", "KLF1", "SPI1"]
    assert {"GATA1", "TAL1", "KLF1", "SPI1"} <= set(ds.tfs)


def test_corpus_grid_averages_per_training_source_then_over_sources():
    """benchmarks/corpus_grid.summarise: Table 2 numbers are the mean over training sources of each source's mean
    over its test datasets (a source with many tests does not outweigh one with few), per seed, then over seeds;
    the margins are per seed."""
    from benchmarks.corpus_grid import summarise

    rows = []
    for seed, shift in ((0, 0.0), (1, 0.02)):
        # source A: 3 test datasets at 0.6; source B: 1 test dataset at 0.8 → per seed (0.6 + 0.8) / 2 = 0.7, not 0.65
        for train, tests, auprc in (("A", ["t1", "t2", "t3"], 0.6), ("B", ["t4"], 0.8)):
            for test in tests:
                for method, value in (("VVP", auprc + shift), ("VVP (twin)", 0.5), ("Degree prior", 0.55)):
                    rows.append(dict(model="m", table="table2", grid_method="VVP", train=train, test=test, seed=seed,
                                     negatives="uniform", method=method, view="all", AUPRC=value))
    rows.append(dict(rows[0], view="unseen genes", AUPRC=0.0))  # other views and negatives are left out
    rows.append(dict(rows[0], negatives="tf-positive", AUPRC=0.0))
    s = summarise(pd.DataFrame(rows)).iloc[0]
    assert (s["model"], s["table"], s["method"], s["seeds"], s["trains"], s["tests"]) == ("m", "table2", "VVP", 2, 2, 4)
    assert s["AUPRC"][0] == pytest.approx(0.71, abs=1e-12)  # seeds 0.70 and 0.72
    assert s["AUPRC"][1] == pytest.approx(np.std([0.70, 0.72], ddof=1), abs=1e-12)
    assert s["− twin"][0] == pytest.approx(0.21, abs=1e-12)
    assert s["− degree prior"][0] == pytest.approx(0.16, abs=1e-12)


def test_corpus_grid_wide_table_puts_models_side_by_side():
    """benchmarks/corpus_grid.wide: the issue's corpus × test-cells table, one line per method and a column per
    model in MODELS order, "AUPRC / − twin / − degree prior" from the summary; a method a model lacks says so."""
    from benchmarks.corpus_grid import summarise, wide

    rows = []
    for model, methods in (("broad-noB", ("Emb", "VVP")), ("beeline-noB", ("Emb",))):
        for method in methods:
            for seed in (0, 1):
                value = {"broad-noB": 0.62, "beeline-noB": 0.55}[model] + 0.01 * seed
                for m, v in ((method, value), (f"{method} (twin)", 0.5), ("Degree prior", 0.56)):
                    rows.append(dict(model=model, table="table1", grid_method=method, train="A", test="t1",
                                     seed=seed, negatives="uniform", method=m, view="all", AUPRC=v))
    lines = wide(summarise(pd.DataFrame(rows)))
    header = next(line for line in lines if line.startswith("| method"))
    assert header.index("beeline-noB") < header.index("broad-noB")  # MODELS order, not input order
    emb = next(line for line in lines if line.startswith("| Emb"))
    vvp = next(line for line in lines if line.startswith("| VVP"))
    assert emb == "| Emb | 0.555 / +0.055 / -0.005 | 0.625 / +0.125 / +0.065 |"
    assert vvp == "| VVP | not run | 0.625 / +0.125 / +0.065 |"
    assert wide(summarise(pd.DataFrame([r for r in rows if r["model"] == "broad-noB"]))) == []


def test_corpus_grid_archive_merges_runs_and_replaces_a_recomputed_cell(tmp_path):
    """benchmarks/corpus_grid.archive_rows: the rows kept in the repository gather every run (a second run's new
    cells are added, a recomputed cell replaces its old rows instead of counting twice), metrics rounded to 4
    decimals, and identical input gives identical bytes (no gzip timestamp)."""
    from benchmarks.corpus_grid import archive_rows

    def row(seed, auprc, method="VVP"):
        return dict(model="m", table="table1", grid_method="VVP", training="paper", train="A", test="t1", seed=seed,
                    negatives="uniform", method=method, view="all", AUPRC=auprc)

    path = tmp_path / "rows.csv.gz"
    archive_rows(pd.DataFrame([row(0, 0.612345678), row(1, 0.6)]), path)
    archive_rows(pd.DataFrame([row(1, 0.7), row(2, 0.65)]), path)  # seed 1 recomputed, seed 2 new
    got = pd.read_csv(path).set_index("seed")["AUPRC"].to_dict()
    assert got == {0: 0.6123, 1: 0.7, 2: 0.65}
    first = path.read_bytes()
    archive_rows(pd.DataFrame([row(2, 0.65)]), path)
    assert path.read_bytes() == first
