"""Datasets: BEELINE benchmark folders (GENELink layout), user uploads, vocabulary mapping and TF→target pairs.

Terms: a *TF* (transcription factor) regulates a *target gene*; an *edge* is a directed TF→target pair.
*Positives* are the ground-truth edges of a dataset, *negatives* are the other TF→target candidate pairs
(tf != target), and the *N/P ratio* is the number of sampled negatives per positive.

All gene symbols are upper-cased (mouse too, as in BEELINE's ``BL--network.csv``); e.g. the human symbol
``C9orf72`` becomes ``C9ORF72``. :func:`map_to_vocab` therefore matches vocabulary tokens case-insensitively.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.model_selection import train_test_split

from .config import DATA_HELP, resolve_data_dir
from .errors import DataError, InputFileNotFound, ParameterError

SPECIES = {"hESC": "human", "hHEP": "human", "mDC": "mouse", "mESC": "mouse",
           "mHSC-E": "mouse", "mHSC-GM": "mouse", "mHSC-L": "mouse"}
NETWORKS = {"STRING": "STRING Dataset", "Non-Specific": "Non-Specific Dataset",
            "Specific": "Specific Dataset", "Lofgof": "Lofgof Dataset"}
SIZES = (500, 1000)
TF_MODES = ("file", "positive")
SPECIAL_TOKENS = frozenset({"<pad>", "<cls>", "<eoc>"})
ORTHOLOG_FILE = Path("gene_annotation") / "ensembl105_human2mouse_genes.csv.gz"
EDGE_COLUMNS = ["tf", "target"]


def _first(items, n: int = 10) -> str:
    """Comma-join the first ``n`` items, with '…' when there are more."""
    items = list(items)
    return ", ".join(map(str, items[:n])) + (", …" if len(items) > n else "")


def _upper_unique(symbols) -> list[str]:
    """Strip and upper-case symbols, drop empty ones and duplicates, keep first-seen order."""
    s = pd.Series(list(symbols), dtype="string").str.strip().str.upper()
    return s[s.notna() & (s != "")].drop_duplicates().tolist()


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
        raise ParameterError(f"Dataset name {name!r} must look like '<network>/<cell>/<size>', e.g. 'STRING/hESC/500'.")
    network, cell, size = parts
    if network not in NETWORKS:
        raise ParameterError(f"Unknown network {network!r} in dataset name {name!r}; expected one of {list(NETWORKS)}.")
    if cell not in SPECIES:
        raise ParameterError(f"Unknown cell type {cell!r} in dataset name {name!r}; expected one of {list(SPECIES)}.")
    if size not in {str(s) for s in SIZES}:
        raise ParameterError(f"Unknown size {size!r} in dataset name {name!r}; expected one of {list(SIZES)} "
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
    return _first([repr(x) for x in items])


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

    expression = None
    expr_file = next((folder / f for f in ("BL--ExpressionData.csv.gz", "BL--ExpressionData.csv")
                      if (folder / f).is_file()), None)
    if expr_file is not None:
        expression = read_expression(expr_file, str(expr_file))
        if expression.var_names.tolist() != genes:
            transposed = len(set(expression.obs_names.astype(str).str.upper()) & gene_set) > len(genes) // 2
            raise DataError(f"Rows of '{expr_file}' are not the genes of Target.csv in the same order "
                            f"({expression.n_vars} rows vs {len(genes)} genes"
                            + ("; the file looks transposed: its header holds the genes" if transposed else "")
                            + f"); expected genes × cells with the genes of Target.csv, in order (dataset {name!r}).")
    return GRNDataset(name=name, genes=genes, tfs=tfs, edges=edges, species=SPECIES[cell], expression=expression,
                      network=network, cell=cell, size=size, path=folder)


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
                        f"Label.csv ({_first(f'{a}→{b}' for a, b in only_l)}), {len(only_n)} only in BL--network.csv "
                        f"({_first(f'{a}→{b}' for a, b in only_n)}); expected the same edges (Label.csv indexes "
                        "Target.csv rows).")


# ---------------------------------------------------------------------------------------------------------------------
# User data
# ---------------------------------------------------------------------------------------------------------------------
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
        warnings.warn(f"Dataset {name!r}: the gene list looks like a mix of mouse-style ({_first(mouse, 3)}) and "
                      f"human-style ({_first(human, 3)}) symbols; all are treated as {species} genes. Use one "
                      "species per list.", stacklevel=3)
    elif species == "human" and len(mouse) >= 0.8 * len(raw):
        warnings.warn(f"Dataset {name!r}: the symbols look like mouse genes ({_first(mouse, 3)}) but species is "
                      "'human'; pass species 'mouse' so they map through their human orthologs.", stacklevel=3)


def dataset_from_genes(genes: Sequence[str], tfs: Sequence[str] | None = None, species: str = "human",
                       edges: pd.DataFrame | None = None, expression: anndata.AnnData | None = None,
                       name: str = "custom", data_dir=None) -> GRNDataset:
    """Build a :class:`GRNDataset` from a user gene list (and optional TFs, known edges, expression).

    Args:
        genes: gene symbols; stripped, upper-cased and de-duplicated keeping first-seen order.
        tfs: TF symbols (⊆ genes). Default: the genes in BEELINE's ``<species>-tfs.csv`` TF list.
        species: ``"human"`` or ``"mouse"``.
        edges: known positive edges, a DataFrame with columns ``["tf", "target"]`` (e.g. from :func:`read_edge_list`);
            both ends must be in ``genes``. Edges whose TF is not in ``tfs`` are kept but warned about:
            :func:`candidate_pairs` ignores them.
        expression: cells × genes AnnData whose var_names (case-insensitive) include every gene; it is subset and
            reordered to ``genes`` and X cast to float32.
        data_dir: data directory holding the TF lists (only read when ``tfs`` is None).

    Raises:
        ValueError: empty gene list, unknown species, TFs / edge genes / expression genes not in ``genes``
            (the message names the first 10 offending genes).
    """
    if species not in ("human", "mouse"):
        raise ParameterError(f"species must be 'human' or 'mouse', got {species!r}.")
    _warn_symbol_style(genes, species, name)
    genes = _upper_unique(genes)
    if not genes:
        raise DataError(f"Dataset {name!r}: the gene list is empty; expected at least two gene symbols.")
    gene_set = set(genes)
    if tfs is None:
        known = _species_tfs(species, resolve_data_dir(data_dir))
        tfs = [g for g in genes if g in known]
    else:
        tfs = _upper_unique(tfs)
        bad = [t for t in tfs if t not in gene_set]
        if bad:
            raise DataError(f"Dataset {name!r}: {len(bad)} TFs are not in the gene list: {_first(bad)}; expected "
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
            raise DataError(f"Dataset {name!r}: {len(bad)} edge genes are not in the gene list: {_first(bad)}; "
                            "expected both ends of every known edge among the genes.")
        non_tf = sorted(set(edges["tf"]) - set(tfs))
        if non_tf:
            warnings.warn(f"Dataset {name!r}: {int((~edges['tf'].isin(tfs)).sum())} edges start at genes outside "
                          f"the TF list ({_first(non_tf)}); candidate_pairs ignores them.", stacklevel=2)

    if expression is not None:
        upper = pd.Index(expression.var_names.astype(str).str.upper())
        if upper.duplicated().any():
            raise DataError(f"Dataset {name!r}: duplicate genes in the expression: "
                             f"{_first(upper[upper.duplicated()].unique())}.")
        missing = [g for g in genes if g not in set(upper)]
        as_cells = set(pd.Index(expression.obs_names.astype(str)).str.upper()) & set(missing)
        if missing and len(as_cells) >= max(1, len(missing) // 2):
            raise DataError(f"Dataset {name!r}: the expression looks transposed: {len(as_cells)} of the {len(genes)} "
                            f"genes are among its cell (row) names ({_first(sorted(as_cells))}); expected cells × "
                            "genes for .h5ad, or genes × cells with gene symbols in the first column for CSV/TSV.")
        if missing:
            raise DataError(f"Dataset {name!r}: {len(missing)} genes have no expression column: {_first(missing)}; "
                            f"expected the expression to hold every gene of the gene list.")
        expression = expression[:, upper.get_indexer(genes)].copy()
        expression.var_names = genes
        expression.X = expression.X.astype(np.float32)
    return GRNDataset(name=name, genes=genes, tfs=tfs, edges=edges, species=species, expression=expression)


def _read_bytes(path_or_buffer, what: str = "Input") -> tuple[bytes, str]:
    """Return the raw bytes and a display name of a path or an open (text/binary) file-like object.

    Raises: InputFileNotFound when a path does not exist or is a folder (the message names it)."""
    if hasattr(path_or_buffer, "read"):
        data = path_or_buffer.read()
        if hasattr(path_or_buffer, "seek"):
            path_or_buffer.seek(0)
        return (data.encode() if isinstance(data, str) else data), str(getattr(path_or_buffer, "name", "<upload>"))
    p = Path(path_or_buffer)
    if not p.is_file():
        raise InputFileNotFound(f"{what} file '{p}' not found" + (" (it is a folder)" if p.is_dir() else "")
                                + "; expected an existing file.")
    return p.read_bytes(), str(p)


_GZIP_MAGIC = b"\x1f\x8b"


def _decode_text(raw: bytes, label: str, what: str) -> str:
    """Decode a text file: UTF-8 (a BOM is dropped; UTF-16 with a BOM is accepted), no control characters.

    Raises: DataError naming the file when it is compressed or binary (with the offset of the first binary byte)
    or not UTF-8 (with the line and the offending byte)."""
    if raw.startswith(_GZIP_MAGIC):
        raise DataError(f"{what} file '{label}' is gzip-compressed; expected plain text (decompress it first, or "
                        "name it .gz where compressed input is accepted).")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(f"{what} file '{label}' starts with a UTF-16 mark but is not UTF-16 text; expected "
                            "UTF-8 text.") from None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            if b"\x00" in raw[:4096]:
                raise DataError(f"{what} file '{label}' looks binary (byte 0x{raw[e.start]:02x} at offset {e.start}, "
                                "and NUL bytes); expected a text file.") from None
            raise DataError(f"{what} file '{label}' is not UTF-8 text: byte 0x{raw[e.start]:02x} on line {line} "
                            "(e.g. Latin-1 or a spreadsheet's own encoding); expected UTF-8 — save it as "
                            "'CSV UTF-8' or plain UTF-8 text.") from None
    bad = next((i for i, ch in enumerate(text) if ch < " " and ch not in "\t\n\r\x0b\x0c"), None)
    if bad is not None:
        raise DataError(f"{what} file '{label}' looks binary: control character U+{ord(text[bad]):04X} on line "
                        f"{text.count(chr(10), 0, bad) + 1}; expected a text file.")
    return text


def _parse_table(text: str, label: str, what: str, **kw) -> pd.DataFrame:
    """``pd.read_csv`` of decoded text, tab- or comma-separated (tab when the first line has one); strings only.

    Raises: DataError naming the file and the parser's complaint (e.g. a row with more fields than the header)."""
    first = text.lstrip("\n\r").split("\n", 1)[0]
    sep = "\t" if "\t" in first else ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, skipinitialspace=True, keep_default_na=False,
                           na_values=[""], **kw)
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} file '{label}' is empty.") from None
    except (pd.errors.ParserError, ValueError, csv.Error) as e:
        raise DataError(f"{what} file '{label}' is not a readable {'TSV' if sep == chr(9) else 'CSV'} table: "
                        f"{str(e).strip().splitlines()[-1]}; expected a header row and the same number of fields "
                        "on every line.") from None


