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

from .config import DATA_HELP, resolve_data_dir
from .readers import EDGE_COLUMNS, first_items, read_expression, upper_unique

SPECIES = {"hESC": "human", "hHEP": "human", "mDC": "mouse", "mESC": "mouse",
           "mHSC-E": "mouse", "mHSC-GM": "mouse", "mHSC-L": "mouse"}
NETWORKS = {"STRING": "STRING Dataset", "Non-Specific": "Non-Specific Dataset",
            "Specific": "Specific Dataset", "Lofgof": "Lofgof Dataset"}
SIZES = (500, 1000)


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
def parse_dataset_name(name: str) -> tuple[str, str, int]:
    """Split ``"<network>/<cell>/<size>"`` (e.g. ``"STRING/hESC/500"``) into ``(network, cell, size)``.

    Raises:
        ValueError: not three '/'-separated parts, or an unknown network (keys of :data:`NETWORKS`),
            cell (keys of :data:`SPECIES`) or size (500 or 1000); the message lists the allowed values.
    """
    parts = str(name).strip().split("/")
    if len(parts) != 3:
        raise ValueError(f"Dataset name {name!r} must look like '<network>/<cell>/<size>', e.g. 'STRING/hESC/500'.")
    network, cell, size = parts
    if network not in NETWORKS:
        raise ValueError(f"Unknown network {network!r} in dataset name {name!r}; expected one of {list(NETWORKS)}.")
    if cell not in SPECIES:
        raise ValueError(f"Unknown cell type {cell!r} in dataset name {name!r}; expected one of {list(SPECIES)}.")
    if size not in {str(s) for s in SIZES}:
        raise ValueError(f"Unknown size {size!r} in dataset name {name!r}; expected one of {list(SIZES)} "
                         "(the TFs+500 / TFs+1000 gene sets).")
    return network, cell, int(size)


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


@functools.lru_cache(maxsize=64)
def _load_beeline_cached(name: str, data_dir: Path) -> GRNDataset:
    network, cell, size = parse_dataset_name(name)
    folder = _dataset_dir(data_dir, network, cell, size)
    missing = [f for f in ("TF.csv", "Target.csv", "BL--network.csv") if not (folder / f).is_file()]
    if missing:
        what = f"Folder '{folder}'" if not folder.is_dir() else f"'{folder}' lacks {missing}; it"
        available = list_datasets(data_dir)
        raise FileNotFoundError(f"{what} not found for dataset {name!r}. Available datasets: "
                                + (", ".join(available) if available else f"none. {DATA_HELP}"))
    genes = pd.read_csv(folder / "Target.csv", index_col=0)["Gene"].str.upper().tolist()
    tfs = pd.read_csv(folder / "TF.csv", index_col=0)["TF"].str.upper().tolist()
    net = pd.read_csv(folder / "BL--network.csv", usecols=["Gene1", "Gene2"])
    edges = pd.DataFrame({"tf": net["Gene1"].str.upper(), "target": net["Gene2"].str.upper()})
    edges = edges.drop_duplicates(ignore_index=True)
    if len(set(genes)) != len(genes):
        raise ValueError(f"Duplicate gene symbols in '{folder / 'Target.csv'}'.")

    expression = None
    expr_file = next((folder / f for f in ("BL--ExpressionData.csv.gz", "BL--ExpressionData.csv")
                      if (folder / f).is_file()), None)
    if expr_file is not None:
        expression = read_expression(expr_file, expr_file.name)
        if expression.var_names.tolist() != genes:
            raise ValueError(f"Rows of '{expr_file}' are not the genes of Target.csv in the same order "
                             f"({expression.n_vars} rows vs {len(genes)} genes).")
    return GRNDataset(name=name, genes=genes, tfs=tfs, edges=edges, species=SPECIES[cell], expression=expression,
                      network=network, cell=cell, size=size, path=folder)


