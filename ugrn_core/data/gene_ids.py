"""Ensembl gene IDs in gene lists → gene symbols.

Human IDs (``ENSG…``, with or without a version suffix such as ``.10``) map through GENCODE v44
(``<data_dir>/gene_annotation/GENCODEv44_Gene_id2name.csv.gz``, 62,753 IDs), then through the ``ensembl_id`` column of
``human_gene_info.tsv.gz`` (NCBI Entrez Gene 2022) for IDs GENCODE v44 no longer lists. Mouse IDs (``ENSMUSG…``)
cannot be mapped: the data directory holds no mouse Ensembl → symbol table (``ensembl105_human2mouse_genes.csv.gz``
maps human *symbols* to mouse *symbols*), so they are kept as given and reported as unmapped.

Entries that are not Ensembl IDs pass through unchanged, so a list may mix symbols and IDs.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import DATA_HELP, resolve_data_dir
from ..errors import InputFileNotFound, first_items

GENCODE_FILE = Path("gene_annotation") / "GENCODEv44_Gene_id2name.csv.gz"
GENE_INFO_FILE = Path("gene_annotation") / "human_gene_info.tsv.gz"
ENSEMBL_ID = re.compile(r"^(ENS(?:MUS)?G\d{11})(?:\.\d+)?$", re.IGNORECASE)


def is_ensembl_id(name: str) -> bool:
    """True for a human (``ENSG``) or mouse (``ENSMUSG``) Ensembl gene ID, with or without a ``.version`` suffix."""
    return bool(ENSEMBL_ID.match(str(name).strip()))


def load_ensembl_map(data_dir=None) -> dict[str, str]:
    """Human Ensembl gene ID (upper case, no version) → gene symbol (GENCODE v44 first, then Entrez Gene's
    ``ensembl_id``; IDs whose only name is the ID itself are left out). Cached; do not mutate the returned dict.

    Raises:
        InputFileNotFound: the GENCODE table is missing (the Entrez Gene table is optional).
    """
    return _load_ensembl_map(resolve_data_dir(data_dir))


@functools.lru_cache(maxsize=4)
def _load_ensembl_map(data_dir: Path) -> dict[str, str]:
    path = data_dir / GENCODE_FILE
    if not path.is_file():
        raise InputFileNotFound(f"Ensembl ID table '{path}' not found (needed to map Ensembl IDs to symbols). "
                                f"{DATA_HELP}")
    out: dict[str, str] = {}
    info = data_dir / GENE_INFO_FILE
    if info.is_file():
        t = pd.read_csv(info, sep="\t", usecols=["symbol", "ensembl_id"], dtype=str).dropna()
        out.update(zip(t["ensembl_id"].str.upper(), t["symbol"]))
    t = pd.read_csv(path, header=None, names=["id", "symbol"], dtype=str).dropna()
    ids = t["id"].str.upper().str.replace(r"\.\d+$", "", regex=True)
    out.update(zip(ids, t["symbol"]))  # GENCODE v44 wins over Entrez Gene 2022
    # GENCODE names unnamed genes by their ID: those have no symbol
    return {k: v for k, v in out.items() if not ENSEMBL_ID.match(v)}


@dataclass
class EnsemblMapping:
    """Result of :func:`ensembl_to_symbols`.

    Attributes:
        symbols: the input list with every mapped Ensembl ID replaced by its symbol (same length and order; unmapped
            IDs and non-ID entries unchanged).
        n_ids: how many entries were Ensembl IDs.
        n_mapped: how many of those mapped to a symbol.
        unmapped: the Ensembl IDs without a symbol (mouse IDs always).
    """

    symbols: list[str]
    n_ids: int = 0
    n_mapped: int = 0
    unmapped: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """``"mapped N of M Ensembl IDs to symbols"`` (plus the first unmapped IDs); empty when there were none."""
        if not self.n_ids:
            return ""
        s = f"mapped {self.n_mapped} of {self.n_ids} Ensembl IDs to symbols"
        if self.unmapped:
            mouse = sum(u.upper().startswith("ENSMUSG") for u in self.unmapped)
            s += f"; unmapped: {first_items(self.unmapped, 5)}"
            if mouse:
                ids = "ID" if mouse == 1 else "IDs"
                s += (f" ({mouse} mouse {ids}: the data directory has no mouse Ensembl → symbol table; "
                      "give mouse genes as symbols)")
        return s


def ensembl_to_symbols(genes: Sequence[str], data_dir=None, warn: bool = True) -> EnsemblMapping:
    """Replace Ensembl gene IDs in ``genes`` by gene symbols (see the module docstring for the tables).

    Args:
        genes: gene names, symbols and/or Ensembl IDs (``ENSG00000102145`` or ``ENSG00000102145.15``).
            Human IDs map to human symbols whatever the list's species; mouse IDs never map.
        data_dir: data directory with ``gene_annotation/`` (read only when the list holds an Ensembl ID).
        warn: ``warnings.warn(message)`` when the list held Ensembl IDs.

    Returns: :class:`EnsemblMapping` (``symbols`` has the same length as ``genes``).
    Raises: InputFileNotFound when the list holds human IDs and the GENCODE table is missing.
    """
    genes = [str(g).strip() for g in genes]
    hits = [(i, ENSEMBL_ID.match(g)) for i, g in enumerate(genes)]
    hits = [(i, m.group(1).upper()) for i, m in hits if m]
    if not hits:
        return EnsemblMapping(symbols=genes)
    table = load_ensembl_map(data_dir) if any(not gid.startswith("ENSMUSG") for _, gid in hits) else {}
    symbols, unmapped, n_mapped = list(genes), [], 0
    for i, gid in hits:
        sym = table.get(gid)
        if sym:
            symbols[i] = sym
            n_mapped += 1
        else:
            unmapped.append(genes[i])
    result = EnsemblMapping(symbols=symbols, n_ids=len(hits), n_mapped=n_mapped, unmapped=unmapped)
    if warn:
        warnings.warn(result.message, stacklevel=2)
    return result
