"""scanpy-style tools on an AnnData (``import ugrn_core.tl as ugrn``):

- ``grn``: one regulatory network per cell group, written into ``adata.uns["ugrn"]``; ``get_network`` reads one back;
- ``activity``: TF activity per cell from a network (decoupler's ``ulm``), written into ``adata.obsm``;
- ``hubs``: hub genes of a network (out-/in-degree, PageRank, betweenness; networkx);
- ``compare``: two groups' networks side by side (edges gained, lost, sign-flipped) against the difference between
  random halves of one group's cells.

``tl`` imports nothing from ``api``. ``api`` re-exports the readers (``get_network``, ``activity``, ``hubs``);
``grn`` and ``compare`` score methods, so they sit beside ``api``, not under it (the import-level limit: ``cli``
imports them from ``tl._grn``).
"""

from ._grn import compare, expression_dependent, grn, network_key, uses_model
from ._store import ALL_CELLS, DEFAULT_KEY, EDGE_COLUMNS, get_network
from ._downstream import activity, hubs, regulons

__all__ = ["activity", "ALL_CELLS", "compare", "DEFAULT_KEY", "EDGE_COLUMNS", "expression_dependent", "get_network",
           "grn", "hubs", "network_key", "regulons", "uses_model"]
