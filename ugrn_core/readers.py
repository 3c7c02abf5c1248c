"""Readers for user files: gene lists, known-edge lists and expression matrices (paths or uploaded file objects).

Each returns plain symbols / DataFrames / AnnData with upper-case gene symbols and raises ValueError naming the file,
what was found and what was expected.
"""

from __future__ import annotations

import io
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

EDGE_COLUMNS = ["tf", "target"]


def first_items(items, n: int = 10) -> str:
    """Comma-join the first ``n`` items, with '…' when there are more."""
    items = list(items)
    return ", ".join(map(str, items[:n])) + (", …" if len(items) > n else "")


def upper_unique(symbols) -> list[str]:
    """Strip and upper-case symbols, drop empty ones and duplicates, keep first-seen order."""
    s = pd.Series(list(symbols), dtype="string").str.strip().str.upper()
    return s[s.notna() & (s != "")].drop_duplicates().tolist()


def _read_bytes(path_or_buffer) -> tuple[bytes, str]:
    """Return the raw bytes and a display name of a path or an open (text/binary) file-like object."""
    if hasattr(path_or_buffer, "read"):
        data = path_or_buffer.read()
        return (data.encode() if isinstance(data, str) else data), str(getattr(path_or_buffer, "name", "<upload>"))
    return Path(path_or_buffer).read_bytes(), str(path_or_buffer)


def _read_table(path_or_buffer, what: str) -> tuple[pd.DataFrame, str]:
    """Read a CSV/TSV (delimiter from the first line: tab if present, else comma) as strings, with a header."""
    raw, label = _read_bytes(path_or_buffer)
    text = raw.decode("utf-8-sig").strip()
    if not text:
        raise ValueError(f"{what} file '{label}' is empty.")
    sep = "\t" if "\t" in text.splitlines()[0] else ","
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, skipinitialspace=True), label


def read_gene_list(path) -> list[str]:
    """Read gene symbols from a text file with one symbol per line, or a CSV/TSV with a 'gene' or 'symbol' column.

    Accepts a path or a file-like object. Returns symbols as written (stripped, blank lines dropped; a single header
    line 'gene'/'genes'/'symbol' is skipped); :func:`datasets.dataset_from_genes` upper-cases and de-duplicates them.

    Raises:
        ValueError: empty file, no symbols, or a table without a gene/symbol column (the message lists its columns).
    """
    raw, label = _read_bytes(path)
    text = raw.decode("utf-8-sig")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"Gene list file '{label}' is empty.")
    if "," in lines[0] or "\t" in lines[0]:
        table, _ = _read_table(io.BytesIO(raw), "Gene list")
        col = next((c for c in table.columns if str(c).strip().lower() in ("gene", "genes", "symbol")), None)
        if col is None:
            raise ValueError(f"Gene list file '{label}' is a table without a 'gene' or 'symbol' column "
                             f"(found columns {list(table.columns)}).")
        genes = table[col].dropna().str.strip().tolist()
    else:
        genes = lines[1:] if lines[0].lower() in ("gene", "genes", "symbol") else lines
    genes = [g for g in genes if g]
    if not genes:
        raise ValueError(f"Gene list file '{label}' contains no gene symbols.")
    return genes


def read_edge_list(path_or_buffer) -> pd.DataFrame:
    """Read known TF→target edges from a CSV/TSV with a header.

    TF column: any of TF/tf/Gene1/source; target column: target/Target/Gene2 (case-insensitive). Other columns
    (e.g. Score, Type) are ignored. Returns a DataFrame with columns ``["tf", "target"]`` of stripped, upper-case
    symbols, unique rows in file order.

    Raises:
        ValueError: empty file, no TF or no target column (the message names the file and the columns found),
            or rows with a missing symbol.
    """
    table, label = _read_table(path_or_buffer, "Edge list")
    cols = {str(c).strip().lower(): c for c in table.columns}
    tf_col = next((cols[c] for c in ("tf", "gene1", "source") if c in cols), None)
    tg_col = next((cols[c] for c in ("target", "gene2") if c in cols), None)
    if tf_col is None or tg_col is None:
        raise ValueError(f"Edge list file '{label}' needs a TF column (TF, Gene1 or source) and a target column "
                         f"(target or Gene2); found columns {list(table.columns)}.")
    edges = pd.DataFrame({"tf": table[tf_col].str.strip().str.upper(),
                          "target": table[tg_col].str.strip().str.upper()})
    bad = edges.isna().any(axis=1) | (edges == "").any(axis=1)
    if bad.any():
        raise ValueError(f"Edge list file '{label}': {int(bad.sum())} rows lack a TF or target symbol "
                         f"(first at data row {int(np.flatnonzero(bad)[0]) + 1}).")
    if edges.empty:
        raise ValueError(f"Edge list file '{label}' has a header but no edges.")
    return edges.drop_duplicates(ignore_index=True)