def _read_table(path_or_buffer, what: str) -> tuple[pd.DataFrame, str]:
    """Read a CSV/TSV (delimiter from the first line: tab if present, else comma) as strings, with a header."""
    raw, label = _read_bytes(path_or_buffer, what)
    text = _decode_text(raw, label, what).strip()
    if not text:
        raise DataError(f"{what} file '{label}' is empty.")
    return _parse_table(text, label, what), label


def read_gene_list(path) -> list[str]:
    """Read gene symbols from a text file with one symbol per line, or a CSV/TSV with a 'gene' or 'symbol' column.

    Accepts a path or a file-like object. Returns symbols as written (stripped, blank lines dropped; a single header
    line 'gene'/'genes'/'symbol' is skipped); :func:`dataset_from_genes` upper-cases and de-duplicates them.

    Raises:
        InputFileNotFound: the path does not exist.
        DataError: empty, binary, compressed or non-UTF-8 file; no symbols; a table without a gene/symbol column
            (the message lists its columns).
    """
    raw, label = _read_bytes(path, "Gene list")
    text = _decode_text(raw, label, "Gene list")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise DataError(f"Gene list file '{label}' is empty; expected one gene symbol per line.")
    if "," in lines[0] or "\t" in lines[0]:
        table = _parse_table("\n".join(lines), label, "Gene list")
        col = next((c for c in table.columns if str(c).strip().lower() in ("gene", "genes", "symbol")), None)
        if col is None:
            raise DataError(f"Gene list file '{label}' is a table without a 'gene' or 'symbol' column "
                            f"(found columns {list(table.columns)}); expected one symbol per line or such a column.")
        genes = table[col].dropna().str.strip().tolist()
    else:
        genes = lines[1:] if lines[0].lower() in ("gene", "genes", "symbol") else lines
    genes = [g for g in genes if g]
    if not genes:
        raise DataError(f"Gene list file '{label}' contains no gene symbols (only a header).")
    return genes


