"""Who the README's generated results speak about (``readme_figures``): the methods by role, as the registry
declares them (the specs' flags and ``roles``), and the columns of the generated tables. Nothing here names a method:
a method file that takes a role (``roles=("summary column",)``, ``default_rank=True``, …) moves the README with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import methods as registry
from ..methods import SHUFFLED_SUFFIX, TWIN_SUFFIX


def twin(method: str) -> str:
    """The row name of ``method`` scored on the random-init twin checkpoint ("X (twin)")."""
    return method + TWIN_SUFFIX


def shuffled(method: str) -> str:
    """The row name of translator ``method`` trained on shuffled labels ("X (shuffled labels)")."""
    return method + SHUFFLED_SUFFIX


@dataclass(frozen=True)
class Cast:
    """The methods the generated sentences speak about, each found by the role the registry gives it (the specs'
    flags and ``roles``; see ``methods.base.MethodSpec``), so that no sentence here names a method.

    ens: the default-rank method (the trained ensemble the README leads with); members: the methods it combines;
    emb: role "embedding translator"; prior: the method computing the "degree-prior" control; peer: the default
    expression peer; deep_peer: role "deep expression peer"; knockout / attention: roles "zero-shot knockout" /
    "zero-shot attention"; models: paper-table methods with role "summary column" (display order); table1_models:
    those plus role "table1 column"; peers: the other "summary column" methods, the control aside (display order).
    """

    ens: str
    members: tuple[str, ...]
    emb: str
    prior: str
    peer: str
    deep_peer: str
    knockout: str
    attention: str
    models: tuple[str, ...]
    table1_models: tuple[str, ...]
    peers: tuple[str, ...]

    @classmethod
    def from_registry(cls) -> "Cast":
        """The cast as the registry declares it now. Raises ParameterError when a role has no or several methods."""
        summary, only1 = registry.with_role("summary column"), registry.with_role("table1 column")
        paper = set(registry.names(paper_table=True))
        ens = registry.default_rank()
        prior = registry.control_method("degree-prior").name
        return cls(ens=ens, members=registry.get(ens).members, emb=registry.role("embedding translator"),
                   prior=prior, peer=registry.names(default_peer=True)[0],
                   deep_peer=registry.role("deep expression peer"), knockout=registry.role("zero-shot knockout"),
                   attention=registry.role("zero-shot attention"),
                   models=tuple(m for m in summary if m in paper),
                   table1_models=tuple(m for m in registry.names(paper_table=True) if m in summary or m in only1),
                   peers=tuple(m for m in summary if m not in paper and m != prior))


C = Cast.from_registry()
MODEL_SCORES = tuple(registry.names(paper_table=True, twin=True))  # model methods that have a twin
TRANSLATORS = tuple(registry.names(paper_table=True, shuffled_control=True))  # translators (shuffled-label control)
# the README's "all six tables" columns and Table 1's columns
SHOWN = C.models + (twin(C.ens), C.prior) + C.peers
TABLE1_COLS = C.table1_models + (C.prior,) + C.peers + tuple(twin(m) for m in TRANSLATORS) + (shuffled(C.ens),)
UNSEEN = (C.ens, twin(C.ens), C.emb, C.peer, C.prior)
