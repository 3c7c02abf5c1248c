"""Where ``tl.grn`` keeps its networks in an AnnData (``uns["ugrn"]``) and how to read one back; imports nothing
heavier than pandas, so the tools that only read networks (``activity``, ``hubs``) stay shallow in the import graph."""

from __future__ import annotations

import anndata
import pandas as pd

from ..errors import first_items

ALL_CELLS = "all cells"  # the group name of the network over every cell
DEFAULT_KEY = "ugrn"
EDGE_COLUMNS = ["source", "target", "weight", "score", "rank"]  # + "label" when a reference is given


def get_network(adata: anndata.AnnData, group: str = ALL_CELLS, key: str = DEFAULT_KEY) -> pd.DataFrame:
    """The edge table of ``group`` written by ``grn`` (the shared one for an expression-free method).

    Raises: KeyError naming the groups there are when ``group`` has no network, or when ``grn`` has not run."""
    if key not in adata.uns:
        raise KeyError(f"adata.uns has no {key!r}: run ugrn_core.tl.grn(adata, ..., key_added={key!r}) first")
    res = adata.uns[key]
    summary = res["summary"]
    hit = summary[summary["group"].astype(str) == str(group)]
    if hit.empty or hit["network"].iloc[0] not in res["networks"]:
        have = summary.loc[summary["network"].isin(list(res["networks"])), "group"].tolist()
        raise KeyError(f"no network for group {group!r}; groups with one: {first_items(have, 20)}")
    return res["networks"][hit["network"].iloc[0]]