def read_edge_list(path_or_buffer) -> pd.DataFrame:
    """Read known TF→target edges from a CSV/TSV with a header.

    TF column: any of TF/tf/Gene1/source; target column: target/Target/Gene2 (case-insensitive). Other columns
    (e.g. Score, Type) are ignored. Returns a DataFrame with columns ``["tf", "target"]`` of stripped, upper-case
    symbols, unique rows in file order.

    Raises:
        InputFileNotFound: the path does not exist.
        DataError: empty, binary or non-UTF-8 file; no TF or no target column (the message names the file and the
            columns found); rows with a missing symbol.
    """
    table, label = _read_table(path_or_buffer, "Edge list")
    cols = {str(c).strip().lower(): c for c in table.columns}
    tf_col = next((cols[c] for c in ("tf", "gene1", "source") if c in cols), None)
    tg_col = next((cols[c] for c in ("target", "gene2") if c in cols), None)
    if tf_col is None or tg_col is None or tf_col == tg_col:
        raise DataError(f"Edge list file '{label}' needs a TF column (TF, Gene1 or source) and a target column "
                        f"(target or Gene2); found columns {list(table.columns)}.")
    edges = pd.DataFrame({"tf": table[tf_col].str.strip().str.upper(),
                          "target": table[tg_col].str.strip().str.upper()})
    bad = edges.isna().any(axis=1) | (edges == "").any(axis=1)
    if bad.any():
        raise DataError(f"Edge list file '{label}': {int(bad.sum())} rows lack a TF or target symbol "
                        f"(first at data row {int(np.flatnonzero(bad)[0]) + 1}); expected two symbols per row.")
    if edges.empty:
        raise DataError(f"Edge list file '{label}' has a header but no edges.")
    return edges.drop_duplicates(ignore_index=True)


