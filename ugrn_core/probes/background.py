"""Background context genes: a short gene list is probed inside a context of the translator's training size.

VVP and GDT responses shrink roughly as 1/N with the number N of context genes (one of N attention keys moves; see
``Translator.context_warning``), so a projector trained on an 818-gene context extrapolates on a 10-gene list and
scores nearly every pair ≈ 1.0. The fix measured in ``benchmarks/context_size.py`` (results in
``benchmarks/results/context_size.md``): place the user's genes among *background genes* until the context has the
translator's training size, run the virtual-cell probes on that context, and score only pairs among the user's genes
(``features.DatasetProbes(background=...)``: model rows only for the user's genes as VVP sources and GDT targets).

Backgrounds are vocabulary tokens, so a human background serves a mouse gene list (mouse genes map to human
orthologs, ``vocab.map_to_vocab``). Sources: the translator's own training context (``Translator.context_genes``,
stored beside its projectors; the bundled translator ships STRING/hESC/500's 818 genes), a BEELINE dataset's genes,
or a gene-list file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError, ParameterError

AUTO, NONE, TRANSLATOR = "auto", "none", "translator"
#: A gene list gets the background by default when its context is smaller than the translator's training context
#: divided by this factor (the same factor beyond which ``Translator.context_warning`` warns).
AUTO_FACTOR = 2.0


@dataclass(frozen=True)
class Background:
    """Background genes for short gene lists.

    Attributes:
        name: where the genes come from ("STRING/hESC/500 (translator's training context)", a dataset name, a file).
        tokens: vocabulary tokens of the background genes (any order; duplicates ignored).
        n_context: context size to fill up to: background genes are added until the context (user genes + background)
            has ``n_context`` genes; None adds every background gene.
        norm_reference: per-context feature-normalisation statistics of the full context this background stands for
            (``Translator.norm_reference``: ``((probe, means (K,), stds (K,)), ...)``). A background context scores
            only the user's genes, so "context-z" features are standardised with these instead of statistics over
            the few scored pairs (``features.DatasetProbes.normalised_probe``). None: no reference.
    """

    name: str
    tokens: tuple[str, ...]
    n_context: int | None = None
    norm_reference: tuple | None = None

    def __post_init__(self):
        if not self.tokens:
            raise DataError(f"background {self.name!r} has no gene in the checkpoint vocabulary; expected gene symbols")
        if self.n_context is not None and self.n_context < 1:
            raise ParameterError(f"background {self.name!r}: n_context must be positive, got {self.n_context}")

    def extra_tokens(self, user_tokens: Sequence[str]) -> list[str]:
        """The background tokens added to a context whose own (user) tokens are ``user_tokens``, sorted.

        Deterministic: the background is put in one fixed pseudo-random order (numpy seed 0 over its sorted
        tokens) and the first ``n_context − |user tokens|`` of them that are not user tokens are taken, so a longer
        list keeps a sub-set of a shorter one's background. Returns [] when the user tokens already fill the context.
        """
        user = set(user_tokens)
        pool = sorted(set(self.tokens))
        order = [pool[i] for i in np.random.default_rng(0).permutation(len(pool))]
        order = [t for t in order if t not in user]
        if self.n_context is not None:
            order = order[: max(0, self.n_context - len(user))]
        return sorted(order)

    def with_size(self, n_context: int | None) -> "Background":
        """The same genes filling up to ``n_context`` context genes."""
        return Background(self.name, self.tokens, n_context, self.norm_reference)


def from_translator(translator, fm=None, data_dir=None) -> Background | None:
    """The translator's own training context as a background, filled up to its training size (``n_context``).

    Uses ``translator.context_genes`` (vocabulary tokens stored with the translator); for a translator saved
    without them, the genes of its training dataset when that is a BEELINE name whose data is available and ``fm`` is
    given. Returns None when neither is available.
    """
    tokens = getattr(translator, "context_genes", None)
    name = f"{translator.trained_on} (the translator's training context)"
    if tokens:
        return Background(name, tuple(tokens), translator.n_context or len(tokens), translator.norm_reference)
    if fm is None:
        return None
    try:
        bg = from_dataset(translator.trained_on, fm, data_dir=data_dir)
    except (ValueError, OSError):
        return None
    return Background(name, bg.tokens, translator.n_context or len(bg.tokens), translator.norm_reference)


def from_dataset(name: str, fm, n_context: int | None = None, data_dir=None) -> Background:
    """The vocabulary-mapped genes of BEELINE dataset ``name`` (e.g. "STRING/mESC/500") as a background.

    Raises: ValueError / FileNotFoundError from ``datasets.load_beeline`` for an unknown or absent dataset.
    """
    from ..data.datasets import load_beeline
    from ..scfm.vocab import map_to_vocab

    ds = load_beeline(name, data_dir)
    return Background(ds.name, tuple(map_to_vocab(ds.genes, fm.vocab, ds.species, warn=False).tokens), n_context)


def from_gene_file(path, fm, species: str = "human", n_context: int | None = None) -> Background:
    """The vocabulary-mapped genes of a gene-list file (``readers.read_gene_list``) as a background.

    Raises: InputFileNotFound / DataError from the reader; DataError when no gene is in the vocabulary.
    """
    from ..data.readers import read_gene_list
    from ..scfm.vocab import map_to_vocab

    genes = [g.upper() for g in read_gene_list(path)]
    return Background(Path(path).name, tuple(map_to_vocab(genes, fm.vocab, species, warn=False).tokens), n_context)


def wanted(n_user_tokens: int, translator, specs) -> bool:
    """Whether the default ("auto") puts a gene list in a background context: the scores come from a translator whose
    training context size is known, at least one method is context-dependent (VVP, GDT, Ens), none needs expression
    (background genes have none), and the list's context is smaller than the training context / ``AUTO_FACTOR``."""
    if translator is None or not translator.n_context:
        return False
    if not any(s.uses_translator and s.context_dependent for s in specs) or any(s.needs_expression for s in specs):
        return False
    return n_user_tokens < translator.n_context / AUTO_FACTOR