# ---------------------------------------------------------------------------------------------------------------------
# User data
# ---------------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _species_tfs(species: str, data_dir: Path) -> frozenset[str]:
    path = data_dir / "beeline" / "BEELINE-Networks" / f"{species}-tfs.csv"
    if not path.is_file():
        raise FileNotFoundError(f"TF list '{path}' not found (needed to pick the TFs of a gene list). {DATA_HELP}")
    return frozenset(pd.read_csv(path)["TF"].dropna().str.upper())


def dataset_from_genes(genes: Sequence[str], tfs: Sequence[str] | None = None, species: str = "human",
                       edges: pd.DataFrame | None = None, expression: anndata.AnnData | None = None,
                       name: str = "custom", data_dir=None) -> GRNDataset:
    """Build a :class:`GRNDataset` from a user gene list (and optional TFs, known edges, expression).

    Args:
        genes: gene symbols; stripped, upper-cased and de-duplicated keeping first-seen order.
        tfs: TF symbols (⊆ genes). Default: the genes in BEELINE's ``<species>-tfs.csv`` TF list.
        species: ``"human"`` or ``"mouse"``.
        edges: known positive edges, a DataFrame with columns ``["tf", "target"]`` (e.g. from :func:`readers.read_edge_list`);
            both ends must be in ``genes``. Edges whose TF is not in ``tfs`` are kept but warned about:
            :func:`pairs.candidate_pairs` ignores them.
        expression: cells × genes AnnData whose var_names (case-insensitive) include every gene; it is subset and
            reordered to ``genes`` and X cast to float32.
        data_dir: data directory holding the TF lists (only read when ``tfs`` is None).

    Raises:
        ValueError: empty gene list, unknown species, TFs / edge genes / expression genes not in ``genes``
            (the message names the first 10 offending genes).
    """
    if species not in ("human", "mouse"):
        raise ValueError(f"species must be 'human' or 'mouse', got {species!r}.")
    genes = upper_unique(genes)
    if not genes:
        raise ValueError(f"Dataset {name!r}: the gene list is empty.")
    gene_set = set(genes)
    if tfs is None:
        known = _species_tfs(species, resolve_data_dir(data_dir))
        tfs = [g for g in genes if g in known]
    else:
        tfs = upper_unique(tfs)
        bad = [t for t in tfs if t not in gene_set]
        if bad:
            raise ValueError(f"Dataset {name!r}: {len(bad)} TFs are not in the gene list: {first_items(bad)}.")

    if edges is None:
        edges = pd.DataFrame({c: pd.Series(dtype=object) for c in EDGE_COLUMNS})
    else:
        if not set(EDGE_COLUMNS) <= set(edges.columns):
            raise ValueError(f"Dataset {name!r}: edges need columns {EDGE_COLUMNS}, got {list(edges.columns)}.")
        edges = edges[EDGE_COLUMNS].astype(str).apply(lambda c: c.str.strip().str.upper())
        edges = edges.drop_duplicates(ignore_index=True)
        bad = pd.unique(edges.to_numpy().ravel())
        bad = [g for g in bad if g not in gene_set]
        if bad:
            raise ValueError(f"Dataset {name!r}: {len(bad)} edge genes are not in the gene list: {first_items(bad)}.")
        non_tf = sorted(set(edges["tf"]) - set(tfs))
        if non_tf:
            warnings.warn(f"Dataset {name!r}: {int((~edges['tf'].isin(tfs)).sum())} edges start at genes outside "
                          f"the TF list ({first_items(non_tf)}); candidate_pairs ignores them.", stacklevel=2)

    if expression is not None:
        upper = pd.Index(expression.var_names.astype(str).str.upper())
        if upper.duplicated().any():
            raise ValueError(f"Dataset {name!r}: duplicate genes in the expression: "
                             f"{first_items(upper[upper.duplicated()].unique())}.")
        missing = [g for g in genes if g not in set(upper)]
        if missing:
            raise ValueError(f"Dataset {name!r}: {len(missing)} genes have no expression column: {first_items(missing)}.")
        expression = expression[:, upper.get_indexer(genes)].copy()
        expression.var_names = genes
        expression.X = expression.X.astype(np.float32)
    return GRNDataset(name=name, genes=genes, tfs=tfs, edges=edges, species=species, expression=expression)