def _looks_numeric(values) -> bool:
    return bool(pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").notna().all())


def _check_values(X: np.ndarray, label: str, gene_of, cell_of, shown=None) -> None:
    """Raise DataError at the first NaN, infinite or negative value of ``X`` (cells × genes), naming gene and cell."""
    for mask, problem, expect in ((np.isnan(X), "missing value", "a number in every cell"),
                                  (np.isinf(X), "infinite value", "finite numbers"),
                                  (X < 0, "negative value", "non-negative counts or normalised expression "
                                                            "(log-counts, TPM); negative values such as z-scores "
                                                            "cannot be binned")):
        if mask.any():
            c, g = np.argwhere(mask)[0]
            value = shown(c, g) if shown else X[c, g]
            raise DataError(f"Expression file '{label}': {problem} {value} for gene {gene_of(g)!r}, cell "
                            f"{cell_of(c)!r}; expected {expect}.")


def read_expression(path_or_buffer, filename: str) -> anndata.AnnData:
    """Read an expression matrix into a cells × genes AnnData with upper-case var_names and float32 X.

    Formats (chosen from ``filename``): ``.h5ad`` (anndata, cells × genes); ``.csv``, ``.tsv``, ``.txt``, optionally
    ``.gz``. Tables are read BEELINE-style as genes × cells (first column = gene symbols, header = cell names). If the
    first column is numeric instead, the table is taken as cells × genes with the header as gene symbols (a first
    column with an empty header, as written by ``DataFrame.to_csv``, is then used as cell names).

    Raises:
        InputFileNotFound: the path does not exist.
        DataError: unreadable, binary or non-UTF-8 file (names it); empty file or no data rows; a non-numeric,
            missing (empty / NaN), infinite or negative value (names the gene, the cell and the value); duplicate
            gene names (names them); an unsupported extension.
    """
    fname = str(filename).lower()
    label = str(filename)
    raw, _ = _read_bytes(path_or_buffer, "Expression")
    if fname.endswith(".h5ad"):
        try:
            adata = anndata.read_h5ad(io.BytesIO(raw))
            X = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
            X = X.astype(np.float64)
        except Exception as e:  # h5py / anndata raise many types for a corrupt or foreign file
            raise DataError(f"Expression file '{label}' cannot be read as .h5ad (AnnData): {type(e).__name__}: "
                            f"{str(e).splitlines()[0][:200] if str(e) else ''}; expected a file written by "
                            "anndata / scanpy (cells × genes).") from None
        if adata.n_obs == 0 or adata.n_vars == 0 or X.ndim != 2:
            raise DataError(f"Expression file '{label}' is empty ({adata.n_obs} cells × {adata.n_vars} genes).")
        _check_values(X, label, lambda g: adata.var_names[g], lambda c: adata.obs_names[c])
        adata.X = X.astype(np.float32)
    elif fname.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")):
        if fname.endswith(".gz") or raw.startswith(_GZIP_MAGIC):
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as e:
                raise DataError(f"Expression file '{label}' is not a readable gzip file ({e}); expected a "
                                "gzip-compressed CSV/TSV.") from None
        text = _decode_text(raw, label, "Expression").strip()
        if not text:
            raise DataError(f"Expression file '{label}' is empty; expected genes × cells with a header row.")
        sep = "," if ".csv" in fname else "\t"
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, ValueError, csv.Error) as e:
            raise DataError(f"Expression file '{label}' is not a readable {'CSV' if sep == ',' else 'TSV'} table: "
                            f"{str(e).strip().splitlines()[-1]}; expected the same number of fields on every line "
                            f"({'comma' if sep == ',' else 'tab'}-separated).") from None
        header, body = df.iloc[0].fillna("").astype(str).str.strip(), df.iloc[1:].fillna("")
        if body.shape[0] == 0 or body.shape[1] < 2:
            raise DataError(f"Expression file '{label}' has no data ({body.shape[0]} rows × {body.shape[1]} columns "
                            "including the gene column); expected genes × cells with a header row.")
        first_col = body.iloc[:, 0].str.strip()
        if not _looks_numeric(first_col[first_col != ""]):  # genes × cells (BEELINE): first column = gene symbols
            genes, cells = first_col.tolist(), header.iloc[1:].tolist()
            cells_by_genes, cells_axis = False, "columns"
            values = body.iloc[:, 1:]
        elif not _looks_numeric(header.iloc[1:]):  # cells × genes: header = gene symbols
            if header.iloc[0] == "":  # DataFrame.to_csv's index column: cell names
                genes, cells, values = header.iloc[1:].tolist(), first_col.tolist(), body.iloc[:, 1:]
            else:
                genes, cells, values = header.tolist(), [str(i) for i in range(len(body))], body
            cells_by_genes, cells_axis = True, "rows"
        else:
            raise DataError(f"Expression file '{label}': neither the first column nor the header holds gene "
                            "symbols; expected genes × cells with gene symbols in the first column.")
        if any(g == "" for g in genes):
            raise DataError(f"Expression file '{label}': a gene name is empty (gene {genes.index('')+1}); expected "
                            "a symbol for every gene.")
        strings = values.to_numpy(dtype=object)
        X = pd.DataFrame(strings).apply(lambda c: pd.to_numeric(c.str.strip(), errors="coerce")).to_numpy(np.float64)
        text_cells = [(r, c) for r, c in np.argwhere(np.isnan(X)) if strings[r, c].strip().lower() not in ("", "nan")]
        if text_cells:
            r, c = text_cells[0]
            gene, cell = (genes[c], cells[r]) if cells_by_genes else (genes[r], cells[c])
            raise DataError(f"Expression file '{label}': non-numeric value {strings[r, c]!r} for gene {gene!r}, "
                            f"cell {cell!r}; expected numbers (genes are the file's "
                            f"{'columns' if cells_by_genes else 'rows'}, cells its {cells_axis}).")
        if not cells_by_genes:
            X, strings = X.T, strings.T
        _check_values(X, label, lambda g: genes[g], lambda c: cells[c],
                      shown=lambda c, g: strings[c, g].strip() or "(empty)")
        adata = anndata.AnnData(X=X.astype(np.float32), obs=pd.DataFrame(index=pd.Index(cells, dtype=str)),
                                var=pd.DataFrame(index=pd.Index(genes, dtype=str)))
    else:
        raise DataError(f"Expression file '{label}': unsupported format; expected .h5ad, .csv, .tsv or .txt "
                        "(optionally .gz).")
    upper = pd.Index(adata.var_names.astype(str).str.strip().str.upper())
    if upper.duplicated().any():
        raise DataError(f"Expression file '{label}': duplicate gene names (after upper-casing): "
                        f"{_first(upper[upper.duplicated()].unique())}.")
    adata.var_names = upper
    return adata


