"""Edge export: ranked TF→target networks in the field's columns, and in the files other tools read unchanged.

Input everywhere: an edge DataFrame with a regulator column (``tf`` as ``predict.predict_edges`` returns it, or
``source``, or the legacy ``TF``), ``target``, ``score`` (unsigned confidence, higher = more likely) and optionally
``label`` (1/0 for known ground truth, NaN when unknown) and ``weight`` (signed). One row per (regulator, target).

The network table (``edge_table``; the ``tsv`` / ``csv`` formats) has the columns
``source, target, weight, score, rank[, label]``:

- ``weight`` float: signed where the method gives a sign (``weight=`` / ``sign=`` arguments or a ``weight`` column of
  the input), else equal to ``score``;
- ``score`` float: the unsigned confidence the edges are ranked by;
- ``rank`` int: 1 = best, by ``score`` descending (ties keep the input order);
- ``label`` nullable Int64 (1/0, empty when unknown): only when a reference network labelled at least one edge.

Formats (``FORMATS``) and the client each is checked against in tests/test_export.py:

=============  ===========================================================  ========================================
format         file                                                         client
=============  ===========================================================  ========================================
``tsv``/``csv``  the network table                                          pandas; decoupler reads it as it is
``decoupler``  TSV ``source, target, weight``                               ``decoupler.mt.ulm(adata, net)`` (2.x)
``pyscenic``   adjacencies ``TF, target, importance`` (importance = score;  ``pyscenic.utils.modules_from_adjacencies``
               tab-separated, comma for a ``.csv`` name, as pySCENIC's      and ``pyscenic.cli.utils.load_adjacencies``
               own ``load_adjacencies`` chooses by suffix)
``beeline``    ``rankedEdges.csv``: tab-separated ``Gene1, Gene2,           BEELINE's BLEval (reads it with
               EdgeWeight`` (EdgeWeight = score, rows best first)          ``sep='\\t'`` and ranks by |EdgeWeight|)
``celloracle`` JSON ``{target gene: [regulator TFs, best first]}``          ``Oracle.import_TF_data(TFdict=...)``
``graphml``    GraphML, edge attributes weight/score/rank(/label),          ``networkx.read_graphml``, Cytoscape,
               node attribute ``is_tf``                                     Gephi
``cytoscape``  Cytoscape.js JSON (``networkx.cytoscape_data``)              ``networkx.cytoscape_graph``, Cytoscape
=============  ===========================================================  ========================================

Reading back: ``read_network`` reads the ``tsv``/``csv`` table, also the legacy ``TF, target, score, label`` files
this module wrote before (``weight`` = ``score``, ``rank`` from the order of scores).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from ._io import atomic_write, check_writable_output
from .errors import DataError, ParameterError

FORMATS = ("tsv", "csv", "decoupler", "pyscenic", "beeline", "celloracle", "graphml", "cytoscape")
COLUMNS = ["source", "target", "weight", "score", "rank", "label"]  # label only when a reference exists
LEGACY_COLUMNS = ["TF", "target", "score", "label"]  # what this module wrote before the field's columns
PYSCENIC_COLUMNS = ["TF", "target", "importance"]
BEELINE_COLUMNS = ["Gene1", "Gene2", "EdgeWeight"]
DECOUPLER_COLUMNS = ["source", "target", "weight"]
# file suffix → format, for output names given without --format
SUFFIX_FORMATS = {"tsv": "tsv", "csv": "csv", "graphml": "graphml", "cyjs": "cytoscape", "json": "cytoscape"}
# per format: (download label, file-name ending, MIME type, one-line help) for the app's download buttons
FORMAT_INFO = {
    "tsv": ("Edge list (TSV)", ".tsv", "text/tab-separated-values",
            "source, target, weight, score, rank (+ label when known); decoupler reads it too"),
    "csv": ("Edge list (CSV)", ".csv", "text/csv", "the same table, comma-separated"),
    "decoupler": ("decoupler net", ".decoupler.tsv", "text/tab-separated-values",
                  "source, target, weight: pd.read_csv(f, sep='\\t') → decoupler.mt.ulm(adata, net)"),
    "pyscenic": ("pySCENIC adjacencies", ".adjacencies.tsv", "text/tab-separated-values",
                 "TF, target, importance: pySCENIC's ctx step / modules_from_adjacencies"),
    "beeline": ("BEELINE rankedEdges", ".rankedEdges.csv", "text/tab-separated-values",
                "Gene1, Gene2, EdgeWeight (tab-separated): save as outputs/<dataset>/<algorithm>/rankedEdges.csv"),
    "celloracle": ("CellOracle TF dict", ".celloracle.json", "application/json",
                   "{target: [TFs]}: oracle.import_TF_data(TFdict=json.load(f))"),
    "graphml": ("GraphML", ".graphml", "application/xml", "opens in Cytoscape, Gephi or networkx"),
    "cytoscape": ("Cytoscape JSON", ".cyjs", "application/json", "Cytoscape.js / Cytoscape: File → Import → Network"),
}


# ----------------------------------------------------------------------------------------------- the network table
def _regulator_column(edges: pd.DataFrame) -> str:
    for col in ("tf", "source", "TF"):
        if col in edges.columns:
            return col
    raise ParameterError(f"edge table: no regulator column (tf, source or TF) among {list(edges.columns)}")


def edge_table(edges: pd.DataFrame, weight=None, sign=None) -> pd.DataFrame:
    """The network table in the field's columns: source, target, weight, score, rank (+ label when known).

    Args:
        edges: DataFrame with a regulator column (``tf``, ``source`` or ``TF``), ``target``, ``score`` (unsigned,
            higher = more confident) and optionally ``label`` (1/0/NaN) and ``weight`` (signed).
        weight: optional float array-like (n_edges,), row-aligned with ``edges``: the signed edge weight.
        sign: optional array-like (n_edges,) of -1/0/+1, row-aligned: ``weight = sign × score``.
            Without either, ``weight`` is the input's ``weight`` column when it has one, else ``score``.
    Returns: one row per edge, sorted by score descending (stable), ``rank`` 1..n (int64); ``weight``/``score``
        float64; ``label`` nullable Int64 only when at least one edge has a known label (or the input has a label
        column and no rows).
    Raises: ParameterError (a ValueError) for a missing column, ``weight``/``sign`` of the wrong length or not
        finite, both given, a score that is not a finite number, or a (source, target) pair listed twice.
    """
    src = _regulator_column(edges)
    for col in ("target", "score"):
        if col not in edges.columns:
            raise ParameterError(f"edge table: no {col!r} column among {list(edges.columns)}")
    n = len(edges)
    score = pd.to_numeric(edges["score"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(score).all():
        raise ParameterError(f"edge table: {int((~np.isfinite(score)).sum())} scores are not finite numbers")
    if weight is not None and sign is not None:
        raise ParameterError("edge table: give weight= or sign=, not both")
    if sign is not None:
        weight = np.sign(np.asarray(sign, dtype=float)) * score
    if weight is None:
        weight = edges["weight"] if "weight" in edges.columns else score
    weight = np.asarray(pd.to_numeric(pd.Series(np.asarray(weight).ravel()), errors="coerce"), dtype=float)
    if weight.shape != (n,):
        raise ParameterError(f"edge table: weight/sign has {weight.size} values for {n} edges")
    if not np.isfinite(weight).all():
        raise ParameterError(f"edge table: {int((~np.isfinite(weight)).sum())} weights are not finite numbers")
    table = pd.DataFrame({"source": edges[src].astype(str).to_numpy(), "target": edges["target"].astype(str).to_numpy(),
                          "weight": weight, "score": score})
    dup = table.duplicated(["source", "target"])
    if dup.any():
        s, t = table.loc[dup.idxmax(), ["source", "target"]]
        raise ParameterError(f"edge table: the edge {s} → {t} is listed {int(((table['source'] == s) & (table['target'] == t)).sum())} "
                             "times; expected one row per (source, target)")
    if "label" in edges.columns:
        label = pd.array(pd.to_numeric(edges["label"], errors="coerce").round(), dtype="Int64")
        if n == 0 or not label.isna().all():  # an empty selection keeps its reference's column
            table["label"] = label
    order = np.argsort(-score, kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    table.insert(4, "rank", np.arange(1, n + 1, dtype=np.int64))
    return table


def read_network(path_or_buffer) -> pd.DataFrame:
    """Read a network table written by ``write_edges`` (tsv/csv; tab or comma from the first line), in the current
    columns (source, target, weight, score, rank[, label]) or the legacy ones (TF, target, score, label).

    Returns: ``edge_table`` of what was read (so rank and sort order are recomputed from the scores; a legacy file's
        weight is its score).
    Raises: InputFileNotFound / DataError (ValueErrors) naming the file: missing, unreadable, no source/TF, target or
        score column, a score that is not a number, a pair listed twice.
    """
    from .data.readers import _read_table

    table, label = _read_table(path_or_buffer, "Network")
    cols = set(table.columns)
    if not ({"source", "target", "score"} <= cols or {"TF", "target", "score"} <= cols):
        raise DataError(f"Network file '{label}' needs columns source (or TF), target and score; found "
                        f"{list(table.columns)}")
    edges = table.rename(columns={"TF": "source"}) if "source" not in cols else table
    keep = [c for c in ("source", "target", "weight", "score", "label") if c in edges.columns]
    edges = edges[keep].copy()
    for col in ("weight", "score", "label"):
        if col in edges:
            values = pd.to_numeric(edges[col], errors="coerce")
            if col != "label" and values.isna().any():
                row = int(np.flatnonzero(values.isna())[0]) + 1
                raise DataError(f"Network file '{label}': {col} on data row {row} is {edges[col].iloc[row - 1]!r}; "
                                "expected a number")
            edges[col] = values
    try:
        return edge_table(edges)
    except ParameterError as e:
        raise DataError(f"Network file '{label}': {e}") from None


# ----------------------------------------------------------------------------------------------- other layouts
def edges_to_graph(edges: pd.DataFrame, weight=None, sign=None) -> nx.DiGraph:
    """Directed graph source → target: edge attributes ``weight``, ``score``, ``rank`` (and ``label`` when known),
    node attribute ``is_tf`` (bool). Arguments as ``edge_table``."""
    table = edge_table(edges, weight=weight, sign=sign)
    g = nx.DiGraph()
    has_label = "label" in table.columns
    for row in table.itertuples(index=False):
        attrs = {"weight": float(row.weight), "score": float(row.score), "rank": int(row.rank)}
        if has_label and not pd.isna(row.label):
            attrs["label"] = int(row.label)
        g.add_edge(row.source, row.target, **attrs)
    tfs = set(table["source"])
    nx.set_node_attributes(g, {n: n in tfs for n in g.nodes}, "is_tf")
    return g


def pyscenic_adjacencies(edges: pd.DataFrame) -> pd.DataFrame:
    """pySCENIC's adjacencies: columns TF, target, importance (= score, float64), best first — the table
    ``pyscenic.utils.modules_from_adjacencies`` takes (what arboreto's GRNBoost2 writes)."""
    t = edge_table(edges)
    return pd.DataFrame({"TF": t["source"], "target": t["target"], "importance": t["score"]})


def beeline_ranked_edges(edges: pd.DataFrame) -> pd.DataFrame:
    """BEELINE's ``rankedEdges.csv`` table: Gene1 (regulator), Gene2 (target), EdgeWeight (= score), best first.
    BLEval ranks by |EdgeWeight| and takes early precision from the row order, so the unsigned score is written,
    not the signed weight."""
    t = edge_table(edges)
    return pd.DataFrame({"Gene1": t["source"], "Gene2": t["target"], "EdgeWeight": t["score"]})


def celloracle_tf_dict(edges: pd.DataFrame) -> dict[str, list[str]]:
    """CellOracle's base-GRN dictionary ``{target gene: [regulator TFs]}`` (``Oracle.import_TF_data(TFdict=...)``):
    targets in order of their best edge, each one's TFs best first."""
    t = edge_table(edges)
    out: dict[str, list[str]] = {}
    for s, tg in zip(t["source"], t["target"]):
        out.setdefault(tg, []).append(s)
    return out


def _format(name) -> str:
    fmt = str(name).lower().lstrip(".")
    if fmt not in FORMATS:
        raise ParameterError(f"edge export format {name!r}: expected one of {', '.join(FORMATS)}")
    return fmt


def _write(edges: pd.DataFrame, target, fmt: str, sep: str | None = None, weight=None, sign=None) -> None:
    """Write ``edges`` in ``fmt`` to ``target`` (a path or a binary buffer)."""
    if fmt == "graphml":
        nx.write_graphml(edges_to_graph(edges, weight=weight, sign=sign), target)
        return
    if fmt in ("celloracle", "cytoscape"):
        obj = celloracle_tf_dict(edges) if fmt == "celloracle" else \
            nx.cytoscape_data(edges_to_graph(edges, weight=weight, sign=sign))
        data = (json.dumps(obj, indent=1) + "\n").encode()
        if hasattr(target, "write"):
            target.write(data)
        else:
            Path(target).write_bytes(data)
        return
    if fmt in ("tsv", "csv"):
        table = edge_table(edges, weight=weight, sign=sign)
    elif fmt == "decoupler":
        table = edge_table(edges, weight=weight, sign=sign)[DECOUPLER_COLUMNS]
    elif fmt == "pyscenic":
        table = pyscenic_adjacencies(edges)
    else:  # beeline
        table = beeline_ranked_edges(edges)
    table.to_csv(target, sep=sep or ("," if fmt == "csv" else "\t"), index=False)


def edges_bytes(edges: pd.DataFrame, fmt: str, weight=None, sign=None) -> bytes:
    """The network as file contents in ``fmt`` (one of ``FORMATS``; see the module docstring for each layout).
    ``weight``/``sign`` as ``edge_table``. pySCENIC adjacencies are tab-separated here (name the file ``.tsv``).

    Raises: ParameterError (a ValueError) for another format or a bad edge table.
    """
    fmt = _format(fmt)
    buf = io.BytesIO()
    _write(edges, buf, fmt, weight=weight, sign=sign)
    return buf.getvalue()


def edge_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The export format for output ``path``: ``fmt`` when given (any of ``FORMATS``, any case), else from the file
    suffix: .tsv, .csv, .graphml, .cyjs / .json (Cytoscape JSON).

    Raises: ParameterError (a ValueError) for an unknown format, a suffix that names none (the message lists the
        suffixes and --format), or when the path cannot be written (``_io.check_writable_output``: an existing
        folder, a parent that is a file, a read-only folder). Creates nothing.
    """
    if fmt is not None:
        fmt = _format(fmt)
    else:
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix not in SUFFIX_FORMATS:
            raise ParameterError(f"output '{path}': expected a .tsv, .csv, .graphml or .cyjs/.json (Cytoscape) file "
                                 f"name, or a format ({', '.join(FORMATS)})")
        fmt = SUFFIX_FORMATS[suffix]
    check_writable_output(path, "file", "output")
    return fmt


def write_edges(edges: pd.DataFrame, path: str | os.PathLike, fmt: str | None = None, weight=None,
                sign=None) -> Path:
    """Write a network atomically (temp file, then rename) in ``fmt``, or in the format of the file suffix
    (``edge_format``). pySCENIC adjacencies are comma-separated for a ``.csv`` name, else tab-separated, as
    pySCENIC's own reader expects; BEELINE's rankedEdges are always tab-separated. ``weight``/``sign`` as
    ``edge_table``. Returns the path.

    Raises: ParameterError (a ValueError) for an unknown format or suffix (the message names the file), a path
        that cannot be written (see :func:`edge_format`), or a bad edge table; nothing is written then.
    """
    fmt = edge_format(path, fmt)
    sep = ("," if Path(path).suffix.lower() == ".csv" else "\t") if fmt == "pyscenic" else None
    edge_table(edges, weight=weight, sign=sign)  # a bad table fails before any file exists
    return atomic_write(path, lambda tmp: _write(edges, tmp, fmt, sep=sep, weight=weight, sign=sign))
