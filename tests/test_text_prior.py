"""The "text" gene-embedding prior of InfoSEM (GenePT-style): descriptions from GO and gene info, embedded offline
with the packaged all-MiniLM-L6-v2 (``priors.gene_descriptions`` / ``gene_embeddings("text", ...)``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ugrn_core.sem import priors

# two ribosomal proteins, two haematopoietic TFs, a third ribosomal protein, and a symbol no table holds
GENES = ["RPL3", "RPL4", "GATA1", "SPI1", "RPS6", "NOTAGENE7"]


@pytest.fixture(scope="module")
def emb(data_dir):
    return priors.gene_embeddings("text", GENES, "human", data_dir=data_dir)


def _go_terms(data_dir, symbol):
    root = data_dir / "gene_annotation"
    ann = pd.read_csv(root / "human_go_annotations.tsv.gz", sep="\t", dtype=str)
    terms = pd.read_csv(root / "go_terms.tsv.gz", sep="\t", dtype=str)
    ann = ann[(ann["symbol"] == symbol) & (ann["evidence"] != "ND")]
    return set(ann.merge(terms, on="go_id")["term"])


def test_descriptions_hold_name_and_go_terms(data_dir):
    texts = priors.gene_descriptions(GENES, "human", data_dir)
    assert texts[-1] == ""
    rpl3 = texts[0]
    assert rpl3.startswith("RPL3: ribosomal protein L3.")
    terms = _go_terms(data_dir, "RPL3")
    assert len(terms) > 5 and all(t in rpl3 for t in terms)
    assert "structural constituent of ribosome" in rpl3 and "DNA-binding transcription factor" in texts[2]
    # a mouse gene is described by its human ortholog
    assert priors.gene_descriptions(["Gata1"], "mouse", data_dir) == [texts[2]]


def test_text_embeddings_cover_annotated_genes_and_are_deterministic(emb, data_dir):
    assert emb.source == "text" and emb.matrix.shape == (len(GENES), priors.TEXT_DIM)
    assert emb.matrix.dtype == np.float32
    texts = priors.gene_descriptions(GENES, "human", data_dir)
    np.testing.assert_array_equal(emb.covered, [bool(t) for t in texts])
    assert emb.covered.tolist() == [True] * 5 + [False]
    assert (emb.matrix[~emb.covered] == 0).all()
    np.testing.assert_allclose(np.linalg.norm(emb.matrix[emb.covered], axis=1), 1.0, atol=1e-4)
    # recomputed without the cache: the same vectors; read back from the cache: identical
    fresh, cov = priors._text(GENES, "human", data_dir, cache=False)
    np.testing.assert_array_equal(cov, emb.covered)
    np.testing.assert_allclose(fresh, emb.matrix, atol=1e-5)
    np.testing.assert_array_equal(priors.gene_embeddings("text", GENES, "human", data_dir=data_dir).matrix, emb.matrix)


def test_genes_sharing_go_terms_are_closer(emb):
    E = dict(zip(GENES, emb.matrix))
    cos = lambda a, b: float(E[a] @ E[b])  # noqa: E731  (unit vectors)
    for ribo in ("RPL4", "RPS6"):
        for tf in ("GATA1", "SPI1"):
            assert cos("RPL3", ribo) > cos("RPL3", tf) + 0.05
    assert cos("GATA1", "SPI1") > cos("GATA1", "RPL4")


def test_loading_the_text_model_prints_no_progress_bar(capfd):
    """The "Loading weights" bar of transformers is silenced around the load only: it is back on afterwards."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.is_progress_bar_enabled()
    out = priors.embed_texts(["GATA1: GATA binding protein 1."])
    assert out.shape == (1, priors.TEXT_DIM)
    err = capfd.readouterr().err
    assert "Loading weights" not in err, err
    assert hf_logging.is_progress_bar_enabled() == before