# ---------------------------------------------------------------------------------------------------------------------
# Mapping genes into a checkpoint vocabulary
# ---------------------------------------------------------------------------------------------------------------------
def load_orthologs(data_dir=None) -> dict[str, str]:
    """Mouse→human ortholog table: upper-case mouse symbol → human symbol (case as in Ensembl, e.g. ``C9orf72``).

    From ``<data_dir>/gene_annotation/ensembl105_human2mouse_genes.csv.gz`` (no header; columns human, mouse; mouse
    empty when there is no ortholog). When a mouse symbol has several human orthologs, the human symbol equal to the
    upper-cased mouse symbol is preferred, else the first listed. Cached; do not mutate the returned dict.

    Raises:
        FileNotFoundError: the table is missing.
    """
    return _load_orthologs(resolve_data_dir(data_dir))


@functools.lru_cache(maxsize=4)
def _load_orthologs(data_dir: Path) -> dict[str, str]:
    path = data_dir / ORTHOLOG_FILE
    if not path.is_file():
        raise InputFileNotFound(f"Ortholog table '{path}' not found (needed to map mouse genes). {DATA_HELP}")
    t = pd.read_csv(path, header=None, names=["human", "mouse"], dtype=str).dropna()
    t["mouse"] = t["mouse"].str.upper()
    t["same"] = t["human"].str.upper() == t["mouse"]
    t = t.sort_values("same", ascending=False, kind="stable").drop_duplicates("mouse")
    return dict(zip(t["mouse"], t["human"]))


