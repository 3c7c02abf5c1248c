"""Downstream of a network: TF activity per cell (decoupler) and hub genes (networkx).

``activity`` hands a network from ``tl.grn`` to decoupler (``dc.mt.ulm`` by default), which writes its scores into
``adata.obsm`` itself; ``hubs`` ranks the genes of an edge table by centrality.
"""

from __future__ import annotations

import warnings

import anndata
import numpy as np
import pandas as pd

from ..data.anndata_io import select_matrix
from ..errors import DataError, ParameterError, first_items
from ._store import ALL_CELLS, DEFAULT_KEY, get_network

DEFAULT_TARGETS = 50  # targets kept per TF for the activity (its best-scored ones)



def _strongest_first(edges: pd.DataFrame) -> np.ndarray:
    """Row order of an edge table, strongest first: by its ``rank`` column, else by descending ``score``, else as
    given (stable sorts: ties keep the table's order)."""
    if "rank" in edges.columns:
        return np.argsort(pd.to_numeric(edges["rank"]).to_numpy(), kind="mergesort")
    if "score" in edges.columns:
        return np.argsort(-pd.to_numeric(edges["score"]).to_numpy(np.float64), kind="mergesort")
    return np.arange(len(edges))

def _regulator_column(edges: pd.DataFrame) -> str:
    for col in ("source", "tf", "TF"):
        if col in edges.columns:
            return col
    raise ParameterError(f"edge table: no regulator column (source, tf or TF) among {list(edges.columns)}")


def regulons(edges: pd.DataFrame, n_targets: int | None = DEFAULT_TARGETS) -> pd.DataFrame:
    """The ``n_targets`` best targets of each TF in ``edges`` (a ``tl.grn`` table or any table with a regulator
    column, ``target`` and ``score`` or ``rank``) as decoupler's network: ``source``, ``target``, ``weight`` (float64:
    the table's signed ``weight``, else its ``score``). Best = lowest ``rank`` (highest ``score``); ties keep the
    table's order. ``n_targets=None`` keeps every edge. Self-loops are dropped."""
    src = _regulator_column(edges)
    if "target" not in edges.columns:
        raise ParameterError(f"edge table: no 'target' column among {list(edges.columns)}")
    w = "weight" if "weight" in edges.columns else "score" if "score" in edges.columns else None
    if w is None:
        raise ParameterError(f"edge table: no 'weight' or 'score' column among {list(edges.columns)}")
    net = pd.DataFrame({"source": edges[src].astype(str).to_numpy(), "target": edges["target"].astype(str).to_numpy(),
                        "weight": pd.to_numeric(edges[w], errors="coerce").to_numpy(np.float64)})
    net = net.iloc[_strongest_first(edges)]
    net = net[(net["source"] != net["target"]) & np.isfinite(net["weight"])]
    if n_targets is not None:
        if int(n_targets) < 1:
            raise ParameterError(f"n_targets={n_targets!r}; expected a positive number of targets per TF, or None")
        net = net.groupby("source", sort=False).head(int(n_targets))
    return net.reset_index(drop=True)


