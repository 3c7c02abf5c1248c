"""Gene-embedding priors H for InfoSEM (paper Sec. 3.2: "h_i, the d-dimensional embedding of gene i").

Each source returns a ``GeneEmbedding``: float32 (P, d) rows in the order of the requested genes, plus which genes it
covered (uncovered genes get an all-zero row, i.e. the mean embedding after InfoSEM's per-dimension standardisation,
so their prior mean carries no gene-specific information).

Sources (``EMBEDDING_SOURCES``):
- ``"scgpt"``: the loaded scGPT checkpoint's gene-token embeddings (``ScFM.embeddings``) through the vocabulary mapping
  (mouse genes via human orthologs, ``data.map_to_vocab``): where the foundation-model and SEM families meet;
- ``"biobert"``: the 768-d BioBERT vectors of gene names shipped by scGREAT (Wang et al. 2024) in
  ``<data dir>/embeddings/biobert_scgreat/`` (hESC and mESC TFs+500 gene sets only) — the paper's InfoSEM prior;
- ``"random"``: N(0, 1) vectors (d = 64, seeded by the gene symbol, so a gene always gets the same vector);
- ``"onehot"``: the P × P identity (non-informative controls of the paper's Fig. 4).
The paper's text-description prior made with a sentence-embedding model is not implemented here (see README/report).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import resolve_data_dir

EMBEDDING_SOURCES = ("scgpt", "biobert", "random", "onehot")


@dataclass
class GeneEmbedding:
    """Gene embeddings for a gene list.

    Attributes:
        source: one of ``EMBEDDING_SOURCES``.
        genes: the requested genes (upper-case), row order of ``matrix``.
        matrix: float32 (P, d); zero rows for uncovered genes.
        covered: bool (P,), True where the source had a vector for the gene.
    """

    source: str
    genes: list[str]
    matrix: np.ndarray
    covered: np.ndarray

    @property
    def coverage(self) -> float:
        """Fraction of genes with a vector, in [0, 1]."""
        return float(self.covered.mean()) if len(self.covered) else 0.0


def _random(genes: list[str], dim: int = 64) -> np.ndarray:
    out = np.empty((len(genes), dim), dtype=np.float32)
    for i, g in enumerate(genes):
        seed = int.from_bytes(hashlib.sha256(g.encode()).digest()[:8], "little")
        out[i] = np.random.default_rng(seed).standard_normal(dim)
    return out


def biobert_tables(data_dir=None) -> dict[str, Path]:
    """Available BioBERT tables: ``{name: path to the .npy}`` (names like "mESC_TFs500")."""
    root = resolve_data_dir(data_dir) / "embeddings" / "biobert_scgreat"
    return {p.name.replace("_biobert768.npy", ""): p for p in sorted(root.glob("*_biobert768.npy"))}


def _biobert(genes: list[str], data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    table: dict[str, np.ndarray] = {}
    for name, npy in biobert_tables(data_dir).items():
        names = Path(str(npy).replace("_biobert768.npy", "_genes.txt")).read_text().split()
        names = names[1:] if names and names[0].lower() == "gene" else names
        M = np.load(npy)
        if len(names) != len(M):
            raise ValueError(f"'{npy}' has {len(M)} rows but its gene list has {len(names)} names")
        for g, v in zip(names, M):
            table.setdefault(g.upper(), v)
    out = np.zeros((len(genes), 768), dtype=np.float32)
    covered = np.array([g in table for g in genes], dtype=bool)
    for i, g in enumerate(genes):
        if covered[i]:
            out[i] = table[g]
    return out, covered


def _scgpt(genes: list[str], fm, species: str, data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    from .vocab import map_to_vocab

    mapping = map_to_vocab(genes, fm.vocab, species, data_dir, warn=False)
    rows = {g: i for i, g in enumerate(genes)}
    out = np.zeros((len(genes), fm.d_model), dtype=np.float32)
    covered = np.zeros(len(genes), dtype=bool)
    if mapping.genes:
        idx = np.array([rows[g] for g in mapping.genes])
        out[idx] = fm.embeddings(mapping.token_ids)
        covered[idx] = True
    return out, covered


def gene_embeddings(source: str, genes, species: str = "human", fm=None, data_dir=None) -> GeneEmbedding:
    """Embeddings of ``genes`` from ``source`` (see the module docstring).

    Args:
        source: one of ``EMBEDDING_SOURCES`` (case-insensitive).
        genes: gene symbols (upper-cased here).
        species: "human" or "mouse" (scGPT's vocabulary mapping).
        fm: the loaded ``scfm.ScFM`` (required for "scgpt").
        data_dir: data directory (BioBERT tables, ortholog table).

    Raises:
        ValueError: unknown source, "scgpt" without a model, or a source that covers none of the genes.
    """
    src = str(source).strip().lower()
    genes = [str(g).upper() for g in genes]
    if src == "random":
        M, cov = _random(genes), np.ones(len(genes), dtype=bool)
    elif src == "onehot":
        M, cov = np.eye(len(genes), dtype=np.float32), np.ones(len(genes), dtype=bool)
    elif src == "biobert":
        M, cov = _biobert(genes, data_dir)
    elif src == "scgpt":
        if fm is None:
            raise ValueError("the 'scgpt' gene-embedding prior needs a loaded foundation model (fm)")
        M, cov = _scgpt(genes, fm, species, data_dir)
    else:
        raise ValueError(f"unknown gene-embedding source {source!r}; choose from {list(EMBEDDING_SOURCES)}")
    if not cov.any():
        raise ValueError(f"gene-embedding source {src!r} covers none of the {len(genes)} genes "
                         f"(e.g. {genes[:5]}); BioBERT tables exist for {list(biobert_tables(data_dir))}")
    return GeneEmbedding(src, genes, M, cov)
