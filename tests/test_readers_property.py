"""Property-based tests (Hypothesis) over every reader: arbitrary bytes and arbitrary table shapes give either a
valid result or one of the project's own errors (``errors.UGRNInputError``) with a message, never another exception.

Example counts are modest so the file runs in well under a minute.
"""

from __future__ import annotations

import gzip
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ugrn_core import api, errors

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])

# cells of a table: symbols, numbers, specials, empties, unicode, quotes, separators
CELL = st.one_of(
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "-1", "0", "1.5", "1e309", "GATA1", "gata1", "SPI1", "gene",
                     "symbol", "TF", "target", "Gene1", "Gene2", "\"", ",", "\t", " ", "é", "<pad>"]),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-5, 10**6).map(str),
)


@st.composite
def tables(draw) -> bytes:
    n_rows, n_cols = draw(st.integers(0, 6)), draw(st.integers(1, 5))
    sep = draw(st.sampled_from([",", "\t", ";"]))
    rows = [[draw(CELL) for _ in range(n_cols)] for _ in range(n_rows + 1)]
    text = "\n".join(sep.join(r) for r in rows)
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), errors="replace")


def _outcome(fn, *args):
    """Call a reader: return its result, or the project's error; anything else fails the test with its type."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args)
        except errors.UGRNInputError as e:
            assert str(e).strip(), f"{type(e).__name__} without a message"
            return e


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=300), tables()))
def test_gene_list_reader(raw):
    out = _outcome(api.read_gene_list, io.BytesIO(raw))
    if not isinstance(out, Exception):
        assert isinstance(out, list) and out and all(isinstance(g, str) and g.strip() for g in out)


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=300), tables()))
def test_edge_list_reader(raw):
    out = _outcome(api.read_edge_list, io.BytesIO(raw))
    if not isinstance(out, Exception):
        assert list(out.columns) == ["tf", "target"] and len(out) > 0
        assert out.map(lambda s: isinstance(s, str) and s == s.upper() and s != "").all().all()


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=300), tables()),
       name=st.sampled_from(["x.csv", "x.tsv", "x.txt", "x.csv.gz", "x.h5ad", "x.xlsx"]), gz=st.booleans())
def test_expression_reader(raw, name, gz):
    if name.endswith(".gz") and gz:
        raw = gzip.compress(raw)
    out = _outcome(api.read_expression, io.BytesIO(raw), name)
    if not isinstance(out, Exception):
        X = np.asarray(out.X)
        assert out.n_obs > 0 and out.n_vars > 0 and X.dtype == np.float32
        assert np.isfinite(X).all() and (X >= 0).all()
        assert not out.var_names.duplicated().any()


@SETTINGS
@given(genes=st.lists(st.one_of(CELL, st.sampled_from(["GATA1", "SPI1", "CEBPA", "KLF1"])), max_size=12),
       tfs=st.one_of(st.none(), st.lists(CELL, max_size=4)), species=st.sampled_from(["human", "mouse", "fish"]),
       edges=st.one_of(st.none(), st.lists(st.tuples(CELL, CELL), max_size=4)))
def test_dataset_from_user_input(genes, tfs, species, edges):
    edge_df = None if edges is None else pd.DataFrame(edges, columns=["tf", "target"])
    out = _outcome(api.dataset_from_genes, genes, tfs, species, edge_df)
    if not isinstance(out, Exception):
        assert out.genes and set(out.tfs) <= set(out.genes)
        assert set(out.edges["tf"]) | set(out.edges["target"]) <= set(out.genes)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=200), tables()),
       which=st.sampled_from(["Target.csv", "TF.csv", "Label.csv", "BL--network.csv", "BL--ExpressionData.csv"]))
def test_beeline_folder_with_arbitrary_file(tmp_path_factory, raw, which):
    from test_bad_input import beeline_folder

    root = beeline_folder(tmp_path_factory.mktemp("bl"), expression=",c1,c2\nA,1,2\nB,0,1\nC,3,0\nD,1,1\n")
    (root / "beeline" / "STRING Dataset" / "mDC" / "TFs+500" / which).write_bytes(raw)
    out = _outcome(api.load_beeline, "STRING/mDC/500", root)
    if not isinstance(out, Exception):
        assert out.genes and set(out.tfs) <= set(out.genes)
