"""Datasets: the dataset model (``GRNDataset``), the BEELINE benchmark loader and datasets built from user gene lists.

Terms: a *TF* (transcription factor) regulates a *target gene*; an *edge* is a directed TF→target pair.
*Positives* are the ground-truth edges of a dataset.

All gene symbols are upper-cased (mouse too, as in BEELINE's ``BL--network.csv``); e.g. the human symbol
``C9orf72`` becomes ``C9ORF72``; ``vocab.map_to_vocab`` therefore matches vocabulary tokens case-insensitively.
File readers live in ``readers``, vocabulary mapping in ``vocab``, candidate/negative pairs in ``pairs``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anndata
import numpy as np
import pandas as pd

from ..config import DATA_HELP, resolve_data_dir
from ..errors import DataError, InputFileNotFound, ParameterError, first_items
from .anndata_io import dense, scan_matrix, selected_columns
from .names import NETWORKS, SIZES, SPECIES, parse_dataset_name
from .readers import EDGE_COLUMNS, _decode_text, _parse_table, read_expression, upper_unique



# ---------------------------------------------------------------------------------------------------------------------
# Dataset container
# ---------------------------------------------------------------------------------------------------------------------
@dataclass
class GRNDataset:
    """A gene set with its TFs, optional ground-truth edges and optional expression.

    Attributes:
        name: ``"<network>/<cell>/<500|1000>"`` for BEELINE (e.g. ``"STRING/hESC/500"``), any label for user data.
        genes: all genes, unique upper-case symbols (BEELINE: ``Target.csv`` order).
        tfs: the TFs, a subset of ``genes`` (BEELINE: ``TF.csv`` order).
        edges: positive TF→target edges, columns ``["tf", "target"]`` (upper-case symbols), unique rows; may be empty.
        species: ``"human"`` or ``"mouse"``.
        expression: cells × genes AnnData with ``var_names == genes`` (same order) and float32 ``X``; ``None`` if absent.
        network, cell, size, path: BEELINE provenance (``None`` for user data).
    """

    name: str
    genes: list[str]
    tfs: list[str]
    edges: pd.DataFrame
    species: str
    expression: anndata.AnnData | None = None
    network: str | None = None
    cell: str | None = None
    size: int | None = None
    path: Path | None = None

    @property
    def has_expression(self) -> bool:
        """True when an expression matrix is attached."""
        return self.expression is not None

    @property
    def has_ground_truth(self) -> bool:
        """True when positive edges were given (a BEELINE dataset or an uploaded known-edge list)."""
        return self.edges is not None and len(self.edges) > 0

    def __repr__(self) -> str:
        expr = "none" if self.expression is None else f"{self.expression.n_obs} cells"
        return (f"GRNDataset({self.name!r}, {self.species}, {len(self.genes)} genes, {len(self.tfs)} TFs, "
                f"{len(self.edges)} edges, expression: {expr})")


# ---------------------------------------------------------------------------------------------------------------------
# BEELINE benchmark
# ---------------------------------------------------------------------------------------------------------------------
def _dataset_dir(data_dir: Path, network: str, cell: str, size: int) -> Path:
    return data_dir / "beeline" / NETWORKS[network] / cell / f"TFs+{size}"


def list_datasets(data_dir=None) -> list[str]:
    """Names ``"<network>/<cell>/<size>"`` of every BEELINE folder (with a ``TF.csv``) under ``<data_dir>/beeline/``.

    Sorted by network (STRING, Non-Specific, Specific, Lofgof), then cell type, then size.
    Raises FileNotFoundError when the data directory does not exist (see :func:`ugrn_core.config.resolve_data_dir`).
    """
    root = resolve_data_dir(data_dir)
    return [f"{n}/{c}/{s}" for n in NETWORKS for c in sorted(SPECIES) for s in SIZES
            if (_dataset_dir(root, n, c, s) / "TF.csv").is_file()]


def load_beeline(name: str, data_dir=None) -> GRNDataset:
    """Load a BEELINE benchmark dataset, e.g. ``load_beeline("Non-Specific/mDC/500")``.

    Reads ``TF.csv`` (TFs), ``Target.csv`` (all genes), ``BL--network.csv`` (positive edges as symbols; a ``Score``
    column, present in some Specific folders, is ignored) and ``BL--ExpressionData.csv.gz`` (or ``.csv``) when present
    (genes × cells on disk → cells × genes AnnData, float32). Mouse symbols are upper-cased as in the files; the 27
    human ``…orf…`` symbols are upper-cased too.

    Results are cached in memory per (name, resolved data dir): the same object is returned on every call, so
    callers must not mutate it (copy first, e.g. ``dataclasses.replace(ds, edges=ds.edges.copy())``).

    Raises:
        ValueError: malformed name or unknown network/cell/size; expression rows not in ``Target.csv`` order.
        FileNotFoundError: the folder or one of its required files is missing; the message lists available datasets.
    """
    network, cell, size = parse_dataset_name(name)
    return _load_beeline_cached(f"{network}/{cell}/{size}", resolve_data_dir(data_dir))


def _beeline_table(folder: Path, fname: str, columns: list[str], rows: str, name: str) -> pd.DataFrame:
    """One file of a BEELINE folder as a string table with ``columns``.

    Raises: DataError naming the file when it is empty, binary, not UTF-8, unparseable, lacks a column (lists the
    columns found) or has a header but no ``rows``."""
    path = folder / fname
    text = _decode_text(path.read_bytes(), str(path), f"Dataset {name!r}:").strip()
    if not text:
        raise DataError(f"Dataset {name!r}: '{path}' is empty; expected a header with columns {columns} and one row "
                        f"per {rows[:-1] if rows.endswith('s') else rows}.")
    table = _parse_table(text, str(path), f"Dataset {name!r}:")
    for col in columns:
        if col not in table.columns:
            raise DataError(f"Dataset {name!r}: '{path}' has no column {col!r} (found {list(table.columns)}); "
                            f"expected columns {columns} (GENELink layout).")
    if table.empty:
        raise DataError(f"Dataset {name!r}: '{path}' has a header but no rows: no {rows}.")
    return table


def _symbols(table: pd.DataFrame, col: str, path: Path, name: str) -> list[str]:
    s = table[col].fillna("").str.strip().str.upper()
    if (s == "").any():
        raise DataError(f"Dataset {name!r}: '{path}' has an empty {col!r} at data row {int(np.flatnonzero(s == '')[0])}; "
                        "expected a gene symbol on every row.")
    return s.tolist()


def _quoted(items) -> str:
    return first_items([repr(x) for x in items])


@functools.lru_cache(maxsize=64)
def _load_beeline_cached(name: str, data_dir: Path) -> GRNDataset:
    network, cell, size = parse_dataset_name(name)
    folder = _dataset_dir(data_dir, network, cell, size)
    if not folder.is_dir():
        available = list_datasets(data_dir)
        raise InputFileNotFound(f"Dataset {name!r}: folder '{folder}' not found. Available datasets: "
                                + (", ".join(available) if available else f"none. {DATA_HELP}"))
    missing = [f for f in ("TF.csv", "Target.csv", "BL--network.csv") if not (folder / f).is_file()]
    if missing:
        found = sorted(p.name for p in folder.iterdir())
        raise InputFileNotFound(f"Dataset {name!r}: folder '{folder}' lacks {', '.join(missing)} (found: "
                                f"{', '.join(found) or 'nothing'}); expected TF.csv, Target.csv, BL--network.csv and "
                                "optionally Label.csv and BL--ExpressionData.csv[.gz] (GENELink layout; names are "
                                "case-sensitive).")
    genes = _symbols(_beeline_table(folder, "Target.csv", ["Gene"], "genes", name), "Gene", folder / "Target.csv", name)
    dup = pd.Index(genes)[pd.Index(genes).duplicated()].unique()
    if len(dup):
        raise DataError(f"Duplicate gene symbols in '{folder / 'Target.csv'}' (dataset {name!r}, compared upper-case): "
                        f"{_quoted(dup)}; expected each gene once.")
    gene_set = set(genes)
    tfs = _symbols(_beeline_table(folder, "TF.csv", ["TF"], "TFs", name), "TF", folder / "TF.csv", name)
    bad = [t for t in dict.fromkeys(tfs) if t not in gene_set]
    if bad:
        raise DataError(f"Dataset {name!r}: {len(bad)} TFs of '{folder / 'TF.csv'}' are not in Target.csv: "
                        f"{_quoted(bad)}; expected every TF among the genes.")
    tfs = list(dict.fromkeys(tfs))
    net = _beeline_table(folder, "BL--network.csv", ["Gene1", "Gene2"], "edges", name)
    edges = pd.DataFrame({"tf": _symbols(net, "Gene1", folder / "BL--network.csv", name),
                          "target": _symbols(net, "Gene2", folder / "BL--network.csv", name)})
    edges = edges.drop_duplicates(ignore_index=True)
    bad = [g for g in pd.unique(edges.to_numpy().ravel()) if g not in gene_set]
    if bad:
        raise DataError(f"Dataset {name!r}: {len(bad)} genes of '{folder / 'BL--network.csv'}' are not in Target.csv: "
                        f"{_quoted(bad)}; expected every edge between listed genes.")
    if (folder / "Label.csv").is_file():
        _check_labels(folder / "Label.csv", genes, edges, name)
    else:  # GENELink's Label.csv only re-encodes BL--network.csv as row indices: the network alone suffices
        warnings.warn(f"Dataset {name!r}: no Label.csv in '{folder}'; the known edges (labels) are taken from "
                      f"BL--network.csv ({len(edges)} edges)", stacklevel=3)

    expression = None
    expr_file = next((folder / f for f in ("BL--ExpressionData.csv.gz", "BL--ExpressionData.csv")
                      if (folder / f).is_file()), None)
    if expr_file is not None:
        expression = read_expression(expr_file, str(expr_file))
        rows = expression.var_names.tolist()
        if rows != genes:
            transposed = len(set(expression.obs_names.astype(str).str.upper()) & gene_set) > len(genes) // 2
            raise DataError(f"Rows of '{expr_file}' are not the genes of Target.csv in the same order "
                            f"({expression.n_vars} rows vs {len(genes)} genes"
                            + ("; the file looks transposed: its header holds the genes" if transposed
                               else f"; {_first_difference(rows, genes)}")
                            + f"); expected genes × cells with the genes of Target.csv, in order (dataset {name!r}).")
    return GRNDataset(name=name, genes=genes, tfs=tfs, edges=edges, species=SPECIES[cell], expression=expression,
                      network=network, cell=cell, size=size, path=folder)


def _first_difference(rows: list[str], genes: list[str]) -> str:
    """Where two gene lists (an expression file's rows, Target.csv's genes) first differ, as words for a message:
    the 0-based row (Target.csv's numbering, as Label.csv counts) and the name each has there."""
    i = next((k for k, (a, b) in enumerate(zip(rows, genes)) if a != b), min(len(rows), len(genes)))
    if i >= len(rows):
        return f"the file ends at 0-based gene row {i}, where Target.csv has {genes[i]!r}"
    if i >= len(genes):
        return f"Target.csv ends at 0-based gene row {i}, where the file has {rows[i]!r}"
    return f"first difference at 0-based gene row {i}: {rows[i]!r} in the file, {genes[i]!r} in Target.csv"


# ---------------------------------------------------------------------------------------------------------------------
# User data
# ---------------------------------------------------------------------------------------------------------------------
def _check_labels(path: Path, genes: list[str], edges: pd.DataFrame, name: str) -> None:
    """Check ``Label.csv`` (TF, Target = 0-based row indices into Target.csv) against the genes and BL--network.csv.

    Raises: DataError for a non-integer, negative or out-of-range index (names the row and the index) and when the
    edges it encodes differ from BL--network.csv (names some edges found in only one of them)."""
    table = _beeline_table(path.parent, path.name, ["TF", "Target"], "labels", name)
    idx = table[["TF", "Target"]].apply(lambda c: pd.to_numeric(c.str.strip(), errors="coerce"))
    n = len(genes)
    for col in ("TF", "Target"):
        v = idx[col].to_numpy()
        bad = np.flatnonzero(~np.isfinite(v) | (v != np.round(v)) | (v < 0) | (v >= n))
        if len(bad):
            r = int(bad[0])
            raise DataError(f"Dataset {name!r}: '{path}' row {r}: {col} index {table[col].iloc[r].strip()} is "
                            f"{'not an integer' if not np.isfinite(v[r]) or v[r] != round(v[r]) else 'outside'} "
                            f"Target.csv's rows 0..{n - 1} ({len(bad)} such rows); expected 0-based row indices into "
                            "Target.csv.")
    g = np.asarray(genes, dtype=object)
    from_label = set(zip(g[idx["TF"].to_numpy(int)], g[idx["Target"].to_numpy(int)]))
    from_net = set(zip(edges["tf"], edges["target"]))
    if from_label != from_net:
        only_l, only_n = sorted(from_label - from_net), sorted(from_net - from_label)
        raise DataError(f"Dataset {name!r}: '{path}' and BL--network.csv disagree: {len(only_l)} edges only in "
                        f"Label.csv ({first_items(f'{a}→{b}' for a, b in only_l)}), {len(only_n)} only in BL--network.csv "
                        f"({first_items(f'{a}→{b}' for a, b in only_n)}); expected the same edges (Label.csv indexes "
                        "Target.csv rows).")


@functools.lru_cache(maxsize=4)
def _species_tfs(species: str, data_dir: Path) -> frozenset[str]:
    path = data_dir / "beeline" / "BEELINE-Networks" / f"{species}-tfs.csv"
    if not path.is_file():
        raise InputFileNotFound(f"TF list '{path}' not found (needed to pick the TFs of a gene list; or give a TF "
                                f"list). {DATA_HELP}")
    return frozenset(pd.read_csv(path)["TF"].dropna().str.upper())


def _warn_symbol_style(symbols, species: str, name: str) -> None:
    """Warn when a gene list mixes mouse-style (``Gata1``) and human-style (``GATA1``) symbols, or when its style
    does not fit ``species`` (symbols are upper-cased afterwards, so this is the only place the hint survives)."""
    raw = [str(s).strip() for s in symbols if isinstance(s, str) and any(ch.isalpha() for ch in str(s))]
    if len(raw) < 4:
        return
    mouse = [s for s in raw if s[0].isupper() and any(ch.islower() for ch in s[1:]) and "orf" not in s]
    human = [s for s in raw if s == s.upper()]
    if len(mouse) >= 2 and len(human) >= 2 and min(len(mouse), len(human)) >= 0.2 * len(raw):
        warnings.warn(f"Dataset {name!r}: the gene list looks like a mix of mouse-style ({first_items(mouse, 3)}) and "
                      f"human-style ({first_items(human, 3)}) symbols; all are treated as {species} genes. Use one "
                      "species per list.", stacklevel=3)
    elif species == "human" and len(mouse) >= 0.8 * len(raw):
        warnings.warn(f"Dataset {name!r}: the symbols look like mouse genes ({first_items(mouse, 3)}) but species is "
                      "'human'; pass species 'mouse' so they map through their human orthologs.", stacklevel=3)


def _map_ensembl_ids(genes, tfs, expression, data_dir):
    """Ensembl IDs in the gene list, the TF list and the expression's var_names → symbols
    (``gene_ids.ensembl_to_symbols``; warns "mapped N of M Ensembl IDs to symbols" for the gene list). Expression
    columns whose ID maps to a symbol already present are dropped (first kept)."""
    from .gene_ids import ensembl_to_symbols, is_ensembl_id

    genes = ensembl_to_symbols(genes, data_dir).symbols
    if tfs is not None:
        tfs = ensembl_to_symbols(tfs, data_dir, warn=False).symbols
    if expression is not None and any(is_ensembl_id(v) for v in expression.var_names):
        names = pd.Index(ensembl_to_symbols(list(expression.var_names), data_dir, warn=False).symbols)
        keep = ~names.str.upper().duplicated()
        expression = expression[:, keep].copy()
        expression.var_names = names[keep]
    return genes, tfs, expression


def dataset_from_genes(genes: Sequence[str], tfs: Sequence[str] | None = None, species: str = "human",
                       edges: pd.DataFrame | None = None, expression: anndata.AnnData | None = None,
                       name: str = "custom", data_dir=None) -> GRNDataset:
    """Build a :class:`GRNDataset` from a user gene list (and optional TFs, known edges, expression).

    Args:
        genes: gene symbols or Ensembl IDs (human IDs become symbols, ``gene_ids.ensembl_to_symbols``, with a warning
            "mapped N of M Ensembl IDs to symbols"); stripped, upper-cased and de-duplicated keeping first-seen order.
        tfs: TF symbols (⊆ genes). Default: the genes in BEELINE's ``<species>-tfs.csv`` TF list.
        species: ``"human"`` or ``"mouse"``.
        edges: known positive edges, a DataFrame with columns ``["tf", "target"]`` (e.g. from :func:`readers.read_edge_list`);
            both ends must be in ``genes``. Edges whose TF is not in ``tfs`` are kept but warned about:
            :func:`pairs.candidate_pairs` ignores them.
        expression: cells × genes AnnData whose var_names (case-insensitive) include every gene; its ``X`` (numpy,
            scipy sparse or backed) is read at the genes' columns only, in ``genes`` order, as dense float32. To use
            ``.raw`` or a layer, pass ``adata.raw.to_adata()`` or an AnnData with that layer as ``X`` (or use
            ``ugrn_core.tl.grn(..., use_raw=True / layer=...)``).
        data_dir: data directory holding the TF lists (only read when ``tfs`` is None).

    Raises:
        ValueError: empty gene list, unknown species, TFs / edge genes / expression genes not in ``genes``
            (the message names the first 10 offending genes); DataError for a missing, infinite or negative value in
            the expression at those genes (``anndata_io.scan_matrix``: a scaled X, naming ``.raw`` / ``layer=``).
    """
    if species not in ("human", "mouse"):
        raise ParameterError(f"species must be 'human' or 'mouse', got {species!r}.")
    genes, tfs, expression = _map_ensembl_ids(genes, tfs, expression, data_dir)
    _warn_symbol_style(genes, species, name)
    genes = upper_unique(genes)
    if not genes:
        raise DataError(f"Dataset {name!r}: the gene list is empty; expected at least two gene symbols.")
    gene_set = set(genes)
    if tfs is None:
        known = _species_tfs(species, resolve_data_dir(data_dir))
        tfs = [g for g in genes if g in known]
    else:
        tfs = upper_unique(tfs)
        bad = [t for t in tfs if t not in gene_set]
        if bad:
            raise DataError(f"Dataset {name!r}: {len(bad)} TFs are not in the gene list: {first_items(bad)}; expected "
                            "the TF list to be a subset of the genes.")

    if edges is None:
        edges = pd.DataFrame({c: pd.Series(dtype=object) for c in EDGE_COLUMNS})
    else:
        if not set(EDGE_COLUMNS) <= set(edges.columns):
            raise DataError(f"Dataset {name!r}: edges need columns {EDGE_COLUMNS}, got {list(edges.columns)}.")
        edges = edges[EDGE_COLUMNS].astype(str).apply(lambda c: c.str.strip().str.upper())
        edges = edges.drop_duplicates(ignore_index=True)
        bad = pd.unique(edges.to_numpy().ravel())
        bad = [g for g in bad if g not in gene_set]
        if bad:
            raise DataError(f"Dataset {name!r}: {len(bad)} edge genes are not in the gene list: {first_items(bad)}; "
                            "expected both ends of every known edge among the genes.")
        non_tf = sorted(set(edges["tf"]) - set(tfs))
        if non_tf:
            warnings.warn(f"Dataset {name!r}: {int((~edges['tf'].isin(tfs)).sum())} edges start at genes outside "
                          f"the TF list ({first_items(non_tf)}); candidate_pairs ignores them.", stacklevel=2)

    if expression is not None:
        upper = pd.Index(expression.var_names.astype(str).str.upper())
        if upper.duplicated().any():
            raise DataError(f"Dataset {name!r}: duplicate genes in the expression: "
                             f"{first_items(upper[upper.duplicated()].unique())}.")
        missing = [g for g in genes if g not in set(upper)]
        as_cells = set(pd.Index(expression.obs_names.astype(str)).str.upper()) & set(missing)
        if missing and len(as_cells) >= max(1, len(missing) // 2):
            raise DataError(f"Dataset {name!r}: the expression looks transposed: {len(as_cells)} of the {len(genes)} "
                            f"genes are among its cell (row) names ({first_items(sorted(as_cells))}); expected cells × "
                            "genes for .h5ad, or genes × cells with gene symbols in the first column for CSV/TSV.")
        if missing:
            raise DataError(f"Dataset {name!r}: {len(missing)} genes have no expression column: {first_items(missing)}; "
                            f"expected the expression to hold every gene of the gene list.")
        # only the gene list's columns are read (a sparse or backed X is never made dense as a whole), then checked
        # by the one value check every reader uses (a scaled X fails, naming .raw / layers as the fix)
        X = selected_columns(expression.X, upper.get_indexer(genes))
        scan_matrix(X, f"Dataset {name!r}: expression X", genes, expression.obs_names,
                    has_raw=getattr(expression, "raw", None) is not None, layers=list(expression.layers.keys()))
        expression = anndata.AnnData(X=dense(X), obs=expression.obs.copy(), var=pd.DataFrame(index=pd.Index(genes)))
    return GRNDataset(name=name, genes=genes, tfs=tfs, edges=edges, species=species, expression=expression)