def activity(adata: anndata.AnnData, *, key: str = DEFAULT_KEY, group: str | None = None, method: str = "ulm",
             use_raw: bool | None = None, layer: str | None = None, copy: bool = False,
             network: pd.DataFrame | None = None, n_targets: int | None = DEFAULT_TARGETS, tmin: int = 5,
             verbose: bool = False):
    """TF activity per cell from a predicted network, by decoupler (``dc.mt.<method>``; default ULM).

    The network: ``network`` (an edge table) if given, else group ``group``'s table written by ``tl.grn`` under
    ``adata.uns[key]`` (``group=None``: the all-cells network). Each TF keeps its ``n_targets`` best-ranked targets
    (``regulons``), weighted by the signed ``weight`` (|Pearson|: sign of r × score; VVP/GDT: the probe's sign; methods
    without a sign: the score, all positive). Target symbols are matched to the matrix's genes case-insensitively.
    decoupler drops TFs with fewer than ``tmin`` targets among the genes.

    ULM (Badia-i-Mompel et al. 2022, decoupler): for each cell and TF, the cell's expression over the genes, y, is
    regressed on the TF's target weights, x (0 for genes that are not its targets): y_i = β0 + β1 x_i + ε; the
    activity is the t-value of β1, t = β̂1 / SE(β̂1), positive = targets up (activating edges) or down (repressing
    edges); p-values are two-sided from Student's t, Benjamini–Hochberg adjusted across TFs per cell.

    Args:
        adata: cells × genes AnnData with ``tl.grn``'s result (or pass ``network``).
        key: the ``adata.uns`` key ``tl.grn`` wrote (default "ugrn").
        group: the group whose network to use (a category of the ``groupby`` column; None = "all cells").
        method: a decoupler method name in ``dc.mt`` that takes a network (default "ulm"; e.g. "mlm", "wsum").
        use_raw, layer: the matrix decoupler reads: ``.raw.X``, ``layers[layer]`` or ``X`` (default). Log-normalised
            values suit ULM; a scaled ``X`` is accepted (decoupler: "feature scaling … is also acceptable").
        copy: return a modified copy instead of writing into ``adata``.
        network: an edge table to use instead of ``uns[key]`` (columns: a regulator column ``source``/``tf``,
            ``target``, ``weight`` or ``score``, optionally ``rank``).
        n_targets: targets kept per TF (default 50; None = every edge of the table).
        tmin: decoupler's minimum number of targets per TF (default 5).

    Writes (decoupler itself): ``adata.obsm[f"score_{method}"]`` (DataFrame, cells × TFs, float: the activity) and,
    for methods with a test, ``adata.obsm[f"padj_{method}"]`` (cells × TFs, BH-adjusted p-values); the TF columns are
    the network's upper-case symbols. Also ``adata.uns[f"{key}_activity"]``: dict of what made them (method, group,
    matrix, n_targets, tmin, n_tfs, n_edges, obsm keys).

    Returns: None, or the modified copy with ``copy=True``.

    Raises:
        ParameterError: unknown decoupler method, ``use_raw`` with ``layer``, missing ``.raw``/layer, a bad
            ``n_targets``, ``copy=True`` on a backed AnnData.
        KeyError: no ``tl.grn`` result under ``key`` or no network for ``group`` (names the groups there are).
        DataError: no TF keeps ``tmin`` targets among the matrix's genes (names the TFs and the count).
    """
    import decoupler as dc

    names = [str(m) for m in dc.mt.show()["name"]]
    if method not in names:
        raise ParameterError(f"method={method!r} is not a decoupler method; expected one of {', '.join(names)}.")
    fn = getattr(dc.mt, method)
    if copy and adata.isbacked:
        raise ParameterError("copy=True on a backed AnnData; open it in memory.")
    _, var_names, where = select_matrix(adata, use_raw, layer)  # checks use_raw / layer
    edges = network if network is not None else get_network(adata, group if group is not None else ALL_CELLS, key)
    net = regulons(edges, n_targets)
    # symbols as the matrix spells them (the network holds upper-case symbols)
    spelled = pd.Series(pd.Index(var_names).astype(str), index=pd.Index(var_names).astype(str).str.upper())
    spelled = spelled[~spelled.index.duplicated()]
    net["target"] = net["target"].str.upper().map(spelled)
    net = net.dropna(subset=["target"]).reset_index(drop=True)
    counts = net.groupby("source")["target"].nunique()
    if (counts >= tmin).sum() == 0:
        raise DataError(f"no TF of the network has ≥ {tmin} targets (tmin) among the {len(var_names)} genes of "
                        f"AnnData {where}; targets per TF: "
                        f"{first_items([f'{k} {v}' for k, v in counts.items()]) if len(counts) else 'none'}; "
                        "lower tmin, raise n_targets, or use the matrix the network was built on.")
    target = adata.copy() if copy else adata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        out = fn(target, net, tmin=tmin, raw=bool(use_raw), layer=layer, empty=False, verbose=verbose)
    if out is not None:  # decoupler returns a repaired copy when it had to drop cells; empty=False keeps them all
        raise DataError(f"decoupler {method} dropped cells of the AnnData; expected it to keep all {adata.n_obs}.")
    kept = sorted(set(net["source"]) & set(target.obsm[f"score_{method}"].columns))
    target.uns[f"{key}_activity"] = {
        "method": str(method), "group": "" if network is not None else str(group if group is not None else ALL_CELLS),
        "network": "given" if network is not None else f"uns[{key!r}]", "matrix": where,
        "n_targets": -1 if n_targets is None else int(n_targets), "tmin": int(tmin), "n_tfs": len(kept),
        "n_edges": int(net["source"].isin(kept).sum()),
        "obsm": np.array([k for k in (f"score_{method}", f"padj_{method}") if k in target.obsm], dtype=object),
    }
    return target if copy else None