@dataclass
class VocabMapping:
    """Result of :func:`map_to_vocab`.

    Attributes:
        genes: dataset genes that mapped, in dataset order.
        tokens: the vocabulary token of each mapped gene (same length as ``genes``).
        token_ids: int64 array (same length), the tokens' indices in the vocabulary.
        unmapped: dataset genes without a token (including later genes whose token was already taken).
        by_ortholog: number of mouse genes whose token came from the human ortholog (the rest matched by symbol).
    """

    genes: list[str]
    tokens: list[str]
    token_ids: np.ndarray
    unmapped: list[str]
    by_ortholog: int = 0

    @property
    def coverage(self) -> float:
        """Fraction of dataset genes that mapped, in [0, 1] (0 for an empty gene list)."""
        total = len(self.genes) + len(self.unmapped)
        return len(self.genes) / total if total else 0.0

    def summary(self) -> str:
        """One line, e.g. ``"mapped 812/821 genes (98.9%); 9 unmapped: A, B, ..."`` (first 20 unmapped)."""
        total = len(self.genes) + len(self.unmapped)
        s = f"mapped {len(self.genes)}/{total} genes ({100 * self.coverage:.1f}%)"
        if self.by_ortholog:
            s += f", {self.by_ortholog} via mouse→human orthologs"
        if self.unmapped:
            s += f"; {len(self.unmapped)} unmapped: {_first(self.unmapped, 20)}"
        return s