def resolve(choice, fm, translator, n_user_tokens: int, specs, species: str = "human", data_dir=None) -> Background | None:
    """The background to use for a gene list of ``n_user_tokens`` vocabulary-mapped genes scored by method ``specs``.

    Args:
        choice: "auto" (the default: the translator's training context when ``wanted``), "none" or None (no
            background: the list alone is the context), "translator" (its training context, whatever the list's
            size), a BEELINE dataset name ("STRING/mESC/500"), a gene-list file path, or a ``Background``.
        fm: the foundation model (its vocabulary maps dataset / file genes to tokens).
        translator: the translator (training context and size), or None.
        species: species of a gene-list file's symbols.
    Returns: a ``Background`` (filled up to the translator's training size when known), or None.
    Raises: ParameterError for a choice that is none of these; DataError / FileNotFoundError from the loaders.
    """
    if choice is None or isinstance(choice, Background):
        return choice
    choice = str(choice).strip()
    low = choice.lower()
    if low == NONE:
        return None
    if low == AUTO:
        return from_translator(translator, fm, data_dir) if wanted(n_user_tokens, translator, specs) else None
    if low == TRANSLATOR:
        if translator is None:
            raise ParameterError("background 'translator' needs a translator")
        bg = from_translator(translator, fm, data_dir)
        if bg is None:
            raise DataError(f"the translator (trained on {translator.trained_on}) records no training context genes "
                            "and its dataset cannot be loaded; give a dataset name or a gene-list file as background")
        return bg
    size = translator.n_context if translator is not None else None
    if choice.count("/") == 2 and not os.path.exists(choice):
        return from_dataset(choice, fm, size, data_dir)
    if os.path.isfile(choice):
        return from_gene_file(choice, fm, species, size)
    raise ParameterError(f"background {choice!r}: expected 'auto', 'none', 'translator', a BEELINE dataset name "
                         "(e.g. STRING/mESC/500) or an existing gene-list file")
