"""Edge export: ranked TF→target edges as a networkx graph and as TSV, CSV or GraphML (used by the CLI and the app).

Input everywhere: an edge DataFrame [tf, target, score, label] as returned by ``predict.predict_edges`` (``label``
1/0 for known ground truth, NaN when unknown; optional).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import networkx as nx
import pandas as pd

from ._io import atomic_write, check_writable_output
from .errors import ParameterError

FORMATS = ("tsv", "csv", "graphml")
COLUMNS = ["TF", "target", "score", "label"]


def edges_to_graph(edges: pd.DataFrame) -> nx.DiGraph:
    """Directed graph TF → target with edge attributes ``score`` (and ``label`` when known); nodes carry ``is_tf``."""
    g = nx.DiGraph()
    tfs = set(edges["tf"])
    for row in edges.itertuples(index=False):
        attrs = {"score": float(row.score)}
        if "label" in edges and not pd.isna(row.label):
            attrs["label"] = int(row.label)
        g.add_edge(row.tf, row.target, **attrs)
    nx.set_node_attributes(g, {n: n in tfs for n in g.nodes}, "is_tf")
    return g


def edge_table(edges: pd.DataFrame) -> pd.DataFrame:
    """The exported table: columns TF, target, score (float), label (nullable Int64: 1/0, empty when unknown)."""
    label = edges["label"] if "label" in edges else pd.Series([pd.NA] * len(edges), index=edges.index)
    return pd.DataFrame({"TF": edges["tf"].astype(str).to_numpy(), "target": edges["target"].astype(str).to_numpy(),
                         "score": edges["score"].astype(float).to_numpy(),
                         "label": pd.array(pd.to_numeric(label, errors="coerce").round(), dtype="Int64")})


def _format(name) -> str:
    fmt = str(name).lower().lstrip(".")
    if fmt not in FORMATS:
        raise ParameterError(f"edge export format {name!r}: expected one of {', '.join(FORMATS)}")
    return fmt


def _write(edges: pd.DataFrame, target, fmt: str) -> None:
    if fmt == "graphml":
        nx.write_graphml(edges_to_graph(edges), target)
    else:
        edge_table(edges).to_csv(target, sep="\t" if fmt == "tsv" else ",", index=False)


def edges_bytes(edges: pd.DataFrame, fmt: str) -> bytes:
    """The edge list as file contents in ``fmt``: "tsv" / "csv" (columns TF, target, score, label) or "graphml".

    Raises: ParameterError (a ValueError) for another format.
    """
    fmt = _format(fmt)
    buf = io.BytesIO()
    _write(edges, buf, fmt)
    return buf.getvalue()


def edge_format(path: str | os.PathLike) -> str:
    """The edge-list format of an output path: "tsv", "csv" or "graphml" (from its suffix, any case).

    Raises: ParameterError (a ValueError) for another suffix, or when the path cannot be written
    (``_io.check_writable_output``: an existing folder, a parent that is a file, a read-only folder). Creates nothing.
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ParameterError(f"output '{path}': expected a .tsv, .csv or .graphml file name")
    check_writable_output(path, "file", "output")
    return suffix


def write_edges(edges: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write an edge list atomically in the format of the file suffix: ``.tsv``, ``.csv`` or ``.graphml``.

    Raises: ParameterError (a ValueError) for another suffix (the message names the file) or a path that cannot be
    written (see :func:`edge_format`).
    """
    suffix = edge_format(path)
    return atomic_write(path, lambda tmp: _write(edges, tmp, suffix))
