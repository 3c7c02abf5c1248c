"""Tests for the dataset layer (ugrn_core.data.datasets, readers, vocab, pairs) on the real BEELINE files under the shared data directory (no mocks)."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest

from ugrn_core.data import datasets as DS
from ugrn_core.data import pairs as PR
from ugrn_core.data import readers as R
from ugrn_core.scfm import vocab as V
from ugrn_core.config import resolve_data_dir

DATA = resolve_data_dir()


def folder(name: str):
    network, cell, size = DS.parse_dataset_name(name)
    return DATA / "beeline" / DS.NETWORKS[network] / cell / f"TFs+{size}"


# ---- BEELINE loading --------------------------------------------------------------------------------------------------
def test_load_string_hesc_500():
    ds = DS.load_beeline("STRING/hESC/500")
    assert (len(ds.genes), len(ds.tfs), ds.species) == (910, 410, "human")
    assert ds.expression is None and not ds.has_expression and ds.has_ground_truth
    assert (ds.network, ds.cell, ds.size) == ("STRING", "hESC", 500)
    assert len(set(ds.genes)) == len(ds.genes) and set(ds.tfs) <= set(ds.genes)
    assert all(g == g.upper() for g in ds.genes)
    n_rows = len(pd.read_csv(folder(ds.name) / "BL--network.csv").drop_duplicates())
    assert list(ds.edges.columns) == ["tf", "target"] and len(ds.edges) == n_rows
    assert not ds.edges.duplicated().any()
    assert DS.load_beeline("STRING/hESC/500") is ds  # cached


def test_load_with_expression():
    ds = DS.load_beeline("Non-Specific/mDC/500")
    assert ds.species == "mouse" and ds.has_expression
    assert ds.expression.shape == (383, 821)
    assert ds.expression.var_names.tolist() == ds.genes
    assert ds.expression.X.dtype == np.float32 and np.isfinite(ds.expression.X).all()


@pytest.mark.parametrize("name", ["STRING/hESC/500", "Specific/mDC/500"])
def test_network_symbols_agree_with_label_indices(name):
    f = folder(name)
    genes = pd.read_csv(f / "Target.csv", index_col=0)["Gene"].str.upper().to_numpy()
    label = pd.read_csv(f / "Label.csv", index_col=0)
    from_label = set(zip(genes[label["TF"]], genes[label["Target"]]))
    assert from_label == set(DS.load_beeline(name).edges.itertuples(index=False, name=None))


def test_list_datasets():
    names = DS.list_datasets()
    assert len(names) == 44 and "Lofgof/mESC/500" in names
    assert names[0] == "STRING/hESC/500" and names[-1] == "Lofgof/mESC/1000"


@pytest.mark.parametrize("name, match", [
    ("STRING/hESC", "<network>/<cell>/<size>"),
    ("BOGUS/hESC/500", "Unknown network 'BOGUS'"),
    ("STRING/hXYZ/500", "Unknown cell type 'hXYZ'"),
    ("STRING/hESC/700", "Unknown size '700'"),
])
def test_bad_names(name, match):
    with pytest.raises(ValueError, match=match):
        DS.load_beeline(name)


def test_missing_folder_lists_available():
    with pytest.raises(FileNotFoundError, match=r"Lofgof Dataset/hESC/TFs\+500.*Lofgof/mESC/500"):
        DS.load_beeline("Lofgof/hESC/500")


# ---- vocabulary mapping -----------------------------------------------------------------------------------------------
def test_map_to_vocab_human_case_insensitive_and_specials():
    vocab = {"<pad>": 0, "<cls>": 1, "<eoc>": 2, "GATA1": 3, "C9orf72": 4, "SPI1": 5}
    with pytest.warns(UserWarning, match=r"mapped 3/5 genes \(60.0%\); 2 unmapped: NOTAGENE, <PAD>"):
        m = V.map_to_vocab(["GATA1", "C9ORF72", "SPI1", "NOTAGENE", "<PAD>"], vocab, "human")
    assert m.tokens == ["GATA1", "C9orf72", "SPI1"]
    assert m.token_ids.dtype == np.int64 and m.token_ids.tolist() == [3, 4, 5]
    assert m.coverage == pytest.approx(0.6) and m.by_ortholog == 0


def test_map_to_vocab_mouse_ortholog_fallback_and_duplicates():
    orth = V.load_orthologs()
    # a mouse gene whose human ortholog is a different symbol, e.g. 3110043O21RIK -> C9orf72
    mouse, human = next((m, h) for m, h in orth.items() if h.upper() != m and m.isalpha())
    # a mouse gene without any ortholog entry, mapped by its upper-cased symbol
    no_orth = "MADEUPGENE1"
    assert no_orth not in orth
    # two mouse genes sharing one human ortholog: the first keeps the token
    by_human = pd.Series(list(orth.keys()), index=list(orth.values()))
    shared = by_human[by_human.index.duplicated(keep=False)]
    twin_human = shared.index[0]
    first, second = shared.loc[twin_human].tolist()[:2]
    vocab = {"<pad>": 0, human: 1, no_orth: 2, twin_human: 3}
    genes = [mouse.capitalize(), no_orth, first, second, "UNKNOWNX"]
    with pytest.warns(UserWarning, match="2 unmapped"):
        m = V.map_to_vocab(genes, vocab, "mouse")
    assert m.genes == genes[:3] and m.tokens == [human, no_orth, twin_human]
    assert m.unmapped == [second, "UNKNOWNX"]
    assert m.by_ortholog == 2 and m.coverage == pytest.approx(3 / 5)
    assert m.summary().startswith("mapped 3/5 genes (60.0%)")


def test_load_orthologs_prefers_same_symbol():
    table = pd.read_csv(DATA / V.ORTHOLOG_FILE, header=None, names=["human", "mouse"]).dropna()
    table["mouse"] = table["mouse"].str.upper()
    multi = table[table["mouse"].duplicated(keep=False) & (table["human"] == table["mouse"])]
    orth = V.load_orthologs()
    assert len(multi) > 0 and all(orth[m] == m for m in multi["mouse"])


# ---- pairs ------------------------------------------------------------------------------------------------------------
def test_candidate_pairs():
    ds = DS.load_beeline("STRING/hESC/500")
    pairs = PR.candidate_pairs(ds)
    assert list(pairs.columns) == ["tf", "target", "label"] and pairs["label"].dtype == np.int8
    assert len(pairs) == len(ds.tfs) * (len(ds.genes) - 1) and not (pairs["tf"] == pairs["target"]).any()
    assert pairs["label"].sum() == len(ds.edges)

    genes = ds.genes[::2]
    sub = PR.candidate_pairs(ds, genes=genes)
    inside = ds.edges["tf"].isin(genes) & ds.edges["target"].isin(genes)
    assert sub["label"].sum() == inside.sum()
    assert set(sub["tf"]) | set(sub["target"]) <= set(genes)

    pos = PR.candidate_pairs(ds, tf_mode="positive")
    assert set(pos["tf"]) == set(ds.edges["tf"]) and len(set(pos["tf"])) < len(ds.tfs)
    with pytest.raises(ValueError, match="tf_mode must be one of"):
        PR.candidate_pairs(ds, tf_mode="all")


@pytest.mark.parametrize("ratio", [1, 3])
def test_sample_pairs_counts_and_negatives(ratio):
    ds = DS.load_beeline("Non-Specific/mDC/500")
    s = PR.sample_pairs(ds, np_ratio=ratio, seed=1)
    n_pos = len(ds.edges)
    assert (s["label"] == 1).sum() == n_pos and (s["label"] == 0).sum() == ratio * n_pos
    neg = s[s["label"] == 0].merge(ds.edges, on=["tf", "target"])
    assert neg.empty and not s.duplicated(["tf", "target"]).any()


def test_sample_pairs_seeds_and_errors():
    ds = DS.load_beeline("Non-Specific/mDC/500")
    a, b, c = (PR.sample_pairs(ds, seed=s) for s in (0, 0, 1))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    with pytest.raises(ValueError, match="np_ratio"):
        PR.sample_pairs(ds, np_ratio=0)
    small = DS.dataset_from_genes(["A", "B", "C"], tfs=["A"], edges=pd.DataFrame({"tf": ["A"], "target": ["B"]}))
    with pytest.warns(UserWarning, match="only 1 exist"):
        assert len(PR.sample_pairs(small, np_ratio=5)) == 2


def test_split_pairs_stratified():
    s = PR.sample_pairs(DS.load_beeline("STRING/mHSC-L/500"), np_ratio=3)
    train, test = PR.split_pairs(s, test_size=0.25, seed=0)
    # a partition of the rows: disjoint, together all of them, each row unchanged under its original index
    assert set(train.index).isdisjoint(test.index) and set(train.index) | set(test.index) == set(s.index)
    pd.testing.assert_frame_equal(pd.concat([train, test]).sort_index(), s)
    assert len(test) == int(np.ceil(0.25 * len(s)))
    # stratified: both parts keep the 1:3 positive share (to within one pair)
    n_pos = int(s["label"].sum())
    assert abs(int(test["label"].sum()) - round(0.25 * n_pos)) <= 1
    assert test["label"].mean() == pytest.approx(s["label"].mean(), abs=0.01)
    assert train["label"].mean() == pytest.approx(s["label"].mean(), abs=0.01)
    # deterministic for a seed, different for another
    again, _ = PR.split_pairs(s, test_size=0.25, seed=0)
    other, _ = PR.split_pairs(s, test_size=0.25, seed=1)
    assert list(again.index) == list(train.index) and set(other.index) != set(train.index)
    with pytest.raises(ValueError, match="label"):
        PR.split_pairs(s.drop(columns="label"))


# ---- user data --------------------------------------------------------------------------------------------------------
def test_dataset_from_genes():
    ds = DS.dataset_from_genes(["gata1", "Spi1", "GATA1", "ACTB"], species="mouse")
    assert ds.genes == ["GATA1", "SPI1", "ACTB"] and ds.tfs == ["GATA1", "SPI1"]
    assert not ds.has_ground_truth and ds.species == "mouse"
    with pytest.raises(ValueError, match="TFs are not in the gene list: FOO"):
        DS.dataset_from_genes(["A", "B"], tfs=["FOO"])
    with pytest.raises(ValueError, match="edge genes are not in the gene list: C"):
        DS.dataset_from_genes(["A", "B"], tfs=["A"], edges=pd.DataFrame({"tf": ["A"], "target": ["C"]}))


def test_read_gene_list(tmp_path):
    (tmp_path / "g.txt").write_text("gene\nGata1\n\nSpi1\n")
    assert R.read_gene_list(tmp_path / "g.txt") == ["Gata1", "Spi1"]
    (tmp_path / "g.csv").write_text("id,symbol\n1,GATA1\n2,SPI1\n")
    assert R.read_gene_list(tmp_path / "g.csv") == ["GATA1", "SPI1"]
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        R.read_gene_list(tmp_path / "empty.txt")


def test_read_edge_list(tmp_path):
    p = tmp_path / "edges.csv"
    p.write_text("Gene1,Gene2,Score\nGata1,Spi1,0.5\nGATA1,SPI1,0.4\nSpi1,Cebpa,1\n")
    edges = R.read_edge_list(p)
    assert edges.to_dict("list") == {"tf": ["GATA1", "SPI1"], "target": ["SPI1", "CEBPA"]}
    assert R.read_edge_list(io.StringIO("source\ttarget\nA\tB\n")).values.tolist() == [["A", "B"]]
    p.write_text("from,to\nA,B\n")
    with pytest.raises(ValueError, match=r"edges.csv.*found columns \['from', 'to'\]"):
        R.read_edge_list(p)


def test_read_expression_formats(tmp_path):
    p = tmp_path / "x.csv.gz"
    with gzip.open(p, "wt") as f:
        f.write(",c1,c2,c3\ngata1,1,2,3\nSPI1,0,0.5,1\n")
    a = R.read_expression(p, p.name)
    assert a.shape == (3, 2) and a.var_names.tolist() == ["GATA1", "SPI1"] and a.X.dtype == np.float32
    assert a.obs_names.tolist() == ["c1", "c2", "c3"] and a.X[:, 1].tolist() == [0, 0.5, 1]
    cells_by_genes = R.read_expression(io.StringIO(",GATA1,SPI1\n0,1,0\n1,2,0.5\n"), "x.csv")
    assert cells_by_genes.shape == (2, 2) and cells_by_genes.var_names.tolist() == ["GATA1", "SPI1"]
    h5 = tmp_path / "x.h5ad"
    a.write_h5ad(h5)
    assert R.read_expression(h5, "x.h5ad").shape == (3, 2)


@pytest.mark.parametrize("content, match", [
    ("", "is empty"),
    (",c1,c2\nGATA1,1,abc\nSPI1,0,1\n", "non-numeric value 'abc' for gene 'GATA1', cell 'c2'"),
    (",c1,c2\nGATA1,1,2\ngata1,0,1\n", "duplicate gene names.*GATA1"),
    (",c1,c2\nGATA1,1,\nSPI1,0,1\n", "missing value.*gene 'GATA1', cell 'c2'"),
])
def test_read_expression_rejects(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(ValueError, match=match):
        R.read_expression(p, p.name)
