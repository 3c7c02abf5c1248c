"""Helpers of ``tl.compare``: a network as ranks and positions q, the edge-by-edge view of two networks (status,
Δq, Spearman, top-k overlap), the cells of a group."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ..errors import ParameterError, first_items
from ._store import ALL_CELLS


STATUSES = ("gained", "lost", "flipped", "kept")


def _table(net: pd.DataFrame) -> pd.DataFrame:
    """source, target, weight, q (0 = best .. 1 = worst: (rank - 1) / (n - 1)) of a network, indexed by edge."""
    n = len(net)
    q = (net["rank"].to_numpy(np.float64) - 1) / max(n - 1, 1)
    out = pd.DataFrame({"rank": net["rank"].to_numpy(np.int64), "weight": net["weight"].to_numpy(np.float64), "q": q},
                       index=pd.MultiIndex.from_arrays([net["source"].astype(str), net["target"].astype(str)],
                                                       names=["source", "target"]))
    return out


def _k(top, a: pd.DataFrame, b: pd.DataFrame) -> int:
    if top is not None:
        if int(top) < 1:
            raise ParameterError(f"top={top!r}; expected a positive number of edges, or None")
        return int(top)
    genes = lambda t: len(set(t.index.get_level_values(0)) | set(t.index.get_level_values(1)))  # noqa: E731
    return max(genes(a), genes(b))


def _diff(a: pd.DataFrame, b: pd.DataFrame, k: int):
    """The edge-by-edge view of network a → b: the union of both top-k edge sets with ranks, weights, status, |Δq|;
    and the pair's statistics (Spearman over shared edges, top-k overlap, counts per status, flip rate)."""
    ta, tb = a[a["rank"] <= k], b[b["rank"] <= k]
    idx = ta.index.union(tb.index)
    out = pd.DataFrame(index=idx)
    for name, t in (("a", a), ("b", b)):
        j = t.reindex(idx)
        out[f"rank_{name}"] = j["rank"].astype("Int64")
        out[f"weight_{name}"] = j["weight"]
        out[f"q_{name}"] = j["q"].fillna(1.0)  # not scored in that network (a gene below the guard): worst
    in_a, in_b = idx.isin(ta.index), idx.isin(tb.index)
    flip = in_a & in_b & (np.sign(out["weight_a"].to_numpy()) * np.sign(out["weight_b"].to_numpy()) < 0)
    status = np.where(in_a & in_b, np.where(flip, "flipped", "kept"), np.where(in_a, "lost", "gained"))
    out["status"] = pd.Categorical(status, categories=list(STATUSES))
    out["delta_q"] = (out["q_b"] - out["q_a"]).to_numpy(np.float64)
    shared = a.index.intersection(b.index)
    rho = float(spearmanr(a.loc[shared, "q"], b.loc[shared, "q"]).statistic) if len(shared) > 2 else float("nan")
    both = int((in_a & in_b).sum())
    stats = {"spearman": rho, "topk_overlap": both / k, "n_gained": int((status == "gained").sum()),
             "n_lost": int((status == "lost").sum()), "n_flipped": int(flip.sum()),
             "n_kept": int((status == "kept").sum()),
             "flip_rate": float(flip.sum() / both) if both else float("nan")}
    return out, stats



def _mean(vals) -> float:
    vals = np.asarray(vals, dtype=np.float64)
    return float(np.nanmean(vals)) if vals.size and not np.isnan(vals).all() else float("nan")


def _cells(adata, params, group: str) -> np.ndarray:
    """Row indices of ``group``'s cells (all cells for "all cells")."""
    if group == ALL_CELLS:
        return np.arange(adata.n_obs)
    col = params["groupby"]
    if not col or col not in adata.obs.columns:
        raise ParameterError(f"the groupby column {col!r} that tl.grn used is not in .obs; columns: "
                             f"{first_items(adata.obs.columns, 20)}.")
    return np.flatnonzero(adata.obs[col].astype(str).to_numpy() == group)


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    out = table.reset_index()
    order = np.lexsort((out["target"].to_numpy(), out["source"].to_numpy(), -np.abs(out["delta_q"].to_numpy())))
    cols = ["source", "target", "rank_a", "rank_b", "weight_a", "weight_b", "q_a", "q_b", "delta_q", "status",
            "p_null", "beyond_null"]
    return out.iloc[order][cols].reset_index(drop=True)