def map_to_vocab(genes: Sequence[str], vocab: Mapping[str, int], species: str, data_dir=None,
                 warn: bool = True) -> VocabMapping:
    """Map dataset genes to tokens of a model vocabulary (token → index, e.g. scGPT's ``vocab.json``).

    Matching is case-insensitive (an exact match wins), so ``C9ORF72`` finds the token ``C9orf72``.
    - human: the gene symbol itself.
    - mouse: the human ortholog (:func:`load_orthologs`) if it is in the vocabulary, else the upper-cased mouse symbol.
    Special tokens (``<pad>``, ``<cls>``, ``<eoc>`` and any other ``<…>``) are never mapping targets. When two genes
    map to the same token, the first (in ``genes`` order) keeps it and later ones count as unmapped.

    Args:
        genes: dataset gene symbols (any case).
        vocab: token → integer index.
        species: ``"human"`` or ``"mouse"``.
        data_dir: data directory with the ortholog table (only read for mouse).
        warn: emit ``warnings.warn(summary)`` when some genes are unmapped.

    Raises:
        ValueError: unknown species.
    """
    if species not in ("human", "mouse"):
        raise ParameterError(f"species must be 'human' or 'mouse', got {species!r}.")
    usable = {t: i for t, i in vocab.items() if not (t in SPECIAL_TOKENS or (t.startswith("<") and t.endswith(">")))}
    by_upper: dict[str, str] = {}
    for tok in usable:
        by_upper.setdefault(tok.upper(), tok)

    def find(symbol: str | None) -> str | None:
        if not symbol:
            return None
        return symbol if symbol in usable else by_upper.get(symbol.upper())

    orthologs = load_orthologs(data_dir) if species == "mouse" else {}
    mapped, tokens, unmapped, used, n_orth = [], [], [], set(), 0
    for gene in genes:
        tok, via_orth = None, False
        if species == "mouse":
            tok = find(orthologs.get(gene.upper()))
            via_orth = tok is not None
        tok = tok or find(gene.upper() if species == "mouse" else gene)
        if tok is None or tok in used:
            unmapped.append(gene)
            continue
        used.add(tok)
        mapped.append(gene)
        tokens.append(tok)
        n_orth += via_orth
    result = VocabMapping(genes=mapped, tokens=tokens, token_ids=np.array([usable[t] for t in tokens], dtype=np.int64),
                          unmapped=unmapped, by_ortholog=n_orth)
    if warn and unmapped:
        warnings.warn(result.summary(), stacklevel=2)
    return result


