"""Edge export (ugrn_core.export), shared by ``ugrn predict`` and the app's Network downloads: every format reads back."""

from __future__ import annotations

import io

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from ugrn_core import export


@pytest.fixture
def edges() -> pd.DataFrame:
    return pd.DataFrame({"tf": ["GATA1", "GATA1", "SPI1"], "target": ["KLF1", "SPI1", "CEBPA"],
                         "score": [0.95, 0.5, 0.125], "label": [1.0, np.nan, 0.0]})


@pytest.mark.parametrize("fmt, sep", [("tsv", "\t"), ("csv", ",")])
def test_tables_read_back_from_bytes_and_files(edges, tmp_path, fmt, sep):
    from_bytes = pd.read_csv(io.BytesIO(export.edges_bytes(edges, fmt)), sep=sep)
    from_file = pd.read_csv(export.write_edges(edges, tmp_path / f"e.{fmt}"), sep=sep)
    for back in (from_bytes, from_file):
        assert list(back.columns) == export.COLUMNS
        assert list(zip(back["TF"], back["target"])) == list(zip(edges["tf"], edges["target"]))
        np.testing.assert_array_equal(back["score"], edges["score"])
        assert back["label"].iloc[0] == 1 and np.isnan(back["label"].iloc[1]) and back["label"].iloc[2] == 0


def test_graphml_keeps_scores_known_labels_and_tf_flags(edges, tmp_path):
    for g in (nx.read_graphml(io.BytesIO(export.edges_bytes(edges, "graphml"))),
              nx.read_graphml(export.write_edges(edges, tmp_path / "e.graphml"))):
        assert g.number_of_edges() == 3 and g.edges["GATA1", "KLF1"]["score"] == pytest.approx(0.95)
        assert g.edges["GATA1", "KLF1"]["label"] == 1 and "label" not in g.edges["GATA1", "SPI1"]  # unknown: no attribute
        assert g.nodes["SPI1"]["is_tf"] and not g.nodes["KLF1"]["is_tf"]


def test_unknown_format_is_refused_before_writing(edges, tmp_path):
    with pytest.raises(ValueError, match=r"\.tsv, \.csv or \.graphml"):
        export.write_edges(edges, tmp_path / "e.xlsx")
    with pytest.raises(ValueError, match="expected one of tsv, csv, graphml"):
        export.edges_bytes(edges, "xlsx")
    assert not list(tmp_path.iterdir())
