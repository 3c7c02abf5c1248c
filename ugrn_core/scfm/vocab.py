"""Mapping dataset genes into a checkpoint vocabulary: mouse→human orthologs and case-insensitive symbol matching.

One rule (``candidate_tokens``) says which vocabulary symbols a gene may take, in preference order; ``map_to_vocab``
matches datasets against a model's vocabulary with it and ``pretrain`` names the tokens of a new vocabulary with it.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import DATA_HELP, resolve_data_dir
from ..errors import InputFileNotFound, ParameterError
from ..errors import first_items

SPECIAL_TOKENS = frozenset({"<pad>", "<cls>", "<eoc>"})
ORTHOLOG_FILE = Path("gene_annotation") / "ensembl105_human2mouse_genes.csv.gz"


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
            s += f"; {len(self.unmapped)} unmapped: {first_items(self.unmapped, 20)}"
        return s


def candidate_tokens(gene: str, species: str, orthologs: Mapping[str, str]) -> list[str]:
    """Vocabulary symbols gene ``gene`` may take, in preference order (the one rule for datasets and pretraining).

    - human: the gene symbol itself;
    - mouse: its human ortholog (``orthologs``: upper-case mouse symbol → human symbol, :func:`load_orthologs`) when
      it has one, then the upper-cased mouse symbol.
    """
    if species == "mouse":
        g = gene.upper()
        human = orthologs.get(g)
        return [human, g] if human else [g]
    return [gene]


def map_to_vocab(genes: Sequence[str], vocab: Mapping[str, int], species: str, data_dir=None,
                 warn: bool = True) -> VocabMapping:
    """Map dataset genes to tokens of a model vocabulary (token → index, e.g. scGPT's ``vocab.json``).

    Matching is case-insensitive (an exact match wins), so ``C9ORF72`` finds the token ``C9orf72``. Each gene takes the
    first of its :func:`candidate_tokens` found in the vocabulary (human: the symbol; mouse: the human ortholog, else
    the upper-cased mouse symbol).
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
        candidates = candidate_tokens(gene, species, orthologs)
        for k, symbol in enumerate(candidates):
            tok = find(symbol)
            if tok is not None:
                via_orth = len(candidates) > 1 and k == 0
                break
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