# ---------------------------------------------------------------------------------------------------------------------
# Candidate pairs and negatives
# ---------------------------------------------------------------------------------------------------------------------
def candidate_pairs(ds: GRNDataset, genes: Sequence[str] | None = None, tf_mode: str = "file") -> pd.DataFrame:
    """All candidate TF→target pairs (tf != target) of a dataset, labelled with its positive edges.

    Args:
        ds: the dataset.
        genes: restrict TFs and targets to these genes (e.g. ``VocabMapping.genes``); default ``ds.genes``.
            Genes not in ``ds.genes`` are ignored (matched upper-case).
        tf_mode: ``"file"``: TFs = ``ds.tfs``; ``"positive"``: only TFs with ≥1 positive edge inside ``genes``
            (BEELINE-style evaluation).

    Returns:
        DataFrame with columns ``tf``, ``target`` (str) and ``label`` (int8: 1 positive, 0 negative), ordered by TF
        (``ds.tfs`` order) then target (``ds.genes`` order). Positive edges with an end outside ``genes``, whose TF
        is not in ``ds.tfs`` (none in the BEELINE files), or that are self-loops, are dropped.

    Raises:
        ValueError: unknown ``tf_mode`` (names the allowed ones) or no TF/target left after restriction.
    """
    if tf_mode not in TF_MODES:
        raise ParameterError(f"tf_mode must be one of {list(TF_MODES)}, got {tf_mode!r}.")
    keep = set(ds.genes) if genes is None else set(ds.genes) & {str(g).upper() for g in genes}
    targets = np.array([g for g in ds.genes if g in keep], dtype=object)
    tfs = [t for t in ds.tfs if t in keep]
    edges = ds.edges[ds.edges["tf"].isin(tfs) & ds.edges["target"].isin(keep)]
    if tf_mode == "positive":
        tfs = [t for t in tfs if t in set(edges["tf"])]
    if not tfs or len(targets) == 0:
        raise DataError(f"Dataset {ds.name!r}: no {'TF with a positive edge' if tf_mode == 'positive' else 'TF'} "
                        f"among the {len(keep)} usable genes, so no TF→target pair can be formed; expected at least "
                        "one known TF (give a TF list) and one other gene.")
    pairs = pd.DataFrame({"tf": np.repeat(np.array(tfs, dtype=object), len(targets)),
                          "target": np.tile(targets, len(tfs))})
    pairs = pairs[pairs["tf"] != pairs["target"]].reset_index(drop=True)
    if pairs.empty:
        raise DataError(f"Dataset {ds.name!r}: the only usable gene is the TF {tfs[0]}, so no TF→target pair can be "
                        "formed (self-loops are excluded); expected at least two usable genes.")
    is_pos = pd.MultiIndex.from_frame(pairs).isin(pd.MultiIndex.from_frame(edges[["tf", "target"]]))
    pairs["label"] = is_pos.astype(np.int8)
    return pairs


def sample_pairs(ds: GRNDataset, genes: Sequence[str] | None = None, np_ratio: float = 1.0, seed: int = 0,
                 tf_mode: str = "file") -> pd.DataFrame:
    """All positive edges plus ``round(np_ratio * n_pos)`` negatives drawn without replacement from the candidates.

    Args:
        ds, genes, tf_mode: as in :func:`candidate_pairs`.
        np_ratio: N/P ratio, negatives per positive, > 0.
        seed: seed of ``numpy.random.default_rng`` for drawing negatives and shuffling rows.

    Returns:
        DataFrame with columns ``tf``, ``target``, ``label`` (int8), rows shuffled (deterministic for a seed),
        index 0..n-1. When fewer negatives exist than requested, all are taken and a warning is issued.

    Raises:
        ValueError: ``np_ratio`` not a positive finite number; no positive edge among the candidates.
    """
    if not (np.isfinite(np_ratio) and np_ratio > 0):
        raise ParameterError(f"np_ratio (N/P ratio) must be a positive number, got {np_ratio!r}.")
    cand = candidate_pairs(ds, genes, tf_mode)
    pos = np.flatnonzero(cand["label"].to_numpy() == 1)
    neg = np.flatnonzero(cand["label"].to_numpy() == 0)
    if len(pos) == 0:
        raise DataError(f"Dataset {ds.name!r} has no positive edges among its candidate pairs; cannot sample "
                        "training pairs (expected a dataset with known edges between its TFs and genes).")
    n_neg = int(round(np_ratio * len(pos)))
    if n_neg > len(neg):
        warnings.warn(f"Dataset {ds.name!r}: N/P ratio {np_ratio} asks for {n_neg} negatives but only {len(neg)} "
                      "exist; using all of them.", stacklevel=2)
        n_neg = len(neg)
    rng = np.random.default_rng(seed)
    rows = np.concatenate([pos, rng.choice(neg, size=n_neg, replace=False)])
    return cand.iloc[rng.permutation(rows)].reset_index(drop=True)


def split_pairs(pairs: pd.DataFrame, test_size: float = 0.2, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split labelled pairs into (train, test), stratified by ``label`` (sklearn ``train_test_split``).

    The original row index is kept so rows can be traced back to ``pairs``.

    Raises:
        ValueError: no ``label`` column; or from scikit-learn, e.g. a class with fewer than 2 members.
    """
    if "label" not in pairs.columns:
        raise DataError(f"pairs need a 'label' column to stratify; found {list(pairs.columns)}.")
    train, test = train_test_split(pairs, test_size=test_size, random_state=seed, stratify=pairs["label"])
    return train, test