def hubs(edges: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """Hub genes of a directed network: centralities of every gene (networkx).

    The graph: one directed edge TF → target per row of ``edges`` (a ``tl.grn`` table, or any table with a regulator
    column ``source``/``tf``/``TF`` and ``target``), restricted to the ``top`` best rows (lowest ``rank``, else
    highest ``score``, else the table's order; None = every row). A full TF × gene table from ``tl.grn`` lists every
    pair, so every TF has the same out-degree there: pass ``top`` (e.g. a few edges per gene) to see hubs.

    Columns of the result (one row per gene in the graph, sorted by out-degree, then PageRank, descending; then gene):
        ``gene`` (str), ``out_degree`` (int64: targets), ``in_degree`` (int64: regulators), ``pagerank`` (float64,
        ``nx.pagerank``, unweighted, damping 0.85, sums to 1: genes many regulated paths lead to),
        ``betweenness`` (float64, ``nx.betweenness_centrality``, directed, normalised by (n-1)(n-2): the share of
        shortest paths through the gene), ``is_tf`` (bool: the gene regulates some row of ``edges``, before the cut).

    Raises: ParameterError for a table without a regulator or target column, or ``top`` below 1.
    """
    import networkx as nx

    src = _regulator_column(edges)
    if "target" not in edges.columns:
        raise ParameterError(f"edge table: no 'target' column among {list(edges.columns)}")
    if top is not None and int(top) < 1:
        raise ParameterError(f"top={top!r}; expected a positive number of edges, or None for all")
    tfs = set(edges[src].astype(str))
    sel = edges.iloc[_strongest_first(edges)[: None if top is None else int(top)]]
    G = nx.DiGraph()
    G.add_edges_from(zip(sel[src].astype(str), sel["target"].astype(str)))
    genes = sorted(G.nodes)
    if not genes:
        return pd.DataFrame({"gene": pd.Series(dtype=str), "out_degree": pd.Series(dtype=np.int64),
                             "in_degree": pd.Series(dtype=np.int64), "pagerank": pd.Series(dtype=np.float64),
                             "betweenness": pd.Series(dtype=np.float64), "is_tf": pd.Series(dtype=bool)})
    pr = nx.pagerank(G, alpha=0.85)
    bc = nx.betweenness_centrality(G, normalized=True)
    out = pd.DataFrame({
        "gene": genes,
        "out_degree": np.array([G.out_degree(g) for g in genes], dtype=np.int64),
        "in_degree": np.array([G.in_degree(g) for g in genes], dtype=np.int64),
        "pagerank": np.array([pr[g] for g in genes], dtype=np.float64),
        "betweenness": np.array([bc[g] for g in genes], dtype=np.float64),
        "is_tf": np.array([g in tfs for g in genes], dtype=bool),
    })
    return out.sort_values(["out_degree", "pagerank", "gene"], ascending=[False, False, True],
                           kind="mergesort").reset_index(drop=True)
