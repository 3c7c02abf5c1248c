"""Cells × genes AnnData from the files single-cell tools write, and the one check of their values.

Readers (``read_cells``) go through anndata's and scanpy's own readers: ``.h5ad`` (``anndata.read_h5ad``, optionally
backed), ``.loom`` (``anndata.read_loom``, needs ``loompy``), a 10x Cell Ranger folder (``matrix.mtx[.gz]`` +
``barcodes.tsv[.gz]`` + ``features.tsv[.gz]`` or ``genes.tsv``: ``scanpy.read_10x_mtx``) and a 10x ``.h5``
(``scanpy.read_10x_h5``).

The matrix a network is built from is chosen by ``select_matrix`` (``X``, ``.raw.X`` or a layer) and scanned once in row
chunks by ``scan_matrix``: sparse and backed matrices are never made dense, only the selected genes' columns are
(``selected_columns``). ``scan_matrix`` is the one value check used by ``ugrn_core.tl.grn``, ``ugrn grn``, the expression
reader of ``ugrn predict`` / the app (``readers.read_expression``) and ``datasets.dataset_from_genes(expression=...)``:
a missing, infinite or negative value fails with a ``DataError`` that names the gene, the cell and, for negative values
(a scaled ``X``), the fix: ``use_raw=True`` / ``--use-raw`` or ``layer=NAME`` / ``--layer NAME``
(``scaled_values_hint``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anndata
import numpy as np
import scipy.sparse as sp

from ..errors import DataError, InputFileNotFound, ParameterError

FORMATS = ".h5ad, .loom, a 10x .h5, or a 10x folder (matrix.mtx[.gz], barcodes.tsv[.gz], features.tsv[.gz] or genes.tsv)"
CHUNK_ELEMENTS = 20_000_000  # dense elements per row chunk (~80 MB float32) when a matrix is scanned


def _is_10x_folder(p: Path) -> bool:
    return p.is_dir() and any((p / f).is_file() for f in ("matrix.mtx", "matrix.mtx.gz"))


def read_cells(path, backed: bool = False) -> anndata.AnnData:
    """Read a cells × genes AnnData with anndata's / scanpy's own readers; the format comes from the path.

    Args:
        path: ``.h5ad`` file; ``.loom`` file (loompy layout: genes are rows, read transposed by anndata; gene symbols
            from ``row_attrs['Gene']`` (else ``var_names``, as ``AnnData.write_loom`` writes), cell ids from
            ``col_attrs['CellID']`` (else ``obs_names``)); a 10x ``.h5`` (Cell Ranger v2/v3,
            gene symbols as var_names); or a 10x folder holding ``matrix.mtx[.gz]``, ``barcodes.tsv[.gz]`` and
            ``features.tsv[.gz]`` (v3) or ``genes.tsv`` (v2) (gene symbols as var_names, made unique).
        backed: ``.h5ad`` only: open it read-only backed (``X`` stays on disk and is read in row chunks).
    Returns: the AnnData as the reader gives it (var_names not upper-cased; ``X`` sparse for 10x/loom/sparse h5ad).
    Raises:
        InputFileNotFound: the path does not exist.
        DataError: an unsupported path (names the formats accepted) or a file the reader cannot parse (names it and
            the reader's complaint).
        ImportError: a ``.loom`` file without ``loompy`` installed (names the pip command).
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise InputFileNotFound(f"cells file '{p}' not found; expected {FORMATS}.")
    name = p.name.lower()
    if p.is_dir():
        if not _is_10x_folder(p):
            found = sorted(x.name for x in p.iterdir())[:10]
            raise DataError(f"folder '{p}' is not a 10x folder: no matrix.mtx[.gz] (found {found or 'nothing'}); "
                            f"expected {FORMATS}.")
        kind = "10x folder"
    elif name.endswith(".h5ad"):
        kind = "h5ad"
    elif name.endswith(".loom"):
        kind = "loom"
    elif name.endswith(".h5"):
        kind = "10x h5"
    else:
        raise DataError(f"cells file '{p}': unsupported format; expected {FORMATS}.")
    if backed and kind != "h5ad":
        raise ParameterError(f"backed=True reads .h5ad files only; '{p}' is a {kind}.")
    if kind == "loom":
        try:
            import loompy  # noqa: F401  (anndata.read_loom needs it)
        except ImportError:
            raise ImportError("reading .loom needs loompy: pip install loompy==3.0.8 (or pip install "
                              "'ugrn-explorer[scanpy]')") from None
    try:
        if kind == "h5ad":
            return anndata.read_h5ad(p, backed="r" if backed else None)
        if kind == "loom":
            import h5py
            from anndata.io import read_loom

            with h5py.File(p, "r") as f:  # loompy's names (CellID, Gene) or anndata.write_loom's (obs_names, ...)
                cols, rows = set(f.get("col_attrs", {}).keys()), set(f.get("row_attrs", {}).keys())
            obs = next((c for c in ("CellID", "obs_names", "cell_names") if c in cols), "obs_names")
            var = next((c for c in ("Gene", "var_names", "gene_names", "Accession") if c in rows), "var_names")
            return read_loom(p, sparse=True, obs_names=obs, var_names=var)
        import scanpy as sc

        if kind == "10x h5":
            a = sc.read_10x_h5(p)
        else:
            a = sc.read_10x_mtx(p, var_names="gene_symbols", make_unique=True, cache=False)
        a.var_names_make_unique()
        return a
    except Exception as e:  # h5py / anndata / scanpy raise many types for a corrupt or foreign file
        msg = str(e).splitlines()[0][:200] if str(e) else ""
        raise DataError(f"cells file '{p}' cannot be read as {kind}: {type(e).__name__}: {msg}; expected {FORMATS} "
                        "as written by anndata / scanpy / loompy / Cell Ranger.") from None


# ---------------------------------------------------------------------------------------------------------------------
# Which matrix, and the one value check
# ---------------------------------------------------------------------------------------------------------------------
def select_matrix(adata: anndata.AnnData, use_raw: bool | None = None, layer: str | None = None):
    """The expression matrix a network is built from: ``(M, var_names, where)``.

    ``M`` is ``adata.X`` (default), ``adata.raw.X`` (``use_raw=True``) or ``adata.layers[layer]``, as stored: a numpy
    array, a scipy sparse matrix or a backed (on-disk) dataset; nothing is copied. ``var_names`` (pandas Index) name
    its columns; ``where`` says which it is ("X", ".raw.X", "layers['counts']").
    ``use_raw=None`` means ``X`` (a scaled ``X`` then fails the value check with a message naming ``.raw``).
    Raises: ParameterError for ``use_raw=True`` together with ``layer``, ``use_raw=True`` without ``.raw``, or an
    unknown layer (names the layers there are).
    """
    if use_raw and layer is not None:
        raise ParameterError("use_raw=True and layer= both given; choose one (CLI: --use-raw or --layer NAME).")
    if use_raw:
        if adata.raw is None:
            raise ParameterError("use_raw=True but this AnnData has no .raw; use X (use_raw=False) or a layer "
                                 f"(layers: {list(adata.layers.keys()) or 'none'}).")
        return adata.raw.X, adata.raw.var_names, ".raw.X"
    if layer is not None:
        if layer not in adata.layers:
            raise ParameterError(f"layer {layer!r} not found; this AnnData's layers: "
                                 f"{list(adata.layers.keys()) or 'none'}" + (" (and a .raw: use_raw=True)"
                                                                             if adata.raw is not None else "") + ".")
        return adata.layers[layer], adata.var_names, f"layers[{layer!r}]"
    return adata.X, adata.var_names, "X"


def scaled_values_hint(has_raw: bool | None = None, layers=()) -> str:
    """The fix for negative values (a scaled ``X``), naming what this AnnData has: ``.raw`` / its layers.

    ``has_raw=None``: unknown (a table file), the hint then names both options generically.
    """
    layers = [str(x) for x in layers]
    if has_raw:
        fix = "its .raw holds the values before scaling: use_raw=True (CLI --use-raw)"
        if layers:
            fix += f", or a layer of non-negative values: layer=NAME (CLI --layer NAME; layers here: {', '.join(layers)})"
    elif layers:
        fix = f"use a layer of non-negative values: layer=NAME (CLI --layer NAME; layers here: {', '.join(layers)})"
    elif has_raw is None:
        fix = ("in an AnnData, keep the log-normalised values in .raw or a layer and pass use_raw=True (CLI --use-raw) "
               "or layer=NAME (CLI --layer NAME)")
    else:
        fix = ("this AnnData has no .raw and no layers: give the values before scaling (counts or log-normalised; "
               "in scanpy, set adata.raw = adata before sc.pp.scale, then use_raw=True / CLI --use-raw, or keep them "
               "in a layer: layer=NAME / --layer NAME)")
    return f"negative values such as z-scores (a scaled X) cannot be binned; {fix}"


@dataclass
class MatrixScan:
    """What one pass over a matrix found (``scan_matrix``).

    Attributes:
        totals: float64 (cells,) sum of each cell's values over all genes (the library size for counts).
        integer: True when every stored value is a whole number (raw counts).
        n_cells, n_genes: the matrix's shape.
    """

    totals: np.ndarray
    integer: bool
    n_cells: int
    n_genes: int


def _is_sparse(M) -> bool:
    """True for a scipy sparse matrix or anndata's backed (on-disk) sparse dataset."""
    from anndata.abc import CSCDataset, CSRDataset

    return sp.issparse(M) or isinstance(M, (CSRDataset, CSCDataset))


def _row_chunks(M):
    """``(start, block)`` over row chunks of ``M`` (array, sparse or backed); blocks are in-memory arrays or CSR."""
    n, g = M.shape
    step = 50_000 if _is_sparse(M) else max(1, CHUNK_ELEMENTS // max(1, g))
    for start in range(0, n, step):
        block = M[start:start + step]
        yield start, (sp.csr_matrix(block) if sp.issparse(block) else np.asarray(block))


def scan_matrix(M, label: str, var_names, obs_names, has_raw: bool | None = None, layers=()) -> MatrixScan:
    """One pass over ``M`` (cells × genes; numpy, scipy sparse or backed) in row chunks: check values, sum each cell.

    Never densifies a sparse or backed matrix (only stored values are read); a dense matrix is read in chunks of
    ``CHUNK_ELEMENTS`` values.
    Returns: ``MatrixScan`` (per-cell totals float64 (cells,), whether all values are integers).
    Raises: DataError at the first missing (NaN), infinite or negative value, naming ``label``, the value, its gene and
    cell; for a negative value the message names the fix (``scaled_values_hint``: ``use_raw=True`` / ``--use-raw``,
    ``layer=`` / ``--layer``). Also for an empty matrix.
    """
    n, g = M.shape
    if n == 0 or g == 0:
        raise DataError(f"{label} is empty ({n} cells × {g} genes).")
    totals = np.zeros(n, dtype=np.float64)
    integer = True
    negative = (lambda v: v < 0, "negative value", "non-negative counts or normalised expression (log-counts, TPM): "
                + scaled_values_hint(has_raw, layers))
    for start, block in _row_chunks(M):
        values = block.data if sp.issparse(block) else block
        if values.dtype == bool or not (np.issubdtype(values.dtype, np.integer)
                                        or np.issubdtype(values.dtype, np.floating)):
            raise DataError(f"{label}: values of type {values.dtype}; expected real numbers.")
        checks = [negative]
        if np.issubdtype(values.dtype, np.floating):
            checks = [(np.isnan, "missing value", "a number for every gene and cell"),
                      (np.isinf, "infinite value", "finite numbers"), negative]
        for test, problem, expect in checks:
            bad = test(values)
            if bad.any():
                if sp.issparse(block):
                    k = int(np.flatnonzero(bad)[0])
                    r = int(np.searchsorted(block.indptr, k, side="right") - 1)
                    c, v = int(block.indices[k]), values[k]
                else:
                    r, c = (int(x) for x in np.argwhere(bad)[0])
                    v = values[r, c]
                raise DataError(f"{label}: {problem} {v:g} for gene {str(var_names[c])!r}, cell "
                                f"{str(obs_names[start + r])!r}; expected {expect}.")
        if integer and np.issubdtype(values.dtype, np.floating):
            integer = bool(np.all(values == np.floor(values)))
        totals[start:start + block.shape[0]] = np.asarray(block.sum(axis=1), dtype=np.float64).ravel()
    return MatrixScan(totals=totals, integer=integer, n_cells=n, n_genes=g)


def median_total(totals: np.ndarray) -> float:
    """scanpy's ``normalize_total(target_sum=None)`` target: the median of the cells' totals over cells with a total > 0."""
    pos = totals[totals > 0]
    return float(np.median(pos)) if len(pos) else 1.0


def selected_columns(M, cols: np.ndarray, scan: MatrixScan | None = None, normalise: bool = False):
    """Columns ``cols`` (int indices) of ``M`` for every cell, read in row chunks: CSR when ``M`` is sparse or backed
    sparse, else a dense float32 array (cells × len(cols)); the rest of ``M`` is never copied.

    ``normalise=True`` (raw counts; needs ``scan``) applies scanpy's ``normalize_total`` then ``log1p``:
    ``log(1 + x · median_total / total_cell)`` with ``total_cell`` over all genes of ``M`` (cells with total 0 stay 0),
    equal to ``sc.pp.normalize_total(a); sc.pp.log1p(a)`` on the whole matrix, then taking the columns.
    """
    cols = np.asarray(cols, dtype=np.int64)
    parts, sparse = [], None
    for _, block in _row_chunks(M):
        b = block[:, cols]
        sparse = sp.issparse(b)
        parts.append(sp.csr_matrix(b, dtype=np.float32) if sparse else np.asarray(b, dtype=np.float32))
    S = sp.vstack(parts, format="csr") if sparse else np.vstack(parts)
    if normalise:
        if scan is None:
            raise ParameterError("selected_columns(normalise=True) needs the matrix scan (per-cell totals)")
        t = scan.totals
        factor = (median_total(t) / np.where(t > 0, t, 1.0)).astype(np.float32)
        if sparse:
            S = sp.csr_matrix(sp.diags(factor) @ S)
            S.data = np.log1p(S.data)
        else:
            S = np.log1p(S * factor[:, None])
    return S


def dense(block) -> np.ndarray:
    """A (small, already subset) block as a dense float32 array."""
    return block.toarray().astype(np.float32) if sp.issparse(block) else np.asarray(block, dtype=np.float32)


def all_genes_normalised(M, scan: MatrixScan, normalise: bool) -> anndata.AnnData:
    """All of ``M`` as an in-memory AnnData (sparse stays sparse), normalised and log1p'd when ``normalise``: the copy
    ``sc.pp.highly_variable_genes`` ranks genes on. A backed matrix is read into memory here (as CSR when sparse)."""
    return anndata.AnnData(X=selected_columns(M, np.arange(M.shape[1]), scan, normalise))