def _looks_numeric(values) -> bool:
    return bool(pd.to_numeric(pd.Series(values), errors="coerce").notna().all())


def read_expression(path_or_buffer, filename: str) -> anndata.AnnData:
    """Read an expression matrix into a cells × genes AnnData with upper-case var_names and float32 X.

    Formats (chosen from ``filename``): ``.h5ad`` (anndata, cells × genes); ``.csv``, ``.tsv``, ``.txt``, optionally
    ``.gz``. Tables are read BEELINE-style as genes × cells (first column = gene symbols, header = cell names). If the
    first column is numeric instead, the table is taken as cells × genes with the header as gene symbols (a first
    column with an empty header, as written by ``DataFrame.to_csv``, is then used as cell names).

    Raises:
        ValueError: empty file or no data rows; non-numeric values (names the first offending gene/cell and value);
            missing values (NaN); duplicate gene names (names them); an unsupported extension.
    """
    fname = str(filename).lower()
    label = str(filename)
    if fname.endswith(".h5ad"):
        src = path_or_buffer if hasattr(path_or_buffer, "read") else Path(path_or_buffer)
        adata = anndata.read_h5ad(src)
        if adata.n_obs == 0 or adata.n_vars == 0:
            raise ValueError(f"Expression file '{label}' is empty ({adata.n_obs} cells × {adata.n_vars} genes).")
        x = adata.X.data if sp.issparse(adata.X) else np.asarray(adata.X)
        if np.isnan(x.astype(np.float64, copy=False)).any():
            raise ValueError(f"Expression file '{label}' contains missing values (NaN).")
        adata.X = adata.X.astype(np.float32)
    elif fname.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")):
        sep = "," if ".csv" in fname else "\t"
        compression = "gzip" if fname.endswith(".gz") else None
        try:
            df = pd.read_csv(path_or_buffer, sep=sep, compression=compression)
        except pd.errors.EmptyDataError:
            raise ValueError(f"Expression file '{label}' is empty.") from None
        if df.shape[0] == 0 or df.shape[1] < 2:
            raise ValueError(f"Expression file '{label}' has no data ({df.shape[0]} rows × {df.shape[1]} columns "
                             "including the gene column); expected genes × cells with a header row.")
        if not _looks_numeric(df.iloc[:, 0].dropna()):  # genes × cells (BEELINE): first column = gene symbols
            df = df.set_index(df.columns[0])
            genes_axis, cells_by_genes = "row", False
        elif not _looks_numeric(df.columns[1:]):  # cells × genes: header = gene symbols
            if str(df.columns[0]).startswith("Unnamed:"):
                df = df.set_index(df.columns[0])
            genes_axis, cells_by_genes = "column", True
        else:
            raise ValueError(f"Expression file '{label}': neither the first column nor the header holds gene "
                             "symbols; expected genes × cells with gene symbols in the first column.")
        values = df.apply(pd.to_numeric, errors="coerce")
        for mask, problem in ((values.isna() & df.notna(), "non-numeric value"), (values.isna(), "missing value")):
            if mask.to_numpy().any():
                row, col = mask.stack().loc[lambda s: s].index[0]
                gene, cell = (col, row) if cells_by_genes else (row, col)
                shown = f" {df.at[row, col]!r}" if problem.startswith("non") else " (NaN)"
                raise ValueError(f"Expression file '{label}': {problem}{shown} for gene {gene!r}, cell {cell!r} "
                                 f"(expected numbers; genes are the file's {genes_axis}s).")
        if not cells_by_genes:
            values = values.T
        adata = anndata.AnnData(X=values.to_numpy(np.float32),
                                obs=pd.DataFrame(index=values.index.astype(str)),
                                var=pd.DataFrame(index=values.columns.astype(str)))
    else:
        raise ValueError(f"Expression file '{label}': unsupported format; expected .h5ad, .csv, .tsv or .txt "
                         "(optionally .gz).")
    upper = pd.Index(adata.var_names.astype(str).str.strip().str.upper())
    if upper.duplicated().any():
        raise ValueError(f"Expression file '{label}': duplicate gene names (after upper-casing): "
                         f"{first_items(upper[upper.duplicated()].unique())}.")
    adata.var_names = upper
    return adata


