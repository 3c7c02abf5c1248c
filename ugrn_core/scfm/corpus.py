"""The broadened pretraining corpus: every real cell in the data directory, normalised to one scale, binned, and a
cell-type-balanced sampler.

Sources (``SOURCES``; provenance and value types in ``<data_dir>/SOURCES.md`` sections 1b, 2, 2b): the five BEELINE
cell types with expression (every TFs+500/1000 folder of a cell type merged), the four BEELINE legacy TF-only
matrices, HSMM, pbmc68k_reduced and the ten full-transcriptome sets of section 2b (the five CellBench files as five
sources of one group). ``10x_pbmc68k_reduced_scanpy.h5ad`` holds the same 700 cells as ``pbmc68k_reduced.h5ad`` and is
not read twice.

One scale: natural log of 1 + a per-cell-normalised value, set per source from its documented value type
(``NORMALISATIONS``): counts and corrected counts of a full transcriptome → total per cell scaled to 10,000, then
``log1p`` (scanpy's ``normalize_total`` + ``log1p``); counts of a TF-only matrix → ``log1p`` (a dozen genes are no
library size); FPKM / RPKM / TPM / other linear normalised values → ``log1p``; ``log2(x+1)`` → × ln 2; natural-log
values → as they are; scaled values with negatives → the file's ``.raw`` (then by its type). The per-cell quantile
binning that follows (``scfm.bin_values``, Cui et al. 2024) depends only on the order of a cell's non-zero values,
which every one of these per-cell monotone maps keeps: the normalisation fixes which values count as zero
(``.raw`` instead of z-scores) and gives every source the same value scale for anything read off the values.

Gene names: Ensembl IDs (CellBench, HSMM) → symbols through ``gene_ids`` (GENCODE v44), else the file's symbol
column; tokens as in ``pretrain`` (mouse genes through their human ortholog, else the upper-cased symbol).

Sampler (:func:`balanced_weights`): a source is drawn with probability ∝ √(training cells) × min(1, genes/seq_len)
(tempered, so the 2,170-cell PBMC set does not swamp a 40-cell one, and a 12-gene TF-only matrix is not drawn like a
transcriptome); within a source every cell type (``obs`` column named in ``SOURCES``) is drawn equally often.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..config import resolve_data_dir
from ..errors import DataError, ParameterError
from .model import SPECIAL_TOKENS
from .vocab import candidate_tokens, load_orthologs

BEELINE_EXPRESSION_CELLS = ("hHEP", "mDC", "mESC", "mHSC-GM", "mHSC-L")


@dataclass
class Corpus:
    """One expression source for pretraining: ``X`` binned float32 (cells, genes), ``tokens`` human symbols (genes,)."""

    name: str
    species: str
    tokens: list[str]
    X: np.ndarray


def _to_tokens(genes: list[str], species: str, orthologs: dict[str, str]) -> list[str]:
    """Token symbol of each gene: the first of ``vocab.candidate_tokens`` (the rule ``map_to_vocab`` matches with)."""
    return [candidate_tokens(g.upper(), species, orthologs)[0] for g in genes]

TF_LIST_FILES = {"human": Path("beeline") / "BEELINE-Networks" / "human-tfs.csv",
                 "mouse": Path("beeline") / "BEELINE-Networks" / "mouse-tfs.csv"}

# value type → (normalisation applied, detector class expected for it)
NORMALISATIONS = {
    "counts": ("normalize_total 1e4 + log1p", "counts"),
    "corrected counts": ("normalize_total 1e4 + log1p", "linear"),
    "counts (TF-only)": ("log1p (no library size: TF-only matrix)", "counts"),
    "FPKM": ("log1p", "linear"),
    "RPKM": ("log1p", "linear"),
    "normalised (linear)": ("log1p", "linear"),
    "log2(x+1)": ("× ln 2 (log2 → natural log)", "log"),
    "log2 FPKM": ("× ln 2 (log2 → natural log)", "log"),
    "ln(1+x)": ("as is", "log"),
    "log (base unknown)": ("as is", "log"),
    "scaled": ("use .raw", "scaled"),
}


@dataclass(frozen=True)
class Source:
    """One expression file of the broad corpus.

    ``key``: name used by ``exclude``; ``path``: relative to the data directory (None for BEELINE, read through
    ``datasets``); ``values``: documented value type (a key of :data:`NORMALISATIONS`); ``cell_type``: obs column of
    cell types or states (None: one group); ``symbols``: var column with symbols (None: ``var_names``);
    ``genes_by_cells``: a CSV with genes as rows; ``overlaps``: BEELINE test cell type whose cells (or study) this file shares, so
    ``exclude`` of that cell type removes it too; ``group``: sources of one study (for the table).
    """

    key: str
    path: str | None
    species: str
    values: str
    study: str
    cell_type: str | None = None
    symbols: str | None = None
    genes_by_cells: bool = False
    overlaps: str | None = None
    group: str = ""


_S = "scrna/"
SOURCES: tuple[Source, ...] = (
    Source("hHEP", None, "human", "log2 FPKM", "BEELINE hHEP, Camp 2017"),
    Source("mDC", None, "mouse", "log2(x+1)", "BEELINE mDC, Shalek 2014"),
    Source("mESC", None, "mouse", "log2(x+1)", "BEELINE mESC, Hayashi 2018"),
    Source("mHSC-GM", None, "mouse", "log2(x+1)", "BEELINE mHSC-GM, Nestorowa 2016"),
    Source("mHSC-L", None, "mouse", "log2(x+1)", "BEELINE mHSC-L, Nestorowa 2016"),
    Source("legacy hESC", _S + "beeline_legacy_tf_subsets/hESC/ExpressionData.csv.gz", "human", "log (base unknown)",
           "BEELINE legacy, Chu 2016 (49 TFs)", genes_by_cells=True, overlaps="hESC", group="legacy"),
    Source("legacy mES-PE", _S + "beeline_legacy_tf_subsets/mES-PE/ExpressionData.csv.gz", "mouse",
           "log (base unknown)", "BEELINE legacy, Hayashi 2018 (47 TFs)", genes_by_cells=True, overlaps="mESC",
           group="legacy"),
    Source("legacy mEF", _S + "beeline_legacy_tf_subsets/mEF/ExpressionData.csv.gz", "mouse", "log (base unknown)",
           "BEELINE legacy, Treutlein 2016 (40 TFs)", genes_by_cells=True, group="legacy"),
    Source("legacy mES-retinoic", _S + "beeline_legacy_tf_subsets/mES-retinoic/ExpressionData.csv.gz", "mouse",
           "counts (TF-only)", "BEELINE legacy, Semrau 2017 (12 TFs)", genes_by_cells=True, group="legacy"),
    Source("pbmc68k_reduced", _S + "pbmc68k_reduced/pbmc68k_reduced.h5ad", "human", "ln(1+x)",
           "10x PBMC 68k (Zheng 2017), scanpy subsample", cell_type="bulk_labels", group="PBMC"),
    Source("HSMM", _S + "hsmm_trapnell2014/HSMM.h5ad", "human", "FPKM", "myoblasts (Trapnell 2014)",
           symbols="gene_short_name"),
    Source("pbmc4k", _S + "soupx_pbmc4k_human/PBMC_sc_toc.h5ad", "human", "counts", "10x PBMC 4k (SoupX)",
           cell_type="cell_type", group="PBMC"),
    Source("cellbench celseq2", _S + "cellbench_sc_mixology/sc_celseq2.h5ad", "human", "counts",
           "lung cancer lines (CellBench)", cell_type="cell_type", symbols="symbol", group="CellBench"),
    Source("cellbench celseq2 5cl p1", _S + "cellbench_sc_mixology/sc_celseq2_5cl_p1.h5ad", "human", "counts",
           "lung cancer lines (CellBench)", cell_type="cell_type", symbols="symbol", group="CellBench"),
    Source("cellbench celseq2 5cl p2", _S + "cellbench_sc_mixology/sc_celseq2_5cl_p2.h5ad", "human", "counts",
           "lung cancer lines (CellBench)", cell_type="cell_type", symbols="symbol", group="CellBench"),
    Source("cellbench celseq2 5cl p3", _S + "cellbench_sc_mixology/sc_celseq2_5cl_p3.h5ad", "human", "counts",
           "lung cancer lines (CellBench)", cell_type="cell_type", symbols="symbol", group="CellBench"),
    Source("cellbench dropseq", _S + "cellbench_sc_mixology/sc_dropseq.h5ad", "human", "counts",
           "lung cancer lines (CellBench)", cell_type="cell_type", symbols="symbol", group="CellBench"),
    Source("celltypist sample", _S + "celltypist_sample/celltypist_sample_cell_by_gene.h5ad", "human", "counts",
           "immune cells (CellTypist sample)", group="PBMC"),
    Source("MAIT", _S + "mast_maits_human/maits.h5ad", "human", "log2(x+1)", "blood MAIT cells (MAST)",
           cell_type="cell_type", group="PBMC"),
    Source("embryo", _S + "yan2013_human_embryo/yan2013.h5ad", "human", "RPKM", "pre-implantation embryo (Yan 2013)",
           cell_type="cell_type"),
    Source("fetal cortex", _S + "scde_pollen2014_human/pollen.h5ad", "human", "counts", "fetal cortex (Pollen 2014)",
           cell_type="cell_type"),
    Source("lung", _S + "treutlein2014_mouse_lung/treutlein2014.h5ad", "mouse", "FPKM",
           "embryonic lung epithelium (Treutlein 2014)", cell_type="cluster_label"),
    Source("intestine", _S + "raceid_intestine_mouse/intestinalData.h5ad", "mouse", "corrected counts",
           "intestinal crypts (RaceID)"),
    # 74 of its 131 cells (LPS_6h_S*) are BEELINE mDC cells (same names, r = 0.94 on shared genes): Shalek 2014
    Source("BMDC LPS", _S + "tscan_lps_bmdc_mouse/lpsdata.h5ad", "mouse", "normalised (linear)",
           "dendritic cells, LPS (TSCAN; Shalek 2014)", cell_type="timepoint", overlaps="mDC"),
    Source("ES/MEF", _S + "scde_es_mef_islam2011_mouse/es_mef_small.h5ad", "mouse", "counts",
           "ES cells / fibroblasts (Islam 2011)", cell_type="cell_type"),
)
SOURCE_KEYS = tuple(s.key for s in SOURCES)
SKIPPED = {"scrna/pbmc68k_reduced/10x_pbmc68k_reduced_scanpy.h5ad": "same 700 cells as pbmc68k_reduced.h5ad "
                                                                   "(scaled X; its .raw equals that file's X)"}


@dataclass
class SourceCorpus(Corpus):
    """A :class:`pretrain.Corpus` of the broad corpus. ``X`` is uint8 bins (cells, tokens); also ``cell_types``
    (cells,) str, ``nonzero`` (tokens,) int64 cells with a non-zero value, and ``record`` (the table row)."""

    cell_types: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    nonzero: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    record: dict = field(default_factory=dict)


def detect_value_type(X) -> str:
    """Coarse value class of an expression matrix from its non-zero values: ``"scaled"`` (any negative value),
    ``"counts"`` (all integers), ``"log"`` (maximum ≤ 25, e.g. log1p or log2 of normalised values) or ``"linear"``
    (FPKM, RPKM, TPM, corrected counts). A check of the documented type, not a substitute for it."""
    d = X.data if sp.issparse(X) else np.asarray(X).ravel()
    d = d[d != 0]
    if d.size == 0:
        return "counts"
    if d.min() < 0:
        return "scaled"
    if np.all(np.abs(d - np.round(d)) < 1e-6):
        return "counts"
    return "log" if d.max() <= 25 else "linear"


def normalise(X: sp.csr_matrix, values: str) -> sp.csr_matrix:
    """``X`` (cells, genes) CSR float of value type ``values`` (a key of :data:`NORMALISATIONS` other than "scaled")
    → natural log of 1 + per-cell-normalised value (module docstring). Returns a new CSR float32 matrix.

    Raises: ParameterError for an unknown value type.
    """
    if values not in NORMALISATIONS or values == "scaled":
        raise ParameterError(f"normalise: value type {values!r}; expected one of "
                             f"{[k for k in NORMALISATIONS if k != 'scaled']}")
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    rule = NORMALISATIONS[values][0]
    if rule.startswith("normalize_total"):
        totals = np.asarray(X.sum(axis=1)).ravel()
        scale = np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)
        X = sp.csr_matrix(sp.diags(scale) @ X)
        X.data = np.log1p(X.data)
    elif rule.startswith("log1p"):
        X.data = np.log1p(X.data)
    elif rule.startswith("×"):
        X.data = X.data * np.log(2.0)
    return X.astype(np.float32)


def bin_sparse(X: sp.csr_matrix, n_bins: int = 51) -> np.ndarray:
    """``scfm.bin_values`` on a CSR matrix without densifying the float values: uint8 (cells, genes) bins,
    identical to ``bin_values(X.toarray(), n_bins)`` (ties share the higher rank; zeros and negatives → 0).

    Raises: ParameterError when ``n_bins`` does not fit uint8 (2..256)."""
    if not 2 <= n_bins <= 256:
        raise ParameterError(f"bin_sparse: n_bins {n_bins}; expected 2..256 to store bins as uint8")
    X = sp.csr_matrix(X)
    out = np.zeros(X.shape, dtype=np.uint8)
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        vals, cols = X.data[lo:hi], X.indices[lo:hi]
        pos = vals > 0
        vals, cols = vals[pos], cols[pos]
        k = len(vals)
        if k:
            rank = np.searchsorted(np.sort(vals), vals, side="right")
            out[i, cols] = np.ceil(rank / k * (n_bins - 1)).astype(np.uint8)
    return out


def beeline_expression(cell: str, data_dir=None) -> pd.DataFrame:
    """Cells × genes expression of a BEELINE cell type: every TFs+500/1000 folder with expression merged (the folders
    of a cell type share their cells). Raises FileNotFoundError when none has expression."""
    from ..data import datasets as ugrn_datasets

    data_dir = resolve_data_dir(data_dir)
    frames = []
    for name in ugrn_datasets.list_datasets(data_dir):
        if name.split("/")[1] != cell:
            continue
        ds = ugrn_datasets.load_beeline(name, data_dir)
        if ds.has_expression:
            frames.append(ds.expression.to_df())
    if not frames:
        raise FileNotFoundError(f"no BEELINE expression found for {cell} under {data_dir / 'beeline'}")
    cells = frames[0].index
    merged = pd.concat([f.loc[cells] for f in frames], axis=1)
    return merged.loc[:, ~merged.columns.duplicated()]


def read_source(src: Source, data_dir=None) -> tuple[ad.AnnData, dict]:
    """Read one source as AnnData (cells × genes; var_names = gene symbols, Ensembl IDs mapped; X CSR float32 on the
    one scale of :func:`normalise`; ``obs["cell_type"]`` str) and its table row (dict: file, values documented and
    detected, normalisation, cells, genes, Ensembl IDs mapped, cell types).

    Raises: FileNotFoundError for a missing file; DataError when the detected value class contradicts the documented
    type (e.g. negative values where counts were expected).
    """
    from ..data.gene_ids import ensembl_to_symbols

    data_dir = resolve_data_dir(data_dir)
    values, used_raw = src.values, False
    if src.path is None:
        df = beeline_expression(src.key, data_dir)
        adata = ad.AnnData(sp.csr_matrix(df.to_numpy(np.float32)), obs=pd.DataFrame(index=df.index.astype(str)),
                           var=pd.DataFrame(index=df.columns.astype(str)))
    elif src.genes_by_cells:
        path = data_dir / src.path
        if not path.is_file():
            raise FileNotFoundError(f"pretraining source '{path}' not found ({src.key}); see SOURCES.md")
        df = pd.read_csv(path, index_col=0)
        adata = ad.AnnData(sp.csr_matrix(df.T.to_numpy(np.float32)), obs=pd.DataFrame(index=df.columns.astype(str)),
                           var=pd.DataFrame(index=df.index.astype(str)))
    else:
        path = data_dir / src.path
        if not path.is_file():
            raise FileNotFoundError(f"pretraining source '{path}' not found ({src.key}); see SOURCES.md")
        adata = ad.read_h5ad(path)
    detected = detect_value_type(adata.X)
    if detected == "scaled" and adata.raw is not None:
        adata = adata.raw.to_adata()
        used_raw, detected = True, detect_value_type(adata.X)
    expected = NORMALISATIONS[values][1]
    if detected != expected:
        raise DataError(f"pretraining source {src.key!r}: values look {detected!r} but {values!r} is documented "
                        f"(expected {expected!r}); check '{src.path}' against SOURCES.md")
    genes = list(adata.var_names.astype(str))
    mapping = ensembl_to_symbols(genes, data_dir, warn=False)
    names = mapping.symbols
    if src.symbols is not None and mapping.unmapped:  # the file's own symbol column for IDs GENCODE v44 lacks
        own = dict(zip(genes, adata.var[src.symbols].astype(str)))
        missing = set(mapping.unmapped)
        names = [own.get(g, g) if g in missing else n for g, n in zip(genes, names)]
    X = normalise(adata.X, values)
    cell_types = (adata.obs[src.cell_type].astype(str).to_numpy(object) if src.cell_type
                  else np.full(adata.n_obs, src.key, dtype=object))
    with warnings.catch_warnings():  # several IDs may share a symbol: load_broad_corpus keeps the first
        warnings.filterwarnings("ignore", message="Variable names are not unique")
        out = ad.AnnData(X, obs=pd.DataFrame({"cell_type": cell_types}, index=adata.obs_names.astype(str)),
                         var=pd.DataFrame(index=pd.Index(names, dtype=str)))
    record = {
        "source": src.key, "species": src.species, "study": src.study,
        "file": src.path or f"beeline/*/{src.key}/TFs+*/BL--ExpressionData.csv.gz",
        "values": values + (" (scaled X; .raw used)" if used_raw else ""), "detected": detected,
        "normalisation": NORMALISATIONS[values][0], "cells": int(adata.n_obs), "genes": int(adata.n_vars),
        "ensembl_ids": f"{mapping.n_mapped} of {mapping.n_ids}" if mapping.n_ids else "",
        "cell_type_column": src.cell_type or "", "cell_types": int(len(set(cell_types))),
        "overlaps": src.overlaps or "",
    }
    return out, record


def chosen_sources(exclude=()) -> list[Source]:
    """The sources of :data:`SOURCES` left after ``exclude`` (keys of ``SOURCES`` or ``hESC``; a BEELINE cell type
    also drops every source whose ``overlaps`` names it).

    Raises: ParameterError for an unknown name or when everything is excluded."""
    exclude = {str(x).strip() for x in exclude if str(x).strip()}
    known = set(SOURCE_KEYS) | {"hESC"}
    unknown = sorted(exclude - known)
    if unknown:
        raise ParameterError(f"exclude: unknown pretraining source(s) {unknown}; expected names of "
                             f"{list(SOURCE_KEYS) + ['hESC']} (a BEELINE cell type also drops the files that share "
                             "its cells or study)")
    chosen = [s for s in SOURCES if s.key not in exclude and s.overlaps not in exclude]
    if not chosen:
        raise ParameterError("exclude: every pretraining source is excluded; nothing to train on")
    return chosen


def load_broad_corpus(data_dir=None, n_bins: int = 51, exclude=(), progress: bool = False) -> list[SourceCorpus]:
    """Read, normalise and bin every source of :data:`SOURCES` except those in ``exclude`` (keys of ``SOURCES`` or
    ``hESC``; a BEELINE cell type also drops the sources whose ``overlaps`` names it: ``legacy hESC``,
    ``legacy mES-PE``, ``BMDC LPS``). Each corpus's ``record`` holds its table row plus ``tokens`` and ``seconds``.

    Raises: ParameterError for an unknown name or when everything is excluded; FileNotFoundError for a missing file.
    """
    chosen = chosen_sources(exclude)
    data_dir = resolve_data_dir(data_dir)
    orthologs = load_orthologs(data_dir)
    out = []
    for src in chosen:
        t0 = time.time()
        adata, record = read_source(src, data_dir)
        tokens = _to_tokens(list(adata.var_names), src.species, orthologs)
        keep, seen = [], set()
        for i, t in enumerate(tokens):
            if t and t not in seen and t not in SPECIAL_TOKENS:
                seen.add(t)
                keep.append(i)
        X = adata.X[:, keep]
        bins = bin_sparse(X, n_bins)
        nonzero = np.asarray((X > 0).sum(axis=0)).ravel().astype(np.int64)
        record.update(tokens=len(keep), seconds=round(time.time() - t0, 2))
        out.append(SourceCorpus(src.key, src.species, [tokens[i] for i in keep], bins,
                                cell_types=adata.obs["cell_type"].to_numpy(object), nonzero=nonzero, record=record))
        if progress:
            print(f"  {src.key}: {record['cells']} cells × {record['tokens']} tokens ({record['seconds']} s)",
                  flush=True)
    return out


def corpus_table(corpora: list[SourceCorpus], skipped: bool = True) -> pd.DataFrame:
    """One row per source (the ``record`` of each corpus), plus the files read but skipped (``SKIPPED``)."""
    rows = [dict(c.record) for c in corpora]
    if skipped:
        rows += [{"source": "(skipped)", "file": f, "values": why} for f, why in SKIPPED.items()]
    return pd.DataFrame(rows)


def tf_list_tokens(data_dir=None) -> list[str]:
    """Tokens of the BEELINE human and mouse TF lists (``beeline/BEELINE-Networks/<species>-tfs.csv``, column
    ``TF``): human symbols as listed, mouse ones through their human ortholog (``pretrain``'s token rule).

    Raises: FileNotFoundError when a list is missing."""
    data_dir = resolve_data_dir(data_dir)
    orthologs = load_orthologs(data_dir)
    out: list[str] = []
    for species, rel in TF_LIST_FILES.items():
        path = data_dir / rel
        if not path.is_file():
            raise FileNotFoundError(f"TF list '{path}' not found; expected BEELINE's {species}-tfs.csv")
        tfs = pd.read_csv(path)["TF"].dropna().astype(str).str.strip().tolist()
        out += _to_tokens(tfs, species, orthologs)
    return list(dict.fromkeys(t for t in out if t))


def gene_counts(corpora: list[Corpus], extra_tokens=()) -> pd.DataFrame:
    """Per token, the cells with a non-zero value summed over ``corpora`` (``nonzero`` of a :class:`SourceCorpus`,
    else counted from ``X``) and the number of sources that measured it; ``extra_tokens`` (e.g. TF lists) not measured
    anywhere get 0. Columns ``token, cells_nonzero, sources``; sorted by token."""
    cells: dict[str, int] = {}
    sources: dict[str, int] = {}
    for c in corpora:
        nz = getattr(c, "nonzero", None)
        if nz is None or len(nz) != len(c.tokens):
            nz = (np.asarray(c.X) > 0).sum(axis=0)
        for t, n in zip(c.tokens, nz):
            cells[t] = cells.get(t, 0) + int(n)
            sources[t] = sources.get(t, 0) + 1
    for t in extra_tokens:
        cells.setdefault(t, 0)
        sources.setdefault(t, 0)
    toks = sorted(cells)
    return pd.DataFrame({"token": toks, "cells_nonzero": [cells[t] for t in toks],
                         "sources": [sources[t] for t in toks]})


GENE_COUNTS_FILE = "gene_counts.tsv"


def barely_seen(fm, genes, min_cells: int = 10, species: str = "human", data_dir=None) -> pd.DataFrame:
    """Genes of ``genes`` that the checkpoint ``fm`` saw expressed in fewer than ``min_cells`` pretraining cells.

    Reads ``<fm.path>/gene_counts.tsv`` (written by ``pretrain`` for the broad corpus). Genes map to tokens as in
    ``vocab.map_to_vocab``; genes without a token are not listed here (they are unmapped, not barely seen).

    Returns: DataFrame ``gene, token, cells_nonzero`` sorted by ``cells_nonzero`` (empty when all were seen enough).
    Raises: ParameterError when ``min_cells`` < 1; FileNotFoundError when the checkpoint has no gene_counts.tsv
        (checkpoints pretrained before it existed: rebuild with ``ugrn pretrain --corpus broad``).
    """
    from .vocab import map_to_vocab

    if min_cells < 1:
        raise ParameterError(f"barely_seen: min_cells {min_cells}; expected at least 1")
    path = Path(fm.path or "") / GENE_COUNTS_FILE
    if fm.path is None or not path.is_file():
        raise FileNotFoundError(f"checkpoint '{fm.path}' has no {GENE_COUNTS_FILE} (per-gene counts of expressing "
                                "pretraining cells); it is written by `ugrn pretrain --corpus broad`")
    counts = pd.read_csv(path, sep="\t", index_col="token")["cells_nonzero"]
    m = map_to_vocab(list(genes), fm.vocab, species, data_dir=data_dir, warn=False)
    n = [int(counts.get(t, 0)) for t in m.tokens]
    df = pd.DataFrame({"gene": m.genes, "token": m.tokens, "cells_nonzero": n})
    return df[df["cells_nonzero"] < min_cells].sort_values("cells_nonzero", kind="stable").reset_index(drop=True)


def balanced_weights(corpora: list[Corpus], train_cells: list[np.ndarray], seq_len: int = 512,
                     alpha: float = 0.5) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sampling probabilities of the cell-type-balanced sampler.

    Source k is drawn with probability ∝ n_k^alpha × min(1, genes_k / seq_len) (n_k its training cells); within it,
    training cell i with probability ∝ 1 / (training cells of its cell type), so every cell type of a source is drawn
    equally often (``cell_types`` of a :class:`SourceCorpus`; other corpora are one type).

    Args:
        corpora: the corpora; train_cells: per corpus, int indices of its training cells.
    Returns: (source probabilities, float64 (K,) summing to 1; per corpus, float64 probabilities over its
        ``train_cells`` summing to 1).
    Raises: ParameterError when alpha is outside [0, 1] or a corpus has no training cell.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ParameterError(f"balanced_weights: alpha {alpha}; expected 0 (equal sources) .. 1 (by cells)")
    w, cell_p = [], []
    for c, idx in zip(corpora, train_cells):
        idx = np.asarray(idx)
        if not len(idx):
            raise ParameterError(f"balanced_weights: corpus {c.name!r} has no training cells")
        types = getattr(c, "cell_types", None)
        types = np.asarray(types, dtype=object)[idx] if types is not None and len(types) else np.zeros(len(idx))
        _, inv, cnt = np.unique(types.astype(str), return_inverse=True, return_counts=True)
        p = 1.0 / cnt[inv]
        cell_p.append(p / p.sum())
        w.append(len(idx) ** alpha * min(1.0, len(c.tokens) / seq_len))
    w = np.asarray(w, dtype=float)
    return w / w.sum(), cell_p


def sampling_shares(corpora: list[Corpus], train_cells: list[np.ndarray], seq_len: int = 512,
                    alpha: float = 0.5) -> pd.DataFrame:
    """Expected share of sampled cells per (source, cell type) under :func:`balanced_weights`, beside its share of
    the corpus's cells. Columns ``source, cell_type, cells, share_of_cells, share_sampled``."""
    w, cell_p = balanced_weights(corpora, train_cells, seq_len, alpha)
    total = sum(len(i) for i in train_cells)
    rows = []
    for c, idx, wk, p in zip(corpora, train_cells, w, cell_p):
        types = getattr(c, "cell_types", None)
        types = (np.asarray(types, dtype=object)[np.asarray(idx)] if types is not None and len(types)
                 else np.full(len(idx), c.name, dtype=object)).astype(str)
        for t in np.unique(types):
            sel = types == t
            rows.append({"source": c.name, "cell_type": t, "cells": int(sel.sum()),
                         "share_of_cells": sel.sum() / total, "share_sampled": float(wk * p[sel].sum())})
    return pd.DataFrame(rows)
