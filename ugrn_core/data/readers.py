"""Readers for user files: gene lists, known-edge lists and expression matrices (paths or uploaded file objects).

Each returns plain symbols / DataFrames / AnnData with upper-case gene symbols and raises DataError / InputFileNotFound (ValueErrors, ``errors``) naming the file,
what was found and what was expected.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataError, InputFileNotFound, ParameterError, first_items
from .anndata_io import scaled_values_hint, scan_matrix, select_matrix

EDGE_COLUMNS = ["tf", "target"]


def upper_unique(symbols) -> list[str]:
    """Strip and upper-case symbols, drop empty ones and duplicates, keep first-seen order."""
    s = pd.Series(list(symbols), dtype="string").str.strip().str.upper()
    return s[s.notna() & (s != "")].drop_duplicates().tolist()


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
    line 'gene'/'genes'/'symbol' is skipped); :func:`datasets.dataset_from_genes` upper-cases and de-duplicates them.

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
                                                            "(log-counts, TPM): " + scaled_values_hint(None))):
        if mask.any():
            c, g = np.argwhere(mask)[0]
            value = shown(c, g) if shown else X[c, g]
            raise DataError(f"Expression file '{label}': {problem} {value} for gene {gene_of(g)!r}, cell "
                            f"{cell_of(c)!r}; expected {expect}.")


def read_expression(path_or_buffer, filename: str, use_raw: bool = False, layer: str | None = None) -> anndata.AnnData:
    """Read an expression matrix into a cells × genes AnnData with upper-case var_names and float32 X.

    Formats (chosen from ``filename``): ``.h5ad`` (anndata, cells × genes; its ``X``, or ``.raw.X`` with ``use_raw``,
    or ``layers[layer]``; a sparse matrix stays sparse, checked by ``anndata_io.scan_matrix``, the one value check
    of every reader); ``.csv``, ``.tsv``, ``.txt``, optionally
    ``.gz``. Tables are read BEELINE-style as genes × cells (first column = gene symbols, header = cell names). If the
    first column is numeric instead, the table is taken as cells × genes with the header as gene symbols (a first
    column with an empty header, as written by ``DataFrame.to_csv``, is then used as cell names).

    Raises:
        InputFileNotFound: the path does not exist.
        DataError: unreadable, binary or non-UTF-8 file (names it); empty file or no data rows; a non-numeric,
            missing (empty / NaN), infinite or negative value (names the gene, the cell and the value; for a negative
            value in an .h5ad, the fix: ``use_raw=True`` / ``--use-raw`` or ``layer=`` / ``--layer``); duplicate
            gene names (names them); an unsupported extension.
        ParameterError: ``use_raw``/``layer`` for a table file, both at once, no ``.raw``, or an unknown layer.
    """
    fname = str(filename).lower()
    label = str(filename)
    raw, _ = _read_bytes(path_or_buffer, "Expression")
    if fname.endswith(".h5ad"):
        try:
            adata = anndata.read_h5ad(io.BytesIO(raw))
        except Exception as e:  # h5py / anndata raise many types for a corrupt or foreign file
            raise DataError(f"Expression file '{label}' cannot be read as .h5ad (AnnData): {type(e).__name__}: "
                            f"{str(e).splitlines()[0][:200] if str(e) else ''}; expected a file written by "
                            "anndata / scanpy (cells × genes).") from None
        M, var_names, where = select_matrix(adata, use_raw, layer)
        if M is None or len(M.shape) != 2 or 0 in M.shape:
            raise DataError(f"Expression file '{label}' is empty ({adata.n_obs} cells × {adata.n_vars} genes).")
        scan_matrix(M, f"Expression file '{label}'" + (f" ({where})" if where != "X" else ""), var_names,
                    adata.obs_names, has_raw=adata.raw is not None, layers=list(adata.layers.keys()))
        M = M.astype(np.float32) if sp.issparse(M) else np.asarray(M, dtype=np.float32)
        adata = anndata.AnnData(X=M, obs=adata.obs.copy(), var=pd.DataFrame(index=pd.Index(var_names, dtype=str)))
    elif fname.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")):
        if use_raw or layer is not None:
            raise ParameterError(f"Expression file '{label}': use_raw / layer apply to .h5ad files only; a table file "
                                 "holds one matrix.")
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
                        f"{first_items(upper[upper.duplicated()].unique())}.")
    adata.var_names = upper
    return adata


